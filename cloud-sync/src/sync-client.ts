/**
 * Speaks the sync protocol (contracts/sync.ts) over any {@link SyncTransport}: compresses
 * and signs each request, checks each answer against the contract, and turns every outcome
 * into either a typed answer or a {@link SyncCallError} that says whether the cloud answered.
 */
import { promisify } from 'node:util';
import { gzip } from 'node:zlib';
import { TypeCompiler } from '@sinclair/typebox/compiler';
import {
  BatchAck,
  ChangesPage,
  CursorReply,
  SYNC_HEADERS,
  SYNC_LIMITS,
  SYNC_PATHS,
  batchIdempotencyKey,
  signRequest,
} from '../../contracts/sync.js';
import { SyncTransportError, type SyncRequest, type SyncTransport } from './transport.js';

const gzipAsync = promisify(gzip);
const checkAck = TypeCompiler.Compile(BatchAck);
const checkCursor = TypeCompiler.Compile(CursorReply);
const checkPage = TypeCompiler.Compile(ChangesPage);

/** A sync call that did not produce a usable answer. */
export class SyncCallError extends Error {
  constructor(
    message: string,
    /** False when nothing came back (transport failure): counts toward "offline". */
    readonly answered: boolean,
    /** HTTP status, when the cloud answered. */
    readonly status: number | null,
    /** The cloud's error code (SYNC_REQUEST_ERRORS) or the transport failure kind. */
    readonly code: string,
  ) {
    super(message);
    this.name = 'SyncCallError';
  }
}

export interface SyncClientOptions {
  transport: SyncTransport;
  gatewayId: string;
  /** HMAC key shared with the cloud (never logged). */
  key: string;
  timeoutMs?: number;
  now?: () => number;
}

export class SyncClient {
  private readonly timeoutMs: number;
  private readonly now: () => number;

  constructor(private readonly opts: SyncClientOptions) {
    this.timeoutMs = opts.timeoutMs ?? 30_000;
    this.now = opts.now ?? Date.now;
  }

  get transportName(): string {
    return this.opts.transport.name;
  }

  /** Sends one batch (its JSON text); resolves with the cloud's cumulative ack. */
  async postBatch(json: string, firstSeq: number, lastSeq: number): Promise<BatchAck & { wireBytes: number }> {
    const path = SYNC_PATHS.batches(this.opts.gatewayId);
    const key = batchIdempotencyKey(this.opts.gatewayId, firstSeq, lastSeq);
    const { body, answer } = await this.post(path, json, key);
    return { ...this.expect(answer, checkAck, 'batch ack'), wireBytes: body.length };
  }

  /** Resubmits events the cloud rejected before (RetryBody JSON). */
  async postRetry(json: string): Promise<BatchAck> {
    const { answer } = await this.post(SYNC_PATHS.retries(this.opts.gatewayId), json, undefined);
    return this.expect(answer, checkAck, 'retry ack');
  }

  async getCursor(): Promise<number> {
    const answer = await this.call({ method: 'GET', path: SYNC_PATHS.cursor(this.opts.gatewayId) }, new Uint8Array(0));
    return this.expect(answer, checkCursor, 'cursor').acked_seq;
  }

  async getChanges(after: string, limit: number): Promise<ChangesPage> {
    const q = new URLSearchParams({ after, limit: String(Math.min(limit, SYNC_LIMITS.maxChanges)) });
    const path = `${SYNC_PATHS.changes(this.opts.gatewayId)}?${q.toString()}`;
    const answer = await this.call({ method: 'GET', path }, new Uint8Array(0));
    return this.expect(answer, checkPage, 'change page');
  }

  private async post(path: string, json: string, idempotencyKey: string | undefined) {
    // zlib runs on the libuv thread pool: compressing a large batch never blocks the event loop.
    const body = await gzipAsync(Buffer.from(json), { level: 6 });
    if (body.length > SYNC_LIMITS.maxWireBytes) {
      throw new SyncCallError(`compressed batch of ${body.length} bytes exceeds the cloud's limit`, false, null, 'too_large');
    }
    const answer = await this.call({ method: 'POST', path, idempotencyKey }, body);
    return { body, answer };
  }

  private async call(
    r: { method: 'GET' | 'POST'; path: string; idempotencyKey?: string | undefined },
    body: Uint8Array,
  ): Promise<unknown> {
    const timestamp = this.now();
    const gatewayId = this.opts.gatewayId;
    const headers: Record<string, string> = {
      [SYNC_HEADERS.gateway]: gatewayId,
      [SYNC_HEADERS.timestamp]: String(timestamp),
      [SYNC_HEADERS.signature]: signRequest(this.opts.key, {
        method: r.method,
        path: r.path,
        gatewayId,
        timestamp,
        ...(r.idempotencyKey !== undefined ? { idempotencyKey: r.idempotencyKey } : {}),
        body,
      }),
      accept: 'application/json',
    };
    if (r.idempotencyKey !== undefined) headers[SYNC_HEADERS.idempotencyKey] = r.idempotencyKey;
    if (r.method === 'POST') {
      headers['content-type'] = 'application/json';
      headers['content-encoding'] = 'gzip';
    }
    const req: SyncRequest = { method: r.method, path: r.path, headers, body: r.method === 'POST' ? body : null };
    let res;
    try {
      res = await this.opts.transport.request(req, this.timeoutMs);
    } catch (err) {
      const kind = err instanceof SyncTransportError ? err.kind : 'other';
      throw new SyncCallError(`no answer from the cloud (${kind}): ${(err as Error).message}`, false, null, kind);
    }
    if (res.status >= 200 && res.status < 300) return res.body;
    const e = (res.body as { error?: { code?: unknown; message?: unknown } } | null)?.error;
    const code = typeof e?.code === 'string' ? e.code : `HTTP_${res.status}`;
    const msg = typeof e?.message === 'string' ? e.message : '';
    throw new SyncCallError(`cloud answered ${res.status} ${code}${msg ? `: ${msg}` : ''}`, true, res.status, code);
  }

  private expect<T>(answer: unknown, check: { Check(v: unknown): v is T }, what: string): T {
    if (!check.Check(answer)) {
      throw new SyncCallError(`the cloud's ${what} does not match the sync contract`, true, 200, 'bad_answer');
    }
    return answer;
  }
}
