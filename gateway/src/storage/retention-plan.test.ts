import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type EventCandidate, type OrderCandidate, planPrune, type PruneInput, SETTLED_SHIPMENT_STATES } from './retention-plan.js';
import { SHIPMENT_STATES, type PrintJobState } from './types.js';

const DAY = 86_400_000;
const NOW = 1_800_000_000_000;
const WINDOWS = { ordersMs: 14 * DAY, eventsMs: 7 * DAY };
const JOB_STATES: PrintJobState[] = ['queued', 'sent', 'printing', 'printed', 'failed', 'cancelled'];

/** Ages around the windows' edges, so both sides of every cutoff are drawn often. */
const age = fc.oneof(fc.integer({ min: 0, max: 40 * DAY }), fc.constantFrom(7 * DAY - 1, 7 * DAY, 7 * DAY + 1, 14 * DAY - 1, 14 * DAY, 14 * DAY + 1));

const order = fc.record({
  flags: fc.record({ refundRequested: fc.boolean(), refunded: fc.boolean(), cancelled: fc.boolean(), platformClosed: fc.boolean(), shipped: fc.boolean() }),
  age,
  shipments: fc.array(fc.record({ state: fc.constantFrom(...SHIPMENT_STATES), age }), { maxLength: 3 }),
  jobStates: fc.array(fc.constantFrom(...JOB_STATES), { maxLength: 3 }),
  held: fc.boolean(),
  lastEventSeq: fc.option(fc.integer({ min: 1, max: 400 })),
});

const event = fc.record({
  age,
  subject: fc.constantFrom('shipment:S-1', 'shipment:S-2', 'order:O-1', 'station:st-1', 'line:l-1'),
  type: fc.constantFrom('shipment.shipped', 'station.operator_login', 'order.imported'),
  openSyncFailure: fc.boolean(),
  openShipment: fc.boolean(),
  latestOfSubjectType: fc.boolean(),
});

const input = fc
  .record({
    orders: fc.array(order, { maxLength: 12 }),
    prunedThrough: fc.integer({ min: 0, max: 200 }),
    events: fc.array(event, { maxLength: 30 }),
    keptBelow: fc.array(event, { maxLength: 5 }),
    ackedOffset: fc.integer({ min: -20, max: 40 }),
  })
  .map((g): PruneInput => {
    const orders: OrderCandidate[] = g.orders.map((o, i) => ({
      orderId: `O-${i}`,
      flags: o.flags,
      updatedAt: NOW - o.age,
      shipments: o.shipments.map((s, j) => ({ shipmentId: `S-${i}-${j}`, state: s.state, updatedAt: NOW - s.age })),
      jobStates: o.jobStates,
      held: o.held,
      lastEventSeq: o.lastEventSeq,
    }));
    const events: EventCandidate[] = g.events.map((e, i) => ({ ...e, seq: g.prunedThrough + 1 + i, wallMs: NOW - e.age }));
    // Kept events sit below the mark, at distinct seqs.
    const keptBelow: EventCandidate[] = g.keptBelow.map((e, i) => ({ ...e, seq: g.prunedThrough - 10 * i, wallMs: NOW - e.age })).filter((e) => e.seq > 0);
    return { now: NOW, windows: WINDOWS, ackedSeq: Math.max(0, g.prunedThrough + g.ackedOffset), prunedThrough: g.prunedThrough, orders, events, keptBelow };
  });

describe('planPrune (property)', () => {
  it('never prunes an open, held, in-progress, unacknowledged or recent order; prunes every other', () => {
    fc.assert(
      fc.property(input, (inp) => {
        const plan = planPrune(inp);
        const cutoff = NOW - WINDOWS.ordersMs;
        for (const o of inp.orders) {
          // A refund request alone does not close an order (the refund may be refused and the order ship).
          const f = o.flags;
          const closed = f.shipped || f.cancelled || f.refunded || f.platformClosed || o.shipments.some((s) => s.state === 'shipped');
          const may =
            closed &&
            !o.held &&
            o.shipments.every((s) => SETTLED_SHIPMENT_STATES.includes(s.state) && s.updatedAt <= cutoff) &&
            !o.jobStates.some((s) => s === 'queued' || s === 'sent' || s === 'printing') &&
            o.updatedAt <= cutoff &&
            (o.lastEventSeq === null || o.lastEventSeq <= inp.ackedSeq);
          expect(plan.orders.includes(o.orderId)).toBe(may);
        }
      }),
      { numRuns: 500 },
    );
  });

  it('prunes events as a prefix within the ack and the window, never one with a reason to stay', () => {
    fc.assert(
      fc.property(input, (inp) => {
        const plan = planPrune(inp);
        const cutoff = NOW - WINDOWS.eventsMs;
        // The mark moves forward only, never past the ack, and covers only old events.
        expect(plan.eventsThrough).toBeGreaterThanOrEqual(inp.prunedThrough);
        if (plan.eventsThrough > inp.prunedThrough) expect(plan.eventsThrough).toBeLessThanOrEqual(inp.ackedSeq);
        const covered = inp.events.filter((e) => e.seq <= plan.eventsThrough);
        expect(covered.length).toBe(plan.eventsThrough - inp.prunedThrough);
        for (const e of covered) expect(e.wallMs).toBeLessThanOrEqual(cutoff);
        // It stops exactly at the first event that is unacknowledged or recent.
        const next = inp.events.find((e) => e.seq === plan.eventsThrough + 1);
        if (next !== undefined) expect(next.seq > inp.ackedSeq || next.wallMs > cutoff).toBe(true);
        const all = new Map([...inp.events, ...inp.keptBelow].map((e) => [e.seq, e]));
        for (const seq of plan.deleteEvents) {
          const e = all.get(seq)!;
          expect(seq).toBeLessThanOrEqual(inp.ackedSeq);
          expect(seq).toBeLessThanOrEqual(plan.eventsThrough);
          expect(e.openSyncFailure).toBe(false);
          expect(e.openShipment).toBe(false);
          if (e.subject.startsWith('station:')) expect(e.latestOfSubjectType).toBe(false);
        }
        // Every covered event without a reason to stay goes.
        for (const e of covered) {
          const stays = e.openSyncFailure || e.openShipment || (e.subject.startsWith('station:') && e.latestOfSubjectType);
          expect(plan.deleteEvents.includes(e.seq)).toBe(!stays);
        }
      }),
      { numRuns: 500 },
    );
  });
});

describe('planPrune (examples)', () => {
  const closedOld = (over: Partial<OrderCandidate> = {}): OrderCandidate => ({
    orderId: 'O-1',
    flags: { refundRequested: false, refunded: false, cancelled: false, platformClosed: false, shipped: false },
    updatedAt: NOW - 20 * DAY,
    shipments: [{ shipmentId: 'S-1', state: 'shipped', updatedAt: NOW - 20 * DAY }],
    jobStates: ['printed'],
    held: false,
    lastEventSeq: 10,
    ...over,
  });
  const base = { now: NOW, windows: WINDOWS, ackedSeq: 10, prunedThrough: 0, events: [], keptBelow: [] };

  it('an intercepted shipment of a cancelled order is settled; an abandoned one alone does not close the order', () => {
    const cancelled = closedOld({
      flags: { refundRequested: false, refunded: false, cancelled: true, platformClosed: false, shipped: false },
      shipments: [{ shipmentId: 'S-1', state: 'intercepted', updatedAt: NOW - 20 * DAY }],
    });
    const abandonedOnly = closedOld({ orderId: 'O-2', shipments: [{ shipmentId: 'S-2', state: 'abandoned', updatedAt: NOW - 20 * DAY }] });
    expect(planPrune({ ...base, orders: [cancelled, abandonedOnly] }).orders).toEqual(['O-1']);
  });

  it('keeps an order whose last event is one past the ack', () => {
    expect(planPrune({ ...base, orders: [closedOld({ lastEventSeq: 11 })] }).orders).toEqual([]);
    expect(planPrune({ ...base, orders: [closedOld({ lastEventSeq: 10 })] }).orders).toEqual(['O-1']);
  });

  it('moves the mark past an event with an open sync failure but keeps it, and deletes it below the mark once resolved', () => {
    const ev = (seq: number, over: Partial<EventCandidate> = {}): EventCandidate => ({
      seq,
      wallMs: NOW - 8 * DAY,
      subject: 'shipment:S-1',
      type: 'shipment.shipped',
      openSyncFailure: false,
      openShipment: false,
      latestOfSubjectType: false,
      ...over,
    });
    const plan = planPrune({ ...base, orders: [], events: [ev(1), ev(2, { openSyncFailure: true }), ev(3), ev(4, { wallMs: NOW - DAY })] });
    expect(plan).toEqual({ orders: [], eventsThrough: 3, deleteEvents: [1, 3] });
    const later = planPrune({ ...base, prunedThrough: 3, orders: [], events: [], keptBelow: [ev(2)] });
    expect(later.deleteEvents).toEqual([2]);
  });

  it('never prunes an event of a type whose state is rebuilt from the log (picking, stock), however old', () => {
    const ev = (seq: number, type: string): EventCandidate => ({
      seq,
      wallMs: NOW - 300 * DAY,
      subject: `location:A-01-01-1`,
      type,
      openSyncFailure: false,
      openShipment: false,
      latestOfSubjectType: false,
    });
    const keepEventTypes = ['stock.set', 'pick.confirmed'];
    const events = [ev(1, 'stock.set'), ev(2, 'shipment.shipped'), ev(3, 'pick.confirmed')];
    const plan = planPrune({ ...base, ackedSeq: 3, orders: [], events, keepEventTypes });
    expect(plan).toEqual({ orders: [], eventsThrough: 3, deleteEvents: [2] });
    expect(planPrune({ ...base, ackedSeq: 3, prunedThrough: 3, orders: [], keptBelow: [events[0]!, events[2]!], keepEventTypes }).deleteEvents).toEqual([]);
  });
});
