/**
 * Speaks the sync protocol (contracts/sync.ts) over any {@link SyncTransport}: compresses
 * and signs each request, checks each answer against the contract, and turns every outcome
 * into either a typed answer or a {@link SyncCallError} that says whether the cloud answered.
 */
import { promisify } from 'node:util';
import { gzip } from 'node:zlib';
import { Type } from '@sinclair/typebox';
import {
  BatchAck,
  CHANGE_REJECT_CODES,
  type Change,
  ChangesPage,
  CursorReply,
  RetryAck,
  SYNC_HEADERS,
  SYNC_LIMITS,
  SYNC_PATHS,
  SYNC_PROTOCOL_VERSION,
  batchIdempotencyKey,
  signRequest,
} from '../../contracts/sync.js';
import { type ReadResult, answerReader } from './answer-reader.js';
import type { FeedItem, QuarantinedChange } from './ports.js';
import { SyncTransportError, type SyncRequest, type SyncTransport } from './transport.js';

const gzipAsync = promisify(gzip);
const readAck = answerReader(BatchAck, 'batch ack');
const readRetryAck = answerReader(RetryAck, 'retry ack');
const readCursor = answerReader(CursorReply, 'cursor');
/** The page envelope; each change is read on its own, so one bad change spoils only itself. */
export const ChangePageEnvelope = Type.Object({ ...ChangesPage.properties, changes: Type.Array(Type.Unknown(), { maxItems: SYNC_LIMITS.maxChanges }) });
const readEnvelope = answerReader(ChangePageEnvelope, 'change page');
const CHANGE_KINDS = new Map(
  (Change_anyOf() as Array<{ properties: { kind: { const: string } } }>).map((v) => [v.properties.kind.const, answerReader(v as never, 'change')]),
);
function Change_anyOf(): unknown[] {
  return (ChangesPage.properties.changes.items as unknown as { anyOf: unknown[] }).anyOf;
}

/** A change the gateway cannot read: quarantined with its code, the feed moves on. */
export type UnreadableChange = QuarantinedChange & { code: (typeof CHANGE_REJECT_CODES)[keyof typeof CHANGE_REJECT_CODES] };

export interface ReadPage {
  changes: FeedItem[];
  next_cursor: string;
  has_more: boolean;
}

/** Reads one raw change: a Change, or why it is refused. Exported for the applier's tests. */
export function readChange(raw: unknown): { change: Change; unknown: string[] } | { bad: UnreadableChange } {
  const o = raw !== null && typeof raw === 'object' && !Array.isArray(raw) ? (raw as Record<string, unknown>) : null;
  const str = (k: string) => (o !== null && typeof o[k] === 'string' ? (o[k] as string).slice(0, 200) : null);
  const bad = (code: UnreadableChange['code'], reason: string) => ({
    bad: { cursor: str('cursor'), kind: str('kind'), order_id: str('order_id') ?? orderIdOfUpsert(o), code, reason, raw: safeJson(raw).slice(0, 4_000) },
  });
  if (o === null) return bad(CHANGE_REJECT_CODES.malformed, 'a change must be a JSON object');
  const kind = str('kind');
  if (kind === null) return bad(CHANGE_REJECT_CODES.malformed, 'a change needs a string kind');
  const reader = CHANGE_KINDS.get(kind);
  if (reader === undefined) return bad(CHANGE_REJECT_CODES.unknownKind, `change kind "${kind}" is not one this gateway knows`);
  const r = reader(raw) as ReadResult<Change>;
  if (!r.ok) return bad(CHANGE_REJECT_CODES.malformed, r.error.replace("the cloud's change", `the ${kind} change`));
  return { change: r.value, unknown: r.unknown };
}

function orderIdOfUpsert(o: Record<string, unknown> | null): string | null {
  const order = o?.['order'] as Record<string, unknown> | undefined;
  return typeof order?.['order_id'] === 'string' ? (order['order_id'] as string).slice(0, 200) : null;
}

function safeJson(v: unknown): string {
  try {
    return JSON.stringify(v) ?? String(v);
  } catch {
    return String(v);
  }
}

/** SyncCallError code of an answer that does not match the contract (a cloud defect, not a hiccup). */
export const CONTRACT_ERROR = 'contract_error';

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

/** Fields in cloud answers the gateway did not know (ignored), for the metrics and the status. */
export interface UnknownFieldStats {
  count: number;
  /** The latest few, as `<answer> <json pointer>`. */
  recent: string[];
}

export class SyncClient {
  private readonly timeoutMs: number;
  private readonly now: () => number;
  readonly unknownFieldStats: UnknownFieldStats = { count: 0, recent: [] };

  constructor(private readonly opts: SyncClientOptions) {
    this.timeoutMs = opts.timeoutMs ?? 30_000;
    this.now = opts.now ?? Date.now;
  }

  get transportName(): string {
    return this.opts.transport.name;
  }

  /**
   * Compresses one batch (its JSON text) for {@link postBatch}; `wireBytes` is what goes on
   * the wire, counted by the caller before the answer (answered or not).
   */
  async compress(json: string): Promise<Buffer> {
    // zlib runs on the libuv thread pool: compressing a large batch never blocks the event loop.
    const body = await gzipAsync(Buffer.from(json), { level: 6 });
    if (body.length > SYNC_LIMITS.maxWireBytes) {
      throw new SyncCallError(`compressed batch of ${body.length} bytes exceeds the cloud's limit`, false, null, 'too_large');
    }
    return body;
  }

  /** Sends one compressed batch; resolves with the cloud's cumulative ack. */
  async postBatch(body: Buffer, firstSeq: number, lastSeq: number, timeoutMs?: number): Promise<BatchAck> {
    const path = SYNC_PATHS.batches(this.opts.gatewayId);
    const key = batchIdempotencyKey(this.opts.gatewayId, firstSeq, lastSeq);
    const answer = await this.call({ method: 'POST', path, idempotencyKey: key }, body, timeoutMs);
    return this.expect(readAck(answer), 'batch ack');
  }

  /** Resubmits events the cloud rejected before (RetryBody JSON). */
  async postRetry(json: string): Promise<RetryAck> {
    const body = await this.compress(json);
    const answer = await this.call({ method: 'POST', path: SYNC_PATHS.retries(this.opts.gatewayId) }, body);
    return this.expect(readRetryAck(answer), 'retry ack');
  }

  async getCursor(): Promise<number> {
    const answer = await this.call({ method: 'GET', path: SYNC_PATHS.cursor(this.opts.gatewayId) }, new Uint8Array(0));
    return this.expect(readCursor(answer), 'cursor').acked_seq;
  }

  /** One change page; each change read on its own (a bad one comes back as `bad`, not as an error). */
  async getChanges(after: string, limit: number): Promise<ReadPage> {
    const q = new URLSearchParams({ after, limit: String(Math.min(limit, SYNC_LIMITS.maxChanges)) });
    const path = `${SYNC_PATHS.changes(this.opts.gatewayId)}?${q.toString()}`;
    const answer = await this.call({ method: 'GET', path }, new Uint8Array(0));
    const page = this.expect(readEnvelope(answer), 'change page');
    const changes = page.changes.map((raw, i) => {
      const r = readChange(raw);
      if ('change' in r)
        this.noteUnknown(
          'change page',
          r.unknown.map((p) => `/changes/${i}${p}`),
        );
      return 'change' in r ? { change: r.change } : r;
    });
    return { changes, next_cursor: page.next_cursor, has_more: page.has_more };
  }

  private noteUnknown(what: string, paths: string[]): void {
    if (paths.length === 0) return;
    this.unknownFieldStats.count += paths.length;
    this.unknownFieldStats.recent = [...paths.map((p) => `${what} ${p}`), ...this.unknownFieldStats.recent].slice(0, 10);
  }

  private async call(
    r: { method: 'GET' | 'POST'; path: string; idempotencyKey?: string | undefined },
    body: Uint8Array,
    timeoutMs: number = this.timeoutMs,
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
      [SYNC_HEADERS.version]: String(SYNC_PROTOCOL_VERSION),
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
      res = await this.opts.transport.request(req, timeoutMs);
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

  /** A readable answer, its unknown fields counted; an unreadable one is a contract error. */
  private expect<T>(r: ReadResult<T>, what: string): T {
    if (!r.ok) throw new SyncCallError(r.error, true, 200, CONTRACT_ERROR);
    this.noteUnknown(what, r.unknown);
    return r.value;
  }
}
