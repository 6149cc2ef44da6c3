/**
 * The pure core of batches: classification into the five structures, building by rules and by
 * hand, and post-print selection through the station machine (decide/batch-scan.ts) —
 * properties: an order is in at most one open batch; no intercepted order is ever picked or
 * labelled; post-print never labels an order twice, even when one item is scanned twice in a
 * row or the gateway dies between the commit and the print.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compositionKey } from '../station/decide/composition.js';
import { restoreStation } from '../station/decide/restore.js';
import { initialStationState } from '../station/decide/step-station.js';
import { Bench, line, makeOrder, STATION, World } from '../station/decide/testing/world.js';
import type { Order } from '../station/domain.js';
import { EVENT } from '../station/events.js';
import type { OrderPicking } from '../station/types.js';
import { type Batch, cancelBatch, startBatch } from './batch.js';
import { BatchBook } from './batch-book.js';
import { buildBatches, manualBatch } from './build.js';
import { prepackBarcode } from './prepack.js';
import { classifyOrders } from './structure.js';

const A = line('A', 1, 470);
const B = line('B', 1, 200);

function orders(): Order[] {
  return [
    makeOrder('O1', { lines: [A] }),
    makeOrder('O2', { lines: [A] }),
    makeOrder('O3', { lines: [line('A', 2, 470)] }),
    makeOrder('O4', { lines: [line('A', 2, 470)] }),
    makeOrder('O5', { lines: [B] }),
    makeOrder('O6', { lines: [A, B] }),
    makeOrder('O7', { lines: [line('C', 1, 100)] }),
  ];
}

describe('classification', () => {
  it('puts each order in one of the five structures', () => {
    const got = Object.fromEntries(classifyOrders(orders(), { minGroup: 2, prepackStock: new Map([['690C*1', 1]]) }).map((c) => [c.orderId, c.structure]));
    expect(got).toEqual({
      O1: 'single_same_sku',
      O2: 'single_same_sku',
      O3: 'multi_same_composition',
      O4: 'multi_same_composition',
      O5: 'single',
      O6: 'multi',
      O7: 'prepacked',
    });
  });

  it('a composition key ignores line order and merges lines of one barcode', () => {
    expect(compositionKey({ lines: [B, A] })).toBe(compositionKey({ lines: [A, B] }));
    expect(compositionKey({ lines: [A, A] })).toBe('690A*2');
  });
});

describe('building', () => {
  let n = 0;
  const newId = () => `B${++n}`;

  it('groups same-composition orders by composition, carrier and shop, split at the maximum size', () => {
    const os = [...orders(), makeOrder('O8', { lines: [A] }), makeOrder('O9', { lines: [A], carrier: 'YTO' })];
    const built = buildBatches({ pending: os, taken: new Set(), rules: [{ maxSize: 2 }], minGroup: 2, newId, at: 1 });
    const byOrders = built.map((b) => [b.structure, b.composition, b.carrier, b.orders]);
    expect(byOrders).toEqual([
      ['single_same_sku', '690A*1', 'SF', ['O1', 'O2']],
      ['single_same_sku', '690A*1', 'SF', ['O8']],
      ['multi_same_composition', '690A*2', 'SF', ['O3', 'O4']],
      ['single_same_sku', '690A*1', 'YTO', ['O9']],
    ]);
    expect(built.every((b) => b.mode === 'postprint' && b.state === 'open')).toBe(true);
  });

  it('filters by carrier, shop and ship-by cut-off; orders of ordinary structures batch by structure', () => {
    const os = orders().map((o, i) => ({ ...o, shipBy: 1000 + i }));
    const built = buildBatches({
      pending: os,
      taken: new Set(['O5']),
      rules: [{ structures: ['single', 'multi'], shipByBefore: 1005, shop: 'tmall-1', carrier: 'SF', maxSize: 10 }],
      minGroup: 2,
      newId,
      at: 1,
    });
    expect(built.map((b) => [b.structure, b.composition, b.mode, b.orders])).toEqual([['multi', null, 'preprint', ['O6']]]);
  });

  it('property: whatever the rules, an order is in at most one open batch and never in one it was taken by', () => {
    const orderArb = fc.record({
      lines: fc.array(fc.record({ sku: fc.constantFrom('A', 'B', 'C'), qty: fc.integer({ min: 1, max: 3 }) }), { minLength: 1, maxLength: 3 }),
      carrier: fc.constantFrom('SF', 'YTO'),
      shop: fc.constantFrom('s1', 's2'),
      shipBy: fc.option(fc.integer({ min: 0, max: 100 }), { nil: null }),
    });
    const ruleArb = fc.record({
      structures: fc.option(fc.subarray(['prepacked', 'single_same_sku', 'multi_same_composition', 'single', 'multi'] as const, { minLength: 1 }), {
        nil: undefined,
      }),
      carrier: fc.option(fc.constantFrom('SF', 'YTO'), { nil: undefined }),
      shipByBefore: fc.option(fc.integer({ min: 0, max: 100 }), { nil: undefined }),
      maxSize: fc.integer({ min: 1, max: 5 }),
    });
    fc.assert(
      fc.property(fc.array(orderArb, { maxLength: 30 }), fc.array(ruleArb, { minLength: 1, maxLength: 3 }), fc.array(fc.nat(29)), (raw, rules, takenIdx) => {
        const pending = raw.map((r, i) =>
          makeOrder(`O${i}`, { lines: r.lines.map((l) => line(l.sku, l.qty, 100)), carrier: r.carrier, shop: r.shop, shipBy: r.shipBy }),
        );
        const taken = new Set(takenIdx.map((i) => `O${i}`));
        const book = new BatchBook();
        // Two rounds: the second sees the first round's batches as holding their orders.
        for (let round = 0; round < 2; round++) {
          for (const b of buildBatches({
            pending,
            taken: new Set([...taken, ...book.held()]),
            rules: rules.map((r) => ({ ...r, structures: r.structures ? [...r.structures] : undefined })),
            minGroup: 2,
            newId,
            at: round,
          })) {
            expect(b.orders.length).toBeGreaterThan(0);
            expect(b.orders.length).toBeLessThanOrEqual(rules.reduce((m, r) => Math.max(m, r.maxSize), 0));
            if (b.composition !== null) for (const id of b.orders) expect(compositionKey(pending.find((o) => o.orderId === id)!)).toBe(b.composition);
            for (const id of b.orders) {
              expect(taken.has(id)).toBe(false);
              expect(book.holderOf(id)).toBeNull();
            }
            book.put(b);
          }
        }
      }),
    );
  });

  it('by hand: refuses an order already batched and keeps the given sequence', () => {
    const os = orders();
    const taken = new Set(['O2']);
    const pick = (ids: string[]) =>
      manualBatch({ orders: ids.map((id) => os.find((o) => o.orderId === id) ?? null), orderIds: ids, taken, batchId: 'BM', at: 1 });
    expect(pick(['O1', 'O2'])).toMatchObject({ ok: false, code: 'PKL_BATCH_ORDER_TAKEN' });
    expect(pick(['O9'])).toMatchObject({ ok: false, code: 'PKL_ORDER_NOT_FOUND' });
    expect(pick([])).toMatchObject({ ok: false, code: 'PKL_BATCH_EMPTY' });
    expect(pick(['O4', 'O3'])).toMatchObject({ ok: true, batch: { orders: ['O4', 'O3'], composition: '690A*2', mode: 'postprint' } });
    expect(pick(['O5', 'O6'])).toMatchObject({ ok: true, batch: { composition: null, mode: 'preprint' } });
  });

  it('states: open → working → cancelled; post-print needs one composition', () => {
    const b: Batch = { ...(manualBatch({ orders: [orders()[0]!], orderIds: ['O1'], taken: new Set(), batchId: 'B', at: 0 }) as { batch: Batch }).batch };
    const w = startBatch(b, 'st-1', {}, 1);
    expect(w).toMatchObject({ ok: true, batch: { state: 'working', stationId: 'st-1' } });
    if (!w.ok) return;
    expect(startBatch(w.batch, 'st-2', {}, 2)).toMatchObject({ ok: false, code: 'PKL_BATCH_STATE' });
    expect(cancelBatch(w.batch, 3)).toMatchObject({ ok: true, batch: { state: 'cancelled', stationId: null } });
    expect(startBatch({ ...b, composition: null }, 'st-1', { mode: 'postprint' }, 1)).toMatchObject({ ok: false, code: 'PKL_BATCH_NOT_SAME_COMPOSITION' });
  });
});

// ---- post-print through the station machine -----------------------------------------------

function floor(n: number, weigh: boolean, picking: Record<string, OrderPicking> = {}) {
  const world = new World();
  for (let i = 1; i <= n; i++) world.addOrder(makeOrder(`O${i}`, { lines: [A] }));
  const book = new BatchBook();
  const batch: Batch = {
    ...(
      manualBatch({ orders: [...world.orders.values()], orderIds: [...world.orders.keys()], taken: new Set(), batchId: 'B1', at: 0, weigh }) as { batch: Batch }
    ).batch,
  };
  const started = startBatch(batch, STATION.id, {}, 0);
  if (!started.ok) throw new Error('start');
  book.put(started.batch);
  book.putPrepack({ jobId: 'PP1', composition: '690A*1', units: 3, createdAt: 0 });
  const bench = new Bench(world, { batchFor: (id) => book.forStation(id), pickingState: (id) => picking[id] ?? null });
  const send = bench.send.bind(bench);
  bench.send = (input) => {
    const step = send(input);
    book.observe(step.writes);
    return step;
  };
  return { world, book, bench };
}

describe('post-print', () => {
  it('one scan, one parcel: the scan picks the next order, the weight labels it, the print ships it', () => {
    const { bench, world, book } = floor(3, true);
    bench.scan('690A');
    expect(bench.shipment).toMatchObject({ orderId: 'O1', state: 'weighing', scanned: { '690A': 1 } });
    expect(bench.prints()).toEqual([]);
    expect(world.eventTypes()).toContain(EVENT.batchParcelSelected);
    bench.scan('690A'); // a double read while the parcel waits for its weight
    expect(bench.shipment.orderId).toBe('O1');
    bench.place(500);
    expect(bench.shipment.state).toBe('labelling');
    bench.printed(bench.jobId());
    expect(bench.shipment.state).toBe('shipped');
    expect(book.progressOf('B1')).toMatchObject({ taken: 1, remaining: 2, next: { orderId: 'O2', seq: 2 } });
  });

  it('a refund before its turn removes the order; a pre-pack unit is used once', () => {
    const { bench, world, book } = floor(3, false);
    world.patchOrder('O1', { flags: { ...world.getOrder('O1')!.flags, refundRequested: true } });
    bench.scan(prepackBarcode('PP1', 1));
    expect(bench.shipment).toMatchObject({ orderId: 'O2', state: 'labelling', scanned: {} });
    expect(world.events.find((e) => e.type === EVENT.batchOrderRemoved)?.data).toMatchObject({ order_id: 'O1', code: 'PKL_INTERCEPT_REFUND_REQUESTED' });
    bench.printed(bench.jobId());
    expect(bench.scan(prepackBarcode('PP1', 1)).reply).toMatchObject({ ok: false, code: 'PKL_PREPACK_USED' });
    expect(book.prepackLeft('PP1')).toBe(2);
    bench.scan('690A');
    expect(bench.shipment.orderId).toBe('O3');
    expect(bench.scan('690A').reply).toMatchObject({ ok: false, code: 'PKL_BATCH_NO_ORDER' });
    expect(book.progressOf('B1')).toMatchObject({ taken: 2, removed: 1, remaining: 0, next: null });
  });

  it('an order still being picked waits in the batch: the scan takes the next picked one, and names the wave when none is ready', () => {
    const picking: Record<string, OrderPicking> = {
      O1: { state: 'picking', waveId: 'W1', slot: 1, short: null },
      O2: { state: 'picked', waveId: 'W1', slot: 2, short: null },
      O3: { state: 'short', waveId: 'W1', slot: 3, short: { sku: 'A', location: 'A-01-01-1' } },
    };
    const { bench, book } = floor(3, false, picking);
    bench.scan('690A');
    expect(bench.shipment).toMatchObject({ orderId: 'O2', state: 'labelling' });
    bench.printed(bench.jobId());
    const step = bench.scan('690A');
    expect(step.reply).toEqual({ ok: false, code: 'PKL_ORDER_NOT_PICKED', details: { orderId: 'O1', waveId: 'W1', slot: 1, reason: 'picking' } });
    expect(step.writes).toEqual([]);
    expect(book.progressOf('B1')).toMatchObject({ taken: 1, removed: 0, remaining: 2 });
    picking.O1 = { state: 'picked', waveId: 'W1', slot: 1, short: null };
    bench.scan('690A');
    expect(bench.shipment.orderId).toBe('O1');
  });

  it('an order of the batch packed order by order leaves its pending list', () => {
    const { book } = floor(2, false);
    // Another station (or this one, by the order barcode) labels O1 the ordinary way.
    book.observe([
      {
        op: 'shipment.put',
        shipment: {
          shipmentId: 'S-x',
          orderId: 'O1',
          stationId: 'st-2',
          state: 'labelling',
          reasonCode: null,
          scanned: {},
          expectedGrams: null,
          actualGrams: null,
          carrier: 'SF',
          waybill: 'SFO1',
          labelJobId: 'J-x',
          operator: null,
          openedAt: 0,
          updatedAt: 0,
          shippedAt: null,
        },
      },
    ]);
    expect(book.progressOf('B1')).toMatchObject({ taken: 1, remaining: 1, next: { orderId: 'O2', seq: 2 } });
  });

  it('property: no intercepted order is labelled and no order gets two labels, with double scans, refunds and crashes', () => {
    const act = fc.oneof(
      { weight: 5, arbitrary: fc.record({ k: fc.constant('scan' as const), twice: fc.boolean(), code: fc.constantFrom('690A', 'PP1-1', 'PP1-2', 'PKO3') }) },
      { weight: 4, arbitrary: fc.record({ k: fc.constant('place' as const), grams: fc.constantFrom(500, 500, 900) }) },
      { weight: 3, arbitrary: fc.record({ k: fc.constant('print' as const), ok: fc.constantFrom(true, true, false) }) },
      { weight: 2, arbitrary: fc.record({ k: fc.constant('refund' as const), order: fc.integer({ min: 1, max: 8 }) }) },
      { weight: 1, arbitrary: fc.record({ k: fc.constant('crash' as const) }) },
    );
    fc.assert(
      fc.property(fc.boolean(), fc.array(act, { maxLength: 60 }), (weigh, acts) => {
        const { bench, world, book } = floor(8, weigh);
        /** order id → label jobs, and whether each failed. */
        const labels = new Map<string, string[]>();
        const failed = new Set<string>();
        const check = () => {
          for (const w of bench.last?.writes ?? []) {
            if (w.op === 'event' && w.type === EVENT.batchOrderRemoved) {
              // Removed only for a refund or cancel (never because it was taken: progress would lie).
              const f = world.getOrder((w.data as { order_id: string }).order_id)!.flags;
              expect(f.refundRequested || f.refunded || f.cancelled).toBe(true);
            }
            if (w.op !== 'event' || w.type !== EVENT.batchParcelSelected) continue;
            // Picked: the order was clean and nobody else had it.
            const id = (w.data as { order_id: string }).order_id;
            const f = world.getOrder(id)!.flags;
            expect(f.refundRequested || f.refunded || f.cancelled).toBe(false);
            const others = world.shipmentsForOrder(id).filter((s) => s.shipmentId !== (w.data as { shipment_id: string }).shipment_id);
            expect(others.filter((s) => s.state !== 'abandoned' && s.state !== 'intercepted' && s.reasonCode !== 'PKL_PRINT_FAILED')).toEqual([]);
          }
          for (const c of bench.last?.commands ?? []) {
            if (c.kind !== 'print') continue;
            const s = world.getShipment(c.payload.shipment_id!)!;
            const order = world.getOrder(s.orderId)!;
            const f = order.flags;
            expect(f.refundRequested || f.refunded || f.cancelled).toBe(false);
            const jobs = labels.get(s.orderId) ?? [];
            if (!jobs.includes(c.payload.job_id)) {
              // A second label only after every earlier one failed.
              expect(jobs.every((j) => failed.has(j))).toBe(true);
              jobs.push(c.payload.job_id);
            }
            labels.set(s.orderId, jobs);
          }
        };
        for (const a of acts) {
          if (a.k === 'scan') {
            bench.scan(a.code);
            check();
            if (a.twice) {
              bench.scan(a.code);
              check();
            }
          } else if (a.k === 'place') {
            bench.place(a.grams);
            check();
          } else if (a.k === 'print') {
            const job = Object.keys(bench.state.pendingJobs)[0];
            if (job === undefined) continue;
            if (a.ok) bench.printed(job);
            else {
              failed.add(job);
              bench.printFailed(job);
            }
          } else if (a.k === 'refund') {
            const id = `O${a.order}`;
            world.patchOrder(id, { flags: { ...world.getOrder(id)!.flags, refundRequested: true } });
            bench.orderUpdated(id);
          } else {
            // kill -9 after the commit, before (or while) the label went out: the station is
            // rebuilt from the store; its unanswered labels go out again with the same job id.
            const restored = restoreStation(
              {
                openShipments: [...world.shipments.values()].filter((s) => s.state !== 'shipped' && s.state !== 'abandoned'),
                pendingJobs: [...world.jobs.values()].filter((j) => j.state === 'queued'),
                at: bench.clock,
              },
              bench.ctx,
            );
            world.apply(restored.writes);
            book.observe(restored.writes);
            bench.state = restored.state;
            for (const job of Object.values(restored.state.pendingJobs)) {
              const s = world.getShipment(job.shipmentId!)!;
              expect(labels.get(s.orderId) ?? []).toContain(job.jobId);
            }
          }
        }
        // Every pick is one batch.parcel_selected for a distinct shipment.
        const picks = world.events.filter((e) => e.type === EVENT.batchParcelSelected).map((e) => (e.data as { shipment_id: string }).shipment_id);
        expect(new Set(picks).size).toBe(picks.length);
        expect(initialStationState('x').shipment).toBeNull();
      }),
      { numRuns: 200 },
    );
  });
});
