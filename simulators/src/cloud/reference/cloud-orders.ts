/**
 * The order system's side of the reference cloud: orders, their statuses and cancel requests,
 * each change appended to the change log the gateway pulls (contracts/sync.ts Change), and
 * the effects accepted gateway events have on them. Callers hold the transaction.
 */
import type { OrderInWire } from '../../../../contracts/orders.js';
import { type Change, type OrderStatus, SYNC_EVENT } from '../../../../contracts/sync.js';
import type { CloudDb, OrderRow } from './cloud-db.js';
import { applyStockEffects } from './cloud-stock.js';

/** The change as stored (the cursor is the row id, added when it is served). */
type ChangeBody<K extends Change['kind']> = Omit<Extract<Change, { kind: K }>, 'cursor' | 'kind'>;

type FlagColumn = 'refund_requested' | 'refunded' | 'cancelled' | 'platform_closed' | 'shipped_elsewhere';
type WireFlag = keyof NonNullable<OrderInWire['flags']>;

/** The flag each cloud status sets or clears (the gateway maps them the same way, docs/sync.md §7.3). */
const STATUS_EFFECT: Readonly<Record<OrderStatus, { column: FlagColumn; wire: WireFlag; value: boolean }>> = {
  refund_requested: { column: 'refund_requested', wire: 'refund_requested', value: true },
  refund_withdrawn: { column: 'refund_requested', wire: 'refund_requested', value: false },
  refunded: { column: 'refunded', wire: 'refunded', value: true },
  cancelled: { column: 'cancelled', wire: 'cancelled', value: true },
  closed: { column: 'platform_closed', wire: 'platform_closed', value: true },
  shipped_elsewhere: { column: 'shipped_elsewhere', wire: 'shipped', value: true },
};

export interface UpsertResult {
  upserted: string[];
  /** Orders sent with a revision not newer than the stored one. */
  stale: string[];
}

/**
 * Upserts orders and logs an `order.upsert` change for each. Without a revision an existing
 * order gets the next one (the gateway skips an upsert whose revision it already holds).
 */
export function upsertOrders(db: CloudDb, orders: readonly OrderInWire[], at: number): UpsertResult {
  const out: UpsertResult = { upserted: [], stale: [] };
  for (const o of orders) {
    const prev = db.order(o.order_id);
    let revision = o.revision ?? (prev === null ? 0 : prev.revision + 1);
    if (prev !== null && revision <= prev.revision) {
      if (o.revision !== undefined) {
        out.stale.push(o.order_id);
        continue;
      }
      revision = prev.revision + 1;
    }
    const wire: OrderInWire = { ...o, revision };
    const f = wire.flags ?? {};
    db.putOrder({
      order_id: o.order_id,
      wire: JSON.stringify(wire),
      revision,
      refund_requested: f.refund_requested ? 1 : 0,
      refunded: f.refunded ? 1 : 0,
      cancelled: f.cancelled ? 1 : 0,
      platform_closed: f.platform_closed ? 1 : 0,
      shipped_elsewhere: f.shipped ? 1 : 0,
      shipped_at: prev?.shipped_at ?? null,
      shipped_by: prev?.shipped_by ?? null,
      updated_at: at,
    });
    const body: ChangeBody<'order.upsert'> = { order: wire };
    db.appendChange('order.upsert', body, at);
    out.upserted.push(o.order_id);
  }
  return out;
}

/** Applies a status, bumps the revision and logs an `order.status` change. Null: unknown order. */
export function setOrderStatus(db: CloudDb, orderId: string, status: OrderStatus, at: number): { revision: number; cursor: number } | null {
  const prev = db.order(orderId);
  if (prev === null) return null;
  const effect = STATUS_EFFECT[status];
  const revision = prev.revision + 1;
  const wire = JSON.parse(prev.wire) as OrderInWire;
  const next: OrderRow = {
    ...prev,
    wire: JSON.stringify({ ...wire, revision, flags: { ...wire.flags, [effect.wire]: effect.value } }),
    revision,
    [effect.column]: effect.value ? 1 : 0,
    updated_at: at,
  };
  db.putOrder(next);
  const body: ChangeBody<'order.status'> = { order_id: orderId, status, revision, at };
  return { revision, cursor: db.appendChange('order.status', body, at) };
}

/**
 * Records the payment of a presale order (docs/sync.md §18): the order is no longer presale in
 * the cloud (later upserts say so), its revision bumps, and an `order.paid` change is logged.
 * A payment is applied once: paying again logs nothing. Null: unknown order.
 */
export function payOrder(db: CloudDb, orderId: string, at: number): { revision: number; cursor: number | null } | null {
  const prev = db.order(orderId);
  if (prev === null) return null;
  const wire = JSON.parse(prev.wire) as OrderInWire;
  if (wire.presale !== true) return { revision: prev.revision, cursor: null };
  const revision = prev.revision + 1;
  db.putOrder({ ...prev, wire: JSON.stringify({ ...wire, presale: false, revision }), revision, updated_at: at });
  const body: ChangeBody<'order.paid'> = { order_id: orderId, revision, at };
  return { revision, cursor: db.appendChange('order.paid', body, at) };
}

export type CancelRequestResult = { ok: true; created: boolean; cursor: number | null } | { ok: false; why: 'unknown_order' | 'request_id_taken' };

/** Records a pending cancel request and logs an `order.cancel_request` change (idempotent per id). */
export function requestCancel(db: CloudDb, orderId: string, requestId: string, reason: string | undefined, at: number): CancelRequestResult {
  const existing = db.cancelRequest(requestId);
  if (existing !== null) {
    return existing.order_id === orderId ? { ok: true, created: false, cursor: null } : { ok: false, why: 'request_id_taken' };
  }
  if (db.order(orderId) === null) return { ok: false, why: 'unknown_order' };
  db.putCancelRequest(requestId, orderId, reason ?? null, at);
  const body: ChangeBody<'order.cancel_request'> = { order_id: orderId, request_id: requestId, ...(reason !== undefined ? { reason } : {}), at };
  return { ok: true, created: true, cursor: db.appendChange('order.cancel_request', body, at) };
}

/** True when the order exists and is cancelled or closed in the cloud. */
export function orderClosed(db: CloudDb, orderId: string, blockedBy: readonly BlockingFlag[]): BlockingFlag | null {
  const o = db.order(orderId);
  if (o === null) return null;
  return blockedBy.find((f) => o[BLOCKING_COLUMN[f]] === 1) ?? null;
}

/** Order states that make a `shipment.shipped` event a business-rule rejection. */
export type BlockingFlag = 'cancelled' | 'closed' | 'refunded' | 'refund_requested' | 'shipped_elsewhere';
const BLOCKING_COLUMN: Readonly<Record<BlockingFlag, FlagColumn>> = {
  cancelled: 'cancelled',
  closed: 'platform_closed',
  refunded: 'refunded',
  refund_requested: 'refund_requested',
  shipped_elsewhere: 'shipped_elsewhere',
};

/** Event types whose acceptance changes the order state. */
export const SHIPPED_EVENT = 'shipment.shipped';

/**
 * Applies an accepted event to the order state: a shipped parcel marks its order shipped; a
 * cancel answer (contracts/sync.ts SYNC_EVENT) closes the request (an accepted cancel also
 * cancels the order, so a later `shipment.shipped` for it is refused); picking events move
 * the cloud's stock (cloud-stock.ts).
 */
export function applyEventEffects(db: CloudDb, gatewayId: string, e: { seq: number; type: string; data: unknown }, at: number): void {
  const data = e.data as Record<string, unknown>;
  const by = `${gatewayId}:${e.seq}`;
  const orderId = typeof data.order_id === 'string' ? data.order_id : null;
  // Picks, short picks, corrections, returns and replenishment moves change the cloud's stock.
  applyStockEffects(db, gatewayId, e, at);
  if (e.type === SHIPPED_EVENT && orderId !== null) {
    const o = db.order(orderId);
    if (o !== null && o.shipped_at === null) db.putOrder({ ...o, shipped_at: at, shipped_by: by, updated_at: at });
    return;
  }
  if (e.type === SYNC_EVENT.cancelAccepted || e.type === SYNC_EVENT.cancelRefused) {
    const requestId = typeof data.request_id === 'string' ? data.request_id : null;
    const req = requestId === null ? null : db.cancelRequest(requestId);
    if (req !== null && req.state === 'pending') {
      const accepted = e.type === SYNC_EVENT.cancelAccepted;
      db.answerCancelRequest(req.request_id, accepted ? 'accepted' : 'refused', JSON.stringify(data), at, by);
      const o = accepted ? db.order(req.order_id) : null;
      if (o !== null && o.cancelled === 0) {
        const wire = JSON.parse(o.wire) as OrderInWire;
        db.putOrder({ ...o, cancelled: 1, wire: JSON.stringify({ ...wire, flags: { ...wire.flags, cancelled: true } }), updated_at: at });
      }
    }
  }
}
