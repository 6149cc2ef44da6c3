/**
 * Batches by structure, post-print and pre-pack jobs (docs/packing-modes.md): preview and
 * build by rules or by hand, start at a station, pause, cancel; pre-pack jobs and their stock.
 */
import { PacklineError } from '../../../../contracts/errors.js';
import type { Batch } from '../../batches/batch.js';
import type { BatchResult, BatchService, BatchSummary } from '../../batches/batch-service.js';
import type { BatchRule } from '../../batches/build.js';
import type { PrepackJob } from '../../batches/prepack.js';
import {
  BatchListReply,
  BatchParams,
  BatchReply,
  type BatchRuleWire,
  BuildBody,
  PrepackBody,
  PrepackListReply,
  PrepackReply,
  PreviewBody,
  StartBody,
} from '../schemas/batches.js';
import { bearer, errorResponses } from '../schemas/common.js';
import type { App } from '../type-provider.js';

function rule(r: BatchRuleWire): BatchRule {
  return {
    maxSize: r.max_size,
    ...(r.structures ? { structures: r.structures } : {}),
    ...(r.carrier !== undefined ? { carrier: r.carrier } : {}),
    ...(r.shop !== undefined ? { shop: r.shop } : {}),
    ...(r.ship_by_before !== undefined ? { shipByBefore: r.ship_by_before } : {}),
    ...(r.mode !== undefined ? { mode: r.mode } : {}),
    ...(r.weigh !== undefined ? { weigh: r.weigh } : {}),
  };
}

function batchToWire(b: Batch | BatchSummary) {
  const p = 'progress' in b ? b.progress : undefined;
  return {
    batch_id: b.batchId,
    structure: b.structure,
    composition: b.composition,
    carrier: b.carrier,
    shop: b.shop,
    state: b.state,
    station_id: b.stationId,
    mode: b.mode,
    weigh: b.weigh,
    order_ids: b.orders,
    created_at: b.createdAt,
    updated_at: b.updatedAt,
    ...(p
      ? {
          progress: {
            total: p.total,
            taken: p.taken,
            removed: p.removed,
            remaining: p.remaining,
            next_order_id: p.next?.orderId ?? null,
            next_seq: p.next?.seq ?? null,
          },
        }
      : {}),
  };
}

function prepackToWire(j: PrepackJob & { left?: number; barcodes?: string[] }) {
  return {
    job_id: j.jobId,
    composition: j.composition,
    units: j.units,
    left: j.left ?? j.units,
    created_at: j.createdAt,
    ...(j.barcodes ? { barcodes: j.barcodes } : {}),
  };
}

/** A refusal of the batch service is the coded error answer. */
function unwrap<T>(r: BatchResult<T>): T {
  if (!r.ok) throw new PacklineError(r.code, r.details);
  return r.value;
}

export function registerBatchRoutes(app: App, batches: BatchService): void {
  const tags = ['batches'];
  app.get(
    '/api/v1/batches',
    {
      config: { auth: 'read' },
      schema: { tags, summary: 'Every batch with its state and progress', security: bearer, response: { 200: BatchListReply, ...errorResponses } },
    },
    async () => ({ batches: batches.list().map(batchToWire) }),
  );

  app.get(
    '/api/v1/batches/:batchId',
    {
      config: { auth: 'read' },
      schema: {
        tags,
        summary: 'One batch with its orders in sequence and its progress',
        security: bearer,
        params: BatchParams,
        response: { 200: BatchReply, ...errorResponses },
      },
    },
    async (request) => {
      const b = batches.get(request.params.batchId);
      if (b === null) throw new PacklineError('PKL_BATCH_NOT_FOUND', { batchId: request.params.batchId });
      return { batch: batchToWire(b) };
    },
  );

  app.post(
    '/api/v1/batches/preview',
    {
      config: { auth: 'read' },
      schema: {
        tags,
        summary: 'The batches these rules would build now from the pending orders (nothing saved)',
        security: bearer,
        body: PreviewBody,
        response: { 200: BatchListReply, ...errorResponses },
      },
    },
    async (request) => ({ batches: batches.preview(request.body.rules.map(rule)).map(batchToWire) }),
  );

  app.post(
    '/api/v1/batches',
    {
      config: { auth: 'admin' },
      schema: {
        tags,
        summary: 'Build batches by rules (structure, carrier, shop, ship-by cut-off, max size) or by hand (order_ids)',
        description: 'An order already in an open or working batch is never batched again (PKL_BATCH_ORDER_TAKEN by hand).',
        security: bearer,
        body: BuildBody,
        response: { 200: BatchListReply, ...errorResponses },
      },
    },
    async (request) => {
      const { rules, order_ids: orderIds, mode, weigh } = request.body;
      if ((rules === undefined) === (orderIds === undefined)) throw new PacklineError('PKL_PAYLOAD_INVALID', { reason: 'give either rules or order_ids' });
      if (orderIds !== undefined) {
        const b = unwrap(await batches.buildManual(orderIds, { ...(mode ? { mode } : {}), ...(weigh !== undefined ? { weigh } : {}) }));
        return { batches: [batchToWire(batches.get(b.batchId) ?? b)] };
      }
      const built = unwrap(await batches.build((rules ?? []).map(rule)));
      return { batches: built.map((b) => batchToWire(batches.get(b.batchId) ?? b)) };
    },
  );

  app.post(
    '/api/v1/batches/:batchId/start',
    {
      config: { auth: 'scan' },
      schema: {
        tags,
        summary: 'A station starts working the batch (post-print: a scan of its item picks the next order)',
        security: bearer,
        params: BatchParams,
        body: StartBody,
        response: { 200: BatchReply, ...errorResponses },
      },
    },
    async (request) => {
      const { station_id: stationId, mode, weigh } = request.body;
      const b = unwrap(await batches.startAt(request.params.batchId, stationId, { ...(mode ? { mode } : {}), ...(weigh !== undefined ? { weigh } : {}) }));
      return { batch: batchToWire(b) };
    },
  );

  app.post(
    '/api/v1/batches/:batchId/pause',
    {
      config: { auth: 'scan' },
      schema: {
        tags,
        summary: 'The station stops working the batch (it stays open)',
        security: bearer,
        params: BatchParams,
        response: { 200: BatchReply, ...errorResponses },
      },
    },
    async (request) => ({ batch: batchToWire(unwrap(await batches.pause(request.params.batchId))) }),
  );

  app.post(
    '/api/v1/batches/:batchId/cancel',
    {
      config: { auth: 'admin' },
      schema: {
        tags,
        summary: 'Cancel the batch: its orders not yet picked are free again',
        security: bearer,
        params: BatchParams,
        response: { 200: BatchReply, ...errorResponses },
      },
    },
    async (request) => ({ batch: batchToWire(unwrap(await batches.cancel(request.params.batchId))) }),
  );

  app.get(
    '/api/v1/prepacks',
    {
      config: { auth: 'read' },
      schema: { tags, summary: 'Pre-pack jobs and their units left in stock', security: bearer, response: { 200: PrepackListReply, ...errorResponses } },
    },
    async () => ({ prepacks: batches.prepacks().map(prepackToWire) }),
  );

  app.post(
    '/api/v1/prepacks',
    {
      config: { auth: 'admin' },
      schema: {
        tags,
        summary: 'A pre-pack job: N units of a composition, each with its own barcode (answered for the labels)',
        security: bearer,
        body: PrepackBody,
        response: { 200: PrepackReply, ...errorResponses },
      },
    },
    async (request) => ({ prepack: prepackToWire(unwrap(await batches.createPrepack(request.body.composition, request.body.units))) }),
  );
}
