import { Value } from '@sinclair/typebox/value';
import { describe, expect, it } from 'vitest';
import { StationView } from '../../../../contracts/payloads.js';
import { renderStationView } from './station-view.js';
import { Bench, line, makeOrder } from './testing/world.js';

describe('station view', () => {
  it('shows an idle station', () => {
    const b = new Bench();
    const v = renderStationView(b.state);
    expect(v).toMatchObject({ station_id: 'st-1', state: 'idle', shipment_id: null, lines: [], alert: null });
    expect(Value.Check(StationView, v)).toBe(true);
  });

  it('shows lines with scanned counts, live weight and the alert in both languages', () => {
    const b = new Bench();
    const order = b.world.addOrder(makeOrder('O1', { lines: [line('A', 2, 470, '690A'), line('B', 1, 200)] }));
    b.scan('PKO1');
    b.scan('690A');
    b.weigh(123, false);
    b.scan('BAD');
    const v = renderStationView(b.state, order);
    expect(Value.Check(StationView, v)).toBe(true);
    expect(v).toMatchObject({
      state: 'verifying',
      order_id: 'O1',
      expected_grams: 1170,
      weight: { grams: 123, stable: false },
      waybill: 'SFO1',
      carrier: 'SF',
      alert: { level: 'warn', code: 'PKL_ITEM_WRONG', message_zh: '商品错误：BAD 不属于订单 O1' },
      updated_at: b.clock,
    });
    expect(v.lines).toEqual([
      { sku: 'A', barcode: '690A', name: '商品A', qty: 2, scanned: 1 },
      { sku: 'B', barcode: '690B', name: '商品B', qty: 1, scanned: 0 },
    ]);
    // An order that is not the one on screen is ignored.
    expect(renderStationView(b.state, makeOrder('O2')).lines).toEqual([]);
  });

  it('after shipping, shows the weight the parcel shipped with, not the emptied scale', () => {
    const b = new Bench();
    const order = b.world.addOrder(makeOrder('O1', { lines: [line('A', 1, 470, '690A')] }));
    b.scan('PKO1');
    b.scan('690A');
    b.place(480);
    const job = b.jobId();
    b.printed(job);
    expect(b.shipment.state).toBe('shipped');
    b.weigh(0); // the parcel is lifted off
    const v = renderStationView(b.state, order);
    expect(v.state).toBe('shipped');
    expect(v.weight).toEqual({ grams: 480, stable: true });
  });
});
