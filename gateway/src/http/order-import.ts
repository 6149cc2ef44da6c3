/**
 * A store-backed OrderService: the order import the HTTP API calls when no cloud connector
 * owns orders (offline demo, local ERP push). Domain rule (storage/types.ts): an older
 * revision never overwrites a newer one; an equal revision is a repeat and is skipped too.
 */
import type { Order, Store, WriteOp } from '../storage/types.js';
import type { OrderService } from './deps.js';
import { EVENT } from '../station/events.js';

/**
 * @param onImported called with the ids of the orders written, after the commit, so stations
 *   showing one of them re-check it at once (a refund that lands while the parcel is on the
 *   scale still stops the label).
 */
export function createStoreOrderService(store: Store, onImported: (orderIds: string[]) => void = () => undefined): OrderService {
  // Imports run one at a time: the revision check reads the store, and two overlapping
  // batches carrying the same order must not both pass it before either has committed.
  let tail: Promise<unknown> = Promise.resolve();

  async function importNow(orders: Order[]): Promise<{ imported: number; skipped: number }> {
    const ops: WriteOp[] = [];
    let puts = 0;
    let skipped = 0;
    for (const order of orders) {
      const stored = store.getOrder(order.orderId);
      if (stored !== null && stored.revision >= order.revision) {
        skipped += 1;
        continue;
      }
      puts += 1;
      ops.push({ op: 'order.put', order });
      ops.push({
        op: 'event',
        type: EVENT.orderImported,
        subject: `order:${order.orderId}`,
        data: { order_id: order.orderId, revision: order.revision, lines: order.lines.length, source: 'http', ...(order.presale && { presale: true }) },
      });
    }
    if (puts === 0) return { imported: 0, skipped };
    // One unit: the batch lands completely or not at all. The store re-checks revisions
    // inside its transaction (cloud sync may have written a newer one meanwhile).
    const { stale = [] } = await store.write(ops);
    const staleOps = new Set(stale);
    const written: string[] = [];
    ops.forEach((op, i) => {
      if (op.op === 'order.put' && !staleOps.has(i)) written.push(op.order.orderId);
    });
    onImported(written);
    return { imported: puts - stale.length, skipped: skipped + stale.length };
  }

  return {
    import(orders) {
      const run = tail.then(() => importNow(orders));
      tail = run.catch(() => undefined);
      return run;
    },
  };
}
