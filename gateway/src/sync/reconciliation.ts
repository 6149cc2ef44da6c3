/**
 * The reconciliation report: what the gateway and the cloud may disagree about, each with
 * the action a supervisor takes.
 * - shipped_while_intercepted: a label was printed, then a refund/cancel/close reached the
 *   gateway (or was pending upstream while it was offline): a recall (intercept) task.
 * - cancel_refused: an owner cancel arrived after packing started; the shipment is on the
 *   exception queue until someone decides.
 * - not_acknowledged: shipment events the cloud has not acknowledged for a while.
 * - sync_failed: events the cloud rejected; fix upstream, then `packline sync retry`.
 *
 * Beside the conflicts, `stock` says how far the cloud's stock lags the gateway's: the picking
 * events that move stock (picks, short picks, corrections, returns, replenishment moves) the
 * cloud has not acknowledged yet, and at which locations. The cloud's figure of a location is
 * its count + the moves it holds (docs/sync.md §17.1); once these are acknowledged it matches.
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
  /** Stock moves the cloud has not acknowledged: its stock differs from the gateway's at `locations` until they are. */
  stock: { moves_not_acknowledged: number; locations: string[]; more_locations: number };
}

/** Picking events that move stock (picking/events.ts; the cloud applies them as docs/sync.md §17.1 says). */
export const STOCK_MOVE_TYPES: readonly string[] = [
  'pick.confirmed',
  'pick.short',
  'stock.corrected',
  'pick.order_pulled',
  'wave.cancelled',
  'replenishment.confirmed',
];
const MAX_LOCATIONS = 50;
/** Log rows scanned past the cloud's cursor for stock moves (the report is asked for, not hot). */
const STOCK_SCAN = 1_000_000;

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
  return { generated_at: now, acked_seq: ackedSeq, high_water: store.stats().lastSeq, conflicts, stock: pendingStock(store, ackedSeq) };
}

function pendingStock(store: ReconciliationStore, ackedSeq: number): ReconciliationReport['stock'] {
  const locations = new Set<string>();
  let moves = 0;
  let after = ackedSeq;
  for (let scanned = 0; scanned < STOCK_SCAN; ) {
    const page = store.eventRowsOfTypes(STOCK_MOVE_TYPES, after, 10_000, STOCK_SCAN - scanned);
    for (const r of page.rows) {
      const d = JSON.parse(r.data) as { location?: unknown; from?: unknown; to?: unknown; returned?: unknown };
      if (r.type === 'pick.order_pulled' && (!Array.isArray(d.returned) || d.returned.length === 0)) continue;
      moves++;
      for (const l of [d.location, d.from, d.to]) if (typeof l === 'string') locations.add(l);
    }
    if (page.scannedTo <= after) break;
    scanned += page.scannedTo - after;
    after = page.scannedTo;
  }
  const sorted = [...locations].sort();
  return { moves_not_acknowledged: moves, locations: sorted.slice(0, MAX_LOCATIONS), more_locations: Math.max(0, sorted.length - MAX_LOCATIONS) };
}
