/**
 * Read models of the picking state for the HTTP API, the PDA task offer and the dashboard, in
 * wire form (snake_case). Pure.
 */
import type { Refusal } from '../../../contracts/errors.js';
import { coverage, demanded, orderPicked, type PickingState, remaining, type Wave } from './state.js';

export interface WaveLineView {
  line_no: number;
  location: string;
  sku: string;
  barcodes: string[];
  qty: number;
  picked: number;
  short: boolean;
  orders: Array<{ order_id: string; qty: number; picked: number }>;
}

export interface WaveView {
  wave_id: string;
  mode: 'wave' | 'order';
  state: Wave['state'];
  device_id: string | null;
  operator: string | null;
  orders: Array<{ order_id: string; slot: number; state: 'picking' | 'picked' | 'short' | 'released_short' | 'pulled'; code: string | null }>;
  lines: WaveLineView[];
  units: number;
  picked_units: number;
  lines_done: number;
}

export function waveView(state: PickingState, w: Wave): WaveView {
  const lines = w.lines.map((l) => {
    const cov = coverage(l);
    return {
      line_no: l.lineNo,
      location: l.location,
      sku: l.sku,
      barcodes: w.barcodes.get(l.sku) ?? [],
      qty: demanded(l),
      picked: l.picked,
      short: l.short !== null,
      orders: l.demands.map(([o, q]) => ({ order_id: o, qty: q, picked: cov.get(o) ?? 0 })),
    };
  });
  return {
    wave_id: w.waveId,
    mode: w.mode,
    state: w.state,
    device_id: w.device,
    operator: w.operator,
    orders: w.orders.map((o, i) => {
      const pulled = w.pulled.get(o);
      const hold = state.shortHolds.get(o);
      const st =
        pulled !== undefined
          ? 'pulled'
          : hold === 'held' || hold === 'cancelled'
            ? 'short'
            : hold === 'released'
              ? 'released_short'
              : orderPicked(w, o)
                ? 'picked'
                : 'picking';
      return { order_id: o, slot: i + 1, state: st, code: pulled ?? (hold === 'held' ? 'PKL_PICK_SHORT' : null) };
    }),
    lines,
    units: lines.reduce((s, l) => s + l.qty, 0),
    picked_units: lines.reduce((s, l) => s + l.picked, 0),
    lines_done: w.lines.filter((l) => remaining(l) === 0).length,
  };
}

export interface LocationStockView {
  location: string;
  zone: string;
  aisle: number;
  bay: number;
  level: number;
  kind: 'pick' | 'reserve';
  capacity: number | null;
  trigger: number | null;
  stock: Array<{ sku: string; qty: number; reserved: number }>;
}

/** Stock at one location: on hand and promised to open waves. */
export function locationStock(state: PickingState, code: string): LocationStockView | Refusal {
  const loc = state.locations.get(code);
  if (loc === undefined) return { ok: false, code: 'PKL_LOCATION_UNKNOWN', details: { location: code } };
  const skus = state.stock.get(code) ?? new Map<string, number>();
  return {
    location: loc.code,
    zone: loc.zone,
    aisle: loc.aisle,
    bay: loc.bay,
    level: loc.level,
    kind: loc.kind,
    capacity: loc.capacity,
    trigger: loc.trigger,
    stock: [...skus].map(([sku, qty]) => ({ sku, qty, reserved: state.reserved(code, sku) })).sort((a, b) => (a.sku < b.sku ? -1 : 1)),
  };
}

export function replenishmentViews(state: PickingState) {
  return [...state.replenishments.values()].map((r) => ({
    request_id: r.requestId,
    location: r.location,
    sku: r.sku,
    qty: r.qty,
    state: r.state,
    from: r.from,
    device_id: r.device,
    moved: r.moved,
    on_hand: state.onHand(r.location, r.sku),
  }));
}

export function shortViews(state: PickingState) {
  const out: Array<{
    order_id: string;
    state: string;
    wave_id: string | null;
    lines: Array<{ location: string; sku: string; missing: number; reason: string }>;
  }> = [];
  for (const [orderId, hold] of state.shortHolds) {
    const waveId = state.orderWave.get(orderId) ?? null;
    const w = waveId === null ? undefined : state.waves.get(waveId);
    const lines = (w?.lines ?? [])
      .filter((l) => l.short !== null && l.demands.some(([o]) => o === orderId))
      .map((l) => {
        const want = l.demands.filter(([o]) => o === orderId).reduce((s, [, q]) => s + q, 0);
        return { location: l.location, sku: l.sku, missing: want - (coverage(l).get(orderId) ?? 0), reason: l.short?.reason ?? '' };
      });
    out.push({ order_id: orderId, state: hold, wave_id: waveId, lines });
  }
  return out;
}

/** Confirmed lines and units per picker, with a rate over their active span (the dashboard). */
export function pickerRates(state: PickingState) {
  return [...state.pickerLines].map(([device, p]) => {
    const hours = p.firstAt !== null && p.lastAt !== null && p.lastAt > p.firstAt ? (p.lastAt - p.firstAt) / 3_600_000 : null;
    return { device_id: device, lines: p.lines, units: p.units, lines_per_hour: hours === null ? null : Math.round(p.lines / hours) };
  });
}
