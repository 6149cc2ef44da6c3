import { describe, expect, it } from 'vitest';
import { anOrder, aShipment } from '../storage/test-fixtures.js';
import { decideCloudSwitch, decideHold, decidePulled, decideRelease, decideSwitch, emptyHoldState, foldHoldEvent, type HoldState } from './carrier-holds.js';
import { checkConsumables, foldRollEvent, type RollCount, rollStatus } from './consumables.js';
import { parseUpsEvent, startsShutdown } from './power.js';

function held(): HoldState {
  const st = emptyHoldState();
  const d = decideHold(st, { carrier: 'ZTO', reason: 'depot full', by: 'lee', at: 1 });
  if (d.ok) st.holds.set('ZTO', d.value);
  return st;
}

/** Applies a decision's events to the state the way a restart would (the fold). */
function replay(st: HoldState, writes: readonly { op: string }[]): void {
  for (const w of writes) if (w.op === 'event') foldHoldEvent(st, { ...(w as unknown as { type: string; data: Record<string, unknown> }), at: 5 });
}

describe('carrier holds and switches', () => {
  const base = { shipments: [], to: 'SF', by: 'lee', at: 2, pool: ['SF01', 'SF02'], handedOver: null };

  it('holding twice writes once; releasing a carrier not held is refused', () => {
    const st = held();
    expect(decideHold(st, { carrier: 'ZTO', reason: 'again', by: 'x', at: 2 })).toMatchObject({ ok: true, writes: [] });
    expect(decideRelease(st, { carrier: 'YTO', by: 'x' })).toMatchObject({ ok: false, code: 'PKL_CARRIER_NOT_HELD' });
  });

  it('switches to the next unused pool number, once per switch id, and recalls a printed label', () => {
    const st = held();
    const order = anOrder({ orderId: 'O-1', carrier: 'ZTO', waybill: 'ZT1', barcodes: ['TB1', 'ZT1'] });
    const printed = [aShipment({ orderId: 'O-1', state: 'shipped', waybill: 'ZT1', carrier: 'ZTO', labelJobId: 'J-1' })];
    const d = decideSwitch(st, { ...base, order, shipments: printed, switchId: 'r1:O-1' });
    expect(d.ok).toBe(true);
    if (!d.ok) return;
    expect(d.value).toMatchObject({ oldWaybill: 'ZT1', newWaybill: 'SF01', recalled: true, duplicate: false });
    expect(d.writes[0]).toMatchObject({ op: 'order.put', order: { carrier: 'SF', waybill: 'SF01', barcodes: ['TB1', 'SF01'] } });
    replay(st, d.writes);
    expect([...st.recalls.keys()]).toEqual(['ZT1']);
    expect(decideSwitch(st, { ...base, order, shipments: printed, switchId: 'r1:O-1' })).toMatchObject({ ok: true, writes: [], value: { duplicate: true } });
    const other = anOrder({ orderId: 'O-2', carrier: 'ZTO', waybill: 'ZT2' });
    expect(decideSwitch(st, { ...base, order: other, switchId: 'r1:O-2' })).toMatchObject({ ok: true, value: { newWaybill: 'SF02', recalled: false } });
    const pulled = decidePulled(st, { waybill: 'ZT1', by: 'pda', at: 9 });
    expect(pulled).toMatchObject({ ok: true, value: { pulledAt: 9 } });
    if (pulled.ok) replay(st, pulled.writes);
    expect(st.recalls.get('ZT1')?.pulledAt).toBe(5);
  });

  it('records a held order the cloud moved to another carrier as a switch from the cloud, once per revision', () => {
    const st = held();
    const moved = anOrder({ orderId: 'O-7', carrier: 'YTO', waybill: 'YT77', revision: 4 });
    const d = decideCloudSwitch(st, { order: moved, heldFrom: 'ZTO', by: 'cloud' });
    expect(d).toMatchObject({ ok: true, value: { switchId: 'cloud:O-7:4', toCarrier: 'YTO', newWaybill: 'YT77' } });
    expect(d?.ok && d.writes[0]).toMatchObject({
      type: 'order.carrier_switched',
      data: { source: 'cloud', from_carrier: 'ZTO', to_carrier: 'YTO', old_waybill: null },
    });
    if (d?.ok) replay(st, d.writes);
    expect(decideCloudSwitch(st, { order: moved, heldFrom: 'ZTO', by: 'cloud' })).toBeNull();
    // Not a move: the same carrier, another held carrier, or a pool number this gateway gave.
    expect(decideCloudSwitch(st, { order: anOrder({ carrier: 'ZTO' }), heldFrom: 'ZTO', by: 'cloud' })).toBeNull();
    st.holds.set('YTO', { carrier: 'YTO', reason: '', by: '', at: 0 });
    expect(decideCloudSwitch(st, { order: anOrder({ carrier: 'YTO', waybill: 'YT1', revision: 9 }), heldFrom: 'ZTO', by: 'cloud' })).toBeNull();
    expect(decideCloudSwitch(st, { order: anOrder({ carrier: 'SF', waybill: 'YT77', revision: 9 }), heldFrom: 'ZTO', by: 'cloud' })).toBeNull();
  });

  it('refuses an order of a carrier not held, a parcel handed over, and an empty pool', () => {
    const st = held();
    expect(decideSwitch(st, { ...base, order: anOrder({ carrier: 'YTO' }), switchId: 'a' })).toMatchObject({ ok: false, code: 'PKL_CARRIER_NOT_HELD' });
    expect(decideSwitch(st, { ...base, order: anOrder({ carrier: 'ZTO' }), switchId: 'b', handedOver: 'M-1' })).toMatchObject({
      ok: false,
      code: 'PKL_HANDOVER_ALREADY',
    });
    st.usedWaybills.add('SF01').add('SF02');
    expect(decideSwitch(st, { ...base, order: anOrder({ carrier: 'ZTO' }), switchId: 'c' })).toMatchObject({
      ok: false,
      code: 'PKL_SWITCH_NO_WAYBILL',
      details: { carrier: 'SF' },
    });
  });
});

describe('label rolls', () => {
  it('counts labels per printer since its roll change and warns before the roll runs out', () => {
    const counts = new Map<string, RollCount>();
    const ev = (type: string, printer: string) => ({ type, subject: `shipment:S`, data: { printer_id: printer }, at: 1 });
    for (let i = 0; i < 5; i++) foldRollEvent(counts, ev('shipment.label_queued', 'p1'));
    foldRollEvent(counts, ev('shipment.reprinted', 'p1'));
    foldRollEvent(counts, ev('shipment.label_queued', 'p2'));
    foldRollEvent(counts, { type: 'printer.roll_changed', subject: 'device:p2', data: {}, at: 2 });
    expect(counts.get('p1')?.printed).toBe(6);
    expect(counts.get('p2')).toEqual({ printerId: 'p2', printed: 0, changedAt: 2 });
    const p1 = rollStatus(counts.get('p1')!, 60, 10);
    expect(p1).toMatchObject({ left: 54, level: 'ok' });
    expect(rollStatus(counts.get('p1')!, 7, 20).level).toBe('low');
    expect(rollStatus(counts.get('p1')!, 6, 10).level).toBe('out');
    expect(checkConsumables([rollStatus(counts.get('p1')!, 6, 10)]).status).toBe('fail');
    expect(checkConsumables([rollStatus(counts.get('p1')!, 12, 60)]).status).toBe('warn');
    expect(checkConsumables([p1]).status).toBe('pass');
    expect(checkConsumables([rollStatus(counts.get('p1')!, null, 10)]).status).toBe('pass');
  });
});

describe('UPS events', () => {
  it('reads NUT NOTIFYTYPEs and GPIO levels; garbage is no event', () => {
    expect(['ONBATT', 'lowbatt\n', 'ONLINE', 'FSD', '1', '0', 'COMMBAD', ''].map(parseUpsEvent)).toEqual([
      'onbatt',
      'lowbatt',
      'online',
      'fsd',
      'onbatt',
      'online',
      null,
      null,
    ]);
    expect(startsShutdown('onbatt', 'lowbatt')).toBe(false);
    expect(startsShutdown('onbatt', 'onbatt')).toBe(true);
    expect(startsShutdown('lowbatt', 'lowbatt')).toBe(true);
    expect(startsShutdown('fsd', 'lowbatt')).toBe(true);
    expect(startsShutdown('online', 'onbatt')).toBe(false);
  });
});
