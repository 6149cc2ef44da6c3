/**
 * Batch pre-print through the station machine (decide/preprint.ts): labels printed ahead in
 * sequence with the batch line, printed ≠ shipped, the scan of the label's waybill (or the
 * order barcode) re-checks the interception before the shipment is recorded; property: no
 * intercepted order is ever recorded shipped and no order is shipped twice, whatever the order
 * of refunds, prints and scans.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Bench, line, makeOrder, STATION, World } from '../station/decide/testing/world.js';
import { batchEvent, EVENT } from '../station/events.js';
import { type Batch, startBatch } from './batch.js';
import { BatchBook } from './batch-book.js';
import { manualBatch } from './build.js';
import { PreprintBook, preprintLink } from './preprint-book.js';

const A = line('A', 1, 470);

function floor(n: number) {
  const world = new World();
  for (let i = 1; i <= n; i++) world.addOrder(makeOrder(`O${i}`, { lines: [A] }));
  const book = new BatchBook();
  const built = manualBatch({
    orders: [...world.orders.values()],
    orderIds: [...world.orders.keys()],
    taken: new Set(),
    batchId: 'B1',
    at: 0,
    mode: 'preprint',
  });
  if (!built.ok) throw new Error('build');
  const started = startBatch(built.batch as Batch, STATION.id, { mode: 'preprint' }, 0);
  if (!started.ok) throw new Error('start');
  book.put(started.batch);
  const preprints = new PreprintBook((id) => book.get(id)?.orders.length ?? 0);
  const bench = new Bench(world, { batchFor: (id) => book.forStation(id), preprint: preprintLink(book, preprints) });
  const send = bench.send.bind(bench);
  bench.send = (input) => {
    const step = send(input);
    book.observe(step.writes);
    preprints.observe(step.writes);
    return step;
  };
  const preprint = (limit = 100) => bench.send({ kind: 'preprint', batchId: 'B1', limit, at: (bench.clock += 100), deviceId: 'api' });
  const refund = (orderId: string) => {
    world.patchOrder(orderId, { flags: { ...world.getOrder(orderId)!.flags, refunded: true } });
    return bench.orderUpdated(orderId);
  };
  const shippedOrders = () => [...world.shipments.values()].filter((s) => s.state === 'shipped').map((s) => s.orderId);
  return { world, book, preprints, bench, preprint, refund, shippedOrders };
}

describe('batch pre-print', () => {
  it('prints the labels ahead in sequence with the batch line, each a job in the ledger; printed is not shipped', () => {
    const { bench, world, preprint, book } = floor(3);
    const step = preprint(2);
    const prints = bench.prints(step);
    expect(prints).toHaveLength(2);
    const data = prints.map((c) => (c.kind === 'print' ? c.payload.data : ''));
    expect(data[0]).toContain('批次 B1 1/3');
    expect(data[1]).toContain('批次 B1 2/3');
    expect([...world.jobs.values()].map((j) => j.state)).toEqual(['queued', 'queued']);
    expect(step.alert?.message).toBe('Batch B1: 2 labels printed ahead, 1 left');
    expect(bench.state.shipment).toBeNull(); // the screen is not taken by labels printed ahead
    bench.printed(bench.jobId(step));
    const first = [...world.shipments.values()][0]!;
    expect(first.state).toBe('printed');
    expect(world.eventTypes()).not.toContain(EVENT.shipped);
    expect(book.progressOf('B1')).toMatchObject({ taken: 2, remaining: 1 });
    // The next run prints the rest, never an order twice.
    expect(bench.prints(preprint())).toHaveLength(1);
    expect(bench.prints(preprint())).toHaveLength(0);
  });

  it('an unpaid presale order is skipped (no carrier label before its payment) and printed by a run after it', () => {
    const { bench, preprint } = floor(3);
    const unpaid = new Set(['O2']);
    bench.ctx.presale = { unpaid: (id) => unpaid.has(id), stagedFor: () => null, byBarcode: () => null };
    const first = preprint();
    expect(bench.prints(first).map((c) => (c.kind === 'print' ? c.payload.data.includes('批次 B1 2/3') : true))).toEqual([false, false]);
    expect(first.alert?.message).toBe('Batch B1: 2 labels printed ahead, 1 left');
    unpaid.delete('O2');
    const second = bench.prints(preprint());
    expect(second).toHaveLength(1);
    expect(second[0]?.kind === 'print' && second[0].payload.data).toContain('批次 B1 2/3');
  });

  it('the waybill scan re-checks the interception, then ships; an order barcode scan works the same', () => {
    const { bench, world, preprint, book } = floor(3);
    const step = preprint();
    for (const c of bench.prints(step)) if (c.kind === 'print') bench.printed(c.payload.job_id);
    bench.scan('SFO1');
    expect(bench.shipment).toMatchObject({ orderId: 'O1', state: 'shipped' });
    expect(bench.last.alert?.message).toBe('Batch B1 #1: shipped SFO1');
    bench.scan('PKO2');
    expect(bench.shipment).toMatchObject({ orderId: 'O2', state: 'shipped' });
    // The same label again is the duplicate guard, not a second shipment.
    bench.scan('SFO1');
    expect(bench.last.reply).toMatchObject({ ok: false, code: 'PKL_INTERCEPT_ALREADY_SHIPPED' });
    expect([...world.shipments.values()].filter((s) => s.orderId === 'O1' && s.state === 'shipped')).toHaveLength(1);
    bench.scan('SFO3');
    expect(book.progressOf('B1')).toMatchObject({ taken: 3, remaining: 0 });
  });

  it('a refund after the print: the scan refuses with the code, the label stays out to pull', () => {
    const { bench, world, preprint, refund, shippedOrders } = floor(2);
    const step = preprint();
    for (const c of bench.prints(step)) if (c.kind === 'print') bench.printed(c.payload.job_id);
    refund('O1');
    bench.scan('SFO1');
    expect(bench.last.reply).toMatchObject({ ok: false, code: 'PKL_INTERCEPT_REFUNDED' });
    expect(bench.shipment).toMatchObject({ orderId: 'O1', state: 'intercepted', reasonCode: 'PKL_INTERCEPT_REFUNDED' });
    expect(bench.last.alert?.message).toContain('pull the parcel');
    bench.scan('SFO2');
    expect(shippedOrders()).toEqual(['O2']);
    expect(world.events.find((e) => e.type === EVENT.intercepted)?.data).toMatchObject({ order_id: 'O1', after_label_job_id: expect.any(String) });
  });

  it('a refunded label pulled off the shelf (never scanned) leaves the batch, so the batch can be done', () => {
    const { bench, world, preprint, refund, book } = floor(2);
    for (const c of bench.prints(preprint())) if (c.kind === 'print') bench.printed(c.payload.job_id);
    refund('O1');
    bench.scan('SFO2');
    const s1 = [...world.shipments.values()].find((s) => s.orderId === 'O1')!;
    expect(s1.state).toBe('printed');
    // Still open: O1's label is out, neither shipped nor scanned.
    expect(book.openPicks('B1')).toBe(1);
    // The recall list's pull writes the removal with the shipment (recall-service.ts).
    book.observe([
      batchEvent(EVENT.batchOrderRemoved, 'B1', { order_id: 'O1', seq: 1, code: 'PKL_INTERCEPT_REFUNDED', shipment_id: s1.shipmentId, by: 'recall_pulled' }),
    ]);
    expect(book.openPicks('B1')).toBe(0);
    expect(book.progressOf('B1')).toMatchObject({ taken: 1, removed: 1, remaining: 0 });
  });

  it('a refund while the label prints intercepts it at the print result; one before the run removes the order', () => {
    const { bench, world, preprint, refund } = floor(3);
    refund('O3');
    const step = preprint();
    expect(bench.prints(step)).toHaveLength(2);
    expect(world.events.find((e) => e.type === EVENT.batchOrderRemoved)?.data).toMatchObject({ order_id: 'O3', code: 'PKL_INTERCEPT_REFUNDED' });
    refund('O1');
    // The pending job's shipment was intercepted by the order update (the label may be out).
    const s1 = [...world.shipments.values()].find((s) => s.orderId === 'O1')!;
    expect(s1.state).toBe('intercepted');
    bench.printed(bench.jobId(step));
    expect(world.shipments.get(s1.shipmentId)!.state).toBe('intercepted');
  });

  it('property: no intercepted order is shipped, none twice, whatever the interleaving', () => {
    const op = fc.oneof(
      { arbitrary: fc.record({ k: fc.constant('preprint' as const), limit: fc.integer({ min: 1, max: 4 }) }), weight: 1 },
      { arbitrary: fc.record({ k: fc.constant('printed' as const), i: fc.nat() }), weight: 3 },
      { arbitrary: fc.record({ k: fc.constant('failed' as const), i: fc.nat() }), weight: 1 },
      { arbitrary: fc.record({ k: fc.constant('refund' as const), o: fc.integer({ min: 1, max: 4 }) }), weight: 1 },
      { arbitrary: fc.record({ k: fc.constant('scan' as const), o: fc.integer({ min: 1, max: 4 }), waybill: fc.boolean() }), weight: 3 },
    );
    fc.assert(
      fc.property(fc.array(op, { minLength: 8, maxLength: 40, size: 'max' }), (ops) => {
        const { bench, world, preprint, refund, shippedOrders } = floor(4);
        const refunded = new Set<string>();
        for (const o of ops) {
          const seen = world.events.length;
          if (o.k === 'preprint') preprint(o.limit);
          else if (o.k === 'refund') {
            refund(`O${o.o}`);
            refunded.add(`O${o.o}`);
          } else if (o.k === 'scan') bench.scan(o.waybill ? `SFO${o.o}` : `PKO${o.o}`);
          else {
            const jobs = Object.keys(bench.state.pendingJobs);
            const job = jobs[o.i % Math.max(1, jobs.length)];
            if (job === undefined) continue;
            if (o.k === 'printed') bench.printed(job);
            else bench.printFailed(job, 'paper_out');
          }
          // Nothing recorded shipped in this step belongs to an order refunded before it.
          for (const e of world.events.slice(seen)) {
            if (e.type === EVENT.shipped) expect(refunded.has((e.data as { order_id: string }).order_id)).toBe(false);
          }
          const shipped = shippedOrders();
          expect(new Set(shipped).size).toBe(shipped.length);
        }
      }),
      { numRuns: 300 },
    );
  });
});

describe('relabel after a carrier switch', () => {
  function switched(refund = false) {
    const voided = new Map<string, string>();
    const bench = new Bench(new World(), {
      station: { ...STATION, verifyItems: 'never' },
      voidedLabel: (w) => (voided.has(w) ? { orderId: voided.get(w)! } : null),
      anyVoided: () => voided.size > 0,
    });
    bench.world.addOrder(makeOrder('O1', { lines: [A], carrier: 'ZTO', waybill: 'ZT1', barcodes: ['PKO1', 'ZT1'] }));
    bench.scan('PKO1');
    bench.place(500);
    bench.printed(bench.jobId());
    expect(bench.shipment.state).toBe('shipped');
    // The supervisor switched the held carrier: new waybill, old label voided (carrier-holds.ts).
    bench.world.patchOrder('O1', {
      carrier: 'SF',
      waybill: 'SF9',
      barcodes: ['PKO1', 'SF9'],
      ...(refund ? { flags: { ...makeOrder('x').flags, cancelled: true } } : {}),
    });
    voided.set('ZT1', 'O1');
    return bench;
  }

  it('the old label scanned: the same shipment gets the new carrier label, one more job, never a second shipment', () => {
    const bench = switched();
    const step = bench.scan('ZT1');
    expect(step.reply).toEqual({ ok: true });
    const print = bench.prints(step)[0];
    expect(print?.kind === 'print' && print.payload.data).toContain('SF9');
    expect(bench.shipment).toMatchObject({ orderId: 'O1', state: 'shipped', waybill: 'SF9', carrier: 'SF' });
    expect(bench.world.events.find((e) => e.type === EVENT.relabelled)?.data).toMatchObject({ old_waybill: 'ZT1', new_waybill: 'SF9', carrier: 'SF' });
    expect([...bench.world.shipments.values()]).toHaveLength(1);
    expect(bench.world.jobs.size).toBe(2);
    // A double read of the old label: nothing more (the shipment already has the new waybill).
    expect(bench.prints(bench.scan('ZT1'))).toEqual([]);
    expect(bench.prints(bench.scan('PKO1'))).toEqual([]);
    expect(bench.world.jobs.size).toBe(2);
  });

  it('an order cancelled meanwhile is refused at the scan, no new label', () => {
    const bench = switched(true);
    const step = bench.scan('PKO1');
    expect(step.reply).toMatchObject({ ok: false, code: 'PKL_INTERCEPT_CANCELLED' });
    expect(step.alert?.message).toContain('pull the parcel');
    expect(bench.prints(step)).toEqual([]);
    expect(step.writes).toEqual([]);
    expect([...bench.world.shipments.values()][0]?.state).toBe('shipped');
  });
});
