/**
 * Runs the preflight: gathers each check's inputs from the running gateway (device watch,
 * store, sync, printers, the cloud, the disk, the clock) and hands them to the pure checks
 * in checks/. One run at a time; a caller arriving while one runs gets that run's report.
 */
import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { statfs } from 'node:fs/promises';
import { resolve, sep } from 'node:path';
import type { ShopAuthorisations } from '../../../contracts/sync.js';
import { PacklineError } from '../../../contracts/errors.js';
import { redactUrl } from '../config/redact.js';
import type { Config } from '../config/schema.js';
import type { Logger } from '../lib/logger.js';
import type { Store } from '../storage/types.js';
import type { GatewayLinkState } from '../../../contracts/payloads.js';
import { checkClock } from './checks/clock.js';
import { checkCloud } from './checks/cloud.js';
import { checkConfig } from './checks/config.js';
import { checkDevices } from './checks/devices.js';
import { checkLabelTemplates } from './checks/label-templates.js';
import { checkDisk } from './checks/disk.js';
import { checkEncryption, type EncryptionFacts } from './checks/encryption.js';
import { localTlsDir } from '../tls/auto-tls.js';
import { checkPrinterMedia } from './checks/printer-media.js';
import { checkScales } from './checks/scales.js';
import { checkScanners } from './checks/scanners.js';
import { type ShopAuthSource, checkShopAuth } from './checks/shop-auth.js';
import { checkTestPrint, type TestPrintOutcome } from './checks/test-print.js';
import { checkWaybillCoverage } from './checks/waybill.js';
import { type ApiTokenFacts, checkApiTokens } from './checks/api-tokens.js';
import { ntpSynchronized } from './clock-probe.js';
import { type CloudAnswers, probeCloud } from './cloud-probe.js';
import type { DeviceWatch } from './device-watch.js';
import { type CheckResult, type PreflightReport, buildReport } from './report.js';

/** What preflight uses of the store: reads, and `write` for the cached shop authorisations. */
export type PreflightStore = Pick<Store, 'getMeta' | 'stats' | 'waybillCoverage' | 'write' | 'listDevices'>;

/** Store meta key of the last shop authorisation list the cloud gave (JSON). */
export const META_SHOP_AUTH = 'preflight.shop_auth';

/** The printers preflight test-prints on (gateway/src/printing/printers.ts serves this). */
export interface PreflightPrinters {
  list(): ReadonlyArray<{ printerId: string }>;
  /** Resolves once the broker took the test page; rejects with a coded PacklineError otherwise. */
  testPage(printerId: string): Promise<{ jobId: string }>;
}

export interface PreflightDeps {
  config: Readonly<Config>;
  store: PreflightStore;
  watch: DeviceWatch;
  sync: { linkState(): GatewayLinkState; readonly enabled: boolean };
  printers?: PreflightPrinters;
  logger: Logger;
  now?: () => number;
  /** Replaces the cloud probe (tests of the service without a cloud). */
  probe?: typeof probeCloud;
  /** Replaces timedatectl. */
  ntp?: () => Promise<boolean | null>;
  /** The broker's bound listeners (plaintext MQTT, MQTT over TLS); default: the configured ports. */
  listeners?: () => { mqtt: number | null; mqttTls: number | null };
  /** The API tokens in use (runtime/api-tokens.ts); absent, the `api-tokens` check is left out. */
  apiTokens?: () => ApiTokenFacts;
  /** Every finished report (metrics, alerts). */
  onReport?: (report: PreflightReport) => void;
  /** Checks of other parts (handover cut-off, label rolls: gateway/src/handover/), run each time. */
  extraChecks?: () => CheckResult[];
}

export interface PreflightOptions {
  testPrint?: boolean;
}

export class PreflightService {
  private running: Promise<PreflightReport> | null = null;
  private readonly now: () => number;

  constructor(private readonly deps: PreflightDeps) {
    this.now = deps.now ?? Date.now;
  }

  run(opts: PreflightOptions = {}): Promise<PreflightReport> {
    // A test print is never folded into someone else's run (nor skipped because one runs).
    if (opts.testPrint === true) return this.runOnce(true);
    this.running ??= this.runOnce(false).finally(() => {
      this.running = null;
    });
    return this.running;
  }

  private async runOnce(testPrint: boolean): Promise<PreflightReport> {
    const { config, store, watch } = this.deps;
    const p = config.preflight;
    const [cloud, ntp, disk] = await Promise.all([
      (this.deps.probe ?? probeCloud)({ config, now: this.now }).catch((err: unknown): CloudAnswers | null => {
        this.deps.logger.warn({ err: (err as Error).message }, 'preflight: cloud probe failed');
        return null;
      }),
      (this.deps.ntp ?? ntpSynchronized)(),
      this.diskFigures(),
    ]);
    const now = this.now();
    const devices = watch.devices();
    const checks = [
      checkConfig(config),
      checkLabelTemplates(config),
      checkDevices(devices, now),
      checkPrinterMedia(devices.filter((d) => d.role === 'printer')),
      checkScales(
        devices.filter((d) => d.role === 'scale').map((d) => ({ id: d.id, online: d.online, last: d.lastWeight })),
        p.scaleZeroGrams,
        now,
      ),
      checkScanners(
        devices.filter((d) => d.role === 'scanner').map((d) => ({ id: d.id, online: d.online, lastScanAt: d.lastScanAt })),
        p.scannerStaleMinutes,
        now,
      ),
      checkWaybillCoverage(store.waybillCoverage(), config.sync.waybillCoverageAlarmPercent),
    ];
    const shops = await this.shopAuth(cloud);
    checks.push(checkShopAuth(shops.source, shops.why, p.shopAuthWarnDays, now));
    checks.push(checkDisk(disk));
    checks.push(checkClock(clockInput(ntp, cloud), p.clockSkewWarnMs));
    const link = this.deps.sync.linkState();
    checks.push(
      checkCloud(
        {
          enabled: this.deps.sync.enabled,
          url: config.sync.url === undefined ? null : redactUrl(config.sync.url),
          transport: link.transport,
          ping: cloud?.ping ?? null,
          link: { state: link.state, backlog: link.backlog, failed: link.failed },
        },
        p.cloudLatencyWarnMs,
      ),
    );
    checks.push(checkEncryption(this.encryptionFacts(), now));
    if (this.deps.apiTokens !== undefined) checks.push(checkApiTokens(this.deps.apiTokens()));
    checks.push(...(this.deps.extraChecks?.() ?? []));
    if (testPrint) checks.push(checkTestPrint(await this.testPrint()));
    const report = buildReport(checks, now);
    try {
      this.deps.onReport?.(report);
    } catch (err) {
      this.deps.logger.warn({ err: (err as Error).message }, 'preflight: report listener failed');
    }
    return report;
  }

  /** What the encryption check needs: listeners, password devices, the certificate in use. */
  private encryptionFacts(): EncryptionFacts {
    const { config } = this.deps;
    const embedded = config.mqtt.external === undefined;
    const ports = this.deps.listeners?.() ?? {
      mqtt: embedded && config.mqtt.plaintext ? config.mqtt.port : null,
      mqttTls: embedded && config.mqtt.tls.certFile !== undefined ? config.mqtt.tls.port : null,
    };
    // Drivers hosted in the gateway log in over loopback; every other device over the LAN.
    const hosted = new Set(config.devices.filter((d) => d.driver !== undefined).map((d) => d.id));
    const passwordDevices = embedded ? this.deps.store.listDevices().filter((d) => !hosted.has(d.deviceId)).length : 0;
    const certFile = config.http.tls.certFile ?? config.mqtt.tls.certFile;
    let certificate: EncryptionFacts['certificate'] = null;
    if (certFile !== undefined) {
      try {
        const notAfter = Date.parse(new X509Certificate(readFileSync(certFile)).validTo);
        certificate = { file: certFile, notAfter, local: resolve(certFile).startsWith(localTlsDir(resolve(config.dataDir)) + sep) };
      } catch (err) {
        this.deps.logger.warn({ err: (err as Error).message, certFile }, 'preflight: cannot read the server certificate');
      }
    }
    return {
      plaintextMqtt: ports.mqtt === null ? null : { port: ports.mqtt },
      mqttTlsPort: ports.mqttTls,
      passwordDevices,
      https: config.http.tls.certFile !== undefined,
      certificate,
      renewDays: config.tls.renewDays,
    };
  }

  private async diskFigures() {
    const { config, store } = this.deps;
    const dataDir = resolve(config.dataDir);
    const s = store.stats();
    let freeBytes = (s.diskFreeMb ?? 0) * 1_048_576;
    try {
      const fs = await statfs(dataDir);
      freeBytes = Number(fs.bavail) * Number(fs.bsize);
    } catch (err) {
      this.deps.logger.warn({ err: (err as Error).message }, 'preflight: statfs failed; using the store figure');
    }
    const p = config.preflight;
    return {
      dataDir,
      freeBytes,
      reserveBytes: config.storage.minFreeMb * 1_048_576,
      storeBytes: s.dbBytes + s.walBytes,
      events: s.lastSeq,
      peakShipmentsPerHour: p.peakShipmentsPerHour,
      eventsPerShipment: p.eventsPerShipment,
      warnHours: p.bufferWarnHours,
      failHours: p.bufferFailHours,
    };
  }

  /** The cloud's answer (stored for when the WAN is down), else the stored one, else why not. */
  private async shopAuth(cloud: CloudAnswers | null): Promise<{ source: ShopAuthSource | null; why: string | null }> {
    if (cloud?.shops.ok === true) {
      const stored = { fetchedAt: cloud.shops.at, shops: cloud.shops.reply.shops };
      await this.deps.store
        .write([{ op: 'meta.put', key: META_SHOP_AUTH, value: JSON.stringify(stored) }])
        .catch((err: unknown) => this.deps.logger.warn({ err: (err as Error).message }, 'preflight: could not store the shop authorisations'));
      return { source: { ...stored, fromCache: false }, why: null };
    }
    const why = cloud === null ? 'cloud sync not configured (sync.url)' : cloud.shops.ok ? null : cloud.shops.error;
    const raw = this.deps.store.getMeta(META_SHOP_AUTH);
    if (raw !== null) {
      try {
        const stored = JSON.parse(raw) as { fetchedAt: number; shops: ShopAuthorisations['shops'] };
        return { source: { ...stored, fromCache: true }, why };
      } catch {
        // a damaged record is as good as none
      }
    }
    return { source: null, why };
  }

  private async testPrint(): Promise<TestPrintOutcome[]> {
    const printers = this.deps.printers;
    if (printers === undefined) return [];
    const out: TestPrintOutcome[] = [];
    for (const p of printers.list()) {
      try {
        const { jobId } = await printers.testPage(p.printerId);
        out.push({ printerId: p.printerId, ok: true, jobId });
      } catch (err) {
        const code = err instanceof PacklineError ? err.code : 'PKL_INTERNAL';
        out.push({ printerId: p.printerId, ok: false, code, message: (err as Error).message });
      }
    }
    return out;
  }
}

function clockInput(ntp: boolean | null, cloud: CloudAnswers | null) {
  // The shops answer carries the cloud's clock in ms; a round-trip midpoint bounds the error by RTT/2.
  if (cloud?.shops.ok === true) {
    const s = cloud.shops;
    return { ntpSynchronized: ntp, offsetMs: Math.round(s.at - s.rttMs / 2 - s.reply.server_time), offsetSource: 'cloud server_time' };
  }
  if (cloud?.dateHeaderOffsetMs != null) return { ntpSynchronized: ntp, offsetMs: cloud.dateHeaderOffsetMs, offsetSource: 'cloud Date header' };
  return { ntpSynchronized: ntp, offsetMs: null, offsetSource: null };
}
