/**
 * A cancel or refund may reach the gateway before the order it is about (the cloud's feed
 * shards, or the order comes through the HTTP import of a local ERP). Property over arbitrary
 * interleavings of order, cancel, refund and scan, on a real store: once a cancel or refund
 * has reached the gateway, no scan of that order finds it labellable — whether the order came
 * before, in the same page, after, or twice (an older copy late).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Change, OrderStatus } from '../../../contracts/sync.js';
import { SYNC_EVENT } from '../../../contracts/sync.js';
import { CHECKPOINTS } from '../config/schema.js';
import { checkOrderFlags } from '../station/decide/intercept.js';
import { createStoreOrderService } from '../http/order-import.js';
import { orderFromWire } from '../station/order-wire.js';
import { createLogger } from '../lib/logger.js';
import { openStore } from '../storage/sqlite-store.js';
import type { Store } from '../storage/types.js';
import { STATUS_HELD_EVENT } from './change-applier.js';
import { StoreSyncAdapter } from './sync-store-adapter.js';

let dir: string;
let store: Store;
let adapter: StoreSyncAdapter;
const apply = (cs: Change[], cursor: string) =>
  adapter.applyChanges(
    cs.map((change) => ({ change })),
    cursor,
  );
let run = 0;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'packline-cbo-'));
  store = openStore({ dataDir: dir, logger: createLogger('silent') });
  await store.start();
  adapter = new StoreSyncAdapter(
    store,
    () => undefined,
    () => 5_000,
  );
});

afterAll(async () => {
  await store.stop();
  rmSync(dir, { recursive: true, force: true });
});

type Block = 'cancelled' | 'refund_requested' | 'refunded' | 'cancel_request';
const FLAG_OF: Record<Exclude<Block, 'cancel_request'>, string> = {
  cancelled: 'cancelled',
  refund_requested: 'refund_requested',
  refunded: 'refunded',
};

const wire = (id: string, revision: number, flags: Record<string, boolean>) => ({
  order_id: id,
  lines: [{ sku: 'SKU-1', barcode: '6901234567892', name: 'Mug', qty: 1, unit_grams: 300 }],
  waybill: `WB-${id}`,
  revision,
  flags,
});

let cursor = 0;
const nextCursor = () => String(++cursor);

/** A delivery to the gateway: a feed page, an HTTP import, or a scan at a station. */
type Step = { kind: 'block'; i: number } | { kind: 'upsert'; via: 'feed' | 'http'; snapshot: number } | { kind: 'scan' };

const scenario = fc
  .record({
    blocks: fc.array(fc.constantFrom<Block>('cancelled', 'refund_requested', 'refunded', 'cancel_request'), { minLength: 1, maxLength: 4 }),
    upserts: fc.array(fc.record({ via: fc.constantFrom<'feed' | 'http'>('feed', 'http'), snapshot: fc.nat(4) }), { minLength: 1, maxLength: 3 }),
    scans: fc.integer({ min: 1, max: 4 }),
    keys: fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { minLength: 11, maxLength: 11 }),
    /** Deliver a block and the step after it in one page when both are feed changes. */
    samePage: fc.boolean(),
  })
  .map((s) => {
    const steps: Step[] = [
      ...s.blocks.map((_, i) => ({ kind: 'block' as const, i })),
      ...s.upserts.map((u) => ({ kind: 'upsert' as const, via: u.via, snapshot: Math.min(u.snapshot, s.blocks.length) })),
      ...Array.from({ length: s.scans }, () => ({ kind: 'scan' as const })),
    ];
    const order = steps
      .map((st, i) => ({ st, k: s.keys[i % s.keys.length]! + i * 1e-9 }))
      .sort((a, b) => a.k - b.k)
      .map((x) => x.st);
    return { blocks: s.blocks, steps: order, samePage: s.samePage };
  });

describe('cancel before order', () => {
  it('never finds an order labellable once its cancel or refund reached the gateway, whatever the interleaving', async () => {
    const imports = createStoreOrderService(store);
    await fc.assert(
      fc.asyncProperty(scenario, async ({ blocks, steps, samePage }) => {
        const id = `CBO-${++run}`;
        // The cloud's view: the order at revision 1, each status change bumps it; an owner
        // cancel request is a request, not a revision of the order.
        const revisionAfter: number[] = [];
        const flagsAfter: Record<string, boolean>[] = [];
        let rev = 1;
        const flags: Record<string, boolean> = {};
        for (const b of blocks) {
          if (b !== 'cancel_request') {
            rev += 1;
            flags[FLAG_OF[b]] = true;
          }
          revisionAfter.push(rev);
          flagsAfter.push({ ...flags });
        }
        const snapshotAt = (k: number) => (k === 0 ? { revision: 1, flags: {} } : { revision: revisionAfter[k - 1]!, flags: flagsAfter[k - 1]! });
        const changeOf = (i: number): Change => {
          const b = blocks[i]!;
          if (b === 'cancel_request') {
            return { cursor: nextCursor(), kind: 'order.cancel_request', order_id: id, request_id: `CR-${id}-${i}`, at: 1_000 + i };
          }
          return { cursor: nextCursor(), kind: 'order.status', order_id: id, status: b as OrderStatus, revision: revisionAfter[i]!, at: 1_000 + i };
        };

        let blocked = false;
        let pending: Change[] = [];
        const flush = async () => {
          if (pending.length === 0) return;
          await apply(pending, pending.at(-1)!.cursor);
          pending = [];
        };
        for (const st of steps) {
          if (st.kind === 'block') {
            pending.push(changeOf(st.i));
            blocked = true;
            if (!samePage) await flush();
          } else if (st.kind === 'upsert') {
            const snap = snapshotAt(st.snapshot);
            const w = wire(id, snap.revision, snap.flags);
            if (st.via === 'feed') {
              pending.push({ cursor: nextCursor(), kind: 'order.upsert', order: w as never });
              await flush();
            } else {
              await flush();
              await imports.import([orderFromWire(w as never, 5_000)]);
            }
          } else {
            await flush();
            const order = store.getOrder(id);
            if (order !== null && blocked) {
              // Every checkpoint of the shipment flow stops it.
              expect(checkOrderFlags(order, CHECKPOINTS, CHECKPOINTS)).not.toBeNull();
            }
          }
        }
        await flush();
        const order = store.getOrder(id);
        if (order !== null) expect(checkOrderFlags(order, CHECKPOINTS, CHECKPOINTS)).not.toBeNull();
      }),
      { numRuns: 150 },
    );
  });

  it('keeps a cancel for an unknown order with its time, says so upstream, and flags the order when it arrives', async () => {
    await apply(
      [
        { cursor: 'a1', kind: 'order.cancel_request', order_id: 'LATE-1', request_id: 'CR-L1', at: 1_234 },
        { cursor: 'a2', kind: 'order.status', order_id: 'LATE-2', status: 'refunded', revision: 7, at: 1_235 },
      ],
      'a2',
    );
    expect(store.getOrder('LATE-1')).toBeNull();
    expect(store.lastEvent('order:LATE-1', SYNC_EVENT.cancelAccepted)?.data).toMatchObject({ request_id: 'CR-L1', cached: false });
    expect(store.lastEvent('order:LATE-2', STATUS_HELD_EVENT)?.data).toMatchObject({ status: 'refunded', revision: 7, at: 1_235 });
    expect(JSON.parse(store.getMeta('held.order.LATE-1') ?? '[]')).toEqual([{ flags: { cancelled: true }, revision: null, sticky: true, at: 1_234 }]);

    // A newer snapshot without the flag does not undo an accepted owner cancel.
    await apply([{ cursor: 'a3', kind: 'order.upsert', order: wire('LATE-1', 9, {}) as never }], 'a3');
    expect(store.getOrder('LATE-1')?.flags.cancelled).toBe(true);
    expect(store.getMeta('held.order.LATE-1')).toBeNull();
    // A status older than the arriving order is already part of it (the revision rule).
    await apply([{ cursor: 'a4', kind: 'order.upsert', order: wire('LATE-2', 8, {}) as never }], 'a4');
    expect(store.getOrder('LATE-2')?.flags.refunded).toBe(false);
  });

  it('forgets held changes whose order never came, and keeps recent ones', async () => {
    await store.write([
      { op: 'order.hold', orderId: 'NEVER-1', flags: { cancelled: true }, revision: null, sticky: true, at: 1_000 },
      { op: 'order.hold', orderId: 'RECENT-1', flags: { refunded: true }, revision: 3, sticky: false, at: 9_000 },
    ]);
    await store.write([{ op: 'order.hold_prune', before: 5_000 }]);
    expect(store.getMeta('held.order.NEVER-1')).toBeNull();
    expect(store.getMeta('held.order.RECENT-1')).not.toBeNull();
  });

  it('applies a held change at once when the order was cached by the time the unit applied (and the read copy follows)', async () => {
    await apply([{ cursor: 'w1', kind: 'order.upsert', order: wire('RACE-1', 2, {}) as never }], 'w1');
    expect(store.getOrder('RACE-1')?.flags.cancelled).toBe(false); // now in the store's working set
    await store.write([{ op: 'order.hold', orderId: 'RACE-1', flags: { cancelled: true }, revision: null, sticky: true, at: 1 }]);
    expect(store.getOrder('RACE-1')?.flags.cancelled).toBe(true);
  });
});
