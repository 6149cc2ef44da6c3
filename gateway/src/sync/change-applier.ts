/**
 * Turns a page of cloud changes (contracts/sync.ts Change) into one unit of store ops.
 * Every change is idempotent: an order upsert carries a revision (an older or equal one is
 * skipped by the store), a status change sets a flag (setting it twice is harmless), and a
 * cancel request is answered once per request id.
 *
 * Upstream cancel rule (the merchant's Double-11 guide: cancel only while pending): a cancel
 * is accepted only while no work has started on the order — no shipment, or only abandoned
 * or intercepted ones — and the order is then tagged "owner cancelled" (its cancelled flag,
 * which the intercept check stops at every checkpoint). Once a parcel is being packed, the
 * cancel is refused with the reason and the shipment goes to the exception queue; the answer
 * travels back upstream as an event through the ordered outbox.
 */
import type { Change, OrderStatus } from '../../../contracts/sync.js';
import { SYNC_EVENT } from '../../../contracts/sync.js';
import { orderFromWire } from '../station/order-wire.js';
import type { OrderFlags, Shipment, Store, WriteOp } from '../storage/types.js';
import { HELD_ORDER_PREFIX } from '../storage/unit-applier.js';
import { EVENT } from '../station/events.js';
import { PICK_EVENT, stockSubject } from '../picking/events.js';

/** What planning a page of changes reads of the store (its writes go back as ops). */
export type ChangeReads = Pick<Store, 'getMeta' | 'getOrder' | 'lastEvent' | 'latestShipmentForOrder'>;

/** The flag each cloud status sets (or clears), docs/sync.md §7.3. */
export const STATUS_FLAGS: Readonly<Record<OrderStatus, Partial<OrderFlags>>> = {
  refund_requested: { refundRequested: true },
  refund_withdrawn: { refundRequested: false },
  refunded: { refunded: true },
  cancelled: { cancelled: true },
  closed: { platformClosed: true },
  shipped_elsewhere: { shipped: true },
};

/** Event written when a status change is applied; the sync checker reads it. */
export const STATUS_APPLIED_EVENT = EVENT.orderStatusApplied;
/**
 * How long a change for an order that never arrived is kept (then forgotten, hourly): orders
 * come within days of their status changes; a cloud feeding statuses of other warehouses'
 * orders must not grow the store for ever.
 */
export const HELD_CHANGE_TTL_MS = 14 * 86_400_000;
/** Written when a status change arrives before its order: held, applied when the order comes. */
export const STATUS_HELD_EVENT = EVENT.orderStatusHeld;
/** A shipment put on the exception queue (data: order_id, reason, request_id). */
export const SHIPMENT_EXCEPTION_EVENT = EVENT.exception;
/** Reason code of a refused cancel (contracts/errors.ts). */
export const CANCEL_REFUSED_CODE = 'PKL_CANCEL_TOO_LATE';

/** Shipment states in which a cancel can still be accepted: nothing is (or will be) packed. */
const NOT_STARTED: ReadonlySet<Shipment['state']> = new Set(['abandoned', 'intercepted']);

export interface ChangePlan {
  ops: WriteOp[];
  /** Orders whose cached copy changed (stations showing them re-check at once). */
  touched: string[];
  applied: number;
  skipped: number;
}

export function planChanges(store: ChangeReads, changes: readonly Change[], now: number): ChangePlan {
  const ops: WriteOp[] = [];
  const touched = new Set<string>();
  // Orders upserted earlier in this page are cached by the time later ops apply.
  const revisions = new Map<string, number>();
  const answered = new Set<string>();
  const heldHere = new Map<string, number>();
  let applied = 0;
  let skipped = 0;
  const stockRevisions = new Map<string, number>();
  const paidHere = new Set<string>();
  const revisionOf = (orderId: string): number | null => revisions.get(orderId) ?? store.getOrder(orderId)?.revision ?? null;

  for (const c of changes) {
    switch (c.kind) {
      case 'order.upsert': {
        const order = orderFromWire(c.order, now);
        const stored = revisionOf(order.orderId);
        if (stored !== null && stored >= order.revision) {
          skipped += 1;
          break;
        }
        ops.push({ op: 'order.put', order });
        ops.push({
          op: 'event',
          type: EVENT.orderImported,
          subject: `order:${order.orderId}`,
          data: {
            order_id: order.orderId,
            revision: order.revision,
            lines: order.lines.length,
            source: 'cloud',
            waybill: order.waybill !== null,
            ...(order.presale && { presale: true }),
          },
        });
        revisions.set(order.orderId, order.revision);
        touched.add(order.orderId);
        applied += 1;
        break;
      }
      case 'order.status': {
        const stored = revisionOf(c.order_id);
        // Not newer than the cached copy: that copy already includes this change (every cloud
        // change bumps the order's revision), so a redelivered page writes nothing twice.
        if (stored !== null && c.revision <= stored) {
          skipped += 1;
          break;
        }
        const data = { order_id: c.order_id, status: c.status, revision: c.revision, at: c.at };
        if (stored === null) {
          if (heldRevision(store, c.order_id) >= c.revision || (heldHere.get(c.order_id) ?? -1) >= c.revision) {
            skipped += 1; // held already (a redelivered page)
            break;
          }
          heldHere.set(c.order_id, c.revision);
          // The order is not cached yet (its upsert comes later, or through the HTTP import):
          // the change is held durably and applied in the unit that caches the order.
          ops.push({ op: 'order.hold', orderId: c.order_id, flags: STATUS_FLAGS[c.status], revision: c.revision, sticky: false, at: now });
          ops.push({ op: 'event', type: STATUS_HELD_EVENT, subject: `order:${c.order_id}`, data });
          applied += 1;
          break;
        }
        ops.push({ op: 'order.flags', orderId: c.order_id, flags: STATUS_FLAGS[c.status], revision: c.revision });
        ops.push({ op: 'event', type: STATUS_APPLIED_EVENT, subject: `order:${c.order_id}`, data });
        revisions.set(c.order_id, c.revision);
        touched.add(c.order_id);
        applied += 1;
        break;
      }
      case 'order.cancel_request': {
        if (answered.has(c.request_id) || alreadyAnswered(store, c.order_id, c.request_id)) {
          skipped += 1;
          break;
        }
        answered.add(c.request_id);
        ops.push(...answerCancel(store, c, revisionOf(c.order_id) !== null));
        touched.add(c.order_id);
        applied += 1;
        break;
      }
      case 'location.upsert': {
        // Replaced whole: applying it twice leaves the same location (picking/state.ts folds it).
        const l = c.location;
        ops.push({
          op: 'event',
          type: PICK_EVENT.locationUpserted,
          subject: `location:${l.code}`,
          data: {
            code: l.code,
            zone: l.zone,
            aisle: l.aisle,
            bay: l.bay,
            level: l.level,
            walk_seq: l.walk_seq ?? null,
            kind: l.kind,
            capacity: l.capacity ?? null,
            trigger: l.trigger ?? null,
          },
        });
        applied += 1;
        break;
      }
      case 'order.paid': {
        // A payment is applied once per order (docs/sync.md §18): a redelivered page, or the
        // cloud saying it twice, finds the first `order.paid` in the log and writes nothing.
        if (paidHere.has(c.order_id) || store.lastEvent(`order:${c.order_id}`, EVENT.presalePaid) !== null) {
          skipped += 1;
          break;
        }
        paidHere.add(c.order_id);
        ops.push({
          op: 'event',
          type: EVENT.presalePaid,
          subject: `order:${c.order_id}`,
          data: { order_id: c.order_id, revision: c.revision ?? null, at: c.at, cached: revisionOf(c.order_id) !== null },
        });
        touched.add(c.order_id);
        applied += 1;
        break;
      }
      case 'stock.set': {
        // Exactly once per (location, SKU) revision: a redelivered page never puts back a count
        // the picks since have moved on from.
        const subject = stockSubject(c.location, c.sku);
        const last = stockRevisions.get(subject) ?? (store.lastEvent(subject, PICK_EVENT.stockSet)?.data as { revision?: number } | null)?.revision ?? -1;
        if (c.revision <= last) {
          skipped += 1;
          break;
        }
        stockRevisions.set(subject, c.revision);
        ops.push({
          op: 'event',
          type: PICK_EVENT.stockSet,
          subject,
          data: { location: c.location, sku: c.sku, qty: c.qty, revision: c.revision, as_of_seq: c.as_of_seq },
        });
        applied += 1;
        break;
      }
    }
  }
  return { ops, touched: [...touched], applied, skipped };
}

/** Highest revision of the status changes held for an order not cached yet (-1: none). */
function heldRevision(store: ChangeReads, orderId: string): number {
  const raw = store.getMeta(`${HELD_ORDER_PREFIX}${orderId}`);
  if (raw === null) return -1;
  const held = JSON.parse(raw) as Array<{ revision: number | null }>;
  return Math.max(-1, ...held.map((h) => h.revision ?? -1));
}

function alreadyAnswered(store: ChangeReads, orderId: string, requestId: string): boolean {
  for (const type of [SYNC_EVENT.cancelAccepted, SYNC_EVENT.cancelRefused]) {
    const e = store.lastEvent(`order:${orderId}`, type);
    if ((e?.data as { request_id?: unknown } | null)?.request_id === requestId) return true;
  }
  return false;
}

function answerCancel(store: ChangeReads, c: Extract<Change, { kind: 'order.cancel_request' }>, cached: boolean): WriteOp[] {
  const subject = `order:${c.order_id}`;
  const latest = store.latestShipmentForOrder(c.order_id);
  if (latest === null || NOT_STARTED.has(latest.state)) {
    const ops: WriteOp[] = [];
    // Not cached yet: the cancel is held (sticky: an accepted cancel is never undone by a
    // revision race) and flags the order in the unit that caches it.
    ops.push(
      cached
        ? { op: 'order.flags', orderId: c.order_id, flags: { cancelled: true } }
        : { op: 'order.hold', orderId: c.order_id, flags: { cancelled: true }, revision: null, sticky: true, at: c.at },
    );
    ops.push({
      op: 'event',
      type: SYNC_EVENT.cancelAccepted,
      subject,
      data: { request_id: c.request_id, order_id: c.order_id, tag: 'owner_cancelled', cached },
    });
    return ops;
  }
  return [
    {
      op: 'event',
      type: SYNC_EVENT.cancelRefused,
      subject,
      data: {
        request_id: c.request_id,
        order_id: c.order_id,
        shipment_id: latest.shipmentId,
        state: latest.state,
        code: CANCEL_REFUSED_CODE,
        reason: latest.state === 'shipped' || latest.state === 'printed' ? 'label already printed' : 'packing has started',
      },
    },
    {
      op: 'event',
      type: SHIPMENT_EXCEPTION_EVENT,
      subject: `shipment:${latest.shipmentId}`,
      data: { order_id: c.order_id, reason: 'cancel_requested_after_start', request_id: c.request_id, state: latest.state },
    },
  ];
}
