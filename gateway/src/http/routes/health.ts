/** Liveness, readiness and the Prometheus scrape: public, for orchestrators and monitoring. */
import { Type } from '@sinclair/typebox';
import type { HttpDeps } from '../deps.js';
import { errorResponses } from '../schemas/common.js';
import type { App } from '../type-provider.js';

const Readiness = Type.Object({
  ready: Type.Boolean(),
  checks: Type.Record(Type.String(), Type.Object({ ok: Type.Boolean(), detail: Type.Optional(Type.String()) }), {
    description: 'one entry per component (store, broker, disk, …)',
  }),
});

export function registerHealthRoutes(app: App, deps: HttpDeps): void {
  const startedAt = Date.now();

  app.get(
    '/healthz',
    {
      schema: {
        tags: ['health'],
        summary: 'Liveness: the process answers',
        response: {
          200: Type.Object({
            status: Type.Literal('ok'),
            version: Type.String(),
            gateway_id: Type.String(),
            uptime_s: Type.Number(),
          }),
          ...errorResponses,
        },
      },
    },
    async () => ({
      status: 'ok' as const,
      version: deps.version,
      gateway_id: deps.config.gatewayId,
      uptime_s: Math.round((Date.now() - startedAt) / 1000),
    }),
  );

  app.get(
    '/readyz',
    {
      schema: {
        tags: ['health'],
        summary: 'Readiness: every component can take work (503 otherwise)',
        response: { 200: Readiness, 503: Readiness, ...errorResponses },
      },
    },
    async (_request, reply) => {
      const r = deps.health.ready();
      return reply.code(r.ready ? 200 : 503).send({ ready: r.ready, checks: r.checks });
    },
  );

  app.get(
    '/metrics',
    {
      schema: {
        tags: ['health'],
        summary: 'Prometheus metrics (text exposition format 0.0.4)',
        produces: ['text/plain'],
        response: { 200: Type.String({ description: 'Prometheus text' }), ...errorResponses },
      },
    },
    async (_request, reply) => {
      const text = await deps.metrics.render();
      // A string with a non-JSON content type is sent as is, not through the JSON serializer.
      return reply.type(deps.metrics.contentType).send(text);
    },
  );
}
