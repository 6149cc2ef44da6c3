/**
 * The pure core of presale: the book's fold of the log, the station machine staging an unpaid
 * order at the label gate (staging label, no carrier label) and releasing it on a scan of its
 * staging label once paid (interception checked again), the unpack list, and the staging
 * label's bytes (golden file). Property: whatever the order of payments, refunds and scans, no
 * unpaid or stopped presale order ever gets a carrier label, and a staged parcel is released
 * at most once.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { renderStagingTspl, renderStagingZpl, stagingBarcode } from '../label/staging-label.js';
import { Bench, line, makeOrder, World } from '../station/decide/testing/world.js';
import { EVENT } from '../station/events.js';
import type { StationWrite } from '../station/domain.js';
import { type Batch, startBatch } from '../batches/batch.js';
import { BatchBook } from '../batches/batch-book.js';
import { manualBatch } from '../batches/build.js';
import { PresaleBook } from './presale-book.js';
import { checkOrderFlags, LABEL_GATE } from '../station/decide/intercept.js';

const CHECKPOINTS = ['packing', 'weighing', 'direct_shipment'] as const;

/** A station with a presale book fed like the runtime feeds it (log events, then every committed unit). */
function floor() {
  const world = new World();
  const book = new PresaleBook();
  let t = 0;
  const log = (type: string, orderId: string, data: Record<string, unknown> = {}) =>
    book.fold({ type, subject: `order:${orderId}`, data: { order_id: orderId, ...data }, at: ++t });
  const bench = new Bench(world, {
    presale: { unpaid: (id) => book.unpaid(id), stagedFor: (id) => book.stagedFor(id), byBarcode: (c) => book.byBarcode(c) },
  });
  const send = bench.send.bind(bench);
  bench.send = (input) => {
    const step = send(input);
    for (const w of step.writes as StationWrite[]) {
      if (w.op === 'event' && w.type.startsWith('presale.')) book.fold({ type: w.type, subject: w.subject, data: w.data as Record<string, unknown>, at: ++t });
    }
    return step;
  };
  const importPresale = (orderId: string, presale = true) => {
    world.addOrder(makeOrder(orderId, { lines: [line('A', 1, 470)] }));
    log(EVENT.orderImported, orderId, presale ? { presale: true } : {});
  };
  const pay = (orderId: string) => log(EVENT.presalePaid, orderId);
  const recheck = (orderId: string) => {
    const rec = book.stagedFor(orderId);
    if (rec !== null) book.setUnpack(rec.stagingId, checkOrderFlags(world.getOrder(orderId)!, LABEL_GATE, CHECKPOINTS)?.code ?? null);
  };
  return { world, book, bench, importPresale, pay, recheck };
}

const carrierLabels = (world: World, orderId: string) =>
  world.events.filter((e) => e.type === EVENT.labelQueued && (e.data as { order_id?: string }).order_id === orderId);

describe('presale at the station', () => {
  it('an unpaid order is packed, weighed and staged: a staging label, no carrier label, nothing shipped', () => {
    const { bench, world, book, importPresale } = floor();
    importPresale('P1');
    bench.scan('PKP1');
    bench.scan('690A');
    const step = bench.place(500);
    expect(step.reply).toEqual({ ok: true });
    const staged = world.events.find((e) => e.type === EVENT.presaleStaged)!;
    const stagingId = (staged.data as { staging_id: string }).staging_id;
    expect(staged).toMatchObject({ subject: `presale:${stagingId}`, data: { order_id: 'P1', grams: 500, station_id: 'st-1' } });
    expect(bench.shipment).toMatchObject({ shipmentId: stagingId, state: 'abandoned', reasonCode: 'PKL_PRESALE_STAGED', waybill: null, labelJobId: null });
    expect(carrierLabels(world, 'P1')).toEqual([]);
    const print = bench.prints()[0];
    expect(print?.kind === 'print' && print.payload.data).toContain(`^FD${stagingBarcode(stagingId)}^FS`);
    expect(print?.kind === 'print' && print.payload.data).toContain('PRESALE - DO NOT SHIP');
    expect(step.alert?.code).toBe('PKL_PRESALE_STAGED');
    // The staging label's print result ships nothing.
    bench.printed(bench.jobId(step));
    expect(world.getShipment(stagingId)?.state).toBe('abandoned');
    expect(world.eventTypes()).not.toContain(EVENT.shipped);
    expect(book.counts()).toEqual({ staged: 1, ready: 0, unpack: 0 });
  });

  it('its staging label is refused until paid; paid, the next scan labels and ships it once with the staged weight', () => {
    const { bench, world, book, importPresale, pay } = floor();
    importPresale('P1');
    bench.scan('PKP1');
    bench.scan('690A');
    bench.place(500);
    const stagingId = book.stagedFor('P1')!.stagingId;
    bench.printed(bench.jobId());
    const refused = bench.scan(stagingBarcode(stagingId));
    expect(refused.reply).toMatchObject({ ok: false, code: 'PKL_PRESALE_UNPAID', details: { stagingId, orderId: 'P1' } });
    expect(refused.writes).toEqual([]);
    pay('P1');
    expect(book.counts()).toEqual({ staged: 0, ready: 1, unpack: 0 });
    const release = bench.scan(stagingBarcode(stagingId));
    expect(release.reply.ok).toBe(true);
    expect(bench.shipment).toMatchObject({ orderId: 'P1', state: 'labelling', actualGrams: 500, waybill: 'SFP1' });
    expect(world.events.filter((e) => e.type === EVENT.presaleReleased)).toHaveLength(1);
    expect(book.get(stagingId)?.state).toBe('released');
    // A double read while the label prints, then after it shipped: never a second label.
    expect(bench.scan(stagingBarcode(stagingId)).commands.filter((c) => c.kind === 'print')).toEqual([]);
    bench.printed(bench.jobId(release));
    expect(bench.shipment.state).toBe('shipped');
    expect(bench.scan(stagingBarcode(stagingId)).reply).toMatchObject({ ok: false, code: 'PKL_PRESALE_RELEASED' });
    expect(carrierLabels(world, 'P1')).toHaveLength(1);
    expect(world.events.filter((e) => e.type === EVENT.presaleReleased)).toHaveLength(1);
  });

  it('a cancel before payment puts the parcel on the unpack list and its label never releases it, paid or not', () => {
    const { bench, world, book, importPresale, pay, recheck } = floor();
    importPresale('P1');
    bench.scan('PKP1');
    bench.scan('690A');
    bench.place(500);
    const stagingId = book.stagedFor('P1')!.stagingId;
    world.patchOrder('P1', { flags: { ...world.getOrder('P1')!.flags, cancelled: true } });
    recheck('P1');
    expect(book.unpackList().map((r) => [r.stagingId, r.reason])).toEqual([[stagingId, 'PKL_INTERCEPT_CANCELLED']]);
    expect(book.counts()).toEqual({ staged: 0, ready: 0, unpack: 1 });
    pay('P1');
    const step = bench.scan(stagingBarcode(stagingId));
    expect(step.reply).toMatchObject({ ok: false, code: 'PKL_PRESALE_UNPACK', details: { reason: 'PKL_INTERCEPT_CANCELLED' } });
    expect(step.writes).toEqual([]);
    book.fold({ type: EVENT.presaleUnpacked, subject: `presale:${stagingId}`, data: { order_id: 'P1', staging_id: stagingId }, at: 99 });
    expect(book.unpackList()).toEqual([]);
    expect(bench.scan(stagingBarcode(stagingId)).reply).toMatchObject({ ok: false, code: 'PKL_PRESALE_UNPACKED' });
    expect(carrierLabels(world, 'P1')).toEqual([]);
  });

  it('a second parcel of a staged order is set aside; a paid order packs as usual; a non-presale order is untouched', () => {
    const { bench, world, book, importPresale, pay } = floor();
    importPresale('P1');
    importPresale('P2');
    importPresale('N1', false);
    bench.scan('PKP1');
    bench.scan('690A');
    bench.place(500);
    const first = book.stagedFor('P1')!.stagingId;
    bench.scan('PKP1');
    bench.scan('690A');
    const again = bench.place(500);
    expect(again.reply).toMatchObject({ ok: false, code: 'PKL_PRESALE_ALREADY_STAGED', details: { stagingId: first } });
    expect(book.stagedFor('P1')!.stagingId).toBe(first);
    pay('P2');
    bench.scan('PKP2');
    bench.scan('690A');
    bench.place(500);
    expect(bench.shipment).toMatchObject({ orderId: 'P2', state: 'labelling' });
    bench.scan('PKN1');
    bench.scan('690A');
    bench.place(500);
    expect(bench.shipment).toMatchObject({ orderId: 'N1', state: 'labelling' });
    expect(world.events.filter((e) => e.type === EVENT.presaleStaged)).toHaveLength(1);
  });

  it('property: whatever the order of payments, refunds and scans, no unpaid or stopped order gets a carrier label and no parcel is released twice', () => {
    for (let seed = 1; seed <= 60; seed++) {
      let x = seed;
      const rnd = (n: number) => {
        x = (x * 1103515245 + 12345) % 2147483648;
        return x % n;
      };
      const { bench, world, book, importPresale, pay, recheck } = floor();
      const ids = ['P1', 'P2', 'P3'];
      for (const id of ids) importPresale(id);
      const paidAt = new Map<string, number>();
      const stoppedAt = new Map<string, number>();
      for (let step = 0; step < 40; step++) {
        const id = ids[rnd(ids.length)]!;
        switch (rnd(6)) {
          case 0:
            if (!paidAt.has(id)) paidAt.set(id, world.events.length);
            pay(id);
            break;
          case 1:
            world.patchOrder(id, { flags: { ...world.getOrder(id)!.flags, refundRequested: true } });
            if (!stoppedAt.has(id)) stoppedAt.set(id, world.events.length);
            recheck(id);
            break;
          case 2: {
            const rec = book.stagedFor(id);
            if (rec !== null) {
              const s = bench.scan(stagingBarcode(rec.stagingId));
              const job = s.commands.find((c) => c.kind === 'print');
              if (job?.kind === 'print' && rnd(2) === 0) bench.printed(job.payload.job_id);
            }
            break;
          }
          default: {
            bench.scan(`PK${id}`);
            bench.scan('690A');
            const s = bench.place(500);
            const job = s.commands.find((c) => c.kind === 'print');
            if (job?.kind === 'print' && rnd(3) > 0) bench.printed(job.payload.job_id);
          }
        }
      }
      world.events.forEach((e, i) => {
        if (e.type !== EVENT.labelQueued) return;
        const orderId = (e.data as { order_id: string }).order_id;
        const paid = paidAt.get(orderId);
        expect(paid !== undefined && paid <= i, `seed ${seed}: ${orderId} labelled unpaid`).toBe(true);
        const stop = stoppedAt.get(orderId);
        expect(stop === undefined || i < stop, `seed ${seed}: ${orderId} labelled after its refund`).toBe(true);
      });
      for (const id of ids) {
        const shipped = [...world.shipments.values()].filter((s) => s.orderId === id && s.state === 'shipped');
        expect(shipped.length, `seed ${seed}: ${id} shipped twice`).toBeLessThanOrEqual(1);
      }
      const released = world.events.filter((e) => e.type === EVENT.presaleReleased).map((e) => e.subject);
      expect(new Set(released).size, `seed ${seed}: a parcel released twice`).toBe(released.length);
    }
  });
});

describe('presale in a post-print batch', () => {
  it('each scan stages the next unpaid order once, the batch completes, and a paid one is labelled from its staging label', () => {
    const world = new World();
    const presale = new PresaleBook();
    const batches = new BatchBook();
    let t = 0;
    for (const id of ['P1', 'P2', 'P3']) {
      world.addOrder(makeOrder(id, { lines: [line('A', 1, 470)] }));
      presale.fold({ type: EVENT.orderImported, subject: `order:${id}`, data: { order_id: id, presale: true }, at: ++t });
    }
    const built = manualBatch({ orders: [...world.orders.values()], orderIds: ['P1', 'P2', 'P3'], taken: new Set(), batchId: 'B1', at: 0, weigh: true }) as {
      batch: Batch;
    };
    const started = startBatch(built.batch, 'st-1', {}, 0);
    if (!started.ok) throw new Error('start');
    batches.put(started.batch);
    const bench = new Bench(world, {
      batchFor: (id) => batches.forStation(id),
      presale: { unpaid: (id) => presale.unpaid(id), stagedFor: (id) => presale.stagedFor(id), byBarcode: (c) => presale.byBarcode(c) },
    });
    const send = bench.send.bind(bench);
    bench.send = (input) => {
      const step = send(input);
      batches.observe(step.writes);
      for (const w of step.writes as StationWrite[]) {
        if (w.op === 'event' && w.type.startsWith('presale.'))
          presale.fold({ type: w.type, subject: w.subject, data: w.data as Record<string, unknown>, at: ++t });
      }
      return step;
    };
    for (const id of ['P1', 'P2', 'P3']) {
      bench.weigh(0);
      bench.scan('690A');
      expect(bench.shipment.orderId).toBe(id);
      bench.weigh(500);
      expect(presale.stagedFor(id)?.state).toBe('staged');
      bench.printed(bench.jobId());
    }
    expect(bench.scan('690A').reply).toMatchObject({ ok: false, code: 'PKL_BATCH_NO_ORDER' });
    expect(batches.progressOf('B1')).toMatchObject({ taken: 3, removed: 0, remaining: 0 });
    expect(batches.openPicks('B1')).toBe(0);
    expect(world.eventTypes()).not.toContain(EVENT.labelQueued);
    presale.fold({ type: EVENT.presalePaid, subject: 'order:P2', data: { order_id: 'P2' }, at: ++t });
    bench.scan(stagingBarcode(presale.stagedFor('P2')!.stagingId));
    expect(bench.shipment).toMatchObject({ orderId: 'P2', state: 'labelling', actualGrams: 500 });
  });
});

describe('staging label', () => {
  const data = {
    stagingId: 'S-gw01-7-2kq',
    orderId: 'TB1001',
    shop: 'tmall-flagship',
    items: [
      { sku: 'MUG-01', qty: 2 },
      { sku: 'TEE^1', qty: 1 },
    ],
    grams: 730,
    stationId: 'st-1',
    at: Date.UTC(2026, 10, 11, 0, 5),
  };

  it('matches the golden ZPL', () => {
    const golden = readFileSync(new URL('../label/golden/staging-basic.zpl', import.meta.url), 'utf8');
    expect(renderStagingZpl(data)).toBe(golden);
  });

  it('TSPL carries the same barcode, commands end CR LF, and a quote cannot end a string', () => {
    const t = renderStagingTspl({ ...data, orderId: 'TB"1' });
    expect(t).toContain('BARCODE 24,148,"128",90,1,0,2,2,"STG-S-gw01-7-2kq"');
    expect(t).toContain('"Order TB 1"');
    expect(t.split('\r\n').at(-2)).toBe('PRINT 1,1');
    expect(t.replace(/\r\n/g, '')).not.toMatch(/[\r\n]/);
  });

  it('an id that is not Code 128 safe is refused rather than printed wrong', () => {
    expect(() => renderStagingZpl({ ...data, stagingId: 'S 1^' })).toThrow(/Label template error/);
  });
});
