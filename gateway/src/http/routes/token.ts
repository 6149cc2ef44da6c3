/**
 * Who the caller's token is: the station screen opened without a station in its URL asks
 * this and shows the station its token is limited to (docs/ui.md).
 */
import { Type } from '@sinclair/typebox';
import { requestGrant } from '../auth.js';
import { bearer, errorResponses } from '../schemas/common.js';
import type { App } from '../type-provider.js';

export const TokenReply = Type.Object(
  {
    id: Type.String({ description: 'the token id of `packline token list` (`admin`, `station` for the bootstrap tokens)' }),
    role: Type.Union([Type.Literal('admin'), Type.Literal('station')]),
    station: Type.Union([Type.String(), Type.Null()], { description: 'the station a station token is limited to; null = every station' }),
  },
  { additionalProperties: false },
);

export function registerTokenRoutes(app: App): void {
  app.get(
    '/api/v1/token',
    {
      config: { auth: 'read', station: 'any' },
      schema: {
        tags: ['stations'],
        summary: "The caller's token: its id, role and the station it is limited to (never the token)",
        security: bearer,
        response: { 200: TokenReply, ...errorResponses },
      },
    },
    async (request) => {
      const grant = requestGrant(request);
      return { id: grant?.id ?? '', role: grant?.role ?? 'station', station: grant?.station ?? null };
    },
  );
}
