/**
 * The picking state: locations, stock per SKU per location, waves with their lines and
 * demands, orders held short, replenishment requests. It is the fold of the picking events in
 * log order (events.ts) and nothing else: the runtime applies each committed event here, and a
 * restart replays the log into a fresh state, so local stock is exact after a crash. Pure.
 *
 * Stock arithmetic: `stock.set` (the cloud's figure) replaces a location's count; a confirmed
 * pick takes units off; a short pick's correction, a pulled order's returned units and a
 * replenishment move adjust it. A count never goes below zero: the deciders refuse a pick of
 * more than the book holds and a short pick corrects the book down to what was there.
 */
import type { Location } from './layout.js';
import { type Demand, PICK_EVENT, type PickEvent, type ShortReason } from './events.js';

export interface WaveLine {
  lineNo: number;
  location: string;
  sku: string;
  /** Orders still wanting units of this line (a pulled order's demand is removed). */
  demands: Demand[];
  picked: number;
  /** Reported short: nothing more is picked on this line. */
  short: { found: number; reason: ShortReason } | null;
}

export type WaveState = 'built' | 'released' | 'picking' | 'closed' | 'cancelled';

export interface Wave {
  waveId: string;
  mode: 'wave' | 'order';
  state: WaveState;
  /** Orders in slot order (slot = index + 1); pulled orders stay listed and are in `pulled`. */
  orders: string[];
  pulled: Map<string, string>;
  lines: WaveLine[];
  /** SKU → its item barcodes (what the picker scans). */
  barcodes: Map<string, string[]>;
  device: string | null;
  operator: string | null;
  /** order → sku → units put to the order's slot. */
  sorted: Map<string, Map<string, number>>;
  /** Log seq of the build (for listing), 0 when unknown. */
  builtSeq: number;
}

export type ReplenishmentState = 'requested' | 'tasked' | 'done';

export interface Replenishment {
  requestId: string;
  location: string;
  sku: string;
  qty: number;
  state: ReplenishmentState;
  from: string | null;
  device: string | null;
  moved: number;
}

export type HoldState = 'held' | 'released' | 'cancelled';

export class PickingState {
  readonly locations = new Map<string, Location>();
  /** location → sku → units on hand. */
  readonly stock = new Map<string, Map<string, number>>();
  readonly waves = new Map<string, Wave>();
  /** order → the wave it is in (not pulled, wave not cancelled). */
  readonly orderWave = new Map<string, string>();
  /** Orders held short, and a supervisor's decision on them. */
  readonly shortHolds = new Map<string, HoldState>();
  /** Orders refused or pulled at pick start or in a wave, with the intercept code (flagged). */
  readonly flagged = new Map<string, string>();
  readonly replenishments = new Map<string, Replenishment>();
  /** Counters for the dashboard: confirmed pick units and lines per device. */
  readonly pickerLines = new Map<string, { lines: number; units: number; firstAt: number | null; lastAt: number | null }>();

  onHand(location: string, sku: string): number {
    return this.stock.get(location)?.get(sku) ?? 0;
  }

  private setOnHand(location: string, sku: string, qty: number): void {
    let m = this.stock.get(location);
    if (m === undefined) {
      m = new Map();
      this.stock.set(location, m);
    }
    m.set(sku, qty);
  }

  /**
   * Local moves per location and SKU with the seq of their event, kept since the last cloud
   * count: a `stock.set` counted as of seq A gets the moves after A added (the cloud had not seen
   * them). Trimmed to the moves after the newest count's `as_of_seq`.
   */
  private readonly moves = new Map<string, Array<[seq: number, delta: number]>>();
  private seq = 0;

  private addOnHand(location: string, sku: string, delta: number): void {
    this.setOnHand(location, sku, this.onHand(location, sku) + delta);
    const k = stockKey(location, sku);
    const list = this.moves.get(k) ?? [];
    list.push([this.seq, delta]);
    this.moves.set(k, list);
  }

  private applyCount(location: string, sku: string, qty: number, asOfSeq: number | undefined): void {
    const k = stockKey(location, sku);
    if (asOfSeq === undefined) {
      this.moves.delete(k);
      this.setOnHand(location, sku, qty);
      return;
    }
    const later = (this.moves.get(k) ?? []).filter(([s]) => s > asOfSeq);
    this.moves.set(k, later);
    this.setOnHand(location, sku, Math.max(0, qty + later.reduce((t, [, d]) => t + d, 0)));
  }

  /** Units of open waves still to be picked at a location for a SKU (reserved against stock). */
  reserved(location: string, sku: string): number {
    let n = 0;
    for (const w of this.waves.values()) {
      if (w.state === 'closed' || w.state === 'cancelled') continue;
      for (const l of w.lines) if (l.location === location && l.sku === sku) n += remaining(l);
    }
    return n;
  }

  /** Reserved units per location and SKU for every open wave, in one pass (the wave builder). */
  reservedAll(): Map<string, number> {
    const out = new Map<string, number>();
    for (const w of this.waves.values()) {
      if (w.state === 'closed' || w.state === 'cancelled') continue;
      for (const l of w.lines) {
        const k = stockKey(l.location, l.sku);
        out.set(k, (out.get(k) ?? 0) + remaining(l));
      }
    }
    return out;
  }

  /** The open replenishment request of a face, if any (one at a time per face and SKU). */
  openReplenishment(location: string, sku: string): Replenishment | null {
    for (const r of this.replenishments.values()) if (r.location === location && r.sku === sku && r.state !== 'done') return r;
    return null;
  }

  /**
   * The whole state as plain JSON-able data (snapshot.ts writes it to disk), maps as entry
   * arrays. {@link PickingState.fromSnapshot} gives back a state that folds the next events
   * exactly as this one would.
   */
  toSnapshot(): PickingSnapshotData {
    return {
      locations: [...this.locations],
      stock: [...this.stock].map(([loc, m]) => [loc, [...m]]),
      waves: [...this.waves.values()].map((w) => ({
        ...w,
        pulled: [...w.pulled],
        barcodes: [...w.barcodes],
        sorted: [...w.sorted].map(([o, m]) => [o, [...m]]),
      })),
      orderWave: [...this.orderWave],
      shortHolds: [...this.shortHolds],
      flagged: [...this.flagged],
      replenishments: [...this.replenishments],
      pickerLines: [...this.pickerLines],
      moves: [...this.moves],
      seq: this.seq,
    };
  }

  static fromSnapshot(d: PickingSnapshotData): PickingState {
    const s = new PickingState();
    for (const [k, v] of d.locations) s.locations.set(k, v);
    for (const [loc, m] of d.stock) s.stock.set(loc, new Map(m));
    for (const w of d.waves) {
      s.waves.set(w.waveId, {
        ...w,
        pulled: new Map(w.pulled),
        barcodes: new Map(w.barcodes),
        sorted: new Map(w.sorted.map(([o, m]) => [o, new Map(m)])),
      });
    }
    for (const [k, v] of d.orderWave) s.orderWave.set(k, v);
    for (const [k, v] of d.shortHolds) s.shortHolds.set(k, v);
    for (const [k, v] of d.flagged) s.flagged.set(k, v);
    for (const [k, v] of d.replenishments) s.replenishments.set(k, v);
    for (const [k, v] of d.pickerLines) s.pickerLines.set(k, v);
    for (const [k, v] of d.moves) s.moves.set(k, v);
    s.seq = d.seq;
    return s;
  }

  /** Folds one committed event in (seq: its log seq, at: its time). Unknown types are ignored. */
  apply(ev: PickEvent, seq = 0, at: number | null = null): void {
    this.seq = seq;
    switch (ev.type) {
      case PICK_EVENT.locationUpserted: {
        const d = ev.data;
        this.locations.set(d.code, {
          code: d.code,
          zone: d.zone,
          aisle: d.aisle,
          bay: d.bay,
          level: d.level,
          walkSeq: d.walk_seq,
          kind: d.kind,
          capacity: d.capacity,
          trigger: d.trigger,
        });
        return;
      }
      case PICK_EVENT.stockSet:
        this.applyCount(ev.data.location, ev.data.sku, ev.data.qty, ev.data.as_of_seq);
        return;
      case PICK_EVENT.stockCorrected:
        this.addOnHand(ev.data.location, ev.data.sku, ev.data.to - this.onHand(ev.data.location, ev.data.sku));
        return;
      case PICK_EVENT.waveBuilt: {
        const d = ev.data;
        const wave: Wave = {
          waveId: d.wave_id,
          mode: d.mode,
          state: 'built',
          orders: [...d.orders],
          pulled: new Map(),
          lines: d.lines.map(([lineNo, location, sku, demands]) => ({
            lineNo,
            location,
            sku,
            demands: demands.map(([o, q]) => [o, q] as Demand),
            picked: 0,
            short: null,
          })),
          barcodes: new Map(Object.entries(d.barcodes)),
          device: null,
          operator: null,
          sorted: new Map(),
          builtSeq: seq,
        };
        this.waves.set(wave.waveId, wave);
        for (const o of wave.orders) this.orderWave.set(o, wave.waveId);
        return;
      }
      case PICK_EVENT.waveReleased: {
        const w = this.waves.get(ev.data.wave_id);
        if (w !== undefined && w.state === 'built') {
          w.state = 'released';
          w.device = ev.data.device_id;
        }
        return;
      }
      case PICK_EVENT.waveCancelled: {
        const w = this.waves.get(ev.data.wave_id);
        if (w === undefined) return;
        w.state = 'cancelled';
        for (const o of w.orders) if (this.orderWave.get(o) === w.waveId) this.orderWave.delete(o);
        // Units picked and not yet packed go back to their locations.
        for (const l of w.lines) if (l.picked > 0) this.addOnHand(l.location, l.sku, l.picked);
        return;
      }
      case PICK_EVENT.waveClosed: {
        const w = this.waves.get(ev.data.wave_id);
        if (w !== undefined) w.state = 'closed';
        return;
      }
      case PICK_EVENT.pickStarted: {
        const w = this.waves.get(ev.data.wave_id);
        if (w === undefined) return;
        w.state = 'picking';
        w.device = ev.data.device_id;
        w.operator = ev.data.operator;
        return;
      }
      case PICK_EVENT.orderPulled: {
        const d = ev.data;
        this.flagged.set(d.order_id, d.code);
        const w = this.waves.get(d.wave_id);
        if (w === undefined) return;
        w.pulled.set(d.order_id, d.code);
        if (this.orderWave.get(d.order_id) === w.waveId) this.orderWave.delete(d.order_id);
        for (const l of w.lines) l.demands = l.demands.filter(([o]) => o !== d.order_id);
        for (const [lineNo, qty] of d.returned) {
          const l = w.lines.find((x) => x.lineNo === lineNo);
          if (l === undefined) continue;
          l.picked -= qty;
          this.addOnHand(l.location, l.sku, qty);
        }
        w.sorted.delete(d.order_id);
        return;
      }
      case PICK_EVENT.pickConfirmed: {
        const d = ev.data;
        const w = this.waves.get(d.wave_id);
        const l = w?.lines.find((x) => x.lineNo === d.line_no);
        if (l !== undefined) l.picked += d.qty;
        this.addOnHand(d.location, d.sku, -d.qty);
        const key = d.device_id ?? '(api)';
        const p = this.pickerLines.get(key) ?? { lines: 0, units: 0, firstAt: null, lastAt: null };
        p.lines++;
        p.units += d.qty;
        if (at !== null) {
          p.firstAt ??= at;
          p.lastAt = at;
        }
        this.pickerLines.set(key, p);
        return;
      }
      case PICK_EVENT.pickShort: {
        const d = ev.data;
        const w = this.waves.get(d.wave_id);
        const l = w?.lines.find((x) => x.lineNo === d.line_no);
        if (w === undefined || l === undefined) return;
        l.picked += d.found;
        l.short = { found: d.found, reason: d.reason };
        this.addOnHand(d.location, d.sku, -d.found);
        for (const o of ordersShortOn(l)) if (!this.shortHolds.has(o)) this.shortHolds.set(o, 'held');
        return;
      }
      case PICK_EVENT.unitSorted: {
        const d = ev.data;
        const w = this.waves.get(d.wave_id);
        if (w === undefined) return;
        const m = w.sorted.get(d.order_id) ?? new Map<string, number>();
        m.set(d.sku, (m.get(d.sku) ?? 0) + 1);
        w.sorted.set(d.order_id, m);
        return;
      }
      case PICK_EVENT.shortReleased:
        this.shortHolds.set(ev.data.order_id, 'released');
        return;
      case PICK_EVENT.shortCancelled:
        this.shortHolds.set(ev.data.order_id, 'cancelled');
        return;
      case PICK_EVENT.replenishmentRequested: {
        const d = ev.data;
        this.replenishments.set(d.request_id, {
          requestId: d.request_id,
          location: d.location,
          sku: d.sku,
          qty: d.qty,
          state: 'requested',
          from: null,
          device: null,
          moved: 0,
        });
        return;
      }
      case PICK_EVENT.replenishmentTasked: {
        const r = this.replenishments.get(ev.data.request_id);
        if (r === undefined) return;
        r.state = 'tasked';
        r.from = ev.data.from;
        r.device = ev.data.device_id;
        return;
      }
      case PICK_EVENT.replenishmentConfirmed: {
        const d = ev.data;
        const r = this.replenishments.get(d.request_id);
        if (r !== undefined) {
          r.state = 'done';
          r.moved = d.qty;
        }
        this.addOnHand(d.from, d.sku, -d.qty);
        this.addOnHand(d.to, d.sku, d.qty);
        return;
      }
    }
  }
}

/** The state as data (PickingState.toSnapshot); maps are entry arrays. */
export interface PickingSnapshotData {
  locations: Array<[string, Location]>;
  stock: Array<[string, Array<[string, number]>]>;
  waves: Array<
    Omit<Wave, 'pulled' | 'barcodes' | 'sorted'> & {
      pulled: Array<[string, string]>;
      barcodes: Array<[string, string[]]>;
      sorted: Array<[string, Array<[string, number]>]>;
    }
  >;
  orderWave: Array<[string, string]>;
  shortHolds: Array<[string, HoldState]>;
  flagged: Array<[string, string]>;
  replenishments: Array<[string, Replenishment]>;
  pickerLines: Array<[string, { lines: number; units: number; firstAt: number | null; lastAt: number | null }]>;
  moves: Array<[string, Array<[number, number]>]>;
  seq: number;
}

export function stockKey(location: string, sku: string): string {
  return `${location}\u0000${sku}`;
}

/** Units of a line still to pick: what its orders want minus what was picked; 0 once short. */
export function remaining(l: WaveLine): number {
  if (l.short !== null) return 0;
  return Math.max(0, demanded(l) - l.picked);
}

export function demanded(l: WaveLine): number {
  let n = 0;
  for (const [, q] of l.demands) n += q;
  return n;
}

/**
 * Picked units of a line assigned to its orders in slot order (the units of a bulk pick are
 * alike; the first order of the wave is served first). Returns order → units covered.
 */
export function coverage(l: WaveLine): Map<string, number> {
  const out = new Map<string, number>();
  let left = l.picked;
  for (const [o, q] of l.demands) {
    const take = Math.min(q, Math.max(0, left));
    out.set(o, (out.get(o) ?? 0) + take);
    left -= take;
  }
  return out;
}

/** Orders of a short line whose demand the picked units do not cover. */
export function ordersShortOn(l: WaveLine): string[] {
  const cov = coverage(l);
  const want = new Map<string, number>();
  for (const [o, q] of l.demands) want.set(o, (want.get(o) ?? 0) + q);
  return [...want].filter(([o, q]) => (cov.get(o) ?? 0) < q).map(([o]) => o);
}

/** Whether every line of the wave is picked or reported short: the wave can close. */
export function wavePicked(w: Wave): boolean {
  return w.lines.every((l) => remaining(l) === 0);
}

/** An order of a wave is ready to pack when every one of its units is picked (not pulled, not short). */
export function orderPicked(w: Wave, orderId: string): boolean {
  if (w.pulled.has(orderId)) return false;
  for (const l of w.lines) {
    const want = l.demands.filter(([o]) => o === orderId).reduce((s, [, q]) => s + q, 0);
    if (want > 0 && (coverage(l).get(orderId) ?? 0) < want) return false;
  }
  return true;
}
