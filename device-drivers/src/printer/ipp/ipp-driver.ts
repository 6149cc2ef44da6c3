/**
 * IppPrinterDriver: one IPP printer (IPP Everywhere / any IPP/1.1 printer, e.g. CUPS'
 * ippeveprinter) bridged onto MQTT under the printer's own identity (docs/mqtt.md).
 *
 *   `dev/{id}/cmd/print` {job_id, format, data, copies}
 *      ──▶ Get-Printer-Attributes ── blocking printer-state-reasons? ──▶ print_result failed/<fault>
 *      ──▶ Print-Job (data as the document) ──▶ Get-Job-Attributes until completed/aborted/canceled
 *      ──▶ print_result printed | failed/<reason>
 *   retained `dev/{id}/state` online (+ supply warning) | error (+ fault) | offline (+ why), last will offline
 *
 * Jobs run one at a time in arrival order. A job_id whose Print-Job was sent is never sent
 * again: re-issues are answered from {@link JobMemory}. The printer is polled while idle; an
 * unreachable printer is `offline` and polled again with exponential backoff + jitter.
 */
import { pino, type Logger } from 'pino';
import { describeError, type ErrorCode, type ErrorDetails } from '../../../../contracts/errors.js';
import type { PrintResultEvent } from '../../../../contracts/payloads.js';
import type { CommandKind } from '../../../../contracts/topics.js';
import { DeviceMqttSession, type MqttDeviceOptions, type StateValue } from '../../scale/driver/mqtt-session.js';
import { Backoff, type BackoffOptions } from '../../transports/backoff.js';
import { JobMemory } from '../job-memory.js';
import type { PrinterLanguageId } from '../types.js';
import { IppClient, IppStatusError, JobState, PrinterState, type PrinterStatus } from './ipp-client.js';
import { summarizeReasons } from './reasons.js';

export interface IppPrinterDriverOptions {
  /** `ipp://host:631/ipp/print`. */
  readonly uri: string;
  readonly mqtt: MqttDeviceOptions;
  /** `format` values accepted in cmd/print (the printer's label language). Default zpl and tspl. */
  readonly languages?: readonly PrinterLanguageId[];
  /**
   * IPP document-format sent with Print-Job, per label language. Default zpl →
   * `application/vnd.zebra-zpl` (IANA-registered), tspl → `application/octet-stream`.
   * ippeveprinter answers 0x040B (document-format-not-supported) to octet-stream for data it
   * cannot sniff, even when `-f` lists it; a named format passes the bytes through untouched.
   */
  readonly documentFormats?: Partial<Record<PrinterLanguageId, string>>;
  /** Get-Job-Attributes interval while a job runs. Default 250 ms. */
  readonly pollIntervalMs?: number;
  /** Get-Printer-Attributes interval while idle. Default 2000 ms. */
  readonly idlePollMs?: number;
  /** A job not finished after this long fails with `job_timeout`. Default 120 s. */
  readonly jobTimeoutMs?: number;
  /** Per IPP request. Default 10 s. */
  readonly requestTimeoutMs?: number;
  /** Largest `data` accepted (UTF-8 bytes). Default 512 KiB. */
  readonly maxJobBytes?: number;
  readonly rememberJobs?: number;
  readonly journalPath?: string;
  readonly backoff?: BackoffOptions;
  readonly logger?: Logger;
}

export interface IppPrinterDriverStats {
  readonly state: StateValue;
  readonly reason: string | undefined;
  readonly jobsPrinted: number;
  readonly jobsFailed: number;
  readonly duplicatesAnswered: number;
  readonly queued: number;
}

interface Job {
  readonly jobId: string;
  readonly bytes: Uint8Array;
  readonly copies: number;
  readonly format: PrinterLanguageId;
}
type Outcome = { status: 'printed' } | { status: 'failed'; reason: string };

const DEFAULT_FORMATS: Readonly<Record<PrinterLanguageId, string>> = { zpl: 'application/vnd.zebra-zpl', tspl: 'application/octet-stream' };
const COMMANDS: readonly CommandKind[] = ['print'];
const MAX_JOB_ID = 64; // PrintResultEvent.job_id maxLength (contracts/payloads.ts)
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export class IppPrinterDriver {
  readonly name: string;
  readonly #o: IppPrinterDriverOptions;
  readonly #client: IppClient;
  readonly #mqtt: DeviceMqttSession;
  readonly #backoff: Backoff;
  readonly #memory: JobMemory;
  readonly #log: Logger;
  readonly #languages: readonly PrinterLanguageId[];
  #running = false;
  #reachable = false;
  #pollTimer: NodeJS.Timeout | undefined;
  #polling: Promise<void> | null = null;
  readonly #queue: Job[] = [];
  #active: string | null = null;
  #worker: Promise<void> | null = null;
  #printed = 0;
  #failed = 0;
  #duplicates = 0;

  constructor(options: IppPrinterDriverOptions) {
    this.#o = options;
    this.#client = new IppClient({ uri: options.uri, timeoutMs: options.requestTimeoutMs ?? 10_000, userName: options.mqtt.deviceId });
    this.#backoff = new Backoff(options.backoff ?? { initialMs: 250, maxMs: 10_000, factor: 2 });
    this.#memory = new JobMemory(options.rememberJobs ?? 1000, options.journalPath);
    this.#log = options.logger ?? pino({ level: 'silent' });
    this.#languages = options.languages ?? ['zpl', 'tspl'];
    this.name = `printer:${options.mqtt.deviceId}`;
    this.#mqtt = new DeviceMqttSession(options.mqtt, COMMANDS, (kind, payload) => this.#onCommand(kind, payload));
  }

  get deviceId(): string {
    return this.#o.mqtt.deviceId;
  }

  stats(): IppPrinterDriverStats {
    const s = this.#mqtt.state;
    return {
      state: s.state,
      reason: s.reason,
      jobsPrinted: this.#printed,
      jobsFailed: this.#failed,
      duplicatesAnswered: this.#duplicates,
      queued: this.#queue.length + (this.#active === null ? 0 : 1),
    };
  }

  async start(): Promise<void> {
    if (this.#running) return;
    this.#memory.load();
    await this.#mqtt.start();
    this.#running = true;
    this.#schedulePoll(0);
  }

  async stop(): Promise<void> {
    if (!this.#running) return;
    this.#running = false;
    clearTimeout(this.#pollTimer);
    this.#queue.length = 0; // unanswered: the gateway re-issues them
    await this.#polling?.catch(() => undefined);
    await this.#worker?.catch(() => undefined);
    await this.#mqtt.stop('offline', 'driver stopped');
  }

  // ---- printer status -------------------------------------------------------------------

  #schedulePoll(ms: number): void {
    clearTimeout(this.#pollTimer);
    if (!this.#running) return;
    this.#pollTimer = setTimeout(() => {
      this.#polling = this.#refresh().then((ok) => {
        this.#polling = null;
        this.#schedulePoll(ok ? (this.#o.idlePollMs ?? 2_000) : this.#backoff.next());
      });
    }, ms);
  }

  /** Get-Printer-Attributes → retained state. Returns the status, or null when unreachable. */
  async #refresh(): Promise<PrinterStatus | null> {
    let status: PrinterStatus;
    try {
      status = await this.#client.getPrinterAttributes();
    } catch (err) {
      this.#reachable = false;
      if (this.#running) this.#setState('offline', `unreachable: ${this.#client.description}: ${message(err)}`);
      return null;
    }
    this.#reachable = true;
    this.#backoff.reset();
    const { faults, warnings } = summarizeReasons(status.reasons);
    if (!this.#running) return status;
    if (faults[0] !== undefined) this.#setState('error', faults[0]);
    else if (status.state === PrinterState.stopped) this.#setState('error', 'printer_error');
    else if (!status.acceptingJobs) this.#setState('error', 'not_accepting_jobs');
    else this.#setState('online', warnings[0]);
    return status;
  }

  #blocking(status: PrinterStatus): string | undefined {
    const { faults } = summarizeReasons(status.reasons);
    if (faults[0] !== undefined) return faults[0];
    if (status.state === PrinterState.stopped) return 'printer_error';
    if (!status.acceptingJobs) return 'not_accepting_jobs';
    return undefined;
  }

  // ---- commands -------------------------------------------------------------------------

  #onCommand(kind: CommandKind, payload: Buffer): void {
    if (kind !== 'print' || !this.#running) return;
    const parsed = this.#parse(payload);
    if (!parsed.ok) {
      const reason = `${parsed.code}: ${describeError(parsed.code, parsed.details).en}`.slice(0, 200);
      this.#log.warn({ reason }, 'print command refused');
      if (parsed.jobId !== null) this.#publish(parsed.jobId, { status: 'failed', reason: parsed.failure ?? reason });
      else this.#mqtt.notice(reason);
      return;
    }
    const job = parsed.job;
    const known = this.#memory.get(job.jobId);
    if (known !== undefined && known.status !== 'sent') {
      this.#duplicates++;
      this.#publish(job.jobId, known.status === 'printed' ? { status: 'printed' } : { status: 'failed', reason: known.reason });
      return;
    }
    if (known !== undefined || this.#active === job.jobId || this.#queue.some((q) => q.jobId === job.jobId)) return; // its result answers
    this.#queue.push(job);
    this.#kick();
  }

  #parse(payload: Buffer): { ok: true; job: Job } | { ok: false; jobId: string | null; code: ErrorCode; details: ErrorDetails; failure?: string } {
    let body: unknown;
    try {
      body = JSON.parse(payload.toString('utf8'));
    } catch {
      return { ok: false, jobId: null, code: 'PKL_PAYLOAD_NOT_JSON', details: {} };
    }
    if (typeof body !== 'object' || body === null || Array.isArray(body)) {
      return { ok: false, jobId: null, code: 'PKL_PAYLOAD_INVALID', details: { reason: 'cmd/print payload must be a JSON object' } };
    }
    const o = body as Record<string, unknown>;
    const jobId = o['job_id'];
    if (typeof jobId !== 'string' || jobId.length === 0 || jobId.length > MAX_JOB_ID) {
      return { ok: false, jobId: null, code: 'PKL_PAYLOAD_INVALID', details: { reason: `job_id must be a string of 1..${MAX_JOB_ID} characters` } };
    }
    const bad = (reason: string) => ({ ok: false as const, jobId, code: 'PKL_PAYLOAD_INVALID' as const, details: { reason } });
    const format = o['format'];
    if (format !== 'zpl' && format !== 'tspl') return bad('format must be "zpl" or "tspl"');
    const data = o['data'];
    if (typeof data !== 'string' || data.length === 0) return bad('data must be a non-empty string');
    const copies = o['copies'] ?? 1;
    if (typeof copies !== 'number' || !Number.isInteger(copies) || copies < 1 || copies > 10) return bad('copies must be an integer 1..10');
    if (!this.#languages.includes(format)) {
      return { ok: false, jobId, code: 'PKL_PRINT_FAILED', details: { deviceId: this.deviceId, reason: `${format} job for a ${this.#languages.join('/')} printer` }, failure: 'format_unsupported' };
    }
    const bytes = Buffer.from(data, 'utf8');
    const max = this.#o.maxJobBytes ?? 512 * 1024;
    if (bytes.length > max) return bad(`data is ${bytes.length} bytes; the limit is ${max}`);
    return { ok: true, job: { jobId, bytes, copies, format } };
  }

  // ---- jobs -----------------------------------------------------------------------------

  #kick(): void {
    if (this.#worker !== null || !this.#running) return;
    this.#worker = this.#drain().finally(() => {
      this.#worker = null;
      if (this.#running && this.#queue.length > 0) this.#kick();
    });
  }

  async #drain(): Promise<void> {
    while (this.#running) {
      const job = this.#queue.shift();
      if (job === undefined) return;
      this.#active = job.jobId;
      let outcome: Outcome;
      try {
        outcome = await this.#print(job);
      } catch (err) {
        this.#log.error({ err: message(err), jobId: job.jobId }, 'print job crashed');
        outcome = { status: 'failed', reason: 'printer_error' };
      } finally {
        this.#active = null;
      }
      if (outcome.status === 'printed') this.#printed++;
      else this.#failed++;
      if (this.#memory.get(job.jobId)?.status === 'sent') this.#memory.record(job.jobId, outcome);
      this.#log.info({ jobId: job.jobId, ...outcome }, 'print job finished');
      this.#publish(job.jobId, outcome);
    }
  }

  async #print(job: Job): Promise<Outcome> {
    // 1. Printer state BEFORE submitting: a job queued on an empty printer would print later, by surprise.
    const before = await this.#refresh();
    if (before === null) return { status: 'failed', reason: 'offline' };
    const fault = this.#blocking(before);
    if (fault !== undefined) return { status: 'failed', reason: fault };

    // 2. Print-Job. From here on the job_id is never submitted again.
    this.#memory.record(job.jobId, { status: 'sent' });
    let ippJobId: number;
    try {
      const st = await this.#client.printJob(job.bytes, {
        jobName: job.jobId,
        documentFormat: this.#o.documentFormats?.[job.format] ?? DEFAULT_FORMATS[job.format],
        copies: job.copies,
      });
      ippJobId = st.jobId;
    } catch (err) {
      if (err instanceof IppStatusError) return { status: 'failed', reason: `ipp_status_0x${err.status.toString(16).padStart(4, '0')}` };
      return { status: 'failed', reason: 'connection_lost' };
    }

    // 3. Follow the job (RFC 8011 §5.3.7 job-state) until it reaches a terminal state.
    const started = Date.now();
    const timeout = this.#o.jobTimeoutMs ?? 120_000;
    for (;;) {
      await sleep(this.#o.pollIntervalMs ?? 250);
      if (!this.#running) return { status: 'failed', reason: 'interrupted' };
      let st;
      try {
        st = await this.#client.getJobAttributes(ippJobId);
      } catch (err) {
        if (Date.now() - started > timeout) return { status: 'failed', reason: 'connection_lost' };
        this.#log.warn({ err: message(err), jobId: job.jobId }, 'Get-Job-Attributes failed; retrying');
        continue;
      }
      if (st.state === JobState.completed) return { status: 'printed' };
      if (st.state === JobState.canceled) return { status: 'failed', reason: 'canceled' };
      if (st.state === JobState.aborted) {
        // The printer's own reasons say why (media-empty after a job aborted by the device).
        const now = await this.#refresh();
        const f = now === null ? undefined : summarizeReasons(now.reasons).faults[0];
        return { status: 'failed', reason: f ?? st.message ?? st.reasons[0] ?? 'aborted' };
      }
      if (Date.now() - started > timeout) return { status: 'failed', reason: 'job_timeout' };
    }
  }

  #publish(jobId: string, outcome: Outcome): void {
    const body: PrintResultEvent =
      outcome.status === 'printed'
        ? { job_id: jobId, status: 'printed', ts: Date.now() }
        : { job_id: jobId, status: 'failed', reason: outcome.reason.slice(0, 200), ts: Date.now() };
    this.#mqtt.publishEvent('print_result', body, 1);
  }

  #setState(state: StateValue, reason?: string): void {
    const before = this.#mqtt.state;
    const r = reason?.slice(0, 200);
    if (before.state === state && before.reason === r) return;
    this.#log.info({ state, reason: r }, 'printer state');
    this.#mqtt.setState(state, r);
  }

  /** True after the last Get-Printer-Attributes got an answer. */
  get reachable(): boolean {
    return this.#reachable;
  }
}

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
