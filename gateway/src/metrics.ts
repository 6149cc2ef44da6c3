/**
 * Prometheus metrics of the gateway (served as text on `GET /metrics`).
 *
 * One `Metrics` object per gateway, with its OWN prom-client Registry: the global registry
 * would leak series between gateways built in one process (tests, the simulator) and would
 * make "register twice" a crash. Components get the object injected and call the typed
 * helpers below; nothing outside this file touches prom-client.
 *
 * Values that other components already count (broker.stats(), store.stats()) are not
 * mirrored on every event: a collector registered with `collectFrom(fn)` reads them when
 * Prometheus scrapes, so the hot paths pay nothing.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics, type Counter as CounterT, type Gauge as GaugeT } from 'prom-client';
import type { Logger } from './lib/logger.js';
import type { LoginGuardStats } from './broker/auth-guard.js';
import { MQTT_REFUSAL_REASONS, type MqttRefusalReason } from './broker/refusals.js';
import { observeGc, takeJobFigures, timeJob } from './lib/loop-jobs.js';
import { RETENTION_KINDS, type RetentionKind } from './storage/retention.js';

/** How a shipment (or an attempt at one) ended. `shipped` is the only happy outcome. */
export const SHIPMENT_RESULTS = ['shipped', 'intercepted', 'held', 'abandoned', 'print_failed', 'awaiting_waybill', 'weight_rejected', 'staged'] as const;
export type ShipmentResult = (typeof SHIPMENT_RESULTS)[number];

/** What became of a login attempt at the flood guard (`packline_login_guard_total{outcome}`). */
export const LOGIN_GUARD_OUTCOMES = ['verified', 'failed', 'refused_banned', 'refused_backoff', 'refused_busy', 'refused_oversized', 'bans'] as const;

export { MQTT_REFUSAL_REASONS, type MqttRefusalReason };

export type MqttDirection = 'in' | 'out';

/**
 * Scan-to-print latency buckets (seconds). The flow's budget is "label out before the
 * packer reaches for it", i.e. well under a second; 1 ms resolves the in-process path,
 * 2 s is where a station is plainly stuck (anything slower lands in +Inf).
 */
export const SCAN_TO_PRINT_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2];

/** Scrape-time reader: sets gauges from another component's stats. May be async. */
export type Collector = () => void | Promise<void>;

export interface MetricsOptions {
  /** Process and Node.js runtime metrics (CPU, memory, event-loop lag, GC); default true. */
  defaultMetrics?: boolean;
  /** Logs a collector that throws (the scrape still succeeds with the other series). */
  logger?: Logger;
}

/** Running totals of the sync service since start (SyncService.totals()). */
export interface SyncTotals {
  batchRequests: number;
  retryRequests: number;
  eventsSent: number;
  unknownFields: number;
  quarantined: number;
  contractErrors: number;
}

export const SYNC_LINK_STATES = ['online', 'degraded', 'offline', 'contract_error', 'disabled'] as const;

/** Printer media as `packline_printer_media_state` exports it (one series per state, 1 = current). */
export const PRINTER_MEDIA_STATES = ['ok', 'paper_out', 'ribbon_out', 'head_open', 'paper_jam', 'fault', 'offline', 'unknown'] as const;
export type PrinterMediaState = (typeof PRINTER_MEDIA_STATES)[number];

/** The dashboard's exception queue, by kind (docs/operations.md). */
export const EXCEPTION_KINDS = ['intercept', 'weight_hold', 'print_failure', 'sync_failure', 'refused_cancel'] as const;
export type ExceptionKind = (typeof EXCEPTION_KINDS)[number];

/** Where a parcel shipped: a packing station or a DWS line. */
export type ShippingPointKind = 'station' | 'line';

const PREFLIGHT_STATUS_VALUE = { pass: 0, warn: 1, fail: 2 } as const;

export class Metrics {
  readonly registry: Registry;

  private readonly shipments: CounterT<'result'>;
  private readonly scanToPrint: Histogram;
  private readonly devicesOnline: GaugeT;
  private readonly mqttMessages: CounterT<'direction'>;
  private readonly mqttRefused: CounterT<'reason'>;
  private readonly loginGuard: CounterT<'scope' | 'outcome'>;
  private readonly storeCommits: CounterT;
  private readonly retentionPrunedTotal: CounterT;
  private readonly eventLogSeq: GaugeT;
  private readonly httpRequests: CounterT<'method' | 'route' | 'status'>;
  private readonly syncBacklog: GaugeT;
  private readonly syncFailed: GaugeT;
  private readonly syncLink: GaugeT<'state'>;
  private readonly syncRequests: CounterT<'kind'>;
  private readonly syncEventsSent: CounterT;
  private readonly syncUnknownFields: CounterT;
  private readonly syncQuarantined: CounterT;
  private readonly syncContractErrors: CounterT;
  private readonly parcelsShipped: CounterT<'kind' | 'id'>;
  private readonly deviceOnline: GaugeT<'device' | 'role'>;
  private readonly deviceFault: GaugeT<'device' | 'role'>;
  private readonly printerMedia: GaugeT<'printer' | 'state'>;
  private readonly syncLag: GaugeT;
  private readonly waybillOrders: GaugeT<'with_waybill'>;
  private readonly waybillCoverageRatio: GaugeT;
  private readonly exceptionQueue: GaugeT<'kind'>;
  private readonly preflightStatus: GaugeT;
  private readonly offlineBufferHours: GaugeT;
  // Pre-bound label children: the MQTT counters are bumped per message on the hot path.
  private readonly mqttIn: { inc(n?: number): void };
  private readonly mqttOut: { inc(n?: number): void };
  private readonly collectors = new Set<Collector>();
  /** Last source totals seen by the `set…Total` methods, to add only the difference. */
  private readonly lastTotals = new Map<string, number>();
  private readonly logger: Logger | undefined;

  constructor(options: MetricsOptions = {}) {
    this.logger = options.logger;
    const registers = [(this.registry = new Registry())];
    if (options.defaultMetrics !== false) {
      collectDefaultMetrics({ register: this.registry });
      // What held the event loop between two scrapes (lib/loop-jobs.ts): each periodic job's
      // and each GC kind's longest run, next to nodejs_eventloop_lag_max_seconds.
      observeGc();
      // Registered (and so rendered) after jobMax, whose collect() fills both.
      let jobBusy: GaugeT<'job'> | null = null;
      const jobMax: GaugeT<'job'> = new Gauge({
        name: 'packline_loop_job_max_seconds',
        help: 'Longest run of a periodic job or GC pause since the last scrape',
        labelNames: ['job'],
        registers,
        collect() {
          jobMax.reset();
          jobBusy?.reset();
          for (const [job, f] of takeJobFigures()) {
            jobMax.labels(job).set(f.maxMs / 1000);
            jobBusy?.labels(job).set(f.totalMs / 1000);
          }
        },
      });
      jobBusy = new Gauge({
        name: 'packline_loop_job_busy_seconds',
        help: 'Time a periodic job or GC kind held the event loop since the last scrape',
        labelNames: ['job'],
        registers,
      });
    }

    this.shipments = new Counter({
      name: 'packline_shipments_total',
      help: 'Shipments by outcome (shipped, intercepted, held, abandoned, print_failed, ...)',
      labelNames: ['result'],
      registers,
    });
    // Export zeros from boot, so rate() and absent-series alerts work before the first event.
    for (const r of SHIPMENT_RESULTS) this.shipments.labels(r).inc(0);
    this.scanToPrint = new Histogram({
      name: 'packline_scan_to_print_seconds',
      help: 'Time from the order scan to the label sent to the printer',
      buckets: SCAN_TO_PRINT_BUCKETS,
      registers,
    });
    this.devicesOnline = new Gauge({
      name: 'packline_devices_online',
      help: 'Devices currently connected to the broker',
      registers,
    });
    this.mqttMessages = new Counter({
      name: 'packline_mqtt_messages_total',
      help: 'MQTT application messages through the gateway (in: from devices, out: to devices)',
      labelNames: ['direction'],
      registers,
    });
    this.mqttIn = this.mqttMessages.labels('in');
    this.mqttIn.inc(0);
    this.mqttOut = this.mqttMessages.labels('out');
    this.mqttOut.inc(0);
    this.mqttRefused = new Counter({
      name: 'packline_mqtt_refused_total',
      help: 'Connections or packets the broker refused, by reason',
      labelNames: ['reason'],
      registers,
    });
    for (const r of MQTT_REFUSAL_REASONS) this.mqttRefused.labels(r).inc(0);
    this.loginGuard = new Counter({
      name: 'packline_login_guard_total',
      help: 'Login attempts through the flood guard (broker/auth-guard.ts), by scope (mqtt, http) and outcome: verified (a password hash was checked), failed, refused_* (refused without hashing), bans',
      labelNames: ['scope', 'outcome'],
      registers,
    });
    for (const scope of ['mqtt', 'http']) {
      for (const outcome of LOGIN_GUARD_OUTCOMES) this.loginGuard.labels(scope, outcome).inc(0);
    }
    this.storeCommits = new Counter({
      name: 'packline_store_commits_total',
      help: 'Durable (fsynced) store transactions; one group commit may hold several units',
      registers,
    });
    this.retentionPrunedTotal = new Counter({
      name: 'packline_retention_pruned_total',
      help: 'What retention removed (storage/retention.ts), by kind: orders, shipments, print_jobs, events, sync_failures, label_files, vacuum_pages (free pages given back to the file system)',
      labelNames: ['kind'],
      registers,
    });
    for (const k of RETENTION_KINDS) this.retentionPrunedTotal.labels(k).inc(0);
    this.eventLogSeq = new Gauge({
      name: 'packline_event_log_seq',
      help: 'Highest sequence number in the event log (cloud sync lag = this minus the cloud cursor)',
      registers,
    });
    this.syncBacklog = new Gauge({
      name: 'packline_sync_backlog_events',
      help: 'Events recorded but not yet acknowledged by the cloud',
      registers,
    });
    this.syncFailed = new Gauge({
      name: 'packline_sync_failed_events',
      help: 'Events the cloud rejected ("sync failed") and not yet resolved',
      registers,
    });
    this.syncLink = new Gauge({
      name: 'packline_sync_link_state',
      help: 'Cloud link state: 1 for the current state, 0 for the others',
      labelNames: ['state'],
      registers,
    });
    for (const st of SYNC_LINK_STATES) this.syncLink.labels(st).set(st === 'disabled' ? 1 : 0);
    this.syncRequests = new Counter({
      name: 'packline_sync_requests_total',
      help: 'Sync requests sent to the cloud, answered or not, by kind (batch, retry)',
      labelNames: ['kind'],
      registers,
    });
    for (const k of ['batch', 'retry']) this.syncRequests.labels(k).inc(0);
    this.syncEventsSent = new Counter({
      name: 'packline_sync_events_sent_total',
      help: 'Events carried by batch requests, answered or not (a resend counts again)',
      registers,
    });
    this.syncUnknownFields = new Counter({
      name: 'packline_sync_unknown_fields_total',
      help: 'Fields in cloud answers this gateway does not know (ignored; docs/sync.md compatibility rule)',
      registers,
    });
    this.syncQuarantined = new Counter({
      name: 'packline_sync_changes_quarantined_total',
      help: 'Cloud changes the gateway could not apply: stored as rejected, alerted, reported upstream',
      registers,
    });
    this.syncContractErrors = new Counter({
      name: 'packline_sync_contract_errors_total',
      help: 'Cloud answers that did not match the sync contract (link state contract_error)',
      registers,
    });
    this.parcelsShipped = new Counter({
      name: 'packline_parcels_shipped_total',
      help: 'Parcels shipped by a packing station (kind="station") or sorted to a carrier chute by a DWS line (kind="line"); rate() gives parcels per hour',
      labelNames: ['kind', 'id'],
      registers,
    });
    this.deviceOnline = new Gauge({
      name: 'packline_device_online',
      help: 'Configured device reachable: 1 connected and not announcing offline, 0 otherwise',
      labelNames: ['device', 'role'],
      registers,
    });
    this.deviceFault = new Gauge({
      name: 'packline_device_fault',
      help: 'Device announcing a fault (retained state "error"): 1, else 0',
      labelNames: ['device', 'role'],
      registers,
    });
    this.printerMedia = new Gauge({
      name: 'packline_printer_media_state',
      help: 'Printer media / ribbon state: 1 for the current state (ok, paper_out, ribbon_out, head_open, paper_jam, fault, offline, unknown), 0 for the others',
      labelNames: ['printer', 'state'],
      registers,
    });
    this.syncLag = new Gauge({
      name: 'packline_sync_lag_seconds',
      help: 'Age of the oldest event the cloud has not acknowledged (0 when none is waiting)',
      registers,
    });
    this.waybillOrders = new Gauge({
      name: 'packline_waybill_open_orders',
      help: 'Open orders by whether they have a pre-fetched waybill (with_waybill="true": can ship with the WAN down)',
      labelNames: ['with_waybill'],
      registers,
    });
    this.waybillCoverageRatio = new Gauge({
      name: 'packline_waybill_coverage_ratio',
      help: 'Share of open orders with a pre-fetched waybill (1 when there are no open orders)',
      registers,
    });
    this.exceptionQueue = new Gauge({
      name: 'packline_exception_queue',
      help: 'Exception queue size by kind: intercept (recalls), weight_hold, print_failure, sync_failure, refused_cancel',
      labelNames: ['kind'],
      registers,
    });
    for (const k of EXCEPTION_KINDS) this.exceptionQueue.labels(k).set(0);
    this.preflightStatus = new Gauge({
      name: 'packline_preflight_status',
      help: 'Result of the last preflight run: 0 pass, 1 warn, 2 fail',
      registers,
    });
    this.offlineBufferHours = new Gauge({
      name: 'packline_offline_buffer_hours',
      help: 'Hours of offline events the free disk holds at the configured peak rate (last preflight)',
      registers,
    });
    this.httpRequests = new Counter({
      name: 'packline_http_requests_total',
      help: 'HTTP API requests by route pattern and status',
      labelNames: ['method', 'route', 'status'],
      registers,
    });
  }

  // ---- shipment flow -------------------------------------------------------------------

  shipment(result: ShipmentResult): void {
    this.shipments.labels(result).inc();
  }

  observeScanToPrint(seconds: number): void {
    if (Number.isFinite(seconds) && seconds >= 0) this.scanToPrint.observe(seconds);
  }

  // ---- broker --------------------------------------------------------------------------

  setDevicesOnline(count: number): void {
    this.devicesOnline.set(count);
  }

  mqttMessage(direction: MqttDirection, count = 1): void {
    (direction === 'in' ? this.mqttIn : this.mqttOut).inc(count);
  }

  /** For a broker that keeps its own totals: sets the counter to the total at scrape time. */
  setMqttMessagesTotal(direction: MqttDirection, total: number): void {
    this.advanceTo(`mqtt:${direction}`, direction === 'in' ? this.mqttIn : this.mqttOut, total);
  }

  mqttRefusal(reason: MqttRefusalReason): void {
    this.mqttRefused.labels(reason).inc();
  }

  /** Sets the login-guard counters from `LoginGuard.stats()` at scrape time. */
  setLoginGuard(scope: 'mqtt' | 'http', s: LoginGuardStats): void {
    const totals: Record<(typeof LOGIN_GUARD_OUTCOMES)[number], number> = {
      verified: s.verifications,
      failed: s.failures,
      refused_banned: s.refused.banned,
      refused_backoff: s.refused.backoff,
      refused_busy: s.refused.busy,
      refused_oversized: s.refused.oversized,
      bans: s.bansTotal,
    };
    for (const [outcome, total] of Object.entries(totals)) {
      this.advanceTo(`login:${scope}:${outcome}`, this.loginGuard.labels(scope, outcome), total);
    }
  }

  /** For a broker that keeps its own refusal totals: sets the counter to the total at scrape time. */
  setMqttRefusedTotal(reason: MqttRefusalReason, total: number): void {
    this.advanceTo(`mqtt-refused:${reason}`, this.mqttRefused.labels(reason), total);
  }

  // ---- store ---------------------------------------------------------------------------

  storeCommitted(count = 1): void {
    this.storeCommits.inc(count);
  }

  /** Sets the commit counter from `store.stats().commits` (use inside a collector). */
  setStoreCommitsTotal(total: number): void {
    this.advanceTo('store:commits', this.storeCommits, total);
  }

  /** Retention removed `count` of `kind` (storage/retention.ts). */
  retentionPruned(kind: RetentionKind, count: number): void {
    this.retentionPrunedTotal.labels(kind).inc(count);
  }

  setEventLogSeq(seq: number): void {
    this.eventLogSeq.set(seq);
  }

  // ---- cloud sync ------------------------------------------------------------------------

  setSync(state: (typeof SYNC_LINK_STATES)[number], backlog: number, failed: number, totals?: SyncTotals): void {
    for (const st of SYNC_LINK_STATES) this.syncLink.labels(st).set(st === state ? 1 : 0);
    this.syncBacklog.set(backlog);
    this.syncFailed.set(failed);
    if (totals === undefined) return;
    this.advanceTo('sync:batch', this.syncRequests.labels('batch'), totals.batchRequests);
    this.advanceTo('sync:retry', this.syncRequests.labels('retry'), totals.retryRequests);
    this.advanceTo('sync:events', this.syncEventsSent, totals.eventsSent);
    this.advanceTo('sync:unknown', this.syncUnknownFields, totals.unknownFields);
    this.advanceTo('sync:quarantined', this.syncQuarantined, totals.quarantined);
    this.advanceTo('sync:contract', this.syncContractErrors, totals.contractErrors);
  }

  // ---- floor: parcels, devices, waybills, exceptions ---------------------------------------

  /** Exports zeros for each station and line from boot, so rate() works before their first parcel. */
  declareShippingPoints(stations: readonly string[], lines: readonly string[]): void {
    for (const id of stations) this.parcelsShipped.labels('station', id).inc(0);
    for (const id of lines) this.parcelsShipped.labels('line', id).inc(0);
  }

  parcelShipped(kind: ShippingPointKind, id: string, count = 1): void {
    this.parcelsShipped.labels(kind, id).inc(count);
  }

  setDevice(device: string, role: string, online: boolean, fault: boolean): void {
    this.deviceOnline.labels(device, role).set(online ? 1 : 0);
    this.deviceFault.labels(device, role).set(fault ? 1 : 0);
  }

  setPrinterMedia(printer: string, state: PrinterMediaState): void {
    for (const st of PRINTER_MEDIA_STATES) this.printerMedia.labels(printer, st).set(st === state ? 1 : 0);
  }

  setSyncLag(seconds: number): void {
    this.syncLag.set(Math.max(0, seconds));
  }

  setWaybillCoverage(open: number, withWaybill: number): void {
    this.waybillOrders.labels('false').set(open - withWaybill);
    this.waybillOrders.labels('true').set(withWaybill);
    this.waybillCoverageRatio.set(open === 0 ? 1 : withWaybill / open);
  }

  setExceptionQueue(kind: ExceptionKind, size: number): void {
    this.exceptionQueue.labels(kind).set(size);
  }

  setPreflight(status: keyof typeof PREFLIGHT_STATUS_VALUE, bufferHours: number | null): void {
    this.preflightStatus.set(PREFLIGHT_STATUS_VALUE[status]);
    if (bufferHours !== null && Number.isFinite(bufferHours)) this.offlineBufferHours.set(bufferHours);
  }

  // ---- HTTP ------------------------------------------------------------------------------

  /** `route` is the route pattern (`/api/v1/shipments/:shipmentId`), never the raw URL. */
  httpRequest(method: string, route: string, status: number): void {
    this.httpRequests.labels(method, route, String(status)).inc();
  }

  /**
   * prom-client counters cannot be set, so a source total becomes an increment by the
   * difference. A total below the last one means the source restarted from zero: its new
   * total is all new increments (the exported counter stays monotonic, as Prometheus wants).
   */
  private advanceTo(key: string, counter: { inc(n?: number): void }, total: number): void {
    if (!Number.isFinite(total) || total < 0) return;
    const last = this.lastTotals.get(key) ?? 0;
    const delta = total >= last ? total - last : total;
    this.lastTotals.set(key, total);
    if (delta > 0) counter.inc(delta);
  }

  // ---- scrape ----------------------------------------------------------------------------

  /**
   * Registers a function run at every scrape before the text is rendered, e.g.
   * `metrics.collectFrom(() => metrics.setEventLogSeq(store.stats().lastSeq))`.
   * Returns a function that unregisters it (call it in the component's stop()).
   */
  collectFrom(fn: Collector): () => void {
    this.collectors.add(fn);
    return () => this.collectors.delete(fn);
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  /** Runs the collectors, then renders the Prometheus text exposition format. */
  async render(): Promise<string> {
    for (const fn of this.collectors) {
      try {
        await timeJob('metrics:collect', fn);
      } catch (err) {
        // One broken component must not take the whole scrape down with it.
        this.logger?.warn({ err }, 'metrics collector failed');
      }
    }
    return this.registry.metrics();
  }
}
