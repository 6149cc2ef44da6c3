/**
 * Where one order stands in picking, for the packing station (StationContext.pickingState):
 * the same reading as the wave view's order states (views.ts), for one order. Pure.
 */
import { orderPicked, ordersShortOn, type PickingState, type Wave } from './state.js';

export interface OrderPickingView {
  state: 'picking' | 'short' | 'picked' | 'released_short';
  waveId: string;
  slot: number;
  /** The line reported short that holds the order, when the wave still lists its demand. */
  short: { sku: string; location: string } | null;
}

export function orderPicking(state: PickingState, orderId: string): OrderPickingView | null {
  const hold = state.shortHolds.get(orderId);
  const waveId = state.orderWave.get(orderId);
  let w: Wave | undefined = waveId === undefined ? undefined : state.waves.get(waveId);
  if (w === undefined) {
    // Cancelled short: the supervisor's cancel pulls the order from its wave, and it stays unpacked.
    if (hold !== 'cancelled') return null;
    w = [...state.waves.values()].find((x) => x.pulled.has(orderId));
    if (w === undefined) return null;
  }
  const slot = w.orders.indexOf(orderId) + 1;
  if (hold === 'held' || hold === 'cancelled') {
    const line = w.lines.find((l) => l.short !== null && ordersShortOn(l).includes(orderId));
    return { state: 'short', waveId: w.waveId, slot, short: line === undefined ? null : { sku: line.sku, location: line.location } };
  }
  if (hold === 'released') return { state: 'released_short', waveId: w.waveId, slot, short: null };
  return { state: orderPicked(w, orderId) ? 'picked' : 'picking', waveId: w.waveId, slot, short: null };
}
