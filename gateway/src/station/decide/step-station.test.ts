import { describe, expect, it } from 'vitest';
import type { Checkpoint } from '../../config/schema.js';
import type { OrderFlags, StationWrite } from '../domain.js';
import { Bench, line, makeOrder, SHIPMENT_CONFIG, STATION, World } from './testing/world.js';

function bench(opts: { verifyItems?: 'always' | 'multi_item' | 'never'; checkpoints?: Checkpoint[]; display?: boolean } = {}) {
  const station = { ...STATION, verifyItems: opts.verifyItems ?? 'always' };
  if (opts.display === false) delete (station as { display?: string }).display;
  const shipment = { ...SHIPMENT_CONFIG, checkpoints: opts.checkpoints ?? SHIPMENT_CONFIG.checkpoints };
  return new Bench(new World(), { station, shipment });
}

/** Order O1: 2 × A (470 g) + 1 × B (200 g), packaging 30 → expected 1170 g, tolerance 58.5 g. */
function multiItem(b: Bench) {
  return b.world.addOrder(makeOrder('O1', { lines: [line('A', 2, 470), line('B', 1, 200)] }));
}

/**
 * What a shipment costs the SD card, as JSON of what the store keeps: each row version and each
 * event (type, subject, data). Column storage is smaller (no key names); WAL page overhead is the
 * store's business (group commit), not the core's.
 */
function writtenBytes(ops: readonly StationWrite[]): number {
  let n = 0;
  for (const op of ops) {
    if (op.op === 'shipment.put') n += Buffer.byteLength(JSON.stringify(op.shipment));
    else if (op.op === 'printjob.put') n += Buffer.byteLength(JSON.stringify(op.job));
    else if (op.op === 'event') n += Buffer.byteLength(JSON.stringify({ t: op.type, s: op.subject, d: op.data }));
    else n += Buffer.byteLength(JSON.stringify(op));
  }
  return n;
}

describe('station happy path', () => {
  it('scan → verify items → weigh → label → printed = shipped', () => {
    const b = bench();
    multiItem(b);
    const open = b.scan('PKO1', { operator: 'li' });
    expect(open.reply).toEqual({ ok: true });
    expect(b.shipment.state).toBe('verifying');
    expect(b.shipment.expectedGrams).toBe(1170);
    expect(b.shipment.operator).toBe('li');

    b.scan('690A');
    b.scan('690B');
    expect(b.shipment.state).toBe('verifying');
    expect(b.world.shipments.get(b.shipment.shipmentId)?.state).toBe('verifying');
    const done = b.scan('690A');
    expect(b.shipment.state).toBe('weighing');
    expect(b.shipment.scanned).toEqual({ '690A': 2, '690B': 1 });
    expect(done.writes.map((w) => w.op)).toEqual(['event']); // rows are written at the weighing
    expect(b.world.shipments.get(b.shipment.shipmentId)?.state).toBe('verifying');

    const weighed = b.place(1180);
    expect(weighed.reply).toEqual({ ok: true });
    expect(b.shipment.state).toBe('labelling');
    expect(b.shipment.actualGrams).toBe(1180);
    const prints = b.prints();
    expect(prints).toHaveLength(1);
    expect(prints[0]?.deviceId).toBe('prn-1');
    const jobId = b.jobId();
    expect(b.world.jobs.get(jobId)?.state).toBe('queued');
    expect(b.world.jobs.get(jobId)?.data).toContain('^BCN,120,Y,N,N^FDSFO1^FS');

    const fin = b.printed(jobId);
    expect(fin.reply).toEqual({ ok: true });
    expect(b.shipment.state).toBe('shipped');
    expect(b.shipment.shippedAt).toBe(b.clock);
    expect(b.world.jobs.get(jobId)?.state).toBe('printed');
    expect(b.world.eventTypes()).toEqual([
      'shipment.opened',
      'shipment.item_scanned',
      'shipment.item_scanned',
      'shipment.item_scanned',
      'shipment.weighed',
      'shipment.label_queued',
      'shipment.shipped',
    ]);
    expect(fin.commands).toEqual([{ kind: 'display', deviceId: 'disp-1', payload: { level: 'ok', text: 'Shipped SFO1', text_zh: '已发货 SFO1' } }]);
  });

  it('never puts the label into events and stays within 3 KB written per shipment', () => {
    const sizes: number[] = [];
    for (const lines of [[line('A', 1, 470)], [line('A', 2, 470), line('B', 1, 200)]]) {
      const b = bench();
      b.world.addOrder(makeOrder('O9', { lines }));
      b.scan('PKO9');
      for (const l of lines) for (let i = 0; i < l.qty; i++) b.scan(l.barcode);
      b.place(lines.reduce((g, l) => g + l.qty * l.unitGrams, 30));
      b.printed(b.jobId());
      expect(b.shipment.state).toBe('shipped');
      for (const e of b.world.events) expect(JSON.stringify(e.data)).not.toContain('^XA');
      sizes.push(writtenBytes(b.world.units.flat()));
    }
    console.info(`bytes written per shipment (1 item, 3 items): ${sizes.join(', ')}`);
    for (const n of sizes) expect(n).toBeLessThanOrEqual(3072);
  });

  it('a station whose printer speaks TSPL gets a TSPL label, stored and re-issued as such', () => {
    const b = new Bench(new World(), { station: { ...STATION, verifyItems: 'never' }, shipment: SHIPMENT_CONFIG, labelFormat: 'tspl' });
    b.world.addOrder(makeOrder('O1'));
    b.scan('PKO1');
    b.place(500);
    const [print] = b.prints();
    expect(print?.payload).toMatchObject({ format: 'tspl', copies: 1 });
    const data = String((print!.payload as { data: string }).data);
    expect(data.startsWith('SIZE 76 mm,130 mm\r\n')).toBe(true);
    expect(data).toContain('BARCODE 24,150,"128",120,1,0,2,2,"SFO1"\r\n');
    expect(data.endsWith('PRINT 1\r\n')).toBe(true);
    expect(data).not.toContain('^XA');
    // The stored job keeps the format, so a re-issue after a restart sends TSPL again.
    expect(b.world.jobs.get(b.jobId())).toMatchObject({ format: 'tspl', data });
    expect(b.state.pendingJobs[b.jobId()]?.format).toBe('tspl');
    b.printed(b.jobId());
    expect(b.shipment.state).toBe('shipped');
  });
});

describe('item verification', () => {
  it('flags wrong and extra items without changing counts', () => {
    const b = bench();
    multiItem(b);
    b.world.addOrder(makeOrder('O2', { lines: [line('Z', 1, 100, '690Z')] }));
    b.scan('PKO1');
    const wrong = b.scan('999999');
    expect(wrong.reply).toEqual({ ok: false, code: 'PKL_ITEM_WRONG', details: { barcode: '999999', orderId: 'O1' } });
    b.scan('690B');
    const extra = b.scan('690B');
    expect(extra.reply).toMatchObject({ ok: false, code: 'PKL_ITEM_EXTRA', details: { expected: 1 } });
    expect(b.shipment.scanned).toEqual({ '690B': 1 });
    expect(b.state.alert?.messageZh).toBe('商品多扫：690B 订单 O1 只需 1 件');
    // An item barcode of another order's line that is not an order barcode is "wrong" too.
    expect(b.scan('690Z').reply).toMatchObject({ code: 'PKL_ITEM_WRONG' });
    expect(b.world.eventTypes().filter((t) => t === 'shipment.item_rejected')).toHaveLength(3);
    b.scan('690A');
    b.scan('690A');
    expect(b.shipment.state).toBe('weighing');
    // After verification completed, another scan of a counted item is extra.
    expect(b.scan('690A').reply).toMatchObject({ code: 'PKL_ITEM_EXTRA', details: { expected: 2 } });
    expect(b.shipment.scanned).toEqual({ '690A': 2, '690B': 1 });
  });

  it.each([
    ['always', 1, 'verifying'],
    ['always', 2, 'verifying'],
    ['multi_item', 1, 'weighing'],
    ['multi_item', 2, 'verifying'],
    ['never', 2, 'weighing'],
  ] as const)('verifyItems=%s with %i unit(s) opens in %s', (mode, qty, state) => {
    const b = bench({ verifyItems: mode });
    b.world.addOrder(makeOrder('O1', { lines: [line('A', qty, 470)] }));
    b.scan('PKO1');
    expect(b.shipment.state).toBe(state);
    expect(b.world.events[0]?.data).toMatchObject({ verify: state === 'verifying' });
  });

  it('ignores item scans when verification is skipped', () => {
    const b = bench({ verifyItems: 'never' });
    b.world.addOrder(makeOrder('O1'));
    b.scan('PKO1');
    const s = b.scan('690A');
    expect(s.reply).toEqual({ ok: true });
    expect(s.writes).toEqual([]);
  });

  it('answers an unknown barcode with no shipment open', () => {
    const b = bench();
    expect(b.scan('NOPE').reply).toEqual({ ok: false, code: 'PKL_ORDER_NOT_FOUND', details: { barcode: 'NOPE' } });
    expect(b.last.writes).toEqual([]);
  });

  it('a second scan of the open order changes nothing', () => {
    const b = bench();
    multiItem(b);
    b.scan('PKO1');
    b.scan('690A');
    const again = b.scan('O1');
    expect(again.reply).toEqual({ ok: true });
    expect(again.writes).toEqual([]);
    expect(b.shipment.scanned).toEqual({ '690A': 1 });
  });
});

describe('weight lock', () => {
  function ready() {
    const b = bench({ verifyItems: 'never' });
    b.world.addOrder(makeOrder('O1')); // expected 500 g
    return b;
  }

  it('a weight before any scan only updates the live weight', () => {
    const b = ready();
    const s = b.weigh(500);
    expect(s.reply).toEqual({ ok: true });
    expect(s.writes).toEqual([]);
    expect(b.state.scale).toMatchObject({ grams: 500, stable: true });
  });

  it('the previous parcel still on the scale is never taken for the next one', () => {
    const b = ready();
    b.world.addOrder(makeOrder('O2'));
    b.scan('PKO1');
    b.place(500);
    b.printed(b.jobId());
    b.scan('PKO2');
    // O1's parcel was not lifted: the same stable reading keeps coming.
    const stale = b.weigh(500);
    expect(stale.reply).toEqual({ ok: false, code: 'PKL_WEIGHT_STALE', details: { grams: 500 } });
    expect(b.shipment.state).toBe('weighing');
    expect(b.prints(stale)).toEqual([]);
    b.weigh(250, false); // lifting: unstable readings never count
    b.weigh(2); // scale back near empty → armed
    b.weigh(480, false);
    expect(b.shipment.state).toBe('weighing');
    b.weigh(505);
    expect(b.shipment.state).toBe('labelling');
  });

  it('a stable reading arriving twice is used once', () => {
    const b = ready();
    b.scan('PKO1');
    const first = b.place(500);
    expect(b.prints(first)).toHaveLength(1);
    const second = b.weigh(500);
    expect(second.reply).toEqual({ ok: true }); // nobody waits for a weight any more
    expect(b.prints(second)).toEqual([]);
    expect(b.world.jobs.size).toBe(1);
  });

  it('a reading taken before the last item scan is stale', () => {
    const b = bench();
    b.world.addOrder(makeOrder('O1'));
    b.scan('PKO1', { at: 1000 });
    b.weigh(0, true, 1100);
    b.scan('690A', { at: 2000 });
    // Delivered late: measured (received) before the verification completed.
    const late = b.weigh(500, true, 1900);
    expect(late.reply).toMatchObject({ code: 'PKL_WEIGHT_STALE' });
    expect(b.weigh(500, true, 2100).reply).toEqual({ ok: true });
    expect(b.shipment.state).toBe('labelling');
  });

  it('needs the scale seen empty once after start-up', () => {
    const b = ready();
    b.scan('PKO1');
    expect(b.weigh(500).reply).toMatchObject({ code: 'PKL_WEIGHT_STALE' });
    expect(b.state.alert?.code).toBe('PKL_WEIGHT_STALE');
    b.weigh(-3);
    expect(b.weigh(500).reply).toEqual({ ok: true });
  });
});

describe('weight tolerance', () => {
  // allowed = max(50 g, 5 % × expected); the limit itself passes.
  it.each([
    [500, 550, true], // 5 % = 25 < 50: the absolute band applies
    [500, 450, true],
    [500, 550.5, false],
    [500, 449, false],
    [2000, 2100, true], // 5 % = 100 > 50: the percent band applies
    [2000, 1900, true],
    [2000, 2101, false],
    [2000, 1899.9, false],
  ])('expected %i g, actual %d g → ok=%s', (expected, actual, ok) => {
    const b = bench({ verifyItems: 'never' });
    b.world.addOrder(makeOrder('O1', { lines: [line('A', 1, expected - 10)], packagingGrams: 10 }));
    b.scan('PKO1');
    const s = b.place(actual);
    expect(b.shipment.state).toBe(ok ? 'labelling' : 'held');
    if (!ok) {
      expect(s.reply).toMatchObject({
        ok: false,
        code: 'PKL_WEIGHT_OUT_OF_TOLERANCE',
        details: { actual, expected, tolerance: Math.max(50, expected * 0.05) },
      });
      expect(b.shipment.reasonCode).toBe('PKL_WEIGHT_OUT_OF_TOLERANCE');
      expect(b.prints(s)).toEqual([]);
    }
  });

  it('uses the configured packaging default when the order has none', () => {
    const b = bench({ verifyItems: 'never' });
    b.world.addOrder(makeOrder('O1', { lines: [line('A', 3, 100)] }));
    b.scan('PKO1');
    expect(b.shipment.expectedGrams).toBe(330);
  });
});

describe('holds and releases', () => {
  function heldForWeight() {
    const b = bench({ verifyItems: 'never' });
    b.world.addOrder(makeOrder('O1'));
    b.scan('PKO1');
    b.place(900);
    expect(b.shipment.state).toBe('held');
    return b;
  }

  it('a supervisor override releases a weight hold, audited with the name', () => {
    const b = heldForWeight();
    const s = b.override('王主管', b.shipment.shipmentId);
    expect(s.reply).toEqual({ ok: true });
    expect(b.shipment.state).toBe('labelling');
    expect(b.prints(s)).toHaveLength(1);
    const released = b.world.events.find((e) => e.type === 'shipment.released');
    expect(released?.data).toMatchObject({ by: 'supervisor', supervisor: '王主管', grams: 900, expected_grams: 500 });
  });

  it('refuses overrides that are not for a weight hold', () => {
    const b = bench({ verifyItems: 'never' });
    expect(b.override('boss').reply).toMatchObject({ code: 'PKL_NO_OPEN_SHIPMENT' });
    b.world.addOrder(makeOrder('O1', { waybill: null }));
    b.scan('PKO1');
    expect(b.override('boss').reply).toMatchObject({ code: 'PKL_SHIPMENT_STATE' });
    b.place(500);
    expect(b.shipment.reasonCode).toBe('PKL_AWAITING_WAYBILL');
    expect(b.override('boss').reply).toMatchObject({
      code: 'PKL_SHIPMENT_STATE',
      details: { state: 'PKL_AWAITING_WAYBILL', action: 'supervisor override' },
    });
    expect(b.shipment.state).toBe('held');
  });

  it('refuses an override without a name or for another shipment', () => {
    const b = heldForWeight();
    expect(b.override('  ').reply).toMatchObject({ code: 'PKL_PAYLOAD_INVALID' });
    expect(b.override('boss', 'S-other').reply).toMatchObject({ code: 'PKL_SHIPMENT_NOT_FOUND' });
    expect(b.shipment.state).toBe('held');
  });

  it('a new weighing after lifting the parcel releases a weight hold', () => {
    const b = heldForWeight();
    expect(b.weigh(520).reply).toMatchObject({ code: 'PKL_WEIGHT_STALE' }); // not lifted
    b.place(520);
    expect(b.shipment.state).toBe('labelling');
    expect(b.world.events.find((e) => e.type === 'shipment.released')?.data).toEqual({
      code: 'PKL_WEIGHT_OUT_OF_TOLERANCE',
      by: 'reweigh',
    });
  });

  it('awaits the waybill and prints when an order update brings it', () => {
    const b = bench({ verifyItems: 'never' });
    b.world.addOrder(makeOrder('O1', { waybill: null, printData: null }));
    b.world.addOrder(makeOrder('O2'));
    b.scan('PKO1');
    const s = b.place(500);
    expect(s.reply).toEqual({ ok: false, code: 'PKL_AWAITING_WAYBILL', details: { orderId: 'O1' } });
    expect(b.state.alert).toMatchObject({ message: 'Order O1 has no waybill yet', messageZh: '订单 O1 尚无电子面单号' });
    expect(b.orderUpdated('O2').writes).toEqual([]);
    b.world.patchOrder('O1', { printData: makeOrder('x').printData });
    expect(b.orderUpdated('O1').writes).toEqual([]); // still no waybill
    b.world.patchOrder('O1', { waybill: 'YT123' });
    const rel = b.orderUpdated('O1');
    expect(b.shipment.state).toBe('labelling');
    expect(b.shipment.waybill).toBe('YT123');
    expect(b.prints(rel)).toHaveLength(1);
    expect(b.world.events.find((e) => e.type === 'shipment.released')?.data).toEqual({
      code: 'PKL_AWAITING_WAYBILL',
      by: 'order_update',
    });
  });

  it('holds a waybill that cannot be printed as Code 128', () => {
    const b = bench({ verifyItems: 'never' });
    b.world.addOrder(makeOrder('O1', { waybill: 'SF>12' }));
    b.scan('PKO1');
    const s = b.place(500);
    expect(s.reply).toMatchObject({ code: 'PKL_LABEL_TEMPLATE_ERROR' });
    expect(b.shipment.state).toBe('held');
    b.world.patchOrder('O1', { waybill: 'SF12' });
    expect(b.prints(b.orderUpdated('O1'))).toHaveLength(1);
  });
});

const FLAG_CASES: Array<[keyof OrderFlags, string]> = [
  ['refundRequested', 'PKL_INTERCEPT_REFUND_REQUESTED'],
  ['refunded', 'PKL_INTERCEPT_REFUNDED'],
  ['cancelled', 'PKL_INTERCEPT_CANCELLED'],
  ['platformClosed', 'PKL_INTERCEPT_PLATFORM_CLOSED'],
  ['shipped', 'PKL_INTERCEPT_ALREADY_SHIPPED'],
];

function flagged(flag: keyof OrderFlags): Partial<import('../domain.js').Order> {
  return { flags: { ...makeOrder('x').flags, [flag]: true } };
}

describe.each(FLAG_CASES)('interception: %s → %s', (flag, code) => {
  it('at the order scan (packing checkpoint): recorded, nothing prints', () => {
    const b = bench();
    b.world.addOrder(makeOrder('O1', flagged(flag)));
    const s = b.scan('PKO1');
    expect(s.reply).toEqual({ ok: false, code, details: { orderId: 'O1' } });
    expect(b.shipment.state).toBe('intercepted');
    expect(b.world.shipments.get(b.shipment.shipmentId)?.reasonCode).toBe(code);
    expect(b.world.events).toEqual([
      {
        type: 'shipment.intercepted',
        subject: `shipment:${b.shipment.shipmentId}`,
        data: { order_id: 'O1', station_id: 'st-1', code, checkpoint: 'packing' },
      },
    ]);
    expect(s.commands.map((c) => c.kind)).toEqual(['display']);
    expect(b.place(500).writes).toEqual([]);
  });

  it('immediately when an order update arrives during verification', () => {
    const b = bench();
    b.world.addOrder(makeOrder('O1', { lines: [line('A', 2, 470)] }));
    b.scan('PKO1');
    b.scan('690A');
    b.world.patchOrder('O1', flagged(flag));
    const s = b.orderUpdated('O1');
    expect(s.reply).toMatchObject({ code });
    expect(b.shipment.state).toBe('intercepted');
    expect(b.scan('690A').reply).toMatchObject({ code: 'PKL_ORDER_NOT_FOUND' });
  });

  it('at the weighing / last gate even without an order update', () => {
    const b = bench({ verifyItems: 'never' });
    b.world.addOrder(makeOrder('O1'));
    b.scan('PKO1');
    b.world.patchOrder('O1', flagged(flag));
    const s = b.place(500);
    expect(s.reply).toMatchObject({ code });
    expect(b.prints(s)).toEqual([]);
    expect(b.world.events.at(-1)?.data).toMatchObject({ code, checkpoint: 'weighing' });
  });

  it('when the flag arrives while the label prints: the parcel does not ship', () => {
    const b = bench({ verifyItems: 'never' });
    b.world.addOrder(makeOrder('O1'));
    b.scan('PKO1');
    b.place(500);
    const jobId = b.jobId();
    b.world.patchOrder('O1', flagged(flag));
    const upd = b.orderUpdated('O1');
    expect(b.shipment.state).toBe('intercepted');
    expect(upd.alert?.message).toBe('Label printed but order O1 is intercepted: pull the parcel');
    const fin = b.printed(jobId);
    expect(fin.reply).toEqual({ ok: true });
    expect(b.shipment.state).toBe('intercepted');
    expect(b.world.jobs.get(jobId)?.state).toBe('printed');
    expect(b.world.eventTypes()).not.toContain('shipment.shipped');
  });

  it('at the print result when no order update came', () => {
    const b = bench({ verifyItems: 'never' });
    b.world.addOrder(makeOrder('O1'));
    b.scan('PKO1');
    b.place(500);
    b.world.patchOrder('O1', flagged(flag));
    b.printed(b.jobId());
    expect(b.shipment.state).toBe('intercepted');
    expect(b.world.eventTypes()).not.toContain('shipment.shipped');
  });
});

describe('interception checkpoints and the duplicate guard', () => {
  it('flag rules follow config.shipment.checkpoints', () => {
    const b = bench({ verifyItems: 'never', checkpoints: ['weighing'] });
    b.world.addOrder(makeOrder('O1', flagged('refunded')));
    expect(b.scan('PKO1').reply).toEqual({ ok: true }); // packing not enabled
    expect(b.place(500).reply).toMatchObject({ code: 'PKL_INTERCEPT_REFUNDED' });
  });

  it('inspection runs at the scan when the station verifies items', () => {
    const b = bench({ checkpoints: ['inspection'] });
    b.world.addOrder(makeOrder('O1', flagged('cancelled')));
    expect(b.scan('PKO1').reply).toMatchObject({ code: 'PKL_INTERCEPT_CANCELLED' });
    expect(b.world.events[0]?.data).toMatchObject({ checkpoint: 'inspection' });
  });

  it('a second scan of a shipped order never prints again, whatever the config', () => {
    const b = bench({ verifyItems: 'never', checkpoints: [] });
    b.world.addOrder(makeOrder('O1'));
    b.scan('PKO1');
    b.place(500);
    b.printed(b.jobId());
    const first = b.shipment.shipmentId;
    for (let i = 0; i < 2; i++) {
      const s = b.scan('SFO1');
      expect(s.reply).toMatchObject({ code: 'PKL_INTERCEPT_ALREADY_SHIPPED' });
      expect(b.world.events.at(-1)?.data).toMatchObject({ previous_shipment_id: first });
      expect(b.place(500).commands.filter((c) => c.kind === 'print')).toEqual([]);
    }
    expect(b.world.jobs.size).toBe(1);
  });

  it('a scan of the order while its label prints is a duplicate', () => {
    const b = bench({ verifyItems: 'never' });
    b.world.addOrder(makeOrder('O1'));
    b.scan('PKO1');
    b.place(500);
    const jobId = b.jobId();
    const first = b.shipment.shipmentId;
    expect(b.scan('PKO1').reply).toMatchObject({ code: 'PKL_INTERCEPT_ALREADY_SHIPPED' });
    b.printed(jobId);
    expect(b.world.shipments.get(first)?.state).toBe('shipped');
  });

  it('two stations cannot both label one order', () => {
    const world = new World();
    world.addOrder(makeOrder('O1'));
    const a = new Bench(world, { station: { ...STATION, verifyItems: 'never' } });
    const b = new Bench(world, { station: { ...STATION, id: 'st-2', printer: 'prn-2', verifyItems: 'never' } });
    a.scan('PKO1');
    b.scan('PKO1');
    a.place(500);
    const second = b.place(500);
    expect(second.reply).toMatchObject({ code: 'PKL_INTERCEPT_ALREADY_SHIPPED' });
    expect(b.prints(second)).toEqual([]);
  });
});

describe('abandon, reset and print results', () => {
  it('a scan of another order abandons the open one', () => {
    const b = bench();
    multiItem(b);
    b.world.addOrder(makeOrder('O2'));
    b.scan('PKO1');
    const firstId = b.shipment.shipmentId;
    b.scan('690A');
    const s = b.scan('PKO2');
    expect(s.reply).toEqual({ ok: true });
    expect(b.world.shipments.get(firstId)).toMatchObject({ state: 'abandoned', reasonCode: 'PKL_SHIPMENT_ABANDONED' });
    expect(b.world.events.find((e) => e.type === 'shipment.abandoned')?.data).toEqual({
      by: 'scan',
      state: 'verifying',
      next_order_id: 'O2',
    });
    expect(s.alert).toMatchObject({ code: 'PKL_SHIPMENT_ABANDONED', level: 'warn' });
    expect(b.shipment).toMatchObject({ orderId: 'O2', state: 'verifying' });
  });

  it('reset abandons the open shipment and clears the screen', () => {
    const b = bench();
    b.world.addOrder(makeOrder('O1'));
    b.scan('PKO1');
    const id = b.shipment.shipmentId;
    b.reset();
    expect(b.state.shipment).toBeNull();
    expect(b.world.shipments.get(id)?.state).toBe('abandoned');
    expect(b.reset().writes).toEqual([]);
  });

  it('a label still printing is not abandoned by the next order; its result ships it', () => {
    const b = bench({ verifyItems: 'never' });
    b.world.addOrder(makeOrder('O1'));
    b.world.addOrder(makeOrder('O2'));
    b.scan('PKO1');
    b.place(500);
    const jobId = b.jobId();
    const first = b.shipment.shipmentId;
    b.scan('PKO2');
    expect(b.world.shipments.get(first)?.state).toBe('labelling');
    const fin = b.printed(jobId);
    expect(b.world.shipments.get(first)?.state).toBe('shipped');
    expect(fin.alert).toBeNull(); // the screen stays on O2
    expect(b.shipment.orderId).toBe('O2');
  });

  it('a failed print tags the shipment; a rescan starts a fresh shipment', () => {
    const b = bench({ verifyItems: 'never' });
    b.world.addOrder(makeOrder('O1'));
    b.scan('PKO1');
    b.place(500);
    const jobId = b.jobId();
    const first = b.shipment.shipmentId;
    const f = b.printFailed(jobId, 'paper out');
    expect(f.reply).toEqual({ ok: true });
    expect(b.shipment).toMatchObject({ state: 'labelling', reasonCode: 'PKL_PRINT_FAILED' });
    expect(b.world.jobs.get(jobId)).toMatchObject({ state: 'failed', reason: 'paper out' });
    expect(f.alert).toMatchObject({ code: 'PKL_PRINT_FAILED', message: 'Printing failed on prn-1: paper out' });
    const again = b.scan('PKO1');
    expect(again.reply).toEqual({ ok: true });
    expect(b.world.shipments.get(first)?.state).toBe('abandoned');
    expect(b.shipment.shipmentId).not.toBe(first);
    b.place(500);
    expect(b.prints()).toHaveLength(1);
  });

  it('pre-shipment callback: reports the order shipped at label time, once, only for listed shops', () => {
    const shops: string[] = [];
    const b = new Bench(new World(), {
      station: { ...STATION, verifyItems: 'never' },
      shipment: SHIPMENT_CONFIG,
      preShipmentCallback: (shop) => (shops.push(shop), shop === 'shop-early'),
    });
    b.world.addOrder(makeOrder('O1', { shop: 'shop-early' }));
    b.world.addOrder(makeOrder('O2', { shop: 'shop-late' }));
    b.scan('PKO1');
    b.place(500);
    const confirm = b.world.events.filter((e) => e.type === 'shipment.ship_confirmed');
    expect(confirm).toHaveLength(1);
    expect(confirm[0]?.data).toMatchObject({ order_id: 'O1', trigger: 'label_queued' });
    // Print fails, the operator rescans: a fresh shipment and label, but no second report.
    b.printFailed(b.jobId(), 'paper out');
    b.scan('PKO1');
    b.place(500);
    b.printed(b.jobId());
    expect(b.world.events.filter((e) => e.type === 'shipment.ship_confirmed')).toHaveLength(1);
    b.scan('PKO2');
    b.place(500);
    expect(b.world.events.filter((e) => e.type === 'shipment.ship_confirmed')).toHaveLength(1);
    expect(shops).toContain('shop-late');
  });

  it('print results for unknown, finished or foreign jobs change nothing', () => {
    const b = bench({ verifyItems: 'never' });
    b.world.addOrder(makeOrder('O1'));
    expect(b.printed('J-404').reply).toEqual({ ok: false, code: 'PKL_PRINT_JOB_UNKNOWN', details: { jobId: 'J-404' } });
    b.scan('PKO1');
    b.place(500);
    const jobId = b.jobId();
    expect(b.printed(jobId, 'prn-9').reply).toMatchObject({ code: 'PKL_PRINT_JOB_UNKNOWN' });
    expect(b.shipment.state).toBe('labelling');
    b.printed(jobId);
    const dup = b.printed(jobId);
    expect(dup.reply).toMatchObject({ code: 'PKL_PRINT_JOB_UNKNOWN' });
    expect(dup.writes).toEqual([]);
    expect(b.world.eventTypes().filter((t) => t === 'shipment.shipped')).toHaveLength(1);
  });

  it('sends no display command to a station without a display', () => {
    const b = bench({ display: false });
    b.world.addOrder(makeOrder('O1'));
    expect(b.scan('PKO1').commands).toEqual([]);
  });

  it('does not mutate the state it was given', () => {
    const b = bench({ verifyItems: 'never' });
    b.world.addOrder(makeOrder('O1'));
    b.scan('PKO1');
    const before = structuredClone(b.state);
    const frozen = b.state;
    b.place(500);
    expect(frozen).toEqual(before);
  });
});

describe('rescan of a held order', () => {
  it('shows the weight figures again and changes nothing', () => {
    const b = bench({ verifyItems: 'never' });
    b.world.addOrder(makeOrder('O1'));
    b.scan('PKO1');
    b.place(900);
    const s = b.scan('PKO1');
    expect(s.writes).toEqual([]);
    expect(s.alert?.message).toBe('Weight 900 g outside 500 g ± 50 g');
    expect(b.shipment.state).toBe('held');
  });
});
