/**
 * Builds the JSON text of one upstream batch (contracts/sync.ts BatchBody) straight from
 * stored rows: the event `data` is already JSON in the store, so it is spliced in as is
 * rather than parsed and serialised again (a 720k-event backlog is drained through here).
 * Pure.
 */
import { SYNC_LIMITS, SYNC_PROTOCOL_VERSION } from '../../contracts/sync.js';
import type { OutboxEventRow } from './ports.js';

export interface BatchBounds {
  /** Close the batch at this many events. */
  maxEvents: number;
  /** Close the batch before its JSON exceeds this many bytes (one event always fits). */
  maxBytes: number;
}

export const DEFAULT_BATCH_BOUNDS: BatchBounds = { maxEvents: 1000, maxBytes: 1024 * 1024 };

export interface BuiltBatch {
  json: string;
  firstSeq: number;
  lastSeq: number;
  count: number;
  /** UTF-8 length of `json`. */
  bytes: number;
}

/** The wire form of one row; `hlc` is digits and a dot, `data` is stored JSON. */
export function eventJson(r: OutboxEventRow): string {
  return (
    `{"seq":${r.seq},"hlc":"${r.hlc}","boot":${r.boot},"clock_unsynced":${r.clock_unsynced === 1},` +
    `"type":${JSON.stringify(r.type)},"subject":${JSON.stringify(r.subject)},"data":${r.data}}`
  );
}

/**
 * Takes rows from the front of `rows` (ascending, contiguous) until a bound is reached.
 * Returns null for no rows. The cloud's own limits (SYNC_LIMITS) cap the bounds.
 */
export function buildBatch(rows: readonly OutboxEventRow[], gatewayId: string, sentAt: number, bounds: BatchBounds = DEFAULT_BATCH_BOUNDS): BuiltBatch | null {
  const first = rows[0];
  if (first === undefined) return null;
  const maxEvents = Math.max(1, Math.min(bounds.maxEvents, SYNC_LIMITS.maxBatchEvents));
  const maxBytes = Math.min(bounds.maxBytes, SYNC_LIMITS.maxBatchBytes);
  const parts: string[] = [];
  let bytes = 0;
  let last = first.seq;
  for (const r of rows) {
    if (parts.length >= maxEvents) break;
    if (parts.length > 0 && r.seq !== last + 1) break; // never send across a gap
    const e = eventJson(r);
    const len = Buffer.byteLength(e) + 1;
    if (parts.length > 0 && bytes + len > maxBytes) break;
    parts.push(e);
    bytes += len;
    last = r.seq;
  }
  const json =
    `{"v":${SYNC_PROTOCOL_VERSION},"gateway_id":${JSON.stringify(gatewayId)},"first_seq":${first.seq},` +
    `"last_seq":${last},"sent_at":${Math.floor(sentAt)},"events":[${parts.join(',')}]}`;
  return { json, firstSeq: first.seq, lastSeq: last, count: parts.length, bytes: Buffer.byteLength(json) };
}
