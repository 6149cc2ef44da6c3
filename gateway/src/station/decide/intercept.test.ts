import { describe, expect, it } from 'vitest';
import type { Shipment } from '../domain.js';
import { checkInterception, checkOrderFlags, isDispatched } from './intercept.js';
import { makeOrder } from './testing/world.js';

const ship = (id: string, state: Shipment['state'], reasonCode: string | null = null): Shipment => ({
  shipmentId: id,
  orderId: 'O1',
  stationId: 'st-1',
  state,
  reasonCode,
  scanned: {},
  expectedGrams: null,
  actualGrams: null,
  carrier: null,
  waybill: null,
  labelJobId: null,
  operator: null,
  openedAt: 0,
  updatedAt: 0,
  shippedAt: null,
});

describe('interception check', () => {
  const all = { ...makeOrder('x').flags };

  it('runs flag rules only at enabled checkpoints, for PDA pick start too', () => {
    const o = makeOrder('O1', { flags: { ...all, refundRequested: true } });
    expect(checkOrderFlags(o, 'pick_start', ['pick_start'])).toEqual({
      code: 'PKL_INTERCEPT_REFUND_REQUESTED',
      checkpoint: 'pick_start',
    });
    expect(checkOrderFlags(o, 'pick_start', ['packing'])).toBeNull();
    expect(checkOrderFlags(o, ['packing', 'inspection'], ['inspection'])?.checkpoint).toBe('inspection');
  });

  it('reports the most final flag first', () => {
    const o = makeOrder('O1', { flags: { ...all, refundRequested: true, refunded: true, cancelled: true } });
    expect(checkOrderFlags(o, 'weighing', ['weighing'])?.code).toBe('PKL_INTERCEPT_REFUNDED');
  });

  it('the duplicate guard runs even where no checkpoint is enabled', () => {
    const o = makeOrder('O1');
    const r = checkInterception(o, { checkpoint: 'packing', enabled: [], shipments: [ship('S-1', 'shipped')] });
    expect(r).toEqual({ code: 'PKL_INTERCEPT_ALREADY_SHIPPED', checkpoint: 'packing', previousShipmentId: 'S-1' });
    expect(checkInterception(o, { checkpoint: 'packing', enabled: [], shipments: [ship('S-1', 'labelling')], selfShipmentId: 'S-1' })).toBeNull();
  });

  it.each([
    ['shipped', null, true],
    ['printed', null, true],
    ['labelling', null, true],
    ['labelling', 'PKL_PRINT_FAILED', false],
    ['intercepted', 'PKL_INTERCEPT_ALREADY_SHIPPED', false],
    ['abandoned', 'PKL_SHIPMENT_ABANDONED', false],
    ['held', 'PKL_AWAITING_WAYBILL', false],
    ['verifying', null, false],
  ] as const)('a %s shipment (%s) counts as dispatched: %s', (state, reason, yes) => {
    expect(isDispatched(ship('S', state, reason))).toBe(yes);
  });
});
