import { describe, expect, it } from 'vitest';
import type { LineConfig } from '../../config/schema.js';
import type { OrderFlags } from '../domain.js';
import { decideDivert, initialLineState, type LineContext, type LineState, type ParcelInput } from './conveyor.js';
import { Bench, makeOrder, SHIPMENT_CONFIG, STATION, World } from './testing/world.js';

const LINE: LineConfig = {
  id: 'line-1',
  device: 'dws-1',
  chutes: { SF: 'C01', YTO: 'C02' },
  exceptionChute: 'EXC',
  defaultChute: 'DEFAULT',
  checkWeight: true,
};

class LineBench {
  state: LineState = initialLineState(LINE.id);
  at = 1_700_000_000_000;
  readonly ctx: LineContext;
  constructor(
    readonly world = new World(),
    readonly line: LineConfig = LINE,
  ) {
    this.ctx = {
      findOrderByBarcode: (c) => world.findOrderByBarcode(c),
      shipmentsForOrder: (id) => world.shipmentsForOrder(id),
      shipment: SHIPMENT_CONFIG,
      newId: world.newId,
    };
  }
  parcel(barcode: string | null, p: Partial<ParcelInput> = {}) {
    this.at = p.at ?? this.at + 500;
    const input: ParcelInput = { at: this.at, deviceId: 'dws-1', seq: null, barcode, grams: null, ...p };
    const d = decideDivert(this.state, input, this.line, this.ctx);
    this.world.apply(d.writes);
    this.state = d.state;
    return d;
  }
}

describe('DWS divert decision', () => {
  it('sends a direct shipment to its carrier chute and records it shipped', () => {
    const l = new LineBench();
    l.world.addOrder(makeOrder('O1'));
    const d = l.parcel('SFO1', { seq: 7, grams: 505 });
    expect(d).toMatchObject({ chute: 'C01', reason: 'carrier', code: null, duplicate: false });
    expect(d.command).toEqual({
      kind: 'divert',
      deviceId: 'dws-1',
      payload: { seq: 7, barcode: 'SFO1', chute: 'C01', reason: 'carrier' },
    });
    const [s] = l.world.shipmentsForOrder('O1');
    expect(s).toMatchObject({ stationId: 'line-1', state: 'shipped', actualGrams: 505, shippedAt: l.at });
    expect(l.world.eventTypes()).toEqual(['shipment.shipped', 'parcel.diverted']);
    expect(l.world.events[1]).toMatchObject({ subject: 'line:line-1', data: { seq: 7, chute: 'C01', order_id: 'O1' } });
  });

  it('no-read and unknown barcodes go to the default chute', () => {
    const l = new LineBench();
    const noRead = l.parcel(null, { seq: 1 });
    expect(noRead).toMatchObject({ chute: 'DEFAULT', reason: 'no_read' });
    expect(noRead.command.payload.barcode).toBeNull();
    expect(l.parcel('ZZZ', { seq: 2 })).toMatchObject({ chute: 'DEFAULT', reason: 'unknown' });
    expect(l.world.shipments.size).toBe(0);
    expect(l.world.eventTypes()).toEqual(['parcel.diverted', 'parcel.diverted']);
  });

  it('an unmapped carrier goes to the default chute', () => {
    const l = new LineBench();
    l.world.addOrder(makeOrder('O1', { carrier: 'ZTO' }));
    expect(l.parcel('SFO1')).toMatchObject({ chute: 'DEFAULT', reason: 'unknown' });
    expect(l.world.shipments.size).toBe(0);
  });

  it.each<[keyof OrderFlags, string]>([
    ['refundRequested', 'PKL_INTERCEPT_REFUND_REQUESTED'],
    ['refunded', 'PKL_INTERCEPT_REFUNDED'],
    ['cancelled', 'PKL_INTERCEPT_CANCELLED'],
    ['platformClosed', 'PKL_INTERCEPT_PLATFORM_CLOSED'],
    ['shipped', 'PKL_INTERCEPT_ALREADY_SHIPPED'],
  ])('an order flagged %s goes to the exception chute (%s)', (flag, code) => {
    const l = new LineBench();
    l.world.addOrder(makeOrder('O1', { flags: { ...makeOrder('x').flags, [flag]: true } }));
    const d = l.parcel('SFO1', { grams: 500 });
    expect(d).toMatchObject({ chute: 'EXC', reason: code, code });
    expect(l.world.shipmentsForOrder('O1')[0]).toMatchObject({ state: 'intercepted', reasonCode: code });
    expect(l.world.events[0]?.data).toMatchObject({ code, checkpoint: 'direct_shipment' });
  });

  it('flag rules follow the direct_shipment checkpoint setting', () => {
    const l = new LineBench();
    (l.ctx as { shipment: typeof SHIPMENT_CONFIG }).shipment = { ...SHIPMENT_CONFIG, checkpoints: ['packing'] };
    l.world.addOrder(makeOrder('O1', { flags: { ...makeOrder('x').flags, refunded: true } }));
    expect(l.parcel('SFO1').chute).toBe('C01');
  });

  it('checks the weight only when configured and present; the limit passes', () => {
    const l = new LineBench();
    l.world.addOrder(makeOrder('O1'));
    l.world.addOrder(makeOrder('O2'));
    l.world.addOrder(makeOrder('O3'));
    expect(l.parcel('SFO1', { grams: 551 })).toMatchObject({ chute: 'EXC', reason: 'PKL_WEIGHT_OUT_OF_TOLERANCE' });
    expect(l.world.shipmentsForOrder('O1')[0]).toMatchObject({ state: 'held', reasonCode: 'PKL_WEIGHT_OUT_OF_TOLERANCE' });
    expect(l.parcel('SFO2', { grams: 550 }).chute).toBe('C01');
    expect(l.parcel('SFO3').chute).toBe('C01'); // no grams in the telegram
    const off = new LineBench(new World(), { ...LINE, checkWeight: false });
    off.world.addOrder(makeOrder('O1'));
    expect(off.parcel('SFO1', { grams: 5000 }).chute).toBe('C01');
  });

  it('a direct shipment without a waybill goes to the exception chute', () => {
    const l = new LineBench();
    l.world.addOrder(makeOrder('O1', { waybill: null }));
    expect(l.parcel('PKO1')).toMatchObject({ chute: 'EXC', reason: 'PKL_AWAITING_WAYBILL' });
  });

  it('sorts a parcel labelled at a packing station without a second shipment', () => {
    const world = new World();
    world.addOrder(makeOrder('O1'));
    const st = new Bench(world, { station: { ...STATION, verifyItems: 'never' } });
    st.scan('PKO1');
    st.place(500);
    st.printed(st.jobId());
    const stationShipment = st.shipment.shipmentId;
    const l = new LineBench(world);
    const d = l.parcel('SFO1', { grams: 500 });
    expect(d).toMatchObject({ chute: 'C01', reason: 'carrier' });
    expect(world.shipments.size).toBe(1);
    expect(world.events.at(-1)?.data).toMatchObject({ shipment_id: stationShipment });
    // A refund that arrived after the label was printed still stops the parcel.
    world.patchOrder('O1', { flags: { ...makeOrder('x').flags, refundRequested: true } });
    expect(l.parcel('SFO1', { at: l.at + 60_000 }).chute).toBe('EXC');
  });

  it('a recirculated parcel is sorted again, not stopped as a duplicate shipment', () => {
    const l = new LineBench();
    l.world.addOrder(makeOrder('O1'));
    l.parcel('SFO1', { seq: 1 });
    const again = l.parcel('SFO1', { seq: 90, at: l.at + 60_000 });
    expect(again).toMatchObject({ chute: 'C01', reason: 'carrier', duplicate: false });
    expect(l.world.shipments.size).toBe(1);
  });

  it('repeats the same divert for a duplicate telegram and writes nothing', () => {
    const l = new LineBench();
    l.world.addOrder(makeOrder('O1', { flags: { ...makeOrder('x').flags, cancelled: true } }));
    l.world.addOrder(makeOrder('O2'));
    const first = l.parcel('SFO1', { seq: 5 });
    const bySeq = l.parcel('SFO1', { seq: 5 });
    expect(bySeq).toMatchObject({ duplicate: true, chute: 'EXC', reason: 'PKL_INTERCEPT_CANCELLED', writes: [] });
    expect(bySeq.command).toEqual(first.command);
    const byBarcode = l.parcel('SFO1', { seq: 6 });
    expect(byBarcode).toMatchObject({ duplicate: true, chute: 'EXC' });
    expect(l.parcel(null, { seq: 5 })).toMatchObject({ duplicate: true });
    // No-reads without seq are never duplicates of each other.
    expect(l.parcel(null).duplicate).toBe(false);
    expect(l.parcel(null).duplicate).toBe(false);
    // Outside the window the same seq is a new parcel.
    expect(l.parcel('SFO2', { seq: 5, at: l.at + 11_000 })).toMatchObject({ duplicate: false, chute: 'C01' });
    expect(l.world.shipmentsForOrder('O1')).toHaveLength(1);
  });
});
