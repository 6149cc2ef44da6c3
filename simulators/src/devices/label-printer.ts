/**
 * A networked label printer on MQTT: takes `dev/{id}/cmd/print` {job_id, format, data, copies},
 * writes the label to `<labelsDir>/<job_id>.zpl` (the "printed" label, for inspection), and
 * answers `dev/{id}/evt/print_result` {job_id, status, reason?}.
 *
 * Faults: `paperOut` (answers failed / reason paper_out, like a Zebra's ~HS paper-out flag),
 * `slowMs` (print time per label), and offline (`goOffline()` drops the connection without
 * DISCONNECT so the broker publishes the `offline` will; `goOnline()` reconnects).
 */
import { EventEmitter } from 'node:events';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { PrintCommand } from '../../../contracts/payloads.js';
import type { SimLogger } from '../lib/logger.js';
import { silentLogger } from '../lib/logger.js';
import { nowMs, sleep } from '../lib/time.js';
import { DeviceClient, type EventReply } from './device-client.js';

export interface PrinterFaults {
  paperOut?: boolean;
  /** Extra milliseconds per label before the result is sent. */
  slowMs?: number;
}

export interface LabelPrinterOptions {
  mqttUrl: string;
  deviceId: string;
  secret: string;
  /** Where labels are written; omit to print to nowhere (load tests). */
  labelsDir?: string;
  faults?: PrinterFaults;
  replyTimeoutMs?: number;
  connectRetryMs?: number;
  logger?: SimLogger;
}

export interface PrintRecord {
  jobId: string;
  shipmentId: string | null;
  /** performance.now() when the command arrived. */
  receivedAt: number;
  status: 'printed' | 'failed';
  reason?: string;
  file?: string;
  /** The gateway's answer to our print_result. */
  reply: EventReply;
}

export interface LabelPrinterEvents {
  /** A print command arrived (before printing starts). */
  command: [cmd: PrintCommand, receivedAt: number];
  /** The print result has been published and answered. */
  printed: [record: PrintRecord];
}

/** Job ids come off the wire; only safe characters reach the file system. */
export function labelFileName(jobId: string): string {
  const safe = jobId.replace(/[^A-Za-z0-9_.-]/g, '_').replace(/^\.+/, '_');
  return `${safe.slice(0, 120) || '_'}.zpl`;
}

function asPrintCommand(v: unknown): { ok: true; cmd: PrintCommand } | { ok: false; jobId: string | null; reason: string } {
  if (v === null || typeof v !== 'object') return { ok: false, jobId: null, reason: 'command is not a JSON object' };
  const o = v as Record<string, unknown>;
  const jobId = typeof o['job_id'] === 'string' && o['job_id'].length > 0 ? o['job_id'] : null;
  if (jobId === null) return { ok: false, jobId: null, reason: 'job_id missing' };
  if (o['format'] !== 'zpl') return { ok: false, jobId, reason: `unsupported format ${String(o['format'])}` };
  if (typeof o['data'] !== 'string') return { ok: false, jobId, reason: 'data missing' };
  const copies = o['copies'] ?? 1;
  if (!Number.isInteger(copies) || (copies as number) < 1 || (copies as number) > 10) {
    return { ok: false, jobId, reason: 'copies must be 1..10' };
  }
  const cmd: PrintCommand = { job_id: jobId, format: 'zpl', data: o['data'], copies: copies as number };
  if (typeof o['shipment_id'] === 'string') cmd.shipment_id = o['shipment_id'];
  return { ok: true, cmd };
}

export class LabelPrinterSim extends EventEmitter<LabelPrinterEvents> {
  readonly client: DeviceClient;
  readonly records: PrintRecord[] = [];
  private faults: Required<PrinterFaults>;
  private readonly log: SimLogger;
  private queue: Promise<void> = Promise.resolve();
  private rejected = 0;

  constructor(private readonly opts: LabelPrinterOptions) {
    super();
    this.client = this.makeClient();
    this.faults = { paperOut: false, slowMs: 0, ...opts.faults };
    this.log = opts.logger ?? silentLogger;
  }

  get deviceId(): string {
    return this.client.deviceId;
  }

  setFaults(faults: PrinterFaults): void {
    this.faults = { ...this.faults, ...faults };
  }

  async start(): Promise<void> {
    if (this.opts.labelsDir) await mkdir(this.opts.labelsDir, { recursive: true });
    await this.client.start();
  }

  stop(): Promise<void> {
    return this.client.stop();
  }

  goOffline(): Promise<void> {
    return this.client.dropConnection();
  }

  goOnline(): Promise<void> {
    return this.client.start();
  }

  stats(): { printed: number; failed: number; rejected: number } {
    let printed = 0;
    let failed = 0;
    for (const r of this.records) {
      if (r.status === 'printed') printed++;
      else failed++;
    }
    return { printed, failed, rejected: this.rejected };
  }

  /** Resolves with the next print command to arrive (for latency measurement). */
  nextCommand(timeoutMs: number, signal?: AbortSignal): Promise<{ cmd: PrintCommand; receivedAt: number } | null> {
    return new Promise((resolve) => {
      const done = (v: { cmd: PrintCommand; receivedAt: number } | null) => {
        clearTimeout(timer);
        this.off('command', onCmd);
        signal?.removeEventListener('abort', onAbort);
        resolve(v);
      };
      const onCmd = (cmd: PrintCommand, receivedAt: number) => done({ cmd, receivedAt });
      const onAbort = () => done(null);
      const timer = setTimeout(() => done(null), timeoutMs);
      this.on('command', onCmd);
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  /** Resolves once the print result of `jobId` has been published and answered. */
  whenPrinted(jobId: string, timeoutMs: number): Promise<PrintRecord | null> {
    const done = this.records.find((r) => r.jobId === jobId);
    if (done) return Promise.resolve(done);
    return new Promise((resolve) => {
      const onPrinted = (r: PrintRecord) => {
        if (r.jobId !== jobId) return;
        clearTimeout(timer);
        this.off('printed', onPrinted);
        resolve(r);
      };
      const timer = setTimeout(() => {
        this.off('printed', onPrinted);
        resolve(null);
      }, timeoutMs);
      this.on('printed', onPrinted);
    });
  }

  private makeClient(): DeviceClient {
    const client = new DeviceClient({
      mqttUrl: this.opts.mqttUrl,
      deviceId: this.opts.deviceId,
      secret: this.opts.secret,
      ...(this.opts.connectRetryMs !== undefined ? { connectRetryMs: this.opts.connectRetryMs } : {}),
      commands: ['print'],
      replyTimeoutMs: this.opts.replyTimeoutMs ?? 10_000,
      ...(this.opts.logger ? { logger: this.opts.logger } : {}),
    });
    client.on('command', (kind, payload) => {
      if (kind !== 'print') return;
      const receivedAt = nowMs();
      // A printer prints one label at a time, in the order the jobs arrived.
      this.queue = this.queue
        .then(() => this.handle(payload, receivedAt))
        .catch((err: Error) => {
          this.log.error({ deviceId: this.deviceId, err: err.message }, 'printer sim failed a job');
        });
    });
    return client;
  }

  private async handle(payload: unknown, receivedAt: number): Promise<void> {
    const parsed = asPrintCommand(payload);
    if (!parsed.ok) {
      this.rejected++;
      this.log.warn({ deviceId: this.deviceId, reason: parsed.reason }, 'printer sim refused a print command');
      if (parsed.jobId !== null) {
        await this.client.publishEvent('print_result', { job_id: parsed.jobId, status: 'failed', reason: parsed.reason });
      }
      return;
    }
    const cmd = parsed.cmd;
    this.emit('command', cmd, receivedAt);
    if (this.faults.slowMs > 0) await sleep(this.faults.slowMs);
    let status: 'printed' | 'failed' = 'printed';
    let reason: string | undefined;
    let file: string | undefined;
    if (this.faults.paperOut) {
      status = 'failed';
      reason = 'paper_out';
    } else if (this.opts.labelsDir) {
      file = join(this.opts.labelsDir, labelFileName(cmd.job_id));
      try {
        await writeFile(file, cmd.data);
      } catch (err) {
        status = 'failed';
        reason = `cannot write label: ${(err as Error).message}`.slice(0, 200);
        file = undefined;
      }
    }
    const body = { job_id: cmd.job_id, status, ts: Date.now(), ...(reason ? { reason } : {}) };
    const reply = await this.client.publishEvent('print_result', body);
    const record: PrintRecord = { jobId: cmd.job_id, shipmentId: cmd.shipment_id ?? null, receivedAt, status, reply };
    if (reason) record.reason = reason;
    if (file) record.file = file;
    this.records.push(record);
    if (this.records.length > 1000) this.records.splice(0, this.records.length - 1000);
    this.emit('printed', record);
  }
}
