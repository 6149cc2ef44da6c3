/**
 * Builds waves (波次) from pending orders by the site's rules, and one-order pick lists
 * ((PDA)按单配货) the same way. Pure: reads the picking state and the orders handed in, returns
 * the `wave.built` events to commit and the orders left out with the coded reason.
 *
 * Rules: orders are taken earliest ship-by first (the carrier cut-off drives the floor), grouped
 * by carrier and/or shop when asked, optionally only those due by a cut-off time and only those
 * whose every line can be picked in one zone; a wave closes when the next order would pass the
 * limit in orders, lines or units. Every line is allocated to pick faces against stock not yet
 * promised to an open wave, so two waves never count on the same unit; an order that cannot be
 * allocated whole waits. Units are summed per SKU and location and the lines put in pick-path
 * order (layout.ts).
 */
import type { ErrorCode } from '../../../contracts/errors.js';
import type { Order } from '../station/domain.js';
import type { Demand, PickEvent, WaveLineWire } from './events.js';
import { PICK_EVENT, pickEvent } from './events.js';
import { DEFAULT_GEOMETRY, type Geometry, type Location, pickPathOrder, walkLength } from './layout.js';
import { type PickingState, stockKey } from './state.js';

export interface WaveRules {
  /** Orders of one wave share these attributes. */
  groupBy: ReadonlyArray<'carrier' | 'shop'>;
  /** Only orders due (ship-by) at or before this time, epoch ms; null: any. */
  cutoff: number | null;
  /** Only these carriers / shops; empty: any. */
  carriers: readonly string[];
  shops: readonly string[];
  maxOrders: number;
  maxLines: number;
  maxUnits: number;
  /** Only orders whose every line is picked in this zone; null: any zone. */
  zone: string | null;
  /** At most this many waves per build. */
  maxWaves: number;
}

export const DEFAULT_WAVE_RULES: WaveRules = {
  groupBy: ['carrier'],
  cutoff: null,
  carriers: [],
  shops: [],
  maxOrders: 50,
  maxLines: 400,
  maxUnits: 1000,
  zone: null,
  maxWaves: 1,
};

/** Why an order is not in a wave (intercepted at pick start, no stock, already waved, too big). */
export interface LeftOut {
  orderId: string;
  code: ErrorCode;
  sku?: string;
}

export interface WavePlan {
  waveId: string;
  mode: 'wave' | 'order';
  orders: string[];
  lines: WaveLineWire[];
  barcodes: Record<string, string[]>;
  units: number;
  /** Metres of the pick path (S-shape or walk sequence) through the wave's locations. */
  walkM: number;
}

export interface BuildResult {
  waves: WavePlan[];
  leftOut: LeftOut[];
  events: PickEvent[];
}

export interface BuildInput {
  state: PickingState;
  /** Pending orders (the caller leaves out orders already shipped or in a shipment). */
  orders: readonly Order[];
  rules: WaveRules;
  /** The interception check at pick start (station/decide/intercept.ts); null: none applies. */
  intercept: (order: Order) => ErrorCode | null;
  newWaveId: () => string;
  mode?: 'wave' | 'order';
  geometry?: Geometry;
}

/** SKU → pick faces holding it, most available first per call (built once per build). */
function facesBySku(state: PickingState): Map<string, Location[]> {
  const out = new Map<string, Location[]>();
  for (const [code, skus] of state.stock) {
    const loc = state.locations.get(code);
    if (loc === undefined || loc.kind !== 'pick') continue;
    for (const [sku, qty] of skus) {
      if (qty <= 0) continue;
      const list = out.get(sku) ?? [];
      list.push(loc);
      out.set(sku, list);
    }
  }
  return out;
}

interface Allocation {
  location: string;
  sku: string;
  qty: number;
}

function groupKey(o: Order, rules: WaveRules): string {
  return rules.groupBy.map((g) => (g === 'carrier' ? (o.carrier ?? '') : o.shop)).join('\u0000');
}

function lineCount(a: Allocation[]): number {
  return a.length;
}

export function buildWaves(input: BuildInput): BuildResult {
  const { state, rules } = input;
  const mode = input.mode ?? 'wave';
  const g = input.geometry ?? DEFAULT_GEOMETRY;
  const faces = facesBySku(state);
  const reserved = state.reservedAll();
  const available = (loc: string, sku: string) => state.onHand(loc, sku) - (reserved.get(stockKey(loc, sku)) ?? 0);
  const promise = (loc: string, sku: string, q: number) => {
    const k = stockKey(loc, sku);
    reserved.set(k, (reserved.get(k) ?? 0) + q);
  };
  const leftOut: LeftOut[] = [];

  const due = input.orders.filter((o) => {
    const inWave = state.orderWave.get(o.orderId);
    if (inWave !== undefined) {
      if (mode === 'order') leftOut.push({ orderId: o.orderId, code: 'PKL_PICK_ORDER_BUSY' });
      return false;
    }
    if (state.flagged.has(o.orderId)) return false;
    if (rules.cutoff !== null && (o.shipBy === null || o.shipBy > rules.cutoff)) return false;
    if (rules.carriers.length > 0 && !rules.carriers.includes(o.carrier ?? '')) return false;
    if (rules.shops.length > 0 && !rules.shops.includes(o.shop)) return false;
    // Pick start (开始配货) is an interception checkpoint: an intercepted order is never released to picking.
    const code = input.intercept(o);
    if (code !== null) {
      leftOut.push({ orderId: o.orderId, code });
      return false;
    }
    return true;
  });
  due.sort(
    (a, b) => (a.shipBy ?? Number.MAX_SAFE_INTEGER) - (b.shipBy ?? Number.MAX_SAFE_INTEGER) || (a.orderId < b.orderId ? -1 : a.orderId > b.orderId ? 1 : 0),
  );

  // Groups in order of their most urgent order.
  const groups = new Map<string, Order[]>();
  for (const o of due) {
    const k = groupKey(o, rules);
    const list = groups.get(k) ?? [];
    list.push(o);
    groups.set(k, list);
  }

  /** Allocates an order whole to faces, or says which SKU is missing; commits nothing on failure. */
  const allocate = (o: Order): { ok: true; allocs: Allocation[] } | { ok: false; sku: string } => {
    const allocs: Allocation[] = [];
    const taken = new Map<string, number>();
    for (const line of o.lines) {
      let need = line.qty;
      const candidates = (faces.get(line.sku) ?? []).filter((l) => rules.zone === null || l.zone === rules.zone);
      const avail = candidates
        .map((l) => ({ loc: l.code, free: available(l.code, line.sku) - (taken.get(stockKey(l.code, line.sku)) ?? 0) }))
        .filter((c) => c.free > 0)
        .sort((a, b) => b.free - a.free || (a.loc < b.loc ? -1 : 1));
      for (const c of avail) {
        if (need === 0) break;
        const q = Math.min(need, c.free);
        allocs.push({ location: c.loc, sku: line.sku, qty: q });
        taken.set(stockKey(c.loc, line.sku), (taken.get(stockKey(c.loc, line.sku)) ?? 0) + q);
        need -= q;
      }
      if (need > 0) return { ok: false, sku: line.sku };
    }
    return { ok: true, allocs };
  };

  const waves: WavePlan[] = [];
  const events: PickEvent[] = [];
  const maxOrders = mode === 'order' ? 1 : rules.maxOrders;

  interface Open {
    orders: Order[];
    allocs: Map<string, Allocation[]>;
    lines: Set<string>;
    units: number;
  }
  const close = (w: Open) => {
    if (w.orders.length === 0) return;
    const plan = toPlan(w.orders, w.allocs, mode, input.newWaveId(), state, g);
    waves.push(plan);
    events.push(
      pickEvent(PICK_EVENT.waveBuilt, `wave:${plan.waveId}`, { wave_id: plan.waveId, mode, orders: plan.orders, lines: plan.lines, barcodes: plan.barcodes }),
    );
  };

  outer: for (const list of groups.values()) {
    let w: Open = { orders: [], allocs: new Map(), lines: new Set(), units: 0 };
    for (const o of list) {
      if (waves.length >= rules.maxWaves) break outer;
      const a = allocate(o);
      if (!a.ok) {
        leftOut.push({ orderId: o.orderId, code: 'PKL_PICK_NO_STOCK', sku: a.sku });
        continue;
      }
      const units = a.allocs.reduce((s, x) => s + x.qty, 0);
      const newLines = new Set(a.allocs.map((x) => stockKey(x.location, x.sku)).filter((k) => !w.lines.has(k)));
      if (lineCount(a.allocs) > rules.maxLines || units > rules.maxUnits) {
        leftOut.push({ orderId: o.orderId, code: 'PKL_WAVE_ORDER_TOO_BIG' });
        continue;
      }
      if (w.orders.length >= maxOrders || w.lines.size + newLines.size > rules.maxLines || w.units + units > rules.maxUnits) {
        close(w);
        w = { orders: [], allocs: new Map(), lines: new Set(), units: 0 };
        if (waves.length >= rules.maxWaves) break outer;
      }
      for (const x of a.allocs) promise(x.location, x.sku, x.qty);
      w.orders.push(o);
      w.allocs.set(o.orderId, a.allocs);
      for (const x of a.allocs) w.lines.add(stockKey(x.location, x.sku));
      w.units += units;
    }
    if (waves.length < rules.maxWaves) close(w);
    else if (w.orders.length > 0) {
      // Allocated but not waved this time: give the promised units back.
      for (const allocs of w.allocs.values()) for (const x of allocs) promise(x.location, x.sku, -x.qty);
    }
  }
  return { waves, leftOut, events };
}

function toPlan(orders: Order[], allocs: Map<string, Allocation[]>, mode: 'wave' | 'order', waveId: string, state: PickingState, g: Geometry): WavePlan {
  const byKey = new Map<string, { location: string; sku: string; demands: Demand[] }>();
  const barcodes: Record<string, string[]> = {};
  for (const o of orders) {
    for (const l of o.lines) {
      const list = barcodes[l.sku] ?? [];
      if (!list.includes(l.barcode)) list.push(l.barcode);
      barcodes[l.sku] = list;
    }
    for (const a of allocs.get(o.orderId) ?? []) {
      const k = stockKey(a.location, a.sku);
      const line = byKey.get(k) ?? { location: a.location, sku: a.sku, demands: [] };
      const last = line.demands[line.demands.length - 1];
      if (last !== undefined && last[0] === o.orderId) last[1] += a.qty;
      else line.demands.push([o.orderId, a.qty]);
      byKey.set(k, line);
    }
  }
  const at = (x: { location: string }) => state.locations.get(x.location) as Location;
  const ordered = pickPathOrder([...byKey.values()], at);
  const lines: WaveLineWire[] = ordered.map((l, i) => [i + 1, l.location, l.sku, l.demands]);
  const units = ordered.reduce((s, l) => s + l.demands.reduce((t, [, q]) => t + q, 0), 0);
  return { waveId, mode, orders: orders.map((o) => o.orderId), lines, barcodes, units, walkM: walkLength(ordered.map(at), g) };
}
