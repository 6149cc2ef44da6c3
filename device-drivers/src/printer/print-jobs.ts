/**
 * What every printer driver does with `dev/{id}/cmd/print`, whatever the wire (raw TCP, IPP):
 * validate the command, answer a re-issued job id from memory instead of printing twice,
 * run jobs one at a time, remember and publish each outcome (`dev/{id}/evt/print_result`).
 * The wire-specific part is the `print(job)` function a driver hands in.
 */
import { describeError, type ErrorCode, type ErrorDetails } from '../../../contracts/errors.js';
import type { PrintResultEvent } from '../../../contracts/payloads.js';
import type { JobMemory } from './job-memory.js';
import type { PrinterLanguageId } from './types.js';

/** PrintResultEvent.job_id is at most 64 characters (contracts/payloads.ts). */
const MAX_JOB_ID = 64;
const DEFAULT_MAX_JOB_BYTES = 512 * 1024;

export interface PrintJob {
  readonly jobId: string;
  readonly bytes: Uint8Array;
  readonly copies: number;
  readonly format: PrinterLanguageId;
}

export type PrintOutcome = { status: 'printed' } | { status: 'failed'; reason: string };

export type ParsedPrintCommand = { ok: true; job: PrintJob } | { ok: false; jobId: string | null; code: ErrorCode; details: ErrorDetails; failure?: string };

/** Validates a cmd/print payload; every refusal is a coded error (and a failed job when its id is known). */
export function parsePrintCommand(
  payload: Buffer,
  printer: { deviceId: string; languages: readonly PrinterLanguageId[]; maxJobBytes?: number | undefined },
): ParsedPrintCommand {
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
  if (!printer.languages.includes(format)) {
    return {
      ok: false,
      jobId,
      code: 'PKL_PRINT_FAILED',
      details: { deviceId: printer.deviceId, reason: `${format} job for a ${printer.languages.join('/')} printer` },
      failure: 'format_unsupported',
    };
  }
  const bytes = Buffer.from(data, 'utf8');
  const max = printer.maxJobBytes ?? DEFAULT_MAX_JOB_BYTES;
  if (bytes.length > max) return bad(`data is ${bytes.length} bytes; the limit is ${max}`);
  return { ok: true, job: { jobId, bytes, copies, format } };
}

export function codedReason(code: ErrorCode, details: ErrorDetails): string {
  return `${code}: ${describeError(code, details).en}`.slice(0, 200);
}

interface QueueLog {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

export interface PrintJobQueueOptions {
  readonly memory: JobMemory;
  /** Prints one job on the wire; the queue never runs two at once. */
  readonly print: (job: PrintJob) => Promise<PrintOutcome>;
  readonly publish: (event: PrintResultEvent) => void;
  /** Announces a refusal that has no job id to answer (a non-retained state notice). */
  readonly notice: (reason: string) => void;
  readonly log: QueueLog;
  /**
   * An outcome not to answer (the driver is stopping and the job was cut off): the gateway
   * re-issues unanswered jobs when the printer is back.
   */
  readonly leaveUnanswered?: (outcome: PrintOutcome) => boolean;
}

export class PrintJobQueue {
  readonly #o: PrintJobQueueOptions;
  readonly #queue: PrintJob[] = [];
  #active: string | null = null;
  #worker: Promise<void> | null = null;
  #running = false;
  printed = 0;
  failed = 0;
  duplicatesAnswered = 0;

  constructor(options: PrintJobQueueOptions) {
    this.#o = options;
  }

  /** The job on the wire right now, if any. */
  get active(): string | null {
    return this.#active;
  }

  get queued(): number {
    return this.#queue.length + (this.#active === null ? 0 : 1);
  }

  start(): void {
    this.#running = true;
  }

  /** Drops waiting jobs (unanswered: re-issued later) and waits for the one on the wire. */
  async stop(): Promise<void> {
    this.#running = false;
    this.#queue.length = 0;
    await this.#worker?.catch(() => undefined);
  }

  /** Handles one cmd/print payload. */
  submit(parsed: ParsedPrintCommand): void {
    if (!this.#running) return;
    if (!parsed.ok) {
      const reason = codedReason(parsed.code, parsed.details);
      this.#o.log.warn({ reason, jobId: parsed.jobId }, 'print command refused');
      if (parsed.jobId !== null) this.#publish(parsed.jobId, { status: 'failed', reason: parsed.failure ?? reason });
      else this.#o.notice(reason);
      return;
    }
    const job = parsed.job;
    const known = this.#o.memory.get(job.jobId);
    if (known !== undefined && known.status !== 'sent') {
      // Re-issue of a job already sent: answer the first outcome again, never print twice.
      this.duplicatesAnswered++;
      this.#o.log.info({ jobId: job.jobId, outcome: known }, 'print job already sent; answered from memory');
      this.#publish(job.jobId, known.status === 'printed' ? { status: 'printed' } : { status: 'failed', reason: known.reason });
      return;
    }
    if (known !== undefined || this.#active === job.jobId || this.#queue.some((q) => q.jobId === job.jobId)) {
      this.#o.log.info({ jobId: job.jobId }, 'print job already in progress; its result will answer the re-issue');
      return;
    }
    this.#queue.push(job);
    this.#kick();
  }

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
      let outcome: PrintOutcome;
      try {
        outcome = await this.#o.print(job);
      } catch (err) {
        this.#o.log.error({ err: err instanceof Error ? err.message : String(err), jobId: job.jobId }, 'print job crashed');
        outcome = { status: 'failed', reason: 'printer_error' };
      } finally {
        this.#active = null;
      }
      if (!this.#running && this.#o.leaveUnanswered?.(outcome)) return;
      if (outcome.status === 'printed') this.printed++;
      else this.failed++;
      if (this.#o.memory.get(job.jobId)?.status === 'sent') this.#o.memory.record(job.jobId, outcome);
      this.#o.log.info({ jobId: job.jobId, ...outcome }, 'print job finished');
      this.#publish(job.jobId, outcome);
    }
  }

  #publish(jobId: string, outcome: PrintOutcome): void {
    this.#o.publish(
      outcome.status === 'printed'
        ? { job_id: jobId, status: 'printed', ts: Date.now() }
        : { job_id: jobId, status: 'failed', reason: outcome.reason.slice(0, 200), ts: Date.now() },
    );
  }
}
