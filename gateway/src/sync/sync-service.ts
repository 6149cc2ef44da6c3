/**
 * Cloud sync inside the gateway: builds the transport the config names, runs the outbox pump
 * and the inbound feed over one link monitor, publishes the link state (retained, on
 * `gateway/{gw}/link`), raises alarms (long outage, sync failures, low waybill coverage) and
 * answers the HTTP API's sync questions.
 *
 * Without `sync.url` it still answers (state `disabled`): the event log keeps every event
 * until a cloud is configured, and the pull feed lets the cloud fetch shipments itself.
 */
import { readFileSync } from 'node:fs';
import { topics } from '../../../contracts/topics.js';
import type { GatewayLinkState } from '../../../contracts/payloads.js';
import type { RejectedEvent } from '../../../contracts/sync.js';
import type { QuarantinedChange } from '../../../cloud-sync/src/ports.js';
import type { SyncTotals } from '../metrics.js';
import { InboundFeed, type InboundStats } from '../../../cloud-sync/src/inbound-feed.js';
import { LinkMonitor, type LinkSnapshot } from '../../../cloud-sync/src/link-monitor.js';
import type { Alert } from '../../../cloud-sync/src/notify/alert.js';
import { resolvedAlert } from '../../../cloud-sync/src/notify/alert.js';
import { OutboxPump, type OutboxStats } from '../../../cloud-sync/src/outbox-pump.js';
import { SyncClient } from '../../../cloud-sync/src/sync-client.js';
import type { SyncTransport } from '../../../cloud-sync/src/transport.js';
import { HttpSyncTransport } from '../../../cloud-sync/src/transports/http-transport.js';
import { MqttBridgeTransport } from '../../../cloud-sync/src/transports/mqtt-bridge-transport.js';
import { PacklineError } from '../../../contracts/errors.js';
import type { BrokerLink } from '../broker/link.js';
import { redactUrl } from '../config/redact.js';
import type { Config } from '../config/schema.js';
import type { Logger } from '../lib/logger.js';
import type { Store, SyncFailure } from '../storage/types.js';
import { HELD_CHANGE_TTL_MS } from './change-applier.js';
import { retryOps } from './retry-request.js';
import { StoreSyncAdapter } from './sync-store-adapter.js';
import { timeJob } from '../lib/loop-jobs.js';

/** Where alerts go (the notifier; tests pass a recorder). */
export interface AlertSink {
  notify(alert: Alert): void;
}

export interface SyncStatus {
  enabled: boolean;
  link: GatewayLinkState;
  outbox: OutboxStats | null;
  inbound: InboundStats | null;
  /** Fields in cloud answers this gateway did not know (ignored, counted). */
  unknownFields: number;
  waybillCoverage: { open: number; withWaybill: number; percent: number; alarm: boolean };
}

export interface SyncServiceOptions {
  config: Config;
  store: Store;
  /** Where the link state is published; null when there is no broker (API-only tests). */
  link: Pick<BrokerLink, 'publish'> | null;
  logger: Logger;
  alerts?: AlertSink;
  /** Orders the inbound feed changed (stations showing them re-check at once). */
  onOrdersChanged?: (orderIds: string[]) => void;
  now?: () => number;
  /** How often alarms are evaluated and the link state refreshed (default 5 s). */
  watchEveryMs?: number;
}

/** How often outage and coverage alarms are evaluated and the link state refreshed. */
const WATCH_EVERY_MS = 5_000;

export class SyncService {
  readonly name = 'cloud-sync';
  private readonly adapter: StoreSyncAdapter;
  private transport: SyncTransport | null = null;
  private monitor: LinkMonitor | null = null;
  private pump: OutboxPump | null = null;
  private feed: InboundFeed | null = null;
  private client: SyncClient | null = null;
  private contractAlerted = false;
  private watch: NodeJS.Timeout | null = null;
  private readonly now: () => number;
  private readonly startedAt: number;
  /** Monotonic ms (performance.now) of the last time the link was online: the wall clock may jump. */
  private lastOnlineAt: number;
  private outageAlerted = false;
  private coverageAlerted = false;
  private lastPublished = '';
  /** Monotonic ms of the last prune of held changes (hourly). */
  private lastHeldPrune = Number.NEGATIVE_INFINITY;

  constructor(private readonly opts: SyncServiceOptions) {
    this.now = opts.now ?? Date.now;
    this.startedAt = this.now();
    this.lastOnlineAt = performance.now();
    this.adapter = new StoreSyncAdapter(opts.store, opts.onOrdersChanged, this.now);
  }

  get enabled(): boolean {
    return this.opts.config.sync.url !== undefined;
  }

  async start(): Promise<void> {
    if (this.watch !== null) return;
    const cfg = this.opts.config.sync;
    const log = this.opts.logger;
    if (cfg.url !== undefined) {
      const key = loadSyncKey(cfg.keyFile);
      this.transport = buildTransport(this.opts.config);
      await this.transport.start();
      this.monitor = new LinkMonitor({
        failureThreshold: cfg.backoff.failureThreshold,
        baseDelayMs: cfg.backoff.baseMs,
        maxDelayMs: cfg.backoff.maxMs,
        now: this.now,
        onChange: (s) => this.linkChanged(s),
      });
      const client = new SyncClient({ transport: this.transport, gatewayId: this.opts.config.gatewayId, key, timeoutMs: cfg.timeoutMs, now: this.now });
      this.client = client;
      this.pump = new OutboxPump({
        store: this.adapter,
        client,
        link: this.monitor,
        gatewayId: this.opts.config.gatewayId,
        bounds: { maxEvents: cfg.batch.maxEvents, maxBytes: cfg.batch.maxBytes },
        lingerMs: cfg.batch.lingerMs,
        logger: log.child({ part: 'outbox' }),
        now: this.now,
        onRejected: (r) => this.rejected(r),
        timeoutMs: cfg.timeoutMs,
      });
      this.feed = new InboundFeed({
        store: this.adapter,
        client,
        link: this.monitor,
        pollMs: cfg.inbound.pollMs,
        pageSize: cfg.inbound.pageSize,
        logger: log.child({ part: 'inbound' }),
        now: this.now,
        onQuarantined: (q) => this.quarantined(q),
      });
      await this.pump.start();
      await this.feed.start();
      log.info({ url: redactUrl(cfg.url), transport: this.transport.name }, 'cloud sync started');
    } else {
      log.warn('cloud sync is not configured (sync.url): events stay in the local log until it is');
    }
    this.watch = setInterval(() => timeJob('sync:watch', () => this.check()), this.opts.watchEveryMs ?? WATCH_EVERY_MS);
    this.watch.unref();
    this.check();
  }

  async stop(): Promise<void> {
    if (this.watch !== null) clearInterval(this.watch);
    this.watch = null;
    // Stop the loops first (they finish or abandon their step), then close the transport,
    // which fails any request still waiting.
    const stopping = Promise.all([this.pump?.stop(), this.feed?.stop()]);
    await Promise.race([stopping, new Promise((r) => setTimeout(r, 2_000).unref())]);
    await this.transport?.stop();
    await stopping;
    this.pump = null;
    this.feed = null;
    this.client = null;
    this.transport = null;
    this.monitor = null;
  }

  ackedSeq(): number {
    return this.adapter.ackedSeq();
  }

  /** New events were written: send without waiting for the next poll. */
  kick(): void {
    this.pump?.kick();
  }

  status(): SyncStatus {
    const cov = this.opts.store.waybillCoverage();
    const percent = cov.open === 0 ? 100 : Math.round((cov.withWaybill / cov.open) * 1000) / 10;
    return {
      enabled: this.enabled,
      link: this.linkState(),
      outbox: this.pump?.stats() ?? null,
      inbound: this.feed?.stats() ?? null,
      unknownFields: this.client?.unknownFieldStats.count ?? 0,
      waybillCoverage: { ...cov, percent, alarm: percent < this.opts.config.sync.waybillCoverageAlarmPercent },
    };
  }

  /** Running totals for the metrics (requests and events sent answered or not, contract trouble). */
  totals(): SyncTotals {
    const o = this.pump?.stats();
    return {
      batchRequests: o?.requests ?? 0,
      retryRequests: o?.retryRequests ?? 0,
      eventsSent: o?.eventsSent ?? 0,
      unknownFields: this.client?.unknownFieldStats.count ?? 0,
      quarantined: this.feed?.stats().quarantined ?? 0,
      contractErrors: o?.contractErrors ?? 0,
    };
  }

  failures(q: { state?: SyncFailure['state'] | 'open'; limit?: number }): SyncFailure[] {
    return this.opts.store.syncFailures(q);
  }

  /**
   * Marks failed events for resubmission (after the cause was fixed upstream); the pump
   * sends them before its next batch. `seqs` empty = every open failure.
   */
  async requestRetry(seqs: number[]): Promise<number[]> {
    if (!this.enabled) throw new PacklineError('PKL_SYNC_NOT_CONFIGURED', {});
    const { seqs: targets, ops } = retryOps(this.opts.store, seqs, this.now());
    if (targets.length === 0) return [];
    await this.opts.store.write(ops);
    this.pump?.kick();
    return targets;
  }

  /** The link as published on `gateway/{gw}/link` (cheap: no order scan). */
  linkState(): GatewayLinkState {
    const stats = this.opts.store.stats();
    const acked = this.adapter.ackedSeq();
    const snap = this.monitor?.snapshot();
    return {
      state: snap?.state ?? 'disabled',
      since: snap?.since ?? this.startedAt,
      transport: this.transport?.name ?? 'none',
      backlog: Math.max(0, stats.lastSeq - acked),
      acked_seq: acked,
      failed: this.opts.store.openSyncFailureCount(),
      last_error: snap?.lastError ?? null,
      ts: this.now(),
    };
  }

  private linkChanged(s: LinkSnapshot): void {
    if (s.state === 'online') this.lastOnlineAt = performance.now();
    if (s.state === 'contract_error' && !this.contractAlerted) {
      this.contractAlerted = true;
      this.opts.alerts?.notify({
        key: 'sync.contract',
        severity: 'critical',
        title: 'Cloud answers do not match the sync contract',
        text: `Sync waits with backoff until the cloud answers as docs/sync.md says; stations keep shipping. Cause: ${s.lastError ?? 'unknown'}`,
        details: { cause: s.lastError },
        at: this.now(),
      });
    } else if (s.state === 'online' && this.contractAlerted) {
      this.contractAlerted = false;
      this.opts.alerts?.notify(resolvedAlert('sync.contract', { title: 'Cloud answers match the sync contract again', text: 'Sync resumed.', at: this.now() }));
    }
    this.publish();
  }

  /** Changes the gateway could not apply: stored (event log) and reported upstream already; tell someone. */
  private quarantined(q: QuarantinedChange[]): void {
    const first = q[0];
    if (first === undefined) return;
    this.opts.alerts?.notify({
      key: 'sync.change_rejected',
      severity: 'warning',
      title: `Gateway could not apply ${q.length} cloud change(s): ${first.code}`,
      text: `Quarantined and reported upstream (sync.change_rejected events); the feed moved on. First: ${first.kind ?? '?'} ${first.order_id ?? ''} at cursor ${first.cursor ?? '?'}: ${first.reason}`,
      details: { count: q.length, code: first.code, cursor: first.cursor, kind: first.kind, order_id: first.order_id },
      at: this.now(),
    });
  }

  /** Publishes the link state when it changed (retained, so a screen that connects later sees it). */
  private publish(): void {
    const state = this.linkState();
    const key = `${state.state}|${state.backlog}|${state.failed}|${state.last_error ?? ''}`;
    if (key === this.lastPublished) return;
    this.lastPublished = key;
    this.opts.link
      ?.publish(topics.gatewayLink(this.opts.config.gatewayId), JSON.stringify(state), { qos: 1, retain: true })
      .catch((err: unknown) => this.opts.logger.warn({ err: (err as Error).message }, 'could not publish the link state'));
  }

  private check(): void {
    try {
      this.publish();
      this.checkOutage();
      this.checkCoverage();
      this.pruneHeld();
    } catch (err) {
      this.opts.logger.error({ err: (err as Error).message }, 'sync watch failed');
    }
  }

  /** Forgets held changes whose order never came within HELD_CHANGE_TTL_MS (hourly). */
  private pruneHeld(): void {
    const t = performance.now();
    if (t - this.lastHeldPrune < 3_600_000) return;
    this.lastHeldPrune = t;
    this.opts.store
      .write([{ op: 'order.hold_prune', before: Math.floor(this.now() - HELD_CHANGE_TTL_MS) }])
      .catch((err: unknown) => this.opts.logger.warn({ err: (err as Error).message }, 'could not prune held order changes'));
  }

  private checkOutage(): void {
    const snap = this.monitor?.snapshot();
    if (snap === undefined) return;
    const now = this.now();
    if (snap.state === 'online') {
      this.lastOnlineAt = performance.now();
      if (this.outageAlerted) {
        this.outageAlerted = false;
        this.opts.alerts?.notify(
          resolvedAlert('sync.outage', {
            title: 'Cloud link is back',
            text: 'The gateway reaches the cloud again; the backlog is draining.',
            at: now,
            details: { backlog: this.linkState().backlog },
          }),
        );
      }
      return;
    }
    const downMs = performance.now() - this.lastOnlineAt;
    if (downMs >= this.opts.config.sync.outageAlertAfterMs) {
      this.outageAlerted = true;
      const st = this.linkState();
      this.opts.alerts?.notify({
        key: 'sync.outage',
        severity: 'critical',
        title: `Cloud link ${snap.state} for ${Math.round(downMs / 60_000)} min`,
        text: 'Stations keep shipping on the local cache; events wait in the outbox. Check the WAN and the cloud order system.',
        details: { state: st.state, backlog: st.backlog, last_error: st.last_error, minutes: Math.round(downMs / 60_000) },
        at: now,
      });
    }
  }

  private checkCoverage(): void {
    const cov = this.status().waybillCoverage;
    const now = this.now();
    if (cov.alarm) {
      this.coverageAlerted = true;
      this.opts.alerts?.notify({
        key: 'waybill.coverage',
        severity: 'warning',
        title: `Only ${cov.percent}% of open orders have a waybill`,
        text: 'Orders without a pre-fetched waybill cannot ship while the WAN is down. Fetch waybills now.',
        details: { open: cov.open, with_waybill: cov.withWaybill },
        at: now,
      });
    } else if (this.coverageAlerted) {
      this.coverageAlerted = false;
      this.opts.alerts?.notify(
        resolvedAlert('waybill.coverage', { title: 'Waybill coverage restored', text: `${cov.percent}% of open orders have a waybill.`, at: now }),
      );
    }
  }

  private rejected(r: RejectedEvent[]): void {
    this.publish();
    const first = r[0];
    if (first === undefined) return;
    this.opts.alerts?.notify({
      key: 'sync.failed',
      severity: 'warning',
      title: `Cloud rejected ${r.length} event(s): ${first.code}`,
      text: `Tagged "sync failed"; they block nothing. Fix the cause upstream, then run: packline sync retry. First: event ${first.seq}: ${first.reason}`,
      details: { count: r.length, first_seq: first.seq, code: first.code },
      at: this.now(),
    });
  }
}

/** The HMAC key: PACKLINE_SYNC_KEY, else the key file. Never logged. */
export function loadSyncKey(keyFile: string | undefined, env: NodeJS.ProcessEnv = process.env): string {
  const fromEnv = env['PACKLINE_SYNC_KEY'];
  if (fromEnv !== undefined && fromEnv.trim().length > 0) return fromEnv.trim();
  if (keyFile === undefined) throw new PacklineError('PKL_SYNC_KEY_MISSING', { reason: 'neither is set' });
  let key: string;
  try {
    key = readFileSync(keyFile, 'utf8').trim();
  } catch (err) {
    throw new PacklineError('PKL_SYNC_KEY_MISSING', { reason: `${keyFile}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}` });
  }
  if (key.length < 16) throw new PacklineError('PKL_SYNC_KEY_MISSING', { reason: `${keyFile} holds fewer than 16 characters` });
  return key;
}

function buildTransport(config: Config): SyncTransport {
  const cfg = config.sync;
  const url = cfg.url!;
  const ca = cfg.caFile !== undefined ? readFileSync(cfg.caFile) : undefined;
  if (url.startsWith('mqtt')) {
    return new MqttBridgeTransport({
      url,
      gatewayId: config.gatewayId,
      clientId: `packline-sync-${config.gatewayId}`,
      ...(cfg.mqttUsername !== undefined ? { username: cfg.mqttUsername } : {}),
      ...(cfg.mqttPassword !== undefined ? { password: cfg.mqttPassword } : {}),
      ...(ca !== undefined ? { ca } : {}),
    });
  }
  return new HttpSyncTransport({ baseUrl: url, ...(ca !== undefined ? { ca } : {}) });
}
