/**
 * What cloud sync needs from the gateway, as ports the gateway implements over its store
 * (gateway/src/sync/sync-store-adapter.ts). cloud-sync imports only contracts/ and these.
 */
import type { Change, RejectedEvent } from '../../contracts/sync.js';

/** An event-log row as stored: `data` is JSON text, copied to the wire without a re-parse. */
export interface OutboxEventRow {
  seq: number;
  hlc: string;
  boot: number;
  clock_unsynced: number;
  type: string;
  subject: string;
  data: string;
}

export interface AckResult {
  /** The cloud's cumulative ack; every event up to it is stored upstream. */
  ackedSeq: number;
  /** Events of this request the cloud stored as rejected. */
  rejected: RejectedEvent[];
  /** Seqs a retry got accepted. */
  accepted: number[];
  at: number;
}

export interface OutboxStore {
  /** Rows with seq > afterSeq, ascending, at most `limit`. */
  readEventRows(afterSeq: number, limit: number): OutboxEventRow[];
  /** Highest seq written so far. */
  lastSeq(): number;
  /** The durable upstream cursor (0 before the first ack). */
  ackedSeq(): number;
  /**
   * Durably records an answer in one unit: the cursor (only ever raised), the rejected
   * events tagged "sync failed", the accepted retries resolved. Resolves once on disk.
   */
  saveAck(ack: AckResult): Promise<void>;
  /** Seqs a supervisor asked to resubmit (`packline sync retry`), oldest first. */
  retryRequested(limit: number): number[];
}

/** A change the gateway cannot read or apply: quarantined with its code, the feed moves on. */
export interface QuarantinedChange {
  cursor: string | null;
  kind: string | null;
  order_id: string | null;
  /** contracts/sync.ts CHANGE_REJECT_CODES. */
  code: string;
  reason: string;
  /** The change as received (JSON text, cut at 4 000 characters). */
  raw: string;
}

/** One entry of a change page: a readable change, or one already found unreadable. */
export type FeedItem = { change: Change } | { bad: QuarantinedChange };

export interface ApplyResult {
  applied: number;
  skipped: number;
  /** Changes stored as rejected (contracts/sync.ts SYNC_EVENT.changeRejected) instead of applied. */
  quarantined: QuarantinedChange[];
}

export interface InboundStore {
  /** The cloud change-feed cursor last applied ('' before the first page). */
  inboundCursor(): string;
  /**
   * Applies a page of changes and stores `nextCursor` in the same unit, so a crash can
   * neither skip a change nor (because every change is idempotent) apply one twice. A change
   * it cannot apply, and every `bad` one, is quarantined (kept, reported upstream) and the
   * cursor still moves on.
   */
  applyChanges(changes: FeedItem[], nextCursor: string): Promise<ApplyResult>;
}
