/**
 * Picking API (docs/http.md "Picking", docs/picking.md): waves (build, preview, release,
 * cancel), pick tasks, short picks and the supervisor's decision, stock by location,
 * replenishment requests and tasks, the floor import (locations and stock). Registered by the
 * composition root as a plugin over the picking runtime (gateway/src/picking/picking-runtime.ts).
 * Reads take any token; every change takes the admin token (a supervisor's tool).
 */
import { Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { PacklineError, type Refusal } from '../../../../contracts/errors.js';
import { PICK_EVENT, type PickEvent, pickEvent } from '../../picking/events.js';
import type { PickingService } from '../../picking/picking-runtime.js';
import { bearer, errorResponses } from '../schemas/common.js';
import {
  BuildReply,
  CancelBody,
  ConfirmBody,
  FloorBody,
  LocationParams,
  LocationStockWire,
  OrderParams,
  PickingSummaryWire,
  ReleaseBody,
  ReplenishmentWire,
  RequestParams,
  ShortDecisionBody,
  ShortWire,
  TaskBody,
  WaveListQuery,
  WaveParams,
  WaveRulesBody,
  WaveWire,
} from '../schemas/picking.js';
import type { App } from '../type-provider.js';

function orThrow<T extends { ok: true }>(r: T | Refusal): T {
  if (!r.ok) throw new PacklineError(r.code, r.details);
  return r;
}

/** 8 MB: ~50,000 stock records or 10,000 locations with room to spare. */
export const FLOOR_BODY_LIMIT = 8 * 1024 * 1024;

const Ok = Type.Object({ ok: Type.Literal(true) });

export function registerPickingRoutes(fastify: FastifyInstance, picking: PickingService): void {
  const app = fastify as unknown as App;
  const tags = ['picking'];

  app.post(
    '/api/v1/waves',
    {
      config: { auth: 'admin' },
      schema: {
        tags,
        summary: 'Build waves from the pending orders by rules (carrier/shop, cut-off, size limits, zone); `preview` records nothing',
        security: bearer,
        body: WaveRulesBody,
        response: { 200: BuildReply, ...errorResponses },
      },
    },
    async (request) => {
      const b = request.body;
      const r = orThrow(
        await picking.build(
          {
            ...(b.group_by !== undefined && { groupBy: b.group_by }),
            ...(b.cutoff !== undefined && { cutoff: b.cutoff }),
            ...(b.carriers !== undefined && { carriers: b.carriers }),
            ...(b.shops !== undefined && { shops: b.shops }),
            ...(b.max_orders !== undefined && { maxOrders: b.max_orders }),
            ...(b.max_lines !== undefined && { maxLines: b.max_lines }),
            ...(b.max_units !== undefined && { maxUnits: b.max_units }),
            ...(b.zone !== undefined && { zone: b.zone }),
            ...(b.max_waves !== undefined && { maxWaves: b.max_waves }),
          },
          b.preview === true,
        ),
      );
      return { waves: r.waves, left_out: r.left_out };
    },
  );

  app.get(
    '/api/v1/waves',
    {
      config: { auth: 'read' },
      schema: {
        tags,
        summary: 'Waves and one-order pick lists (pick tasks), optionally by state',
        security: bearer,
        querystring: WaveListQuery,
        response: { 200: Type.Object({ waves: Type.Array(WaveWire) }), ...errorResponses },
      },
    },
    async (request) => ({ waves: picking.waves(request.query.state) }),
  );

  app.get(
    '/api/v1/waves/:waveId',
    {
      config: { auth: 'read' },
      schema: {
        tags,
        summary: 'One wave or pick list: lines in path order, orders with their slots and states',
        security: bearer,
        params: WaveParams,
        response: { 200: WaveWire, ...errorResponses },
      },
    },
    async (request) => {
      const w = picking.wave(request.params.waveId);
      if (w === null) throw new PacklineError('PKL_WAVE_UNKNOWN', { waveId: request.params.waveId });
      return w;
    },
  );

  app.post(
    '/api/v1/waves/:waveId/release',
    {
      config: { auth: 'admin' },
      schema: {
        tags,
        summary: 'Release a built wave to picking: to one PDA (it gets the task offer) or to whichever PDA asks first',
        security: bearer,
        params: WaveParams,
        body: ReleaseBody,
        response: { 200: WaveWire, ...errorResponses },
      },
    },
    async (request) => orThrow(await picking.release(request.params.waveId, request.body.device_id ?? null)).wave,
  );

  app.post(
    '/api/v1/waves/:waveId/cancel',
    {
      config: { auth: 'admin' },
      schema: {
        tags,
        summary: 'Cancel a wave not closed yet; units picked go back to their locations',
        security: bearer,
        params: WaveParams,
        body: CancelBody,
        response: { 200: WaveWire, ...errorResponses },
      },
    },
    async (request) => orThrow(await picking.cancel(request.params.waveId, request.body.reason)).wave,
  );

  app.get(
    '/api/v1/picking/shorts',
    {
      config: { auth: 'read' },
      schema: {
        tags,
        summary: 'Orders held by a short pick (the exception queue) and decided ones',
        security: bearer,
        response: { 200: Type.Object({ shorts: Type.Array(ShortWire) }), ...errorResponses },
      },
    },
    async () => ({ shorts: picking.shorts() }),
  );

  app.post(
    '/api/v1/picking/shorts/:orderId',
    {
      config: { auth: 'admin' },
      schema: {
        tags,
        summary: "A supervisor's decision on an order held short: release (ship what was picked, if the order allows) or cancel (its units go back)",
        security: bearer,
        params: OrderParams,
        body: ShortDecisionBody,
        response: { 200: Ok, ...errorResponses },
      },
    },
    async (request) => {
      orThrow(await picking.decideShort(request.params.orderId, request.body.action, request.body.supervisor));
      request.log.info({ audit: `short_${request.body.action}`, orderId: request.params.orderId, supervisor: request.body.supervisor }, 'short pick decided');
      return { ok: true as const };
    },
  );

  app.get(
    '/api/v1/locations/:location/stock',
    {
      config: { auth: 'read' },
      schema: {
        tags,
        summary: 'Stock at a location: units on hand per SKU and units promised to open waves',
        security: bearer,
        params: LocationParams,
        response: { 200: LocationStockWire, ...errorResponses },
      },
    },
    async (request) => {
      const r = picking.stock(request.params.location);
      if ('ok' in r) throw new PacklineError(r.code, r.details);
      return r;
    },
  );

  app.get(
    '/api/v1/replenishments',
    {
      config: { auth: 'read' },
      schema: {
        tags,
        summary: 'Replenishment requests and tasks (货位补货), open and done',
        security: bearer,
        response: { 200: Type.Object({ replenishments: Type.Array(ReplenishmentWire) }), ...errorResponses },
      },
    },
    async () => ({ replenishments: picking.replenishments() }),
  );

  app.post(
    '/api/v1/replenishments/:requestId/task',
    {
      config: { auth: 'admin' },
      schema: {
        tags,
        summary: 'Turn a request into a task from the reserve location holding the most of the SKU; with device_id the PDA gets it on cmd/task',
        security: bearer,
        params: RequestParams,
        body: TaskBody,
        response: { 200: Ok, ...errorResponses },
      },
    },
    async (request) => {
      orThrow(await picking.taskReplenishment(request.params.requestId, request.body.device_id ?? null));
      return { ok: true as const };
    },
  );

  app.post(
    '/api/v1/replenishments/:requestId/confirm',
    {
      config: { auth: 'admin' },
      schema: {
        tags,
        summary: 'Confirm a replenishment move (default: the quantity asked); stock moves from reserve to the face',
        security: bearer,
        params: RequestParams,
        body: ConfirmBody,
        response: { 200: Ok, ...errorResponses },
      },
    },
    async (request) => {
      orThrow(await picking.confirmReplenishment(request.params.requestId, request.body.qty ?? null));
      return { ok: true as const };
    },
  );

  app.post(
    '/api/v1/picking/floor',
    {
      // A floor is thousands of locations and stock records in one unit (like an order import).
      bodyLimit: FLOOR_BODY_LIMIT,
      config: { auth: 'admin' },
      schema: {
        tags,
        summary: 'Import locations and stock (the same records as the cloud feed, docs/sync.md), as one durable unit',
        security: bearer,
        body: FloorBody,
        response: { 200: Type.Object({ ok: Type.Literal(true), seq: Type.Union([Type.Integer(), Type.Null()]) }), ...errorResponses },
      },
    },
    async (request) => {
      const events: PickEvent[] = [];
      for (const l of request.body.locations ?? []) {
        events.push(
          pickEvent(PICK_EVENT.locationUpserted, `location:${l.code}`, {
            code: l.code,
            zone: l.zone,
            aisle: l.aisle,
            bay: l.bay,
            level: l.level,
            walk_seq: l.walk_seq ?? null,
            kind: l.kind,
            capacity: l.capacity ?? null,
            trigger: l.trigger ?? null,
          }),
        );
      }
      for (const s of request.body.stock ?? [])
        events.push(pickEvent(PICK_EVENT.stockSet, `location:${s.location}`, { location: s.location, sku: s.sku, qty: s.qty, revision: s.revision ?? 0 }));
      const r = orThrow(await picking.importFloor(events));
      return { ok: true as const, seq: r.seq };
    },
  );

  app.get(
    '/api/v1/picking/summary',
    {
      config: { auth: 'read' },
      schema: {
        tags,
        summary: "Wave progress, short picks, replenishment queue and pickers' rates (the dashboard's picking panel)",
        security: bearer,
        response: { 200: PickingSummaryWire, ...errorResponses },
      },
    },
    async () => picking.summary(),
  );
}
