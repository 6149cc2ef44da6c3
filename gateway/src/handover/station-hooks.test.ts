/**
 * The station's side of the courier overload plan and the power plan, on the pure state
 * machine: a held carrier's parcel is held at the label gate with PKL_CARRIER_HELD (no label,
 * no print command) and goes on to its label when the order is switched or the hold released;
 * during a UPS shutdown a new parcel is refused with PKL_SHUTTING_DOWN while the open one
 * finishes.
 */
import { describe, expect, it } from 'vitest';
import { SHIPMENT_CONFIG, STATION, Bench, makeOrder, World } from '../station/decide/testing/world.js';

describe('carrier hold at the label gate', () => {
  it('holds without a label, says why, and labels once the order moved to another carrier', () => {
    const held = new Set(['SF']);
    const b = new Bench(new World(), {
      station: { ...STATION, verifyItems: 'never' },
      shipment: SHIPMENT_CONFIG,
      carrierHold: (c) => (c !== null && held.has(c) ? { reason: 'depot full' } : null),
    });
    b.world.addOrder(makeOrder('O1'));
    b.scan('PKO1');
    const weighed = b.place(470 + 0);
    expect(b.shipment.state).toBe('held');
    expect(b.shipment.reasonCode).toBe('PKL_CARRIER_HELD');
    expect(weighed.reply).toMatchObject({ ok: false, code: 'PKL_CARRIER_HELD', details: { carrier: 'SF', reason: 'depot full' } });
    expect(b.prints()).toHaveLength(0);
    // Scanning the order again: still held, nothing written.
    const again = b.scan('PKO1');
    expect(again.writes).toEqual([]);
    expect(again.reply).toMatchObject({ ok: false, code: 'PKL_CARRIER_HELD' });
    // The switch: new carrier and waybill; the station re-runs the gate and labels.
    b.world.orders.set('O1', { ...b.world.orders.get('O1')!, carrier: 'ZTO', waybill: 'ZT000001', barcodes: ['PKO1', 'ZT000001'] });
    b.orderUpdated('O1');
    expect(b.shipment.state).toBe('labelling');
    expect(b.shipment.carrier).toBe('ZTO');
    expect(b.prints()).toHaveLength(1);
  });

  it('a release lets the held parcel go on with its own carrier', () => {
    const held = new Set(['SF']);
    const b = new Bench(new World(), {
      station: { ...STATION, verifyItems: 'never' },
      shipment: SHIPMENT_CONFIG,
      carrierHold: (c) => (c !== null && held.has(c) ? { reason: 'x' } : null),
    });
    b.world.addOrder(makeOrder('O2'));
    b.scan('PKO2');
    b.place(470);
    expect(b.shipment.reasonCode).toBe('PKL_CARRIER_HELD');
    held.clear();
    b.orderUpdated('O2');
    expect(b.shipment.state).toBe('labelling');
    expect(b.world.eventTypes()).toContain('shipment.released');
  });
});

describe('UPS shutdown at the station', () => {
  it('refuses a new parcel with PKL_SHUTTING_DOWN and lets the open one finish', () => {
    let closing = false;
    const b = new Bench(new World(), {
      station: { ...STATION, verifyItems: 'never' },
      shipment: SHIPMENT_CONFIG,
      newWorkRefusal: () => (closing ? { code: 'PKL_SHUTTING_DOWN', details: { reason: 'ups lowbatt' } } : null),
    });
    b.world.addOrder(makeOrder('O1'));
    b.world.addOrder(makeOrder('O2'));
    b.scan('PKO1');
    closing = true;
    b.place(470);
    expect(b.shipment.state).toBe('labelling');
    const job = b.jobId();
    const refused = b.scan('PKO2');
    expect(refused.reply).toMatchObject({ ok: false, code: 'PKL_SHUTTING_DOWN' });
    expect(refused.writes).toEqual([]);
    b.printed(job);
    expect(b.shipment.state).toBe('shipped');
    expect(b.shipment.orderId).toBe('O1');
  });
});
