/**
 * Packing respects picking (StationContext.pickingState): an order still being picked, or held
 * short, is refused at the scan and changes nothing; a picked order, one a supervisor released
 * short, and one never in a wave open as before.
 */
import { describe, expect, it } from 'vitest';
import type { OrderPicking } from '../types.js';
import { Bench, makeOrder, STATION, World } from './testing/world.js';

function bench(picking: Record<string, OrderPicking>) {
  const b = new Bench(new World(), { station: { ...STATION, verifyItems: 'never' }, pickingState: (id) => picking[id] ?? null });
  b.world.addOrder(makeOrder('O1'));
  b.world.addOrder(makeOrder('O2'));
  return b;
}

const at = (state: OrderPicking['state'], short: OrderPicking['short'] = null): OrderPicking => ({ state, waveId: 'W1', slot: 3, short });

describe('packing station: picking gate at the order scan', () => {
  it('an order still being picked is refused with its wave and slot; nothing is written', () => {
    const b = bench({ O1: at('picking') });
    const step = b.scan('PKO1');
    expect(step.reply).toEqual({ ok: false, code: 'PKL_ORDER_NOT_PICKED', details: { orderId: 'O1', waveId: 'W1', slot: 3, reason: 'picking' } });
    expect(step.writes).toEqual([]);
    expect(b.state.shipment).toBeNull();
    expect(step.alert?.message).toBe('Order O1 is not picked yet: wave W1, slot 3 (picking)');
  });

  it('an order held short is refused with the short pick code, naming the line', () => {
    const b = bench({ O1: at('short', { sku: 'A', location: 'A-01-02-1' }) });
    expect(b.scan('PKO1').reply).toEqual({ ok: false, code: 'PKL_PICK_SHORT', details: { orderId: 'O1', sku: 'A', location: 'A-01-02-1' } });
    expect(b.state.shipment).toBeNull();
  });

  it('an order short whose line is no longer listed is refused as not picked, reason short', () => {
    const b = bench({ O1: at('short') });
    expect(b.scan('PKO1').reply).toMatchObject({ ok: false, code: 'PKL_ORDER_NOT_PICKED', details: { reason: 'short', waveId: 'W1' } });
  });

  it.each(['picked', 'released_short'] as const)('a %s order opens as before', (state) => {
    const b = bench({ O1: at(state) });
    expect(b.scan('PKO1').reply).toEqual({ ok: true });
    expect(b.state.shipment?.state).toBe('weighing');
  });

  it('an order never in a wave opens as before', () => {
    const b = bench({ O1: at('picking') });
    expect(b.scan('PKO2').reply).toEqual({ ok: true });
    expect(b.state.shipment?.orderId).toBe('O2');
  });

  it('a refused scan leaves the parcel on screen open', () => {
    const b = bench({ O1: at('picking') });
    b.scan('PKO2');
    const open = b.state.shipment;
    expect(b.scan('PKO1').reply).toMatchObject({ code: 'PKL_ORDER_NOT_PICKED' });
    expect(b.state.shipment).toEqual(open);
  });

  it('interception goes first: a cancelled order in a wave is recorded intercepted', () => {
    const b = bench({ O1: at('picking') });
    b.world.addOrder(makeOrder('O1', { flags: { refundRequested: false, refunded: false, cancelled: true, platformClosed: false, shipped: false } }));
    b.scan('PKO1');
    expect(b.state.shipment?.state).toBe('intercepted');
  });
});
