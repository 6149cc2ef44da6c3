/**
 * The picking part of the inbound feed: `location.upsert` and `stock.set` changes become
 * picking events once (a redelivered count is skipped by its revision), and a count made as of
 * an earlier gateway seq gets the local picks recorded after it added on top.
 */
import { describe, expect, it } from 'vitest';
import type { Change } from '../../../contracts/sync.js';
import { type ChangeReads, planChanges } from '../sync/change-applier.js';
import { PICK_EVENT, type PickEvent, pickEvent, stockSubject } from './events.js';
import { PickingState } from './state.js';

const loc = { code: 'A01-01-1', zone: 'Z1', aisle: 1, bay: 1, level: 1, kind: 'pick' as const, capacity: 20, trigger: 5 };

function reads(last: Map<string, { revision: number }>): ChangeReads {
  return {
    getMeta: () => null,
    getOrder: () => null,
    latestShipmentForOrder: () => null,
    lastEvent: (subject: string, type: string) =>
      type === PICK_EVENT.stockSet && last.has(subject) ? { seq: 1, hlc: '0.0', boot: 1, clockUnsynced: false, type, subject, data: last.get(subject) } : null,
  };
}

describe('picking inbound feed', () => {
  it('turns locations and counts into events, once per revision', () => {
    const changes: Change[] = [
      { cursor: '1', kind: 'location.upsert', location: loc, at: 1 },
      { cursor: '2', kind: 'stock.set', location: loc.code, sku: 'SKU-1', qty: 12, revision: 2, as_of_seq: 0, at: 1 },
      { cursor: '3', kind: 'stock.set', location: loc.code, sku: 'SKU-1', qty: 11, revision: 2, as_of_seq: 0, at: 1 },
    ];
    const plan = planChanges(reads(new Map()), changes, 0);
    expect(plan.applied).toBe(2);
    expect(plan.skipped).toBe(1);
    expect(plan.ops.map((o) => (o.op === 'event' ? o.type : o.op))).toEqual([PICK_EVENT.locationUpserted, PICK_EVENT.stockSet]);
    // The page again, after it was applied: nothing new.
    const again = planChanges(reads(new Map([[stockSubject(loc.code, 'SKU-1'), { revision: 2 }]])), changes.slice(1), 0);
    expect(again.ops).toEqual([]);
    expect(again.skipped).toBe(2);
  });

  it('adds the local moves recorded after the count to it', () => {
    const s = new PickingState();
    const ev = (e: PickEvent, seq: number) => s.apply(e, seq);
    ev(pickEvent(PICK_EVENT.locationUpserted, 'location:A', { ...loc, walk_seq: null }), 1);
    ev(pickEvent(PICK_EVENT.stockSet, 'stock:A', { location: loc.code, sku: 'SKU-1', qty: 20, revision: 1, as_of_seq: 0 }), 2);
    ev(pickEvent(PICK_EVENT.pickConfirmed, 'wave:W', { wave_id: 'W', line_no: 1, location: loc.code, sku: 'SKU-1', qty: 3, device_id: null }), 3);
    ev(pickEvent(PICK_EVENT.pickConfirmed, 'wave:W', { wave_id: 'W', line_no: 1, location: loc.code, sku: 'SKU-1', qty: 2, device_id: null }), 4);
    expect(s.onHand(loc.code, 'SKU-1')).toBe(15);
    // The cloud counted 17 having seen events up to seq 3 (the first pick): the second pick is added.
    ev(pickEvent(PICK_EVENT.stockSet, 'stock:A', { location: loc.code, sku: 'SKU-1', qty: 17, revision: 2, as_of_seq: 3 }), 5);
    expect(s.onHand(loc.code, 'SKU-1')).toBe(15);
    // A count as of everything replaces the figure.
    ev(pickEvent(PICK_EVENT.stockSet, 'stock:A', { location: loc.code, sku: 'SKU-1', qty: 9, revision: 3, as_of_seq: 5 }), 6);
    expect(s.onHand(loc.code, 'SKU-1')).toBe(9);
  });
});
