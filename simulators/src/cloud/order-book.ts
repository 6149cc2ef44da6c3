/**
 * The simulated cloud's order table: the latest revision of every order it has published.
 * In memory for now; the reference cloud (cloud-sync issue) replaces it with SQLite behind
 * the same methods.
 */
import type { WireOrder } from '../orders/wire-order.js';
import { isShippable } from '../orders/wire-order.js';

export class OrderBook {
  private readonly orders = new Map<string, WireOrder>();

  get size(): number {
    return this.orders.size;
  }

  /** Stores `order` unless a newer or equal revision is already there; true when stored. */
  put(order: WireOrder): boolean {
    const cur = this.orders.get(order.order_id);
    if (cur && cur.revision >= order.revision) return false;
    this.orders.set(order.order_id, order);
    return true;
  }

  get(orderId: string): WireOrder | undefined {
    return this.orders.get(orderId);
  }

  all(): WireOrder[] {
    return [...this.orders.values()];
  }

  /** Orders a warehouse could still ship or hold (not intercepted and not shipped). */
  open(): WireOrder[] {
    return this.all().filter((o) => !o.flags.refund_requested && !o.flags.refunded && !o.flags.cancelled && !o.flags.platform_closed && !o.flags.shipped);
  }

  withoutWaybill(): WireOrder[] {
    return this.open().filter((o) => o.waybill === null);
  }

  shippable(): WireOrder[] {
    return this.all().filter(isShippable);
  }
}
