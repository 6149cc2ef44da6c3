/**
 * RawTcpPrinterDriver: one ZPL or TSPL label printer on raw TCP (port 9100) bridged onto MQTT
 * under the printer's own identity (docs/mqtt.md).
 *
 *   `dev/{id}/cmd/print` {job_id, format, data, copies}
 *      ──▶ status query (ZPL `~HS`, TSPL `<ESC>!?`) ── fault? ──▶ print_result failed/<fault>, nothing sent
 *      ──▶ job bytes ×copies ──▶ status polls until the printer is done ──▶ print_result printed
 *   retained `dev/{id}/state` online | error (+ fault code) | offline (+ why), last will offline
 *
 * Jobs run one at a time, in arrival order. A job_id whose bytes were sent is never sent again:
 * a re-issue (gateway restart) is answered from {@link JobMemory} with the first outcome.
 * A status query unanswered for `statusTimeoutMs` is a fault (`status_timeout`); for ZPL the
 * driver then asks `~HQES`, which current Zebra firmware answers while it ignores `~HS` in
 * MEDIA OUT / HEAD OPEN (docs/devices/printers.md), to report the real cause. A fault seen
 * after the job was sent cancels what is left in the printer (ZPL `~JA`), so the label does
 * not come out later by surprise when the operator clears the fault; the gateway decides about
 * a reprint. Lost connection → `offline`, reconnect with exponential backoff + jitter.
 */
import { pino, type Logger } from 'pino';
import { PacklineError } from '../../../contracts/errors.js';
import type { CommandKind } from '../../../contracts/topics.js';
import { DeviceMqttSession, type MqttDeviceOptions, type StateValue } from '../scale/driver/mqtt-session.js';
import { Backoff, type BackoffOptions } from '../transports/backoff.js';
import { JobMemory } from './job-memory.js';
import { parsePrintCommand, type PrintJob, PrintJobQueue, type PrintOutcome } from './print-jobs.js';
import { PRINTER_LANGUAGES } from './languages.js';
import type { ByteTransport, TransportFactory } from '../transports/byte-transport.js';
import { TcpTransport } from '../transports/tcp.js';
import type { PrinterDefinition, PrinterLanguage, StatusReader, StatusReading, StatusSnapshot } from './types.js';

export interface RawTcpPrinterDriverOptions {
  readonly definition: PrinterDefinition;
  /** Printer address; the port defaults to the definition's (9100). */
  readonly host: string;
  readonly port?: number;
  readonly mqtt: MqttDeviceOptions;
  /** Replaces the TCP connection (tests, other transports). */
  readonly link?: TransportFactory;
  /** A status query unanswered this long is a fault. Default 2000 ms. */
  readonly statusTimeoutMs?: number;
  /** Status polls while a job prints. Default 200 ms. */
  readonly pollIntervalMs?: number;
  /** Status polls while idle (keeps the retained state true). Default 2000 ms. */
  readonly idlePollMs?: number;
  /** A job still in the printer after this long fails with `job_timeout`. Default 60 s. */
  readonly jobTimeoutMs?: number;
  /** TSPL: "not printing" counts as done only after this long if the printer was never seen printing. Default 600 ms. */
  readonly settleMs?: number;
  /** Largest `data` accepted (UTF-8 bytes, one copy). Default 512 KiB. */
  readonly maxJobBytes?: number;
  /** How many sent job_ids are remembered. Default 1000. */
  readonly rememberJobs?: number;
  /** Makes the sent-job memory survive a driver restart (JSON lines). */
  readonly journalPath?: string;
  readonly connectTimeoutMs?: number;
  readonly backoff?: BackoffOptions;
  readonly logger?: Logger;
}

export interface PrinterDriverStats {
  readonly state: StateValue;
  readonly reason: string | undefined;
  readonly jobsPrinted: number;
  readonly jobsFailed: number;
  /** Re-issued job_ids answered from memory without sending. */
  readonly duplicatesAnswered: number;
  readonly queued: number;
  readonly connects: number;
  readonly statusTimeouts: number;
  /** Coded errors for bytes that were not a status answer, by code. */
  readonly readErrors: Readonly<Record<string, number>>;
}

type QueryResult = { readonly kind: 'ok'; readonly snapshot: StatusSnapshot } | { readonly kind: 'timeout' } | { readonly kind: 'closed' };

type Outcome = PrintOutcome;

const PRINTER_COMMANDS: readonly CommandKind[] = ['print'];

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export class RawTcpPrinterDriver {
  readonly name: string;
  readonly #o: RawTcpPrinterDriverOptions;
  readonly #lang: PrinterLanguage;
  readonly #linkFactory: TransportFactory;
  readonly #mqtt: DeviceMqttSession;
  readonly #backoff: Backoff;
  readonly #memory: JobMemory;
  readonly #log: Logger;
  readonly #statusTimeoutMs: number;
  readonly #pollMs: number;
  readonly #idlePollMs: number;

  #running = false;
  #link: ByteTransport | null = null;
  #reader: StatusReader | null = null;
  #connected = false;
  #reconnectTimer: NodeJS.Timeout | undefined;
  #idleTimer: NodeJS.Timeout | undefined;
  #quietTimer: NodeJS.Timeout | undefined;
  /** One status query at a time: answers carry no id. */
  #waiter: ((r: QueryResult) => void) | null = null;
  #querying: Promise<unknown> = Promise.resolve();

  readonly #jobs: PrintJobQueue;

  #connects = 0;
  #statusTimeouts = 0;
  readonly #readErrors = new Map<string, number>();

  constructor(options: RawTcpPrinterDriverOptions) {
    const lang = PRINTER_LANGUAGES[options.definition.language];
    if (lang === undefined) {
      throw new PacklineError('PKL_CONFIG_INVALID', { reason: `printer ${options.definition.id}: unknown language "${options.definition.language}"` });
    }
    this.#o = options;
    this.#lang = lang;
    const port = options.port ?? options.definition.port;
    this.#linkFactory =
      options.link ??
      // A powered-off printer drops SYNs: give up a connect attempt after 3 s by default.
      (() => new TcpTransport({ host: options.host, port, connectTimeoutMs: options.connectTimeoutMs ?? 3_000 }));
    this.#backoff = new Backoff(options.backoff ?? { initialMs: 250, maxMs: 10_000, factor: 2 });
    this.#memory = new JobMemory(options.rememberJobs ?? 1000, options.journalPath);
    this.#statusTimeoutMs = options.statusTimeoutMs ?? 2_000;
    this.#pollMs = options.pollIntervalMs ?? 200;
    this.#idlePollMs = options.idlePollMs ?? 2_000;
    this.#log = options.logger ?? pino({ level: 'silent' });
    this.name = `printer:${options.mqtt.deviceId}`;
    this.#mqtt = new DeviceMqttSession(options.mqtt, PRINTER_COMMANDS, (kind, payload) => this.#onCommand(kind, payload));
    this.#jobs = new PrintJobQueue({
      memory: this.#memory,
      print: (job) => this.#print(job),
      publish: (event) => this.#mqtt.publishEvent('print_result', event, 1),
      notice: (reason) => this.#mqtt.notice(reason),
      log: this.#log,
      // Stopping cut the connection under the job: leave it unanswered, the gateway re-issues it.
      leaveUnanswered: (o) => o.status === 'failed' && o.reason === 'connection_lost',
    });
  }

  get deviceId(): string {
    return this.#o.mqtt.deviceId;
  }

  stats(): PrinterDriverStats {
    const s = this.#mqtt.state;
    return {
      state: s.state,
      reason: s.reason,
      jobsPrinted: this.#jobs.printed,
      jobsFailed: this.#jobs.failed,
      duplicatesAnswered: this.#jobs.duplicatesAnswered,
      queued: this.#jobs.queued,
      connects: this.#connects,
      statusTimeouts: this.#statusTimeouts,
      readErrors: Object.fromEntries(this.#readErrors),
    };
  }

  async start(): Promise<void> {
    if (this.#running) return;
    this.#memory.load();
    await this.#mqtt.start();
    this.#running = true;
    this.#jobs.start();
    void this.#connect();
  }

  async stop(): Promise<void> {
    if (!this.#running) return;
    this.#running = false;
    clearTimeout(this.#reconnectTimer);
    clearTimeout(this.#idleTimer);
    clearTimeout(this.#quietTimer);
    // Waiting jobs stay unanswered: the gateway re-issues them when the printer is back.
    const jobsStopped = this.#jobs.stop();
    const link = this.#link;
    this.#dropLink();
    if (link) await link.close().catch(() => undefined);
    await jobsStopped;
    await this.#mqtt.stop('offline', 'driver stopped');
  }

  // ---- connection -----------------------------------------------------------------------

  async #connect(): Promise<void> {
    this.#reconnectTimer = undefined;
    if (!this.#running) return;
    let link: ByteTransport;
    try {
      link = this.#linkFactory();
    } catch (err) {
      this.#setState('offline', `unreachable: ${message(err)}`);
      return this.#scheduleReconnect();
    }
    const reader = this.#lang.createReader();
    this.#link = link;
    this.#reader = reader;
    link.onData((chunk) => {
      if (this.#link === link) this.#onData(reader, chunk);
    });
    link.onClose((reason) => this.#onClosed(link, reason));
    try {
      await link.open();
    } catch (err) {
      if (this.#link !== link) return;
      this.#dropLink();
      this.#setState('offline', `unreachable: ${link.description}: ${message(err)}`);
      return this.#scheduleReconnect();
    }
    if (!this.#running || this.#link !== link) {
      await link.close().catch(() => undefined);
      return;
    }
    this.#connected = true;
    this.#connects++;
    this.#log.info({ printer: link.description }, 'printer connected');
    // `online` only after the printer answered: a socket alone proves nothing.
    await this.#refreshStatus();
    this.#scheduleIdlePoll();
  }

  #onClosed(link: ByteTransport, reason: string): void {
    if (this.#link !== link) return;
    this.#dropLink();
    if (!this.#running) return;
    this.#log.warn({ printer: link.description, reason }, 'printer connection closed');
    this.#setState('offline', `${link.description}: ${reason}`);
    this.#scheduleReconnect();
  }

  #dropLink(): void {
    this.#link = null;
    this.#reader = null;
    this.#connected = false;
    clearTimeout(this.#idleTimer);
    clearTimeout(this.#quietTimer);
    const w = this.#waiter;
    this.#waiter = null;
    w?.({ kind: 'closed' });
  }

  #scheduleReconnect(): void {
    if (!this.#running || this.#reconnectTimer !== undefined) return;
    this.#reconnectTimer = setTimeout(() => void this.#connect(), this.#backoff.next());
  }

  #scheduleIdlePoll(): void {
    clearTimeout(this.#idleTimer);
    if (!this.#running || !this.#connected) return;
    this.#idleTimer = setTimeout(() => {
      if (this.#jobs.active !== null) return this.#scheduleIdlePoll(); // the job loop polls
      void this.#refreshStatus().then(() => this.#scheduleIdlePoll());
    }, this.#idlePollMs);
  }

  // ---- status ---------------------------------------------------------------------------

  #onData(reader: StatusReader, chunk: Uint8Array): void {
    this.#onReadings(reader.push(chunk));
    if (reader.endOfReply !== undefined) {
      // Unframed answers end with silence: judge the answer once the line stayed quiet.
      clearTimeout(this.#quietTimer);
      this.#quietTimer = setTimeout(() => {
        if (this.#reader === reader) this.#onReadings(reader.endOfReply?.() ?? []);
      }, this.#lang.replyQuietMs ?? 30);
    }
  }

  #onReadings(readings: StatusReading[]): void {
    for (const r of readings) {
      if (!r.ok) {
        this.#readErrors.set(r.code, (this.#readErrors.get(r.code) ?? 0) + 1);
        this.#log.warn({ code: r.code, details: r.details }, 'printer sent bytes that are not a status answer');
        continue;
      }
      const w = this.#waiter;
      this.#waiter = null;
      w?.({ kind: 'ok', snapshot: r.snapshot });
    }
  }

  /** Serialised: one query on the wire at a time. */
  #query(): Promise<QueryResult> {
    const run = this.#querying.then(() => this.#queryNow());
    this.#querying = run.catch(() => undefined);
    return run;
  }

  async #queryNow(): Promise<QueryResult> {
    const first = await this.#ask(this.#lang.primaryQuery, 'primary');
    if (first.kind !== 'timeout' || this.#lang.fallbackQuery === undefined) return first;
    const second = await this.#ask(this.#lang.fallbackQuery, 'fallback');
    // The fallback names the cause; when it shows no error the primary's silence is the fault.
    if (second.kind === 'ok' && second.snapshot.faults.length > 0) return second;
    return second.kind === 'closed' ? second : { kind: 'timeout' };
  }

  async #ask(query: Uint8Array, which: 'primary' | 'fallback'): Promise<QueryResult> {
    const link = this.#link;
    const reader = this.#reader;
    if (!link || !reader || !this.#connected) return { kind: 'closed' };
    const answer = new Promise<QueryResult>((resolve) => {
      const timer = setTimeout(() => {
        if (this.#waiter === settle) this.#waiter = null;
        resolve({ kind: 'timeout' });
      }, this.#statusTimeoutMs);
      const settle = (r: QueryResult) => {
        clearTimeout(timer);
        resolve(r);
      };
      this.#waiter = settle;
    });
    try {
      reader.sent(which);
      await link.write(query);
    } catch {
      const w = this.#waiter;
      this.#waiter = null;
      w?.({ kind: 'closed' });
    }
    const r = await answer;
    if (r.kind === 'timeout') this.#statusTimeouts++;
    return r;
  }

  /** Queries and turns the answer into the retained state. */
  async #refreshStatus(): Promise<QueryResult> {
    const r = await this.#query();
    this.#applyStatus(r);
    return r;
  }

  #applyStatus(r: QueryResult): void {
    if (!this.#running || r.kind === 'closed') return;
    if (r.kind === 'timeout') {
      this.#setState('error', 'status_timeout');
      return;
    }
    this.#backoff.reset(); // the printer talks: the connection is healthy
    const fault = r.snapshot.faults[0];
    if (fault !== undefined) this.#setState('error', fault);
    else this.#setState('online');
  }

  // ---- commands -------------------------------------------------------------------------

  #onCommand(kind: CommandKind, payload: Buffer): void {
    if (kind !== 'print' || !this.#running) return;
    this.#jobs.submit(parsePrintCommand(payload, { deviceId: this.deviceId, languages: [this.#lang.id], maxJobBytes: this.#o.maxJobBytes }));
  }

  async #print(job: PrintJob): Promise<Outcome> {
    if (!this.#connected) return { status: 'failed', reason: 'offline' };
    // 1. Status BEFORE sending: a faulted printer gets nothing (its buffer would print later).
    const before = await this.#refreshStatus();
    if (before.kind === 'closed') return { status: 'failed', reason: 'offline' };
    if (before.kind === 'timeout') return { status: 'failed', reason: 'status_timeout' };
    const fault = before.snapshot.faults[0];
    if (fault !== undefined) return { status: 'failed', reason: fault };

    // 2. Send. From here on the job_id is never sent again.
    this.#memory.record(job.jobId, { status: 'sent' });
    const link = this.#link;
    try {
      if (!link) return { status: 'failed', reason: 'connection_lost' };
      for (let i = 0; i < job.copies; i++) await link.write(job.bytes);
    } catch {
      return { status: 'failed', reason: 'connection_lost' };
    }
    const sentAt = Date.now();

    // 3. Poll until the printer has nothing left.
    const jobTimeoutMs = this.#o.jobTimeoutMs ?? 60_000;
    const settleMs = this.#o.settleMs ?? 600;
    let seenBusy = false;
    for (;;) {
      const r = await this.#refreshStatus();
      if (r.kind === 'closed') return { status: 'failed', reason: 'connection_lost' };
      if (r.kind === 'timeout') return { status: 'failed', reason: 'status_timeout' };
      if (r.snapshot.busy) seenBusy = true;
      // Nothing left in the printer: the job came out, even if the roll ran empty on its last
      // label (the fault then stops the NEXT job, at its status check).
      else if (!this.#lang.needsSettle || seenBusy || Date.now() - sentAt >= settleMs) return { status: 'printed' };
      const f = r.snapshot.faults[0];
      if (f !== undefined) {
        await this.#cancelRemaining();
        return { status: 'failed', reason: f };
      }
      if (Date.now() - sentAt > jobTimeoutMs) {
        await this.#cancelRemaining();
        return { status: 'failed', reason: 'job_timeout' };
      }
      await sleep(this.#pollMs);
      if (!this.#running) return { status: 'failed', reason: 'connection_lost' };
    }
  }

  async #cancelRemaining(): Promise<void> {
    const cancel = this.#lang.cancelAll;
    if (cancel === undefined || !this.#link) return;
    await this.#link.write(cancel).catch(() => undefined);
  }

  #setState(state: StateValue, reason?: string): void {
    const before = this.#mqtt.state;
    const r = reason?.slice(0, 200);
    if (before.state === state && before.reason === r) return;
    this.#log.info({ state, reason: r }, 'printer state');
    this.#mqtt.setState(state, r);
  }
}

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
