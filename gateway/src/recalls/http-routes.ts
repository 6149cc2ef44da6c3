/**
 * HTTP routes of batch pre-print and the recall list (docs/http.md "Batch pre-print and the
 * recall list"; docs/packing-modes.md). Registered by the composition root like the handover
 * routes. Refusals answer with their PKL_* code and the catalogue's status.
 */
import { type Static, Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { PacklineError } from '../../../contracts/errors.js';
import type { BatchService } from '../batches/batch-service.js';
import { bearer, errorResponses } from '../http/schemas/common.js';
import type { App } from '../http/type-provider.js';
import type { PreprintResult } from '../station/apply/station-runtime.js';
import type { StationWrite } from '../station/domain.js';
import { EVENT } from '../station/events.js';
import { recallWire } from './recall-list.js';
import type { RecallService } from './recall-service.js';

const Who = Type.Optional(Type.String({ minLength: 1, maxLength: 64, description: 'operator, PDA or supervisor name (audit)' }));
const Nullable = <T extends ReturnType<typeof Type.String> | ReturnType<typeof Type.Integer>>(t: T) => Type.Union([t, Type.Null()]);

const Recall = Type.Object({
  kind: Type.Union([Type.Literal('preprint'), Type.Literal('carrier_switch')]),
  waybill: Type.String({ description: 'the label to pull' }),
  order_id: Type.String(),
  code: Type.String({ description: 'why: the interception code, or PKL_CARRIER_HELD for a carrier switch' }),
  shipment_id: Nullable(Type.String()),
  batch_id: Nullable(Type.String()),
  seq: Nullable(Type.Integer()),
  station_id: Nullable(Type.String()),
  from_carrier: Nullable(Type.String()),
  to_carrier: Nullable(Type.String()),
  at: Type.Integer(),
  pulled_at: Nullable(Type.Integer()),
});

const PreprintBody = Type.Object(
  {
    station_id: Type.Optional(
      Type.String({ minLength: 1, maxLength: 64, description: 'the station (its printer or channel) that prints; default the station working the batch' }),
    ),
    limit: Type.Optional(
      Type.Integer({ minimum: 1, maximum: 1000, description: 'labels in this run (default 50): a printer queue is not flooded; call again for the next run' }),
    ),
    operator: Who,
  },
  { additionalProperties: false },
);

const PreprintReply = Type.Object({
  batch_id: Type.String(),
  station_id: Type.String(),
  printed: Type.Array(Type.Object({ order_id: Type.String(), seq: Type.Integer(), shipment_id: Type.String(), job_id: Type.String(), waybill: Type.String() })),
  removed: Type.Array(Type.Object({ order_id: Type.String(), seq: Type.Integer(), code: Type.String() })),
  progress: Type.Object({ total: Type.Integer(), taken: Type.Integer(), removed: Type.Integer(), remaining: Type.Integer(), labels_out: Type.Integer() }),
});

export interface PreprintStations {
  preprint(stationId: string, batchId: string, limit: number, operator?: string): Promise<PreprintResult>;
}

export interface RecallRouteDeps {
  batches: BatchService;
  stations: PreprintStations;
  recalls: RecallService;
}

const DEFAULT_RUN = 50;

/** What a pre-print run printed and removed, from its committed writes. */
export function preprintSummary(writes: readonly StationWrite[]): Pick<Static<typeof PreprintReply>, 'printed' | 'removed'> {
  const printed: Static<typeof PreprintReply>['printed'] = [];
  const removed: Static<typeof PreprintReply>['removed'] = [];
  for (const w of writes) {
    if (w.op !== 'event') continue;
    const d = w.data as Record<string, unknown>;
    if (w.type === EVENT.batchParcelSelected && d.preprint === true) {
      printed.push({
        order_id: String(d.order_id),
        seq: Number(d.seq),
        shipment_id: String(d.shipment_id),
        job_id: String(d.job_id),
        waybill: String(d.barcode),
      });
    } else if (w.type === EVENT.batchOrderRemoved) {
      removed.push({ order_id: String(d.order_id), seq: Number(d.seq), code: String(d.code) });
    }
  }
  return { printed, removed };
}

export function registerRecallRoutes(fastify: FastifyInstance, deps: RecallRouteDeps): void {
  const app = fastify as unknown as App;

  app.post(
    '/api/v1/batches/:batchId/preprint',
    {
      config: { auth: 'scan' },
      schema: {
        tags: ['batches'],
        summary: 'Print the next labels of a pre-print batch ahead, in sequence (batch id and sequence number on each)',
        description:
          'Each label is a print job of the station (print ledger, failover and reprint as any label); the parcel is shipped when its ' +
          'label (or order barcode) is scanned at a station, after the interception check runs again. Refused: 404 PKL_BATCH_NOT_FOUND, ' +
          '409 PKL_BATCH_NOT_PREPRINT, PKL_BATCH_STATE (done, cancelled, or no station), 503 PKL_SHUTTING_DOWN.',
        security: bearer,
        params: Type.Object({ batchId: Type.String({ minLength: 1, maxLength: 128 }) }),
        body: PreprintBody,
        response: { 200: PreprintReply, ...errorResponses },
      },
    },
    async (request) => {
      const { batchId } = request.params;
      const b = deps.batches.get(batchId);
      if (b === null) throw new PacklineError('PKL_BATCH_NOT_FOUND', { batchId });
      if (b.mode !== 'preprint') throw new PacklineError('PKL_BATCH_NOT_PREPRINT', { batchId, mode: b.mode });
      const stationId = request.body.station_id ?? b.stationId;
      if ((b.state !== 'open' && b.state !== 'working') || stationId === null) throw new PacklineError('PKL_BATCH_STATE', { batchId, batchState: b.state });
      const r = await deps.stations.preprint(stationId, batchId, request.body.limit ?? DEFAULT_RUN, request.body.operator);
      if (!r.ok) throw new PacklineError(r.error.code, r.error.details);
      const p = deps.batches.get(batchId)?.progress ?? b.progress;
      return {
        batch_id: batchId,
        station_id: stationId,
        ...preprintSummary(r.writes),
        progress: { total: p.total, taken: p.taken, removed: p.removed, remaining: p.remaining, labels_out: deps.batches.preprints.outFor(batchId) },
      };
    },
  );

  app.get(
    '/api/v1/recalls',
    {
      config: { auth: 'read' },
      schema: {
        tags: ['recalls'],
        summary: 'Labels to pull: pre-printed labels of intercepted orders and voided labels of carrier switches, in one list',
        security: bearer,
        querystring: Type.Object({ all: Type.Optional(Type.Boolean({ description: 'pulled ones too' })) }, { additionalProperties: false }),
        response: { 200: Type.Object({ open: Type.Integer(), recalls: Type.Array(Recall) }), ...errorResponses },
      },
    },
    async (request) => ({ open: deps.recalls.open(), recalls: deps.recalls.list(request.query.all === true).map(recallWire) }),
  );

  app.post(
    '/api/v1/recalls/:code/pulled',
    {
      config: { auth: 'scan' },
      schema: {
        tags: ['recalls'],
        summary: 'Report a label pulled off its parcel (its waybill, or the order barcode)',
        description: 'Pulled again: 200 with the entry, nothing written. Not on the list: 404 PKL_RECALL_UNKNOWN.',
        security: bearer,
        params: Type.Object({ code: Type.String({ minLength: 1, maxLength: 128 }) }),
        body: Type.Object({ operator: Who }, { additionalProperties: false }),
        response: { 200: Recall, ...errorResponses },
      },
    },
    async (request) => {
      const r = await deps.recalls.pulled(request.params.code, request.body.operator ?? 'api');
      if (!r.ok) throw new PacklineError(r.code, r.details);
      return recallWire(r.value);
    },
  );
}
