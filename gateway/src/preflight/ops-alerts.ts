/**
 * Operations alerts through the notifier that already carries the sync's outage alerts
 * (cloud-sync/src/notify): a device offline longer than `preflight.deviceOfflineAlertMinutes`,
 * a printer out of paper or ribbon (or its head open, or jammed), the disk running low, and a
 * failing preflight (run in the background every `preflight.checkEveryMinutes`, and any run
 * someone asks for). Each condition has its own key and is reported on every check while it
 * holds; the notifier's rate limiter turns that into a first message, spaced reminders and
 * one "resolved" (cloud-sync/src/notify/alert.ts).
 */
import type { Alert } from '../../../cloud-sync/src/notify/alert.js';
import { resolvedAlert } from '../../../cloud-sync/src/notify/alert.js';
import type { Config } from '../config/schema.js';
import type { Component } from '../lib/component.js';
import type { Logger } from '../lib/logger.js';
import type { Store } from '../storage/types.js';
import { MEDIA_FAULTS, mediaState } from './checks/printer-media.js';
import { bufferHours } from './checks/disk.js';
import type { DeviceWatch } from './device-watch.js';
import { type PreflightReport, humanDuration } from './report.js';
import { timeJob } from '../lib/loop-jobs.js';

/** What the ops alerts read of the store. */
export type OpsAlertsStore = Pick<Store, 'diskLow' | 'stats'>;

export interface AlertSink {
  notify(alert: Alert): void;
}

export interface OpsAlertsOptions {
  config: Readonly<Config>;
  store: OpsAlertsStore;
  watch: DeviceWatch;
  alerts: AlertSink;
  logger: Logger;
  /** Background preflight (null: none). */
  runPreflight?: (() => Promise<PreflightReport>) | null;
  now?: () => number;
  /** How often devices and the disk are looked at (default 15 s). */
  everyMs?: number;
}

const EVERY_MS = 15_000;

export class OpsAlerts implements Component {
  readonly name = 'ops-alerts';
  private timer: NodeJS.Timeout | null = null;
  private preflightTimer: NodeJS.Timeout | null = null;
  /** Keys currently firing, so each gets exactly one resolution. */
  private readonly firing = new Set<string>();
  private readonly now: () => number;

  constructor(private readonly opts: OpsAlertsOptions) {
    this.now = opts.now ?? Date.now;
  }

  async start(): Promise<void> {
    if (this.timer !== null) return;
    this.timer = setInterval(() => timeJob('ops:alerts', () => this.check()), this.opts.everyMs ?? EVERY_MS);
    this.timer.unref();
    const minutes = this.opts.config.preflight.checkEveryMinutes;
    const run = this.opts.runPreflight;
    if (run != null && minutes > 0) {
      this.preflightTimer = setInterval(() => {
        timeJob('ops:preflight', run).catch((err: unknown) => this.opts.logger.warn({ err: (err as Error).message }, 'background preflight failed to run'));
      }, minutes * 60_000);
      this.preflightTimer.unref();
    }
  }

  async stop(): Promise<void> {
    if (this.timer !== null) clearInterval(this.timer);
    if (this.preflightTimer !== null) clearInterval(this.preflightTimer);
    this.timer = null;
    this.preflightTimer = null;
  }

  /** Devices and disk, now (the timer calls it; tests too). */
  check(): void {
    try {
      this.checkDevices();
      this.checkDisk();
    } catch (err) {
      this.opts.logger.error({ err: (err as Error).message }, 'ops alert check failed');
    }
  }

  /** A finished preflight report (background or asked for). */
  preflightReport(report: PreflightReport): void {
    const failed = report.checks.filter((c) => c.status === 'fail');
    this.condition(
      'preflight.fail',
      failed.length > 0,
      () => ({
        severity: 'critical',
        title: `Preflight FAIL: ${failed.map((c) => c.title).join(', ')}`,
        text: failed
          .map((c) => `${c.title}: ${c.detail}`)
          .join('\n')
          .slice(0, 2000),
        details: { failed: failed.map((c) => c.id).join(','), warnings: report.checks.filter((c) => c.status === 'warn').length },
      }),
      'Preflight passes again',
    );
  }

  private checkDevices(): void {
    const afterMs = this.opts.config.preflight.deviceOfflineAlertMinutes * 60_000;
    const now = this.now();
    for (const d of this.opts.watch.devices()) {
      const downMs = d.offlineSince === null ? 0 : now - d.offlineSince;
      this.condition(
        `device.offline.${d.id}`,
        !d.online && d.offlineSince !== null && downMs >= afterMs,
        () => ({
          severity: d.boundTo !== null ? 'critical' : 'warning',
          title: `${d.role} ${d.id} offline for ${humanDuration(downMs)}`,
          text: `${d.boundTo !== null ? `${d.boundTo} cannot work without it. ` : ''}Check its power, cable and network${d.reason ? ` (${d.reason})` : ''}.`,
          details: { device: d.id, role: d.role, station: d.boundTo, minutes: Math.round(downMs / 60_000) },
        }),
        `${d.role} ${d.id} is back online`,
      );
      if (d.role !== 'printer') continue;
      const media = mediaState(d);
      this.condition(
        `printer.media.${d.id}`,
        (MEDIA_FAULTS as readonly string[]).includes(media),
        () => ({
          severity: 'critical',
          title: `Printer ${d.id}: ${media.replace('_', ' ')}`,
          text: `Labels ${d.boundTo !== null ? `for ${d.boundTo} ` : ''}go to another printer of the channel if there is one, else wait. Load ${media === 'ribbon_out' ? 'a ribbon' : media === 'paper_out' ? 'labels' : 'the printer and close the head'}.`,
          details: { printer: d.id, state: media, station: d.boundTo },
        }),
        `Printer ${d.id} media ok again`,
      );
    }
  }

  private checkDisk(): void {
    const { store, config } = this.opts;
    const s = store.stats();
    const freeMb = s.diskFreeMb;
    if (freeMb === undefined) return;
    const p = config.preflight;
    const hours = bufferHours({
      dataDir: config.dataDir,
      freeBytes: freeMb * 1_048_576,
      reserveBytes: config.storage.minFreeMb * 1_048_576,
      storeBytes: s.dbBytes + s.walBytes,
      events: s.lastSeq,
      peakShipmentsPerHour: p.peakShipmentsPerHour,
      eventsPerShipment: p.eventsPerShipment,
      warnHours: p.bufferWarnHours,
      failHours: p.bufferFailHours,
    });
    const low = store.diskLow() || hours < p.bufferFailHours;
    this.condition(
      'disk.low',
      low,
      () => ({
        severity: 'critical',
        title: store.diskLow() ? `Disk almost full: ${freeMb} MB free, new work refused` : `Disk low: ${Math.round(hours * 10) / 10} h of offline buffer left`,
        text: `The data directory ${config.dataDir} has ${freeMb} MB free; at ${p.peakShipmentsPerHour} shipments/h that is ${Math.round(hours * 10) / 10} h of events with the WAN down. Free space (old logs, labels) or move the data directory.`,
        details: { free_mb: freeMb, buffer_hours: Math.round(hours * 10) / 10, refusing: store.diskLow() },
      }),
      'Disk space ok again',
    );
  }

  private condition(key: string, holds: boolean, fire: () => Omit<Alert, 'key' | 'at'>, resolvedTitle: string): void {
    if (holds) {
      this.firing.add(key);
      this.opts.alerts.notify({ key, at: this.now(), ...fire() });
    } else if (this.firing.delete(key)) {
      this.opts.alerts.notify(resolvedAlert(key, { title: resolvedTitle, text: resolvedTitle, at: this.now() }));
    }
  }
}
