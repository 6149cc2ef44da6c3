/**
 * The cloud pull feed (`GET /api/v1/shipments?after=<seq>`): shipments in event-log order,
 * each at the seq of the event that last changed its outcome, with the next cursor. The cursor
 * is the gateway's seq — never a time window (docs/sync.md §7.1) — so a cloud that
 * missed pushes pulls exactly what it missed, and a replay is an idempotent upsert on
 * shipment_id.
 */
import { SYNC_EVENT, type FeedShipment } from '../../../contracts/sync.js';
import { EVENT } from '../station/events.js';
import { META_EVENTS_PRUNED_THROUGH } from '../storage/retention-meta.js';
import type { RawEventRow, Store } from '../storage/types.js';
import { SHIPMENT_EXCEPTION_EVENT } from './change-applier.js';

/** What the shipment feed reads of the store. */
export type ShipmentFeedStore = Pick<Store, 'eventRowsOfTypes' | 'getShipment' | 'lastEvent' | 'stats' | 'getMeta'>;

/** Events that change what the cloud must know about a shipment's outcome. */
export const FEED_EVENT_TYPES: readonly string[] = [
  EVENT.labelQueued,
  EVENT.shipped,
  EVENT.intercepted,
  EVENT.abandoned,
  EVENT.printFailed,
  EVENT.held,
  EVENT.released,
  SHIPMENT_EXCEPTION_EVENT,
  SYNC_EVENT.shipConfirmed,
];

/** Log rows looked at per page, so a page over a long stretch without shipments stays cheap. */
const SCAN_PER_RECORD = 20;

export interface FeedPage {
  records: FeedShipment[];
  next_cursor: number;
  high_water: number;
  /**
   * Retention's mark: every seq up to it was acknowledged by the cloud and pruned (but a few
   * kept on purpose, storage/retention-plan.ts), so a cursor below it replays only what is
   * left; 0 while nothing was pruned (docs/sync.md §13).
   */
  pruned_through: number;
}

export function shipmentFeed(store: ShipmentFeedStore, after: number, limit: number, ackedSeq: number): FeedPage {
  const { rows, scannedTo } = store.eventRowsOfTypes(FEED_EVENT_TYPES, after, limit, limit * SCAN_PER_RECORD);
  // A shipment changed twice in the page appears once, at its latest seq.
  const latest = new Map<string, RawEventRow>();
  for (const r of rows) {
    if (!r.subject.startsWith('shipment:')) continue;
    const id = r.subject.slice('shipment:'.length);
    latest.delete(id);
    latest.set(id, r);
  }
  const records: FeedShipment[] = [];
  for (const [id, row] of latest) {
    const s = store.getShipment(id);
    if (s === null) continue;
    const confirmed = store.lastEvent(`shipment:${id}`, SYNC_EVENT.shipConfirmed);
    records.push({
      seq: row.seq,
      shipment_id: s.shipmentId,
      order_id: s.orderId,
      station_id: s.stationId,
      state: s.state,
      reason_code: s.reasonCode,
      carrier: s.carrier,
      waybill: s.waybill,
      actual_grams: s.actualGrams,
      expected_grams: s.expectedGrams,
      operator: s.operator,
      opened_at: s.openedAt,
      shipped_at: s.shippedAt,
      cloud_acked: row.seq <= ackedSeq,
      ship_confirmed_at: confirmed === null ? null : wallMs(confirmed.hlc),
    });
  }
  records.sort((a, b) => a.seq - b.seq);
  const prunedThrough = Number(store.getMeta(META_EVENTS_PRUNED_THROUGH) ?? 0) || 0;
  return { records, next_cursor: Math.max(after, scannedTo), high_water: store.stats().lastSeq, pruned_through: prunedThrough };
}

/** Wall-clock part of an HLC (`wallMs.counter`). */
export function wallMs(hlc: string): number {
  return Number(hlc.slice(0, hlc.indexOf('.')));
}
