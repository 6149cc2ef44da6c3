/**
 * A minimal IPP client over node:http (RFC 8010 §4: an IPP request is an HTTP POST with
 * Content-Type application/ipp; `ipp://host[:631]/path` is `http://host[:631]/path`, RFC 8010
 * §4.1). Three operations the label driver needs: Print-Job, Get-Job-Attributes,
 * Get-Printer-Attributes (RFC 8011 §4.2.1, §4.3.4, §4.2.5).
 */
import http from 'node:http';
import { PacklineError } from '../../../../contracts/errors.js';
import { attr, decodeResponse, encodeRequest, findAttribute, GroupTag, ValueTag, type IppAttribute, type IppMessage } from './codec.js';

/** operation-id values, RFC 8011 §5.4.15. */
export const Operation = { printJob: 0x0002, getJobAttributes: 0x0009, getPrinterAttributes: 0x000b } as const;

/** job-state enum, RFC 8011 §5.3.7. */
export const JobState = { pending: 3, pendingHeld: 4, processing: 5, processingStopped: 6, canceled: 7, aborted: 8, completed: 9 } as const;
/** printer-state enum, RFC 8011 §5.4.11. */
export const PrinterState = { idle: 3, processing: 4, stopped: 5 } as const;

/** IPP status codes 0x0000–0x00FF are successful-ok*, RFC 8011 §B.1.2. */
export const isSuccess = (status: number) => status >= 0x0000 && status <= 0x00ff;

export interface IppClientOptions {
  /** `ipp://host:port/ipp/print` or `http://…`. */
  readonly uri: string;
  readonly userName?: string;
  /** Whole request/response deadline. Default 10 s. */
  readonly timeoutMs?: number;
  /** Largest response body accepted. Default 1 MiB. */
  readonly maxResponseBytes?: number;
}

export interface PrinterStatus {
  readonly state: number;
  /** Raw keywords as sent, e.g. `media-empty-error`; `none` is dropped. */
  readonly reasons: readonly string[];
  readonly acceptingJobs: boolean;
  readonly message?: string;
}

export interface JobStatus {
  readonly jobId: number;
  readonly state: number;
  readonly reasons: readonly string[];
  readonly message?: string;
}

/** The printer answered with a non-successful IPP status code. */
export class IppStatusError extends Error {
  constructor(
    readonly status: number,
    readonly statusMessage: string | undefined,
  ) {
    super(`IPP status 0x${status.toString(16).padStart(4, '0')}${statusMessage ? ` (${statusMessage})` : ''}`);
    this.name = 'IppStatusError';
  }
}

export class IppClient {
  readonly #url: URL;
  readonly #printerUri: string;
  readonly #o: IppClientOptions;
  #requestId = 0;

  constructor(options: IppClientOptions) {
    const u = new URL(options.uri);
    if (u.protocol !== 'ipp:' && u.protocol !== 'http:') throw new RangeError(`IPP uri must be ipp:// or http://, got ${options.uri}`);
    this.#printerUri = u.protocol === 'ipp:' ? options.uri : `ipp://${u.host}${u.pathname}`;
    // ipp:// defaults to port 631 (RFC 8010 §4.1 / IANA); http:// needs it explicit then.
    this.#url = new URL(`http://${u.hostname.includes(':') ? `[${u.hostname}]` : u.hostname}:${u.port || '631'}${u.pathname}`);
    this.#o = options;
  }

  get description(): string {
    return this.#printerUri;
  }

  async getPrinterAttributes(): Promise<PrinterStatus> {
    const m = await this.#call(Operation.getPrinterAttributes, [
      attr('requested-attributes', ValueTag.keyword, 'printer-state', 'printer-state-reasons', 'printer-is-accepting-jobs', 'printer-state-message'),
    ]);
    const state = findAttribute(m, 'printer-state', GroupTag.printer)?.values[0];
    if (typeof state !== 'number') throw frameError('Get-Printer-Attributes answer without printer-state');
    const accepting = findAttribute(m, 'printer-is-accepting-jobs', GroupTag.printer)?.values[0];
    const msg = text(findAttribute(m, 'printer-state-message', GroupTag.printer));
    return {
      state,
      reasons: keywords(findAttribute(m, 'printer-state-reasons', GroupTag.printer)),
      acceptingJobs: accepting !== false,
      ...(msg ? { message: msg } : {}),
    };
  }

  /** Print-Job with the document as the request's data; `copies` only when > 1 (a job-template attribute). */
  async printJob(document: Uint8Array, o: { jobName: string; documentFormat: string; copies?: number }): Promise<JobStatus> {
    const jobAttrs: IppAttribute[] = o.copies !== undefined && o.copies > 1 ? [attr('copies', ValueTag.integer, o.copies)] : [];
    const m = await this.#call(
      Operation.printJob,
      [attr('job-name', ValueTag.name, o.jobName), attr('document-format', ValueTag.mimeMediaType, o.documentFormat)],
      document,
      jobAttrs,
    );
    return jobStatus(m, undefined);
  }

  async getJobAttributes(jobId: number): Promise<JobStatus> {
    const m = await this.#call(Operation.getJobAttributes, [
      attr('job-id', ValueTag.integer, jobId),
      attr('requested-attributes', ValueTag.keyword, 'job-id', 'job-state', 'job-state-reasons', 'job-state-message'),
    ]);
    return jobStatus(m, jobId);
  }

  async #call(operation: number, extra: IppAttribute[], data?: Uint8Array, jobAttrs: IppAttribute[] = []): Promise<IppMessage> {
    const requestId = (this.#requestId = (this.#requestId % 0x7fffffff) + 1);
    // The first three operation attributes are mandatory and ordered, RFC 8011 §4.1.4–4.1.5.
    const op = [
      attr('attributes-charset', ValueTag.charset, 'utf-8'),
      attr('attributes-natural-language', ValueTag.naturalLanguage, 'en'),
      attr('printer-uri', ValueTag.uri, this.#printerUri),
      attr('requesting-user-name', ValueTag.name, this.#o.userName ?? 'packline'),
      ...extra,
    ];
    const groups = [{ tag: GroupTag.operation, attributes: op }, ...(jobAttrs.length > 0 ? [{ tag: GroupTag.job, attributes: jobAttrs }] : [])];
    const body = encodeRequest({ operation, requestId, groups, ...(data ? { data } : {}) });
    const reply = await this.#post(body);
    const r = decodeResponse(reply);
    if (!r.ok) throw new PacklineError(r.code, r.details);
    const status = r.message.code;
    if (!isSuccess(status)) throw new IppStatusError(status, text(findAttribute(r.message, 'status-message', GroupTag.operation)));
    return r.message;
  }

  #post(body: Buffer): Promise<Buffer> {
    const max = this.#o.maxResponseBytes ?? 1024 * 1024;
    return new Promise<Buffer>((resolve, reject) => {
      const req = http.request(
        this.#url,
        { method: 'POST', headers: { 'content-type': 'application/ipp', 'content-length': body.length }, timeout: this.#o.timeoutMs ?? 10_000 },
        (res) => {
          const chunks: Buffer[] = [];
          let size = 0;
          res.on('data', (c: Buffer) => {
            size += c.length;
            if (size > max) req.destroy(new Error(`IPP response larger than ${max} bytes`));
            else chunks.push(c);
          });
          res.on('end', () => {
            if (res.statusCode !== 200) reject(new Error(`HTTP ${res.statusCode} from ${this.#printerUri}`));
            else resolve(Buffer.concat(chunks));
          });
          res.on('error', reject);
        },
      );
      req.on('timeout', () => req.destroy(new Error(`no IPP answer within ${this.#o.timeoutMs ?? 10_000} ms`)));
      req.on('error', reject);
      req.end(body);
    });
  }
}

function jobStatus(m: IppMessage, askedId: number | undefined): JobStatus {
  const id = findAttribute(m, 'job-id', GroupTag.job)?.values[0] ?? askedId;
  const state = findAttribute(m, 'job-state', GroupTag.job)?.values[0];
  if (typeof id !== 'number' || typeof state !== 'number') throw frameError('job answer without job-id/job-state');
  const msg = text(findAttribute(m, 'job-state-message', GroupTag.job));
  return { jobId: id, state, reasons: keywords(findAttribute(m, 'job-state-reasons', GroupTag.job)), ...(msg ? { message: msg } : {}) };
}

function keywords(a: IppAttribute | undefined): string[] {
  return (a?.values ?? []).filter((v): v is string => typeof v === 'string' && v !== 'none');
}

function text(a: IppAttribute | undefined): string | undefined {
  const v = a?.values[0];
  if (typeof v === 'string') return v.trim() || undefined;
  if (v && typeof v === 'object' && 'kind' in v && v.kind === 'withLanguage') return v.text.trim() || undefined;
  return undefined;
}

function frameError(reason: string): PacklineError {
  return new PacklineError('PKL_FRAME_INVALID', { protocol: 'IPP', reason });
}
