/**
 * The wall dashboard's figures (GET /api/v1/dashboard, the `/ui/live` dashboard feed).
 *
 * Parcels per hour are rolling counts kept in memory, per station and per line, in one-minute
 * buckets over the last hour. They are fed by tailing the event log for the few event types
 * that matter (`shipment.shipped`, `shipment.intercepted`, `shipment.held`,
 * `shipment.exception`) from a cursor, so each refresh reads only the events written since the
 * last one, never the whole table. At start the cursor is placed one hour back by a binary
 * search over seq (events carry their HLC wall time), about 20 point reads whatever the log's size.
 *
 * The exception queue is read from the store's small indexed queries (held shipments, print
 * exceptions, open sync failures, recall tasks), each bounded; intercepts and refused cancels
 * come from the same tail (the latest ones, kept in memory).
 */
import { describeError, type ErrorCode, ERRORS, type ErrorDetails } from '../../../contracts/errors.js';
import type { GatewayLinkState } from '../../../contracts/payloads.js';
import type { Config } from '../config/schema.js';
import type { StationService } from '../station/ports.js';
import { decodeHlc } from '../lib/hlc.js';
import type { Logger } from '../lib/logger.js';
import type { RawEventRow, Store } from '../storage/types.js';
import type { DeviceBoard, DeviceHealth } from './device-board.js';
import { timeJob } from '../lib/loop-jobs.js';
import { EVENT } from '../station/events.js';

/** What the dashboard reads of the store (narrow: it never writes). */
export type DashboardStore = Pick<
  Store,
  | 'eventRowsOfTypes'
  | 'getShipment'
  | 'listShipments'
  | 'printExceptions'
  | 'readEventRows'
  | 'shippedButIntercepted'
  | 'stats'
  | 'syncFailures'
  | 'waybillCoverage'
>;

const MINUTE = 60_000;
/** The rolling window of "parcels per hour". */
export const WINDOW_MINUTES = 60;
/** The short window the current rate is extrapolated from (rate/h = count × 60 / this). */
export const RATE_MINUTES = 10;
/** Width of the bars of the per-unit sparkline. */
const SPARK_MINUTES = 5;
/** Rows read per tail query and rows looked at per query (bounds one refresh's work). */
const TAIL_LIMIT = 1000;
const TAIL_SCAN = 20_000;
/** Latest intercepts / refused cancels kept for the exception queue. */
const RECENT_KEEP = 50;
/** Entries per kind in the exception queue. */
const QUEUE_LIMIT = 50;
/** The waybill coverage query counts every open order: recomputed at most this often. */

const TYPES = [EVENT.shipped, EVENT.parcelDiverted, EVENT.intercepted, EVENT.held, EVENT.exception] as const;

export interface UnitThroughput {
  id: string;
  kind: 'station' | 'line';
  /** The station's flow state (`idle`, `verifying`, …); null for lines. */
  state: string | null;
  last_hour: number;
  /** Extrapolated from the last {@link RATE_MINUTES} minutes. */
  rate_per_hour: number;
  /** Parcels per 5-minute slot over the last hour, oldest first (12 slots). */
  per_5min: number[];
}

export type ExceptionKind = 'intercept' | 'hold' | 'print_failure' | 'sync_failure' | 'refused_cancel' | 'recall';
export type ExceptionAction = 'release' | 'reprint' | 'retry';

export interface ExceptionItem {
  kind: ExceptionKind;
  /** Stable key of the entry (for the screen's list diffing). */
  key: string;
  at: number;
  station_id: string | null;
  shipment_id: string | null;
  order_id: string | null;
  code: string | null;
  message: string;
  message_zh: string;
  /** Event-log seq (sync failures: the event to retry). */
  seq: number | null;
  /** What the dashboard offers; recalls and intercepts have no API action (pull the parcel). */
  actions: ExceptionAction[];
}

export interface DashboardSnapshot {
  gateway_id: string;
  generated_at: number;
  window_minutes: number;
  throughput: { last_hour: number; rate_per_hour: number; intercepts_last_hour: number; holds_last_hour: number; units: UnitThroughput[] };
  devices: DeviceHealth[];
  sync: GatewayLinkState & { enabled: boolean; lag_seconds: number | null; outage: boolean };
  waybill_coverage: { open: number; with_waybill: number; percent: number; alarm: boolean };
  exceptions: { counts: Record<ExceptionKind, number>; items: ExceptionItem[] };
}

export interface DashboardDataDeps {
  config: Readonly<Config>;
  store: DashboardStore;
  stations: Pick<StationService, 'list' | 'view'>;
  sync: { linkState(): GatewayLinkState };
  devices: DeviceBoard;
  logger: Logger;
  now?: () => number;
  /** How often the log is tailed in the background (default 2 s). */
  tailEveryMs?: number;
}

/** Per-unit counts in one-minute buckets (minute index → count), pruned past the window. */
class RollingCounts {
  private readonly units = new Map<string, Map<number, number>>();

  add(unit: string, at: number): void {
    let m = this.units.get(unit);
    if (m === undefined) this.units.set(unit, (m = new Map()));
    const minute = Math.floor(at / MINUTE);
    m.set(minute, (m.get(minute) ?? 0) + 1);
  }

  prune(now: number): void {
    const oldest = Math.floor(now / MINUTE) - WINDOW_MINUTES;
    for (const m of this.units.values()) for (const k of m.keys()) if (k <= oldest) m.delete(k);
  }

  /** Sum over the last `minutes` minutes (the current minute included). */
  sum(unit: string, now: number, minutes: number): number {
    const m = this.units.get(unit);
    if (m === undefined) return 0;
    const cur = Math.floor(now / MINUTE);
    let n = 0;
    for (const [k, v] of m) if (k > cur - minutes && k <= cur) n += v;
    return n;
  }

  slots(unit: string, now: number): number[] {
    const cur = Math.floor(now / MINUTE);
    const out = new Array<number>(WINDOW_MINUTES / SPARK_MINUTES).fill(0);
    const m = this.units.get(unit);
    if (m === undefined) return out;
    for (const [k, v] of m) {
      const age = cur - k; // 0 = this minute
      if (age < 0 || age >= WINDOW_MINUTES) continue;
      const slot = out.length - 1 - Math.floor(age / SPARK_MINUTES);
      out[slot] = (out[slot] ?? 0) + v;
    }
    return out;
  }

  unitIds(): string[] {
    return [...this.units.keys()];
  }
}

function wallMs(row: Pick<RawEventRow, 'hlc'>): number {
  try {
    return decodeHlc(row.hlc).wallMs;
  } catch {
    return 0;
  }
}

function isErrorCode(code: unknown): code is ErrorCode {
  return typeof code === 'string' && Object.hasOwn(ERRORS, code);
}

function text(code: unknown, details: ErrorDetails, fallback: string): { message: string; message_zh: string } {
  if (!isErrorCode(code)) return { message: fallback, message_zh: fallback };
  const { en, zh } = describeError(code, details);
  return { message: en, message_zh: zh };
}

export class DashboardData {
  readonly name = 'dashboard-data';
  private readonly now: () => number;
  private readonly shipped = new RollingCounts();
  /** Parcels sorted to a carrier's chute, per DWS line. */
  private readonly sorted = new RollingCounts();
  private readonly intercepts = new RollingCounts();
  private readonly holds = new RollingCounts();
  private readonly recentIntercepts: ExceptionItem[] = [];
  private readonly refusedCancels: ExceptionItem[] = [];
  private cursor = 0;
  private timer: NodeJS.Timeout | null = null;

  constructor(private readonly deps: DashboardDataDeps) {
    this.now = deps.now ?? Date.now;
  }

  async start(): Promise<void> {
    if (this.timer !== null) return;
    this.cursor = this.seqBefore(this.now() - WINDOW_MINUTES * MINUTE);
    this.tail();
    this.timer = setInterval(() => {
      try {
        timeJob('dashboard:tail', () => this.tail());
      } catch (err) {
        this.deps.logger.warn({ err: (err as Error).message }, 'dashboard: could not read the event log');
      }
    }, this.deps.tailEveryMs ?? 2_000);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
  }

  /** The last seq whose event was recorded before `at` (binary search; wall times are near-monotonic in seq). */
  private seqBefore(at: number): number {
    const { store } = this.deps;
    let lo = 0;
    let hi = store.stats().lastSeq;
    while (lo < hi) {
      const mid = Math.ceil((lo + hi) / 2);
      const row = store.readEventRows(mid - 1, 1)[0];
      if (row === undefined || row.seq !== mid) {
        // A gap cannot happen (seq is gap-free); treat an unreadable row as "late".
        hi = mid - 1;
      } else if (wallMs(row) < at) {
        lo = mid;
      } else {
        hi = mid - 1;
      }
    }
    return lo;
  }

  /** Reads the events written since the last call and folds them into the counts. */
  tail(): void {
    const { store } = this.deps;
    const last = store.stats().lastSeq;
    for (let rounds = 0; this.cursor < last && rounds < 50; rounds++) {
      const { rows, scannedTo } = store.eventRowsOfTypes(TYPES, this.cursor, TAIL_LIMIT, TAIL_SCAN);
      for (const row of rows) this.fold(row);
      const next = rows.length === TAIL_LIMIT ? (rows[rows.length - 1]?.seq ?? scannedTo) : scannedTo;
      if (next <= this.cursor) break;
      this.cursor = next;
    }
    const now = this.now();
    this.shipped.prune(now);
    this.sorted.prune(now);
    this.intercepts.prune(now);
    this.holds.prune(now);
  }

  private fold(row: RawEventRow): void {
    let data: Record<string, unknown>;
    try {
      data = JSON.parse(row.data) as Record<string, unknown>;
    } catch {
      return;
    }
    const at = wallMs(row);
    const shipmentId = row.subject.startsWith('shipment:') ? row.subject.slice('shipment:'.length) : null;
    const str = (v: unknown) => (typeof v === 'string' ? v : null);
    const unitOf = (): string | null => {
      const fromData = str(data['line_id']) ?? str(data['station_id']);
      if (fromData !== null) return fromData;
      return shipmentId === null ? null : (this.deps.store.getShipment(shipmentId)?.stationId ?? null);
    };
    switch (row.type) {
      case EVENT.shipped: {
        const unit = unitOf();
        if (unit !== null) this.shipped.add(unit, at);
        return;
      }
      case EVENT.parcelDiverted: {
        // A DWS line's parcels per hour: parcels it sorted to a carrier's chute. Most were
        // shipped (and counted) at a station and are only sorted on the line, so they go to a
        // count of their own, not into the total of parcels shipped.
        if (data['reason'] === 'carrier' && row.subject.startsWith('line:')) this.sorted.add(row.subject.slice('line:'.length), at);
        return;
      }
      case EVENT.held: {
        const unit = unitOf();
        if (unit !== null) this.holds.add(unit, at);
        return;
      }
      case EVENT.intercepted: {
        const unit = unitOf();
        if (unit !== null) this.intercepts.add(unit, at);
        const code = str(data['code']);
        const orderId = str(data['order_id']);
        keepLatest(this.recentIntercepts, {
          kind: 'intercept',
          key: `intercept:${row.seq}`,
          at,
          station_id: unit,
          shipment_id: shipmentId,
          order_id: orderId,
          code,
          ...text(code, { orderId: orderId ?? '' }, code ?? 'intercepted'),
          seq: row.seq,
          actions: [],
        });
        return;
      }
      case EVENT.exception: {
        const orderId = str(data['order_id']);
        const reason = str(data['reason']) ?? 'cancel refused';
        keepLatest(this.refusedCancels, {
          kind: 'refused_cancel',
          key: `cancel:${row.seq}`,
          at,
          station_id: unitOf(),
          shipment_id: shipmentId,
          order_id: orderId,
          code: 'PKL_CANCEL_TOO_LATE',
          message: `Cancel refused (${reason}), shipment ${str(data['state']) ?? ''}: order ${orderId ?? ''}`,
          message_zh: `取消被拒（${reason}），包裹状态 ${str(data['state']) ?? ''}：订单 ${orderId ?? ''}`,
          seq: row.seq,
          actions: [],
        });
        return;
      }
    }
  }

  snapshot(): DashboardSnapshot {
    this.tail();
    const { config, store, stations } = this.deps;
    const now = this.now();

    const summaries = stations.list();
    const ids: Array<{ id: string; kind: 'station' | 'line' }> = [
      ...config.stations.map((s) => ({ id: s.id, kind: 'station' as const })),
      ...config.lines.map((l) => ({ id: l.id, kind: 'line' as const })),
    ];
    // Units that shipped but are no longer configured still count (renamed stations).
    for (const id of this.shipped.unitIds()) if (!ids.some((u) => u.id === id)) ids.push({ id, kind: id.startsWith('line') ? 'line' : 'station' });
    // A station's parcels are those it shipped; a line's, those it sorted (shipped there or not).
    const units: UnitThroughput[] = ids.map(({ id, kind }) => {
      const counts = kind === 'line' ? this.sorted : this.shipped;
      return {
        id,
        kind,
        state: kind === 'station' ? (summaries.find((s) => s.stationId === id)?.state ?? null) : null,
        last_hour: counts.sum(id, now, WINDOW_MINUTES),
        rate_per_hour: Math.round((counts.sum(id, now, RATE_MINUTES) * 60) / RATE_MINUTES),
        per_5min: counts.slots(id, now),
      };
    });
    const sumAll = (c: RollingCounts, minutes: number) => c.unitIds().reduce((n, u) => n + c.sum(u, now, minutes), 0);

    const link = this.deps.sync.linkState();
    let lag: number | null = null;
    if (link.backlog > 0) {
      const oldest = store.readEventRows(link.acked_seq, 1)[0];
      if (oldest !== undefined) lag = Math.max(0, Math.round((now - wallMs(oldest)) / 1000));
    } else if (link.state !== 'disabled') {
      lag = 0;
    }

    const cov = this.deps.store.waybillCoverage(); // the store caches it for every caller
    const percent = cov.open === 0 ? 100 : Math.round((cov.withWaybill / cov.open) * 1000) / 10;

    const items = [...this.queue(), ...this.recentIntercepts, ...this.refusedCancels];
    const counts: Record<ExceptionKind, number> = { intercept: 0, hold: 0, print_failure: 0, sync_failure: 0, refused_cancel: 0, recall: 0 };
    for (const i of items) counts[i.kind] += 1;
    items.sort((a, b) => b.at - a.at);

    return {
      gateway_id: config.gatewayId,
      generated_at: now,
      window_minutes: WINDOW_MINUTES,
      throughput: {
        last_hour: sumAll(this.shipped, WINDOW_MINUTES),
        rate_per_hour: Math.round((sumAll(this.shipped, RATE_MINUTES) * 60) / RATE_MINUTES),
        intercepts_last_hour: sumAll(this.intercepts, WINDOW_MINUTES),
        holds_last_hour: sumAll(this.holds, WINDOW_MINUTES),
        units,
      },
      devices: this.deps.devices.list(),
      sync: {
        ...link,
        enabled: config.sync.url !== undefined,
        lag_seconds: lag,
        // "Outage": sync is configured and the link is not up. Stations keep shipping.
        outage: link.state === 'offline' || link.state === 'degraded' || link.state === 'contract_error',
      },
      waybill_coverage: { open: cov.open, with_waybill: cov.withWaybill, percent, alarm: percent < config.sync.waybillCoverageAlarmPercent },
      exceptions: { counts, items },
    };
  }

  /** Entries that come from the store's current state: holds, print failures, sync failures, recalls. */
  private queue(): ExceptionItem[] {
    const { store, stations, config } = this.deps;
    const out: ExceptionItem[] = [];
    for (const s of store.listShipments({ state: 'held', limit: QUEUE_LIMIT })) {
      // The override acts on the shipment a station is holding now (POST …/override).
      const onScreen = stations.view(s.stationId)?.shipment_id === s.shipmentId;
      const weight = s.reasonCode === 'PKL_WEIGHT_OUT_OF_TOLERANCE';
      out.push({
        kind: 'hold',
        key: `hold:${s.shipmentId}`,
        at: s.updatedAt,
        station_id: s.stationId,
        shipment_id: s.shipmentId,
        order_id: s.orderId,
        code: s.reasonCode,
        ...(weight
          ? {
              message: `Weight ${s.actualGrams ?? '?'} g, expected ${s.expectedGrams ?? '?'} g: reweigh or release`,
              message_zh: `重量 ${s.actualGrams ?? '?'} 克，预期 ${s.expectedGrams ?? '?'} 克：请复称或放行`,
            }
          : text(s.reasonCode, { orderId: s.orderId, reason: s.reasonCode ?? '' }, 'held')),
        seq: null,
        actions: weight && onScreen ? ['release'] : [],
      });
    }
    for (const e of store.printExceptions({ limit: QUEUE_LIMIT })) {
      const reason = e.job?.reason ?? 'print failed';
      out.push({
        kind: 'print_failure',
        key: `print:${e.shipment.shipmentId}`,
        at: e.job?.updatedAt ?? e.shipment.updatedAt,
        station_id: e.shipment.stationId,
        shipment_id: e.shipment.shipmentId,
        order_id: e.shipment.orderId,
        code: 'PKL_PRINT_FAILED',
        ...text('PKL_PRINT_FAILED', { deviceId: e.job?.printerId ?? '', reason }, 'print failed'),
        seq: null,
        actions: ['reprint'],
      });
    }
    for (const f of store.syncFailures({ state: 'open', limit: QUEUE_LIMIT })) {
      out.push({
        kind: 'sync_failure',
        key: `sync:${f.seq}`,
        at: f.lastFailedAt,
        station_id: null,
        shipment_id: null,
        order_id: null,
        code: f.code,
        message: `Event ${f.seq}: ${f.reason} (${f.state === 'retry_requested' ? 'retry requested' : `${f.attempts} attempt(s)`})`,
        message_zh: `事件 ${f.seq}：${f.reason}（${f.state === 'retry_requested' ? '已请求重试' : `已尝试 ${f.attempts} 次`}）`,
        seq: f.seq,
        actions: f.state === 'failed' && config.sync.url !== undefined ? ['retry'] : [],
      });
    }
    for (const r of store.shippedButIntercepted(20)) {
      out.push({
        kind: 'recall',
        key: `recall:${r.shipment.shipmentId}`,
        at: r.order.updatedAt,
        station_id: r.shipment.stationId,
        shipment_id: r.shipment.shipmentId,
        order_id: r.order.orderId,
        code: null,
        message: `Shipped ${r.shipment.waybill ?? ''} but order ${r.order.orderId} was cancelled or refunded since: recall the parcel`,
        message_zh: `已发货 ${r.shipment.waybill ?? ''}，但订单 ${r.order.orderId} 已取消或退款：请召回包裹`,
        seq: null,
        actions: [],
      });
    }
    return out;
  }
}

function keepLatest(list: ExceptionItem[], item: ExceptionItem): void {
  list.unshift(item);
  if (list.length > RECENT_KEEP) list.length = RECENT_KEEP;
}
