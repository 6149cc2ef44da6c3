/**
 * GET /api/v1/preflight (any token): the readiness report. POST /api/v1/preflight (admin)
 * with `{"test_print": true}` also sends a test page to every printer: paper comes out, so it
 * is not a read. Registered by the composition root on the app before it listens.
 * docs/http.md "Preflight".
 */
import { Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { bearer, errorResponses } from '../http/schemas/common.js';
import type { App } from '../http/type-provider.js';
import type { PreflightService } from './preflight-service.js';

const Status = Type.Union([Type.Literal('pass'), Type.Literal('warn'), Type.Literal('fail')]);

export const PreflightReply = Type.Object(
  {
    status: Status,
    generatedAt: Type.Integer({ description: 'epoch ms' }),
    checks: Type.Array(
      Type.Object({
        id: Type.String({
          description:
            'stable check id: config, devices, printer-media, scales, scanners, waybill-coverage, shop-auth, disk, clock, cloud, handover, consumables, test-print',
        }),
        title: Type.String(),
        status: Status,
        detail: Type.String(),
        data: Type.Optional(Type.Object({}, { additionalProperties: true })),
      }),
    ),
  },
  { description: 'Preflight report; status is the worst of the checks' },
);

const PreflightBody = Type.Object({ test_print: Type.Optional(Type.Boolean({ default: false })) }, { additionalProperties: false });

export function registerPreflightRoutes(fastify: FastifyInstance, preflight: PreflightService): void {
  const app = fastify as unknown as App;
  app.get(
    '/api/v1/preflight',
    {
      config: { auth: 'read' },
      schema: {
        tags: ['health'],
        summary: 'Pre-peak readiness report: devices, printer media, scales, scanners, waybills, shop authorisations, disk, clock, cloud, config',
        security: bearer,
        response: { 200: PreflightReply, ...errorResponses },
      },
    },
    async () => preflight.run(),
  );
  app.post(
    '/api/v1/preflight',
    {
      config: { auth: 'admin' },
      schema: {
        tags: ['health'],
        summary: 'The preflight report, optionally with a test page on every printer (test_print)',
        security: bearer,
        body: PreflightBody,
        response: { 200: PreflightReply, ...errorResponses },
      },
    },
    async (request) => preflight.run({ testPrint: request.body.test_print === true }),
  );
}
