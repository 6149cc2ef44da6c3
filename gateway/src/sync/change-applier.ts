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
import { orderFromWire } from '../http/schemas/orders.js';
import type { OrderFlags, Shipment, Store, WriteOp } from '../storage/types.js';
import { EVENT } from '../station/events.js';

/** The flag each cloud status sets (or clears), docs/shipment-flow.md. */
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

export function planChanges(store: Store, changes: readonly Change[], now: number): ChangePlan {
  const ops: WriteOp[] = [];
  const touched = new Set<string>();
  // Orders upserted earlier in this page are cached by the time later ops apply.
  const revisions = new Map<string, number>();
  const answered = new Set<string>();
  let applied = 0;
  let skipped = 0;
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
          data: { revision: order.revision, lines: order.lines.length, source: 'cloud', waybill: order.waybill !== null },
        });
        revisions.set(order.orderId, order.revision);
        touched.add(order.orderId);
        applied += 1;
        break;
      }
      case 'order.status': {
        const stored = revisionOf(c.order_id);
        // Unknown order: its upsert (which carries the flags) comes through the feed too.
        // Not newer than the cached copy: that copy already includes this change (every cloud
        // change bumps the order's revision), so a redelivered page writes nothing twice.
        if (stored === null || c.revision <= stored) {
          skipped += 1;
          break;
        }
        ops.push({ op: 'order.flags', orderId: c.order_id, flags: STATUS_FLAGS[c.status], revision: c.revision });
        ops.push({
          op: 'event',
          type: STATUS_APPLIED_EVENT,
          subject: `order:${c.order_id}`,
          data: { order_id: c.order_id, status: c.status, revision: c.revision, at: c.at },
        });
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
    }
  }
  return { ops, touched: [...touched], applied, skipped };
}

function alreadyAnswered(store: Store, orderId: string, requestId: string): boolean {
  for (const type of [SYNC_EVENT.cancelAccepted, SYNC_EVENT.cancelRefused]) {
    const e = store.lastEvent(`order:${orderId}`, type);
    if ((e?.data as { request_id?: unknown } | null)?.request_id === requestId) return true;
  }
  return false;
}

function answerCancel(
  store: Store,
  c: Extract<Change, { kind: 'order.cancel_request' }>,
  cached: boolean,
): WriteOp[] {
  const subject = `order:${c.order_id}`;
  const latest = store.latestShipmentForOrder(c.order_id);
  if (latest === null || NOT_STARTED.has(latest.state)) {
    const ops: WriteOp[] = [];
    if (cached) ops.push({ op: 'order.flags', orderId: c.order_id, flags: { cancelled: true } });
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
