/**
 * Checks one sync request in the order contracts/sync.ts prescribes: who is calling and
 * whether the signature holds (over the exact compressed bytes on the wire, BEFORE anything
 * is decompressed: no zip bomb before auth), then the replay window, then gunzip with a cap
 * on the output, then JSON, then the TypeBox schema and the batch's own consistency.
 */
import { promisify } from 'node:util';
import { gunzip } from 'node:zlib';
import type { TSchema, Static } from '@sinclair/typebox';
import type { TypeCheck } from '@sinclair/typebox/compiler';
import {
  type BatchBody,
  SYNC_HEADERS,
  SYNC_LIMITS,
  SYNC_PROTOCOL_VERSION,
  SYNC_REQUEST_ERRORS,
  batchIdempotencyKey,
  verifyRequest,
} from '../../../../contracts/sync.js';

const gunzipAsync = promisify(gunzip);

/** A refused request: HTTP status and a SyncErrorBody code. */
export class SyncRequestError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details?: Record<string, unknown>,
  ) {
    super(message);
    this.name = 'SyncRequestError';
  }

  /** contracts/sync.ts SyncErrorBody. */
  toBody(): { error: { code: string; message: string; details?: Record<string, unknown> } } {
    return { error: { code: this.code, message: this.message, ...(this.details ? { details: this.details } : {}) } };
  }
}

const unauthorized = (why: string) => new SyncRequestError(401, SYNC_REQUEST_ERRORS.unauthorized, why);
const malformed = (why: string, details?: Record<string, unknown>) => new SyncRequestError(400, SYNC_REQUEST_ERRORS.malformed, why, details);
export const tooLarge = (why: string) => new SyncRequestError(413, SYNC_REQUEST_ERRORS.tooLarge, why);

export interface SignedRequest {
  method: string;
  /** Path with query exactly as received (what the gateway signed). */
  url: string;
  headers: Record<string, string | string[] | undefined>;
  /** Exact body bytes (empty for GET). */
  body: Uint8Array;
}

export interface AuthOptions {
  /** The key of a known gateway, or null. */
  keyOf: (gatewayId: string) => string | null;
  now: number;
  skewMs?: number;
}

const header = (h: SignedRequest['headers'], name: string): string | undefined => {
  const v = h[name];
  return Array.isArray(v) ? v[0] : v;
};

/** Throws 401 unless the request is signed by the gateway the path names, within the replay window. */
export function authenticate(req: SignedRequest, pathGatewayId: string, opts: AuthOptions): void {
  const gatewayId = header(req.headers, SYNC_HEADERS.gateway);
  const ts = header(req.headers, SYNC_HEADERS.timestamp);
  const signature = header(req.headers, SYNC_HEADERS.signature);
  if (gatewayId === undefined || ts === undefined || signature === undefined) {
    throw unauthorized(`missing ${SYNC_HEADERS.gateway}, ${SYNC_HEADERS.timestamp} or ${SYNC_HEADERS.signature}`);
  }
  if (gatewayId !== pathGatewayId) throw unauthorized('the gateway header does not match the path');
  const key = opts.keyOf(gatewayId);
  if (key === null) throw unauthorized(`unknown gateway ${gatewayId}`);
  const timestamp = Number(ts);
  if (!/^\d{1,16}$/.test(ts) || !Number.isSafeInteger(timestamp)) throw unauthorized('bad timestamp');
  const idempotencyKey = header(req.headers, SYNC_HEADERS.idempotencyKey);
  const ok = verifyRequest(key, signature, {
    method: req.method,
    path: req.url,
    gatewayId,
    timestamp,
    ...(idempotencyKey !== undefined ? { idempotencyKey } : {}),
    body: req.body,
  });
  if (!ok) throw unauthorized('signature does not verify');
  // After the signature: an attacker cannot learn the clock skew window without the key.
  const skew = opts.skewMs ?? SYNC_LIMITS.signatureSkewMs;
  if (Math.abs(opts.now - timestamp) > skew) {
    throw new SyncRequestError(401, SYNC_REQUEST_ERRORS.stale, `request signed ${opts.now - timestamp} ms ago, outside ±${skew} ms`);
  }
}

/** Gunzips (output capped at SYNC_LIMITS.maxBatchBytes), parses and validates a body. */
export async function decodeBody<T extends TSchema>(body: Uint8Array, check: TypeCheck<T>, maxBytes: number = SYNC_LIMITS.maxBatchBytes): Promise<Static<T>> {
  if (body.length < 2 || body[0] !== 0x1f || body[1] !== 0x8b) throw malformed('body is not gzip');
  let text: Buffer;
  try {
    text = await gunzipAsync(body, { maxOutputLength: maxBytes });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE' || err instanceof RangeError) {
      throw tooLarge(`uncompressed body exceeds ${maxBytes} bytes`);
    }
    throw malformed(`body is not valid gzip: ${(err as Error).message}`);
  }
  let value: unknown;
  try {
    value = JSON.parse(text.toString('utf8'));
  } catch {
    throw malformed('body is not JSON');
  }
  const v = (value as { v?: unknown } | null)?.v;
  if (v !== undefined && v !== SYNC_PROTOCOL_VERSION) {
    throw new SyncRequestError(400, SYNC_REQUEST_ERRORS.versionUnsupported, `sync contract version ${String(v).slice(0, 20)} is not spoken here`, {
      supported: [SYNC_PROTOCOL_VERSION],
    });
  }
  if (!check.Check(value)) {
    const first = check.Errors(value).First();
    throw malformed('body does not match the sync contract', first ? { path: first.path, message: first.message } : undefined);
  }
  return value;
}

/** What the schema cannot say: gateway id, first/last seq and contiguity, the idempotency key. */
export function checkBatchShape(
  b: BatchBody,
  pathGatewayId: string,
  idempotencyKey: string | undefined,
  opts: { contiguity: boolean } = { contiguity: true },
): void {
  if (b.gateway_id !== pathGatewayId) throw malformed('gateway_id does not match the path');
  const first = b.events[0]!.seq;
  const last = b.events[b.events.length - 1]!.seq;
  if (first !== b.first_seq || last !== b.last_seq) throw malformed('first_seq/last_seq do not match the events');
  for (let i = 1; i < b.events.length && opts.contiguity; i++) {
    if (b.events[i]!.seq !== first + i) throw malformed('events are not contiguous and ascending', { index: i });
  }
  if (idempotencyKey !== undefined && idempotencyKey !== batchIdempotencyKey(pathGatewayId, first, last)) {
    throw malformed('idempotency key does not match the batch');
  }
}

/** RetryBody: the gateway id matches, seqs ascending and distinct. */
export function checkRetryShape(gatewayId: string, pathGatewayId: string, seqs: readonly number[]): void {
  if (gatewayId !== pathGatewayId) throw malformed('gateway_id does not match the path');
  for (let i = 1; i < seqs.length; i++) {
    if (seqs[i]! <= seqs[i - 1]!) throw malformed('retry events are not in ascending order', { index: i });
  }
}

/** `after` of the change feed: '' (from the start) or a decimal cursor. */
export function parseCursor(after: string | undefined): number {
  if (after === undefined || after === '') return 0;
  if (!/^\d{1,15}$/.test(after)) throw malformed(`bad cursor "${after.slice(0, 40)}"`);
  return Number(after);
}

export function parseLimit(limit: string | undefined, fallback: number): number {
  if (limit === undefined || limit === '') return fallback;
  if (!/^\d{1,6}$/.test(limit) || Number(limit) < 1) throw malformed(`bad limit "${limit.slice(0, 40)}"`);
  return Math.min(Number(limit), SYNC_LIMITS.maxChanges);
}

export { malformed, unauthorized };
