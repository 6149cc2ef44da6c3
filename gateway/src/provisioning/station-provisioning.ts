/**
 * Makes stations and devices provisioned at run time effective without a restart. The CLI
 * writes through its own SQLite connection (storage/admin-db.ts) and the HTTP API through the
 * store; this component re-reads the two small tables (stations, devices) every `pollMs` and
 * whenever a message comes from a device it does not know yet, and then
 *   - updates the device bindings the ingress routes by (the same Map, in place), and
 *   - opens run-time stations that became complete and closes removed ones in the runtime.
 */
import type { Config, StationConfig } from '../config/schema.js';
import type { Component } from '../lib/component.js';
import type { Logger } from '../lib/logger.js';
import type { DeviceBinding } from '../runtime/bindings.js';
import type { Store } from '../storage/types.js';
import { type ProvisionedStation, resolveStations } from './stations.js';

/** What this component needs from the station runtime. */
export interface StationHost {
  addStation(cfg: StationConfig): Promise<void>;
  removeStation(stationId: string): Promise<void>;
}

export interface StationProvisioningDeps {
  config: Readonly<Config>;
  store: Pick<Store, 'listStations' | 'listDevices'>;
  /** The bindings the ingress reads; updated in place. */
  bindings: Map<string, DeviceBinding>;
  host: StationHost;
  logger: Logger;
  /** How often the tables are re-read (ms). */
  pollMs?: number;
}

export class StationProvisioning implements Component {
  readonly name = 'station-provisioning';
  private timer: NodeJS.Timeout | null = null;
  private fingerprint = '';
  /** Run-time stations open in the runtime, with the config they were opened with. */
  private readonly open = new Map<string, string>();
  private provisioned: ProvisionedStation[] = [];
  private chain: Promise<void> = Promise.resolve();
  private pending: Promise<void> | null = null;

  constructor(private readonly deps: StationProvisioningDeps) {}

  async start(): Promise<void> {
    await this.refresh();
    this.timer = setInterval(() => void this.refresh(), this.deps.pollMs ?? 2000);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.chain;
  }

  /** Run-time stations with their resolution (complete or what is missing). */
  list(): ProvisionedStation[] {
    return this.provisioned;
  }

  /**
   * Re-reads the registry and applies any change. Serialised; a call while one is waiting to
   * run joins it (a burst of messages from an unknown device costs one re-read).
   */
  refresh(): Promise<void> {
    if (this.pending) return this.pending;
    const next = this.chain.then(() => {
      this.pending = null;
      return this.apply();
    });
    this.pending = next;
    this.chain = next.catch((err: unknown) => this.deps.logger.error({ err }, 'station provisioning refresh failed'));
    return next;
  }

  private async apply(): Promise<void> {
    const { config, store, host, logger } = this.deps;
    const r = resolveStations(config, store.listStations(), store.listDevices());
    const fingerprint = JSON.stringify([r.provisioned, [...r.bindings.values()]]);
    if (fingerprint === this.fingerprint) return;
    this.fingerprint = fingerprint;
    this.provisioned = r.provisioned;
    this.replaceBindings(r.bindings);
    const wanted = new Map(r.provisioned.flatMap((p) => (p.resolved === null ? [] : [[p.stationId, p.resolved] as const])));
    for (const [id, cfg] of this.open) {
      const now = wanted.get(id);
      if (now === undefined || JSON.stringify(now) !== cfg) {
        await host.removeStation(id);
        this.open.delete(id);
        logger.info({ stationId: id }, now === undefined ? 'station closed (removed or incomplete)' : 'station reopened with new devices');
      }
    }
    for (const [id, cfg] of wanted) {
      if (this.open.has(id)) continue;
      await host.addStation(cfg);
      this.open.set(id, JSON.stringify(cfg));
      logger.info({ stationId: id, scanner: cfg.scanner, scale: cfg.scale, printer: cfg.printer }, 'station opened (provisioned at run time)');
    }
  }

  private replaceBindings(next: Map<string, DeviceBinding>): void {
    const { bindings } = this.deps;
    bindings.clear();
    for (const [k, v] of next) bindings.set(k, v);
  }
}
