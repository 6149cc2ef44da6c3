import { describe, expect, it } from 'vitest';
import type { ErrorCode } from '../../../contracts/errors.js';
import type { Order } from '../station/domain.js';
import { checkOrderFlags } from '../station/decide/intercept.js';
import { PICK_EVENT, type PickEvent, pickEvent } from './events.js';
import { DEFAULT_GEOMETRY, type Location, pickPathOrder, sShapeOrder, walkBetween, walkLength } from './layout.js';
import {
  cancelWave,
  confirmPick,
  confirmReplenishment,
  decideShort,
  type PickDeps,
  readyToPack,
  releaseWave,
  replenishIfLow,
  reportShort,
  sortUnit,
  startPick,
  taskReplenishment,
} from './pick-decide.js';
import { barcodeOf, floorEvents, locCode, makePickOrder, skuCode, stateOf } from './testing/floor.js';
import { buildWaves, DEFAULT_WAVE_RULES, type WaveRules } from './wave-builder.js';
import { orderPicking } from './order-picking.js';

const intercept = (o: Order): ErrorCode | null => checkOrderFlags(o, 'pick_start', ['pick_start'])?.code ?? null;
const loc = (aisle: number, bay: number, level = 1, walkSeq: number | null = null): Location => ({
  code: locCode(aisle, bay, level),
  zone: 'Z',
  aisle,
  bay,
  level,
  walkSeq,
  kind: 'pick',
  capacity: null,
  trigger: null,
});

function setup(orders: Order[], perFace = 10) {
  // 2 aisles × 3 bays × 1 level; SKU i on face i (A01-01-1, A01-02-1, A01-03-1, A02-01-1…), capacity 10, trigger 3.
  const state = stateOf(floorEvents({ aisles: 2, bays: 3, levels: 1, skus: 6, perFace, capacity: 10, trigger: 3, reserve: 50 }));
  const byId = new Map(orders.map((o) => [o.orderId, o]));
  let n = 0;
  const deps: PickDeps = { order: (id) => byId.get(id) ?? null, intercept, newRequestId: () => `R${++n}` };
  const commit = (d: { ok: true; events: PickEvent[] } | { ok: false; code: string }): PickEvent[] => {
    if (!d.ok) throw new Error(`refused ${d.code}`);
    for (const e of d.events) state.apply(e);
    return d.events;
  };
  const build = (rules: Partial<WaveRules> = {}, mode: 'wave' | 'order' = 'wave') =>
    buildWaves({ state, orders, rules: { ...DEFAULT_WAVE_RULES, maxWaves: 10, ...rules }, intercept, newWaveId: () => `W${++n}`, mode });
  return { state, deps, commit, build, byId };
}

describe('pick path', () => {
  it('walks the aisles in an S-shape: up the first, down the next', () => {
    const spots = [loc(2, 1), loc(1, 3), loc(2, 5), loc(1, 1), loc(3, 2)];
    expect(sShapeOrder(spots, (x) => x).map((l) => l.code)).toEqual(['A01-01-1', 'A01-03-1', 'A02-05-1', 'A02-01-1', 'A03-02-1']);
  });

  it('uses the configured walk sequence when every location has one', () => {
    const spots = [loc(1, 1, 1, 3), loc(2, 2, 1, 1), loc(3, 3, 1, 2)];
    expect(pickPathOrder(spots, (x) => x).map((l) => l.walkSeq)).toEqual([1, 2, 3]);
    expect(pickPathOrder([loc(2, 2, 1, 1), loc(1, 1)], (x) => x).map((l) => l.aisle)).toEqual([1, 2]);
  });

  it('measures walks through the nearer cross-aisle', () => {
    const g = DEFAULT_GEOMETRY;
    expect(walkBetween({ aisle: 1, bay: 2 }, { aisle: 1, bay: 5 }, g)).toBeCloseTo(3 * g.bayWidthM);
    // Near the back of both aisles: out through the back (31 − 29) + (31 − 28) bays, plus one aisle pitch.
    expect(walkBetween({ aisle: 1, bay: 29 }, { aisle: 2, bay: 28 }, g)).toBeCloseTo(5 * g.bayWidthM + g.aisleSpacingM);
    expect(walkLength([])).toBe(0);
    const far = [loc(1, 30), loc(5, 1), loc(1, 29), loc(5, 2)];
    expect(walkLength(sShapeOrder(far, (x) => x))).toBeLessThan(walkLength(far));
  });
});

describe('wave builder', () => {
  it('sums units per SKU and location, in path order, and groups by carrier', () => {
    const orders = [
      makePickOrder(
        'O1',
        [
          [skuCode(4), 1],
          [skuCode(0), 2],
        ],
        { carrier: 'SF', shipBy: 10 },
      ),
      makePickOrder('O2', [[skuCode(0), 1]], { carrier: 'SF', shipBy: 20 }),
      makePickOrder('O3', [[skuCode(1), 1]], { carrier: 'YTO', shipBy: 5 }),
    ];
    const { build } = setup(orders);
    const r = build();
    expect(r.waves.map((w) => w.orders)).toEqual([['O3'], ['O1', 'O2']]);
    const sf = r.waves[1];
    expect(sf?.lines).toEqual([
      [
        1,
        'A01-01-1',
        skuCode(0),
        [
          ['O1', 2],
          ['O2', 1],
        ],
      ],
      [2, 'A02-02-1', skuCode(4), [['O1', 1]]],
    ]);
    expect(sf?.units).toBe(4);
  });

  it('applies the cut-off, the size limits and the zone, and never waves an intercepted order', () => {
    const orders = [
      makePickOrder('O1', [[skuCode(0), 1]], { shipBy: 10 }),
      makePickOrder('O2', [[skuCode(1), 1]], { shipBy: 20 }),
      makePickOrder('O3', [[skuCode(2), 1]], { shipBy: 30 }),
      makePickOrder('O4', [[skuCode(0), 1]], {
        shipBy: 5,
        flags: { refundRequested: false, refunded: true, cancelled: false, platformClosed: false, shipped: false },
      }),
      makePickOrder('O5', [[skuCode(0), 99]], { shipBy: 6 }),
    ];
    const { build } = setup(orders);
    expect(build({ cutoff: 20 }).waves.map((w) => w.orders)).toEqual([['O1', 'O2']]);
    const limited = build({ maxOrders: 2 });
    expect(limited.waves.map((w) => w.orders)).toEqual([['O1', 'O2'], ['O3']]);
    expect(limited.leftOut).toEqual(
      expect.arrayContaining([
        { orderId: 'O4', code: 'PKL_INTERCEPT_REFUNDED' },
        { orderId: 'O5', code: 'PKL_PICK_NO_STOCK', sku: skuCode(0) },
      ]),
    );
    expect(build({ maxUnits: 1 }).waves.map((w) => w.orders)).toEqual([['O1'], ['O2'], ['O3']]);
    expect(setup([makePickOrder('B1', [[skuCode(0), 5]])]).build({ maxUnits: 3 }).leftOut).toEqual([{ orderId: 'B1', code: 'PKL_WAVE_ORDER_TOO_BIG' }]);
    // Z1 = aisle 1 (the first half): SKUs 0–2.
    const orders2 = [makePickOrder('P1', [[skuCode(3), 1]]), makePickOrder('P2', [[skuCode(1), 1]])];
    expect(
      setup(orders2)
        .build({ zone: 'Z1' })
        .waves.map((w) => w.orders),
    ).toEqual([['P2']]);
  });

  it('does not promise the same unit to two waves', () => {
    const orders = [makePickOrder('O1', [[skuCode(0), 6]]), makePickOrder('O2', [[skuCode(0), 6]])];
    const { build, commit } = setup(orders);
    const first = build({ maxOrders: 1, maxWaves: 1 });
    commit({ ok: true, events: first.events });
    const second = build();
    expect(second.waves).toEqual([]);
    expect(second.leftOut).toEqual([{ orderId: 'O2', code: 'PKL_PICK_NO_STOCK', sku: skuCode(0) }]);
  });
});

describe('picking a wave', () => {
  function started(orders: Order[], perFace = 10) {
    const t = setup(orders, perFace);
    const r = t.build();
    t.commit({ ok: true, events: r.events });
    const waveId = r.waves[0]?.waveId as string;
    t.commit(releaseWave(t.state, waveId, 'pda-1'));
    return { ...t, waveId, start: () => t.commit(startPick(t.state, waveId, 'pda-1', '张三', t.deps)) };
  }

  it('refuses a wrong location or item at once, picks, sorts to slots and closes', () => {
    const orders = [makePickOrder('O1', [[skuCode(0), 1]]), makePickOrder('O2', [[skuCode(0), 2]])];
    const t = started(orders);
    expect(startPick(t.state, t.waveId, 'pda-2', null, t.deps)).toMatchObject({ ok: false, code: 'PKL_WAVE_STATE' });
    t.start();
    const pick = (location: string, item: string, qty: number) => confirmPick(t.state, t.waveId, { location, item, qty, deviceId: 'pda-1' }, t.deps);
    expect(pick('A02-01-1', barcodeOf(skuCode(0)), 1)).toMatchObject({ ok: false, code: 'PKL_PICK_WRONG_LOCATION', details: { expected: 'A01-01-1' } });
    expect(pick('A01-01-1', barcodeOf(skuCode(1)), 1)).toMatchObject({ ok: false, code: 'PKL_PICK_WRONG_ITEM' });
    expect(pick('A01-01-1', barcodeOf(skuCode(0)), 4)).toMatchObject({ ok: false, code: 'PKL_PICK_QTY_OVER' });
    t.commit(pick('A01-01-1', barcodeOf(skuCode(0)), 1));
    expect(readyToPack(t.state, 'O1')).toBe(true);
    expect(readyToPack(t.state, 'O2')).toBe(false);
    const last = t.commit(pick('A01-01-1', barcodeOf(skuCode(0)), 2));
    expect(last.map((e) => e.type)).toEqual([PICK_EVENT.pickConfirmed, PICK_EVENT.waveClosed]);
    expect(t.state.onHand('A01-01-1', skuCode(0))).toBe(7);
    const slots = [1, 2, 3].map(() => {
      const s = sortUnit(t.state, t.waveId, barcodeOf(skuCode(0)));
      if (!s.ok) throw new Error(s.code);
      t.commit(s);
      return s.slot;
    });
    expect(slots).toEqual([1, 2, 2]);
    expect(sortUnit(t.state, t.waveId, barcodeOf(skuCode(0)))).toMatchObject({ ok: false, code: 'PKL_SORT_NOT_NEEDED' });
  });

  it('requests replenishment of capacity − current when a pick takes a face below its trigger, once', () => {
    const t = started([makePickOrder('O1', [[skuCode(0), 8]])]);
    t.start();
    const ev = t.commit(confirmPick(t.state, t.waveId, { location: 'A01-01-1', item: skuCode(0), qty: 8, deviceId: 'pda-1' }, t.deps));
    const req = ev.find((e) => e.type === PICK_EVENT.replenishmentRequested);
    expect(req?.data).toMatchObject({ location: 'A01-01-1', sku: skuCode(0), qty: 8 });
    const id = (req?.data as { request_id: string } | undefined)?.request_id ?? '';
    expect(confirmReplenishment(t.state, id, null)).toMatchObject({ ok: false, code: 'PKL_REPLENISH_STATE' });
    t.commit(taskReplenishment(t.state, id, 'pda-9'));
    t.commit(confirmReplenishment(t.state, id, null));
    expect(t.state.onHand('A01-01-1', skuCode(0))).toBe(10);
    expect(t.state.onHand('R00-01-1', skuCode(0))).toBe(42);
  });

  it('a face the feed gives no trigger is replenished by the configured default rule (picking.replenishment), and only then', () => {
    const s = stateOf([
      pickEvent(PICK_EVENT.locationUpserted, 'location:F-1', {
        code: 'F-1',
        zone: 'Z',
        aisle: 1,
        bay: 1,
        level: 1,
        walk_seq: null,
        kind: 'pick',
        capacity: null,
        trigger: null,
      }),
    ]);
    const id = () => 'R-x';
    expect(replenishIfLow(s, 'F-1', 'S', 2, id)).toEqual([]);
    expect(replenishIfLow(s, 'F-1', 'S', 5, id, { trigger: 5, capacity: 30 })).toEqual([]);
    expect(replenishIfLow(s, 'F-1', 'S', 2, id, { trigger: 5, capacity: 30 })[0]?.data).toMatchObject({ location: 'F-1', qty: 28 });
    expect(replenishIfLow(s, 'F-1', 'S', 2, id, { trigger: 5, capacity: null })[0]?.data).toMatchObject({ qty: 3 });
  });

  it('a short pick holds the uncovered order, corrects the book, asks for stock; a supervisor releases or cancels', () => {
    const orders = [
      makePickOrder('O1', [[skuCode(0), 2]]),
      makePickOrder('O2', [
        [skuCode(0), 3],
        [skuCode(1), 1],
      ]),
    ];
    const t = started(orders);
    t.start();
    const ev = t.commit(
      reportShort(t.state, t.waveId, { location: 'A01-01-1', item: barcodeOf(skuCode(0)), found: 3, reason: 'damaged', deviceId: 'pda-1' }, t.deps),
    );
    expect(ev.map((e) => e.type)).toEqual([PICK_EVENT.pickShort, PICK_EVENT.stockCorrected, PICK_EVENT.replenishmentRequested]);
    expect(t.state.onHand('A01-01-1', skuCode(0))).toBe(0);
    expect(t.state.shortHolds.get('O2')).toBe('held');
    expect(t.state.shortHolds.has('O1')).toBe(false);
    t.commit(confirmPick(t.state, t.waveId, { location: 'A01-02-1', item: skuCode(1), qty: 1, deviceId: 'pda-1' }, t.deps));
    expect(t.state.waves.get(t.waveId)?.state).toBe('closed');
    expect(readyToPack(t.state, 'O1')).toBe(true);
    expect(readyToPack(t.state, 'O2')).toBe(false);
    expect(decideShort(t.state, 'O2', 'release', '王主管', false)).toMatchObject({ ok: false, code: 'PKL_PICK_PARTIAL_NOT_ALLOWED' });
    t.commit(decideShort(t.state, 'O2', 'release', '王主管', true));
    expect(readyToPack(t.state, 'O2')).toBe(true);
    expect(decideShort(t.state, 'O1', 'cancel', '王主管', true)).toMatchObject({ ok: false, code: 'PKL_PICK_NOT_SHORT' });
  });

  it('answers the packing station where an order stands: picking, short (held or cancelled), picked, released', () => {
    const orders = [makePickOrder('O1', [[skuCode(0), 2]]), makePickOrder('O2', [[skuCode(0), 3]]), makePickOrder('O3', [[skuCode(1), 1]])];
    const t = started(orders);
    expect(orderPicking(t.state, 'O9')).toBeNull();
    expect(orderPicking(t.state, 'O3')).toEqual({ state: 'picking', waveId: t.waveId, slot: 3, short: null });
    t.start();
    t.commit(reportShort(t.state, t.waveId, { location: 'A01-01-1', item: barcodeOf(skuCode(0)), found: 3, reason: 'fewer', deviceId: 'pda-1' }, t.deps));
    expect(orderPicking(t.state, 'O1')).toEqual({ state: 'picked', waveId: t.waveId, slot: 1, short: null });
    expect(orderPicking(t.state, 'O2')).toEqual({ state: 'short', waveId: t.waveId, slot: 2, short: { sku: skuCode(0), location: 'A01-01-1' } });
    t.commit(confirmPick(t.state, t.waveId, { location: 'A01-02-1', item: barcodeOf(skuCode(1)), qty: 1, deviceId: 'pda-1' }, t.deps));
    expect(orderPicking(t.state, 'O3')?.state).toBe('picked');
    // Cancelled short (the wave is closed, so the order stays listed in it): still not packed.
    t.commit(decideShort(t.state, 'O2', 'cancel', '王主管', true));
    expect(orderPicking(t.state, 'O2')).toMatchObject({ state: 'short', waveId: t.waveId, slot: 2 });
  });

  it('an order cancelled short while its wave is open leaves the wave and stays short for the packing station', () => {
    const t = started([makePickOrder('O1', [[skuCode(0), 2]]), makePickOrder('O2', [[skuCode(1), 1]])]);
    t.start();
    t.commit(reportShort(t.state, t.waveId, { location: 'A01-01-1', item: barcodeOf(skuCode(0)), found: 1, reason: 'damaged', deviceId: 'pda-1' }, t.deps));
    t.commit(decideShort(t.state, 'O1', 'cancel', '王主管', true));
    expect(t.state.orderWave.has('O1')).toBe(false);
    expect(orderPicking(t.state, 'O1')).toEqual({ state: 'short', waveId: t.waveId, slot: 1, short: null });
    expect(orderPicking(t.state, 'O2')).toEqual({ state: 'picking', waveId: t.waveId, slot: 2, short: null });
  });

  it('a released short order is released_short for the packing station', () => {
    const t = started([makePickOrder('O1', [[skuCode(0), 2]])]);
    t.start();
    t.commit(reportShort(t.state, t.waveId, { location: 'A01-01-1', item: barcodeOf(skuCode(0)), found: 1, reason: 'damaged', deviceId: 'pda-1' }, t.deps));
    t.commit(decideShort(t.state, 'O1', 'release', '王主管', true));
    expect(orderPicking(t.state, 'O1')).toEqual({ state: 'released_short', waveId: t.waveId, slot: 1, short: null });
  });

  it('pulls an intercepted order at pick start; a wave of intercepted orders only closes at once; cancel returns picked units', () => {
    const orders = [makePickOrder('O1', [[skuCode(0), 1]]), makePickOrder('O2', [[skuCode(1), 1]])];
    const t = started(orders);
    (t.byId.get('O1') as Order).flags.cancelled = true;
    const ev = t.start();
    expect(ev.filter((e) => e.type === PICK_EVENT.orderPulled).map((e) => e.data)).toEqual([
      { wave_id: t.waveId, order_id: 'O1', code: 'PKL_INTERCEPT_CANCELLED', returned: [] },
    ]);
    expect(confirmPick(t.state, t.waveId, { location: 'A01-01-1', item: skuCode(0), qty: 1, deviceId: 'pda-1' }, t.deps)).toMatchObject({
      ok: false,
      code: 'PKL_PICK_WRONG_LOCATION',
    });
    t.commit(confirmPick(t.state, t.waveId, { location: 'A01-02-1', item: skuCode(1), qty: 1, deviceId: 'pda-1' }, t.deps));
    expect(t.state.waves.get(t.waveId)?.state).toBe('closed');

    const u = started([makePickOrder('O1', [[skuCode(0), 1]])]);
    (u.byId.get('O1') as Order).flags.platformClosed = true;
    expect(u.start().map((e) => e.type)).toEqual([PICK_EVENT.pickStarted, PICK_EVENT.orderPulled, PICK_EVENT.waveClosed]);

    const v = started([makePickOrder('O1', [[skuCode(0), 3]])]);
    v.start();
    v.commit(confirmPick(v.state, v.waveId, { location: 'A01-01-1', item: skuCode(0), qty: 2, deviceId: 'pda-1' }, v.deps));
    expect(v.state.onHand('A01-01-1', skuCode(0))).toBe(8);
    v.commit(cancelWave(v.state, v.waveId, 'supervisor'));
    expect(v.state.onHand('A01-01-1', skuCode(0))).toBe(10);
    expect(cancelWave(v.state, v.waveId, 'again')).toMatchObject({ ok: false, code: 'PKL_WAVE_STATE' });
  });
});
