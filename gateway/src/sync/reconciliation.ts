/**
 * The reconciliation report: what the gateway and the cloud may disagree about, each with
 * the action a supervisor takes.
 * - shipped_while_intercepted: a label was printed, then a refund/cancel/close reached the
 *   gateway (or was pending upstream while it was offline): a recall (intercept) task.
 * - cancel_refused: an owner cancel arrived after packing started; the shipment is on the
 *   exception queue until someone decides.
 * - not_acknowledged: shipment events the cloud has not acknowledged for a while.
 * - sync_failed: events the cloud rejected; fix upstream, then `packline sync retry`.
 */
import { SYNC_EVENT } from '../../../contracts/sync.js';
import type { Store } from '../storage/types.js';
import { wallMs } from './shipment-feed.js';

/** What the reconciliation report reads of the store. */
export type ReconciliationStore = Pick<Store, 'eventRowsOfTypes' | 'readEventRows' | 'shippedButIntercepted' | 'stats' | 'syncFailures'>;

const MAX_ITEMS = 500;
/** Unacknowledged shipment events older than this are reported. */
export const NOT_ACKED_AFTER_MS = 10 * 60_000;

/** One disagreement and what the supervisor does about it (`GET /api/v1/sync/reconciliation`). */
export interface ReconciliationConflict {
  kind: 'shipped_while_intercepted' | 'cancel_refused' | 'not_acknowledged' | 'sync_failed';
  /** What to do about it, for the supervisor. */
  action: string;
  shipment_id: string | null;
  order_id: string | null;
  seq: number | null;
  detail: string;
}

/** The report as served (the HTTP schema gateway/src/http/schemas/sync.ts ReconciliationReply describes it). */
export interface ReconciliationReport {
  generated_at: number;
  acked_seq: number;
  high_water: number;
  conflicts: ReconciliationConflict[];
}

export function reconciliationReport(store: ReconciliationStore, ackedSeq: number, now: number): ReconciliationReport {
  const conflicts: ReconciliationConflict[] = [];
  for (const { shipment, order } of store.shippedButIntercepted(MAX_ITEMS)) {
    const f = order.flags;
    const why = f.refunded ? 'refunded' : f.refundRequested ? 'refund requested' : f.cancelled ? 'cancelled' : 'platform closed the order';
    conflicts.push({
      kind: 'shipped_while_intercepted',
      action: 'recall: intercept the parcel with the carrier or pull it from the outbound dock',
      shipment_id: shipment.shipmentId,
      order_id: order.orderId,
      seq: null,
      detail: `label ${shipment.state === 'shipped' ? 'printed and shipped' : 'printed'}, order ${why} since`,
    });
  }
  // Cancel refusals since the cloud's cursor minus a window: the exception queue.
  const refused = store.eventRowsOfTypes([SYNC_EVENT.cancelRefused], Math.max(0, store.stats().lastSeq - 1_000_000), MAX_ITEMS, 1_000_000).rows;
  for (const r of refused) {
    const d = JSON.parse(r.data) as { order_id?: string; shipment_id?: string; state?: string; request_id?: string };
    conflicts.push({
      kind: 'cancel_refused',
      action: 'decide: ship as packed, or unpack and return to stock, and tell the owner',
      shipment_id: d.shipment_id ?? null,
      order_id: d.order_id ?? null,
      seq: r.seq,
      detail: `owner cancel ${d.request_id ?? ''} refused: parcel was ${d.state ?? 'in progress'}`,
    });
  }
  const oldest = store.readEventRows(ackedSeq, 1)[0];
  if (oldest !== undefined && now - wallMs(oldest.hlc) > NOT_ACKED_AFTER_MS) {
    const high = store.stats().lastSeq;
    conflicts.push({
      kind: 'not_acknowledged',
      action: 'check the cloud link (GET /api/v1/sync); nothing is lost, the outbox keeps sending',
      shipment_id: null,
      order_id: null,
      seq: oldest.seq,
      detail: `${high - ackedSeq} event(s) not acknowledged by the cloud, oldest from ${new Date(wallMs(oldest.hlc)).toISOString()}`,
    });
  }
  for (const f of store.syncFailures({ state: 'open', limit: MAX_ITEMS })) {
    conflicts.push({
      kind: 'sync_failed',
      action: 'fix the cause in the cloud order system, then run: packline sync retry',
      shipment_id: null,
      order_id: null,
      seq: f.seq,
      detail: `${f.code}: ${f.reason} (${f.attempts} attempt(s), ${f.state})`,
    });
  }
  return { generated_at: now, acked_seq: ackedSeq, high_water: store.stats().lastSeq, conflicts };
}
