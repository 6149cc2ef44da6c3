/**
 * Hands each known order to exactly one packing station (or, for pre-packed parcels, to a
 * sorter line), and carries packed parcels from the stations to the lines.
 */
import type { WireOrder } from '../orders/wire-order.js';

export interface PackedParcel {
  orderId: string;
  waybill: string;
  grams: number;
}

export class OrderPool {
  private readonly queue = new Map<string, WireOrder>();
  private readonly seen = new Set<string>();
  private readonly packed: PackedParcel[] = [];
  private handedOut = 0;

  /** New orders join the queue; new revisions of queued ones replace them; taken ones stay taken. */
  offer(orders: readonly WireOrder[]): void {
    for (const o of orders) {
      if (this.queue.has(o.order_id)) {
        this.queue.set(o.order_id, o);
        continue;
      }
      if (this.seen.has(o.order_id)) continue;
      this.seen.add(o.order_id);
      this.queue.set(o.order_id, o);
    }
  }

  /** The oldest waiting order (for a packing station). */
  take(): WireOrder | undefined {
    const first = this.queue.values().next();
    if (first.done) return undefined;
    this.queue.delete(first.value.order_id);
    this.handedOut++;
    return first.value;
  }

  /** A waiting order that already has a waybill (a pre-packed parcel straight onto the line). */
  takeWaybilled(): WireOrder | undefined {
    for (const o of this.queue.values()) {
      if (o.waybill !== null) {
        this.queue.delete(o.order_id);
        this.handedOut++;
        return o;
      }
    }
    return undefined;
  }

  addPacked(p: PackedParcel): void {
    this.packed.push(p);
    // A line that is not running must not make this grow without bound.
    if (this.packed.length > 10_000) this.packed.shift();
  }

  takePacked(): PackedParcel | undefined {
    return this.packed.shift();
  }

  stats(): { queued: number; handedOut: number; packedWaiting: number } {
    return { queued: this.queue.size, handedOut: this.handedOut, packedWaiting: this.packed.length };
  }
}
