/**
 * The main thread's working set of orders and of each order's shipments: what the station
 * flow reads at every step (an order scan, an item scan, the weight, the print result each
 * read the order and its shipments). Read from SQLite once, then served from memory, and kept
 * exact by the same commits that change the rows: when the writer reports a unit committed,
 * the store applies that unit's `order.*` and `shipment.put` ops here before anyone sees the
 * write resolve (sqlite-store.ts onWriterMessage).
 *
 * - An order changed by a commit is dropped (the next read fetches it again): orders change
 *   rarely on the hot path, and dropping cannot disagree with SQLite's revision rule or a
 *   barcode that moved to another order (its previous order is dropped too).
 * - A shipment written by a commit replaces its copy in its order's cached list, normalised
 *   exactly as a read of the row would return it (store-reader.ts toShipment), in the list's
 *   SQL order (`updated_at DESC, shipment_id DESC`).
 * - Shipments by id likewise (getShipment: the dashboard and the metrics look up the station
 *   of each shipped event), the copy a commit wrote replacing the one read.
 * - Bounded (FIFO): `maxOrders` orders, shipment lists and shipments by id.
 *
 * Records handed out are shared, as every store record is treated: callers never mutate them
 * (the station flow builds new state objects).
 */
import type { Order, Shipment, WriteOp } from './types.js';

export class WorkingSet {
  private readonly orders = new Map<string, Order | null>();
  /** barcode → id of the cached order listing it. */
  private readonly byCode = new Map<string, string>();
  /** order id → all its shipments, newest first. */
  private readonly shipments = new Map<string, Shipment[]>();
  /** shipment id → the order whose cached list holds it. */
  private readonly shipmentOrder = new Map<string, string>();
  /** shipment id → the shipment (or null: no such row), for getShipment. */
  private readonly byId = new Map<string, Shipment | null>();
  hits = 0;
  misses = 0;

  constructor(private readonly maxOrders = 4096) {}

  getOrder(orderId: string, read: (id: string) => Order | null): Order | null {
    const hit = this.orders.get(orderId);
    if (hit !== undefined) {
      this.hits += 1;
      return hit;
    }
    this.misses += 1;
    const order = read(orderId);
    if (this.orders.size >= this.maxOrders) this.dropOrder(this.orders.keys().next().value as string);
    this.orders.set(orderId, order);
    if (order !== null) for (const code of order.barcodes) this.byCode.set(code, orderId);
    return order;
  }

  getShipment(shipmentId: string, read: (id: string) => Shipment | null): Shipment | null {
    const hit = this.byId.get(shipmentId);
    if (hit !== undefined) {
      this.hits += 1;
      return hit;
    }
    this.misses += 1;
    const sh = read(shipmentId);
    this.keepShipment(shipmentId, sh);
    return sh;
  }

  /** All shipments of an order (newest first), or the first `limit`; `read` fetches up to `readLimit`. */
  shipmentsForOrder(orderId: string, limit: number, read: (id: string, readLimit: number) => Shipment[], readLimit: number): Shipment[] {
    const hit = this.shipments.get(orderId);
    if (hit !== undefined) {
      this.hits += 1;
      return hit.length > limit ? hit.slice(0, limit) : hit.slice();
    }
    this.misses += 1;
    const list = read(orderId, readLimit);
    // Only a complete list can be kept and extended by later commits.
    if (list.length < readLimit) {
      if (this.shipments.size >= this.maxOrders) this.dropShipments(this.shipments.keys().next().value as string);
      this.shipments.set(orderId, list);
      for (const sh of list) this.shipmentOrder.set(sh.shipmentId, orderId);
    }
    return list.length > limit ? list.slice(0, limit) : list.slice();
  }

  /** A unit committed: bring the cached copies in line with its ops. */
  committed(ops: readonly WriteOp[], stale: readonly number[] | undefined): void {
    ops.forEach((op, i) => {
      switch (op.op) {
        case 'order.put':
          this.dropOrder(op.order.orderId);
          // A barcode listed by another cached order moves to this one (INSERT OR REPLACE).
          for (const code of op.order.barcodes) {
            const other = this.byCode.get(code);
            if (other !== undefined) this.dropOrder(other);
          }
          return;
        case 'order.flags':
        // A held change lands on the order if it was cached by the time the unit applied.
        case 'order.hold':
          this.dropOrder(op.orderId);
          return;
        case 'shipment.put': {
          if (stale?.includes(i)) return;
          // The row is replaced whole (INSERT OR REPLACE): if it was listed under another order, that list changes too.
          const before = this.shipmentOrder.get(op.shipment.shipmentId);
          if (before !== undefined && before !== op.shipment.orderId) this.dropShipments(before);
          const s = asStored(op.shipment);
          // Just written: the dashboard and the metrics look it up by id when its events are read.
          this.keepShipment(s.shipmentId, s);
          const list = this.shipments.get(op.shipment.orderId);
          if (list === undefined) return;
          this.shipmentOrder.set(op.shipment.shipmentId, op.shipment.orderId);
          const at = list.findIndex((x) => x.shipmentId === s.shipmentId);
          if (at >= 0) list.splice(at, 1);
          // Newest first: updated_at DESC, shipment_id DESC (ids are ASCII, so JS order = SQLite BINARY).
          let pos = 0;
          while (pos < list.length && newer(list[pos] as Shipment, s)) pos += 1;
          list.splice(pos, 0, s);
          return;
        }
        default:
          return;
      }
    });
  }

  /**
   * Retention deleted these orders and shipments (retention-pruner.ts): their cached copies
   * go, so the next read finds them gone exactly as SQLite does.
   */
  forget(orderIds: readonly string[], shipmentIds: readonly string[]): void {
    for (const id of orderIds) {
      this.dropOrder(id);
      this.dropShipments(id);
    }
    for (const id of shipmentIds) {
      const orderId = this.shipmentOrder.get(id);
      if (orderId !== undefined) this.dropShipments(orderId);
      this.byId.delete(id);
    }
  }

  /** Units in flight with an unknown outcome (the writer failed): start over from SQLite. */
  clear(): void {
    this.orders.clear();
    this.byCode.clear();
    this.shipments.clear();
    this.shipmentOrder.clear();
    this.byId.clear();
  }

  private keepShipment(shipmentId: string, sh: Shipment | null): void {
    if (!this.byId.has(shipmentId) && this.byId.size >= this.maxOrders) this.byId.delete(this.byId.keys().next().value as string);
    this.byId.set(shipmentId, sh);
  }

  private dropShipments(orderId: string): void {
    const list = this.shipments.get(orderId);
    if (list === undefined) return;
    this.shipments.delete(orderId);
    for (const sh of list) if (this.shipmentOrder.get(sh.shipmentId) === orderId) this.shipmentOrder.delete(sh.shipmentId);
  }

  private dropOrder(orderId: string): void {
    const o = this.orders.get(orderId);
    if (o === undefined) return;
    this.orders.delete(orderId);
    if (o !== null) for (const code of o.barcodes) if (this.byCode.get(code) === orderId) this.byCode.delete(code);
  }
}

/** Whether `a` sorts before `b` in `ORDER BY updated_at DESC, shipment_id DESC`. */
function newer(a: Shipment, b: Shipment): boolean {
  if (a.updatedAt !== b.updatedAt) return a.updatedAt > b.updatedAt;
  return a.shipmentId > b.shipmentId;
}

/** The shipment as a read of its row returns it (store-reader.ts toShipment): every column, nulls for absent values, `scanned` a fresh object. */
function asStored(sh: Shipment): Shipment {
  return {
    shipmentId: sh.shipmentId,
    orderId: sh.orderId,
    stationId: sh.stationId,
    state: sh.state,
    reasonCode: sh.reasonCode ?? null,
    scanned: JSON.parse(JSON.stringify(sh.scanned)) as Record<string, number>,
    expectedGrams: sh.expectedGrams ?? null,
    actualGrams: sh.actualGrams ?? null,
    carrier: sh.carrier ?? null,
    waybill: sh.waybill ?? null,
    labelJobId: sh.labelJobId ?? null,
    operator: sh.operator ?? null,
    openedAt: sh.openedAt,
    updatedAt: sh.updatedAt,
    shippedAt: sh.shippedAt ?? null,
  };
}
