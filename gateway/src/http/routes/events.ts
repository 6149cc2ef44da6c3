/** The append-only event log, paged by sequence number (admin: it holds every detail). */
import type { HttpDeps } from '../deps.js';
import { bearer, errorResponses } from '../schemas/common.js';
import { DEFAULT_EVENT_PAGE, EventListReply, EventQueryWire, eventToWire } from '../schemas/events.js';
import type { App } from '../type-provider.js';

export function registerEventRoutes(app: App, deps: HttpDeps): void {
  app.get(
    '/api/v1/events',
    {
      config: { auth: 'admin' },
      schema: {
        tags: ['events'],
        summary: 'Events with seq > after, ascending',
        security: bearer,
        querystring: EventQueryWire,
        response: { 200: EventListReply, ...errorResponses },
      },
    },
    async (request) => {
      const after = request.query.after ?? 0;
      const events = deps.store.readEvents(after, request.query.limit ?? DEFAULT_EVENT_PAGE);
      return {
        events: events.map(eventToWire),
        next_after: events.at(-1)?.seq ?? after,
        high_water: deps.store.stats().lastSeq,
      };
    },
  );
}
