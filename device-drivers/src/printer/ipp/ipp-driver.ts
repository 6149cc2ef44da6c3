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
import type { CommandKind } from '../../../../contracts/topics.js';
import { DeviceMqttSession, type MqttDeviceOptions, type StateValue } from '../../scale/driver/mqtt-session.js';
import { Backoff, type BackoffOptions } from '../../transports/backoff.js';
import { JobMemory } from '../job-memory.js';
import { parsePrintCommand, type PrintJob, PrintJobQueue, type PrintOutcome } from '../print-jobs.js';
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

type Outcome = PrintOutcome;

const DEFAULT_FORMATS: Readonly<Record<PrinterLanguageId, string>> = { zpl: 'application/vnd.zebra-zpl', tspl: 'application/octet-stream' };
const COMMANDS: readonly CommandKind[] = ['print'];
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
  readonly #jobs: PrintJobQueue;

  constructor(options: IppPrinterDriverOptions) {
    this.#o = options;
    this.#client = new IppClient({ uri: options.uri, timeoutMs: options.requestTimeoutMs ?? 10_000, userName: options.mqtt.deviceId });
    this.#backoff = new Backoff(options.backoff ?? { initialMs: 250, maxMs: 10_000, factor: 2 });
    this.#memory = new JobMemory(options.rememberJobs ?? 1000, options.journalPath);
    this.#log = options.logger ?? pino({ level: 'silent' });
    this.#languages = options.languages ?? ['zpl', 'tspl'];
    this.name = `printer:${options.mqtt.deviceId}`;
    this.#mqtt = new DeviceMqttSession(options.mqtt, COMMANDS, (kind, payload) => this.#onCommand(kind, payload));
    this.#jobs = new PrintJobQueue({
      memory: this.#memory,
      print: (job) => this.#print(job),
      publish: (event) => this.#mqtt.publishEvent('print_result', event, 1),
      notice: (reason) => this.#mqtt.notice(reason),
      log: this.#log,
    });
  }

  get deviceId(): string {
    return this.#o.mqtt.deviceId;
  }

  stats(): IppPrinterDriverStats {
    const s = this.#mqtt.state;
    return {
      state: s.state,
      reason: s.reason,
      jobsPrinted: this.#jobs.printed,
      jobsFailed: this.#jobs.failed,
      duplicatesAnswered: this.#jobs.duplicatesAnswered,
      queued: this.#jobs.queued,
    };
  }

  async start(): Promise<void> {
    if (this.#running) return;
    this.#memory.load();
    await this.#mqtt.start();
    this.#running = true;
    this.#jobs.start();
    this.#schedulePoll(0);
  }

  async stop(): Promise<void> {
    if (!this.#running) return;
    this.#running = false;
    clearTimeout(this.#pollTimer);
    const jobsStopped = this.#jobs.stop(); // waiting jobs stay unanswered: the gateway re-issues them
    await this.#polling?.catch(() => undefined);
    await jobsStopped;
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
    this.#jobs.submit(parsePrintCommand(payload, { deviceId: this.deviceId, languages: this.#languages, maxJobBytes: this.#o.maxJobBytes }));
  }

  // ---- jobs -----------------------------------------------------------------------------

  async #print(job: PrintJob): Promise<Outcome> {
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
