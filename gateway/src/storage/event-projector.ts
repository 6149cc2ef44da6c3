/**
 * The event log's lookups, built in batches (schema v6). An acknowledged step appends its
 * event rows and commits; the side tables `event_subjects` (events by subject) and
 * `event_dedupe` (a device message key → the seq its unit ended with) are filled here from the
 * events after the mark `store.projected_through`, in the same transaction that moves the
 * mark — so after a crash the mark and the side tables agree, and the next start projects
 * what is left before the store serves. Generic: it reads the columns every event row has
 * (subject, dedupe key); no event type needs code here.
 *
 * Readers see everything: a lookup reads the side table for seq ≤ the mark and scans the
 * events after it (a rowid range, at most one batch long) in the same statement
 * (store-reader.ts). The writer checks device message keys of the unprojected tail in
 * memory ({@link TailKeys}), not by scanning, since it checks one per device message.
 */
import type { Database, Statement } from 'better-sqlite3';
import { RESERVED_META_PREFIX } from './op-validation.js';

/** Every event with seq ≤ this has its rows in event_subjects / event_dedupe. */
export const META_PROJECTED_THROUGH = `${RESERVED_META_PREFIX}projected_through`;
/**
 * The highest seq ever handed out when it is no longer in the log (retention deleted the
 * newest event, or the log was emptied before v6): the next seq is above it.
 */
export const META_SEQ_FLOOR = `${RESERVED_META_PREFIX}seq_floor`;

/** SQL for the mark, as a scalar subquery (0 before anything was projected). */
export const PROJECTED_THROUGH_SQL = `coalesce((SELECT CAST(value AS INTEGER) FROM meta WHERE key = '${META_PROJECTED_THROUGH}'), 0)`;

/**
 * Project once this many events are waiting, or {@link PROJECT_INTERVAL_MS} after the oldest
 * unprojected commit, whichever first. A longer batch amortises more: the entries of one
 * shipment's ~5 events land on one leaf of each side table, written once per batch instead of
 * once per step (bench/commit-pages.ts measures it); a shorter one keeps the readers' tail
 * scan short (≤ 256 rows).
 */
export const PROJECT_MAX_EVENTS = 256;
export const PROJECT_INTERVAL_MS = 1_000;

const keyOf = (deviceId: string, msgId: string): string => `${deviceId}\u0000${msgId}`;

export class EventProjector {
  private readonly s: Record<'mark' | 'markPut' | 'subjects' | 'dedupe' | 'lastSeq', Statement>;
  private markValue: number;

  constructor(private readonly db: Database) {
    this.s = {
      mark: db.prepare(`SELECT ${PROJECTED_THROUGH_SQL}`).pluck(),
      markPut: db.prepare('INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value'),
      subjects: db.prepare('INSERT INTO event_subjects (subject, seq) SELECT subject, seq FROM events WHERE seq > ? ORDER BY subject, seq'),
      dedupe: db.prepare(
        'INSERT INTO event_dedupe (device_id, msg_id, seq) SELECT dedupe_device, dedupe_msg, seq FROM events WHERE seq > ? AND dedupe_device IS NOT NULL ORDER BY dedupe_device, dedupe_msg',
      ),
      lastSeq: db.prepare('SELECT coalesce(max(seq), 0) FROM events').pluck(),
    };
    this.markValue = this.s.mark.get() as number;
  }

  /** The mark as last committed (or read at start). */
  get through(): number {
    return this.markValue;
  }

  /** The newest seq in the log (inside or outside a transaction). */
  lastSeq(): number {
    return this.s.lastSeq.get() as number;
  }

  /**
   * Inside a transaction the caller opened: projects every event after the mark and moves
   * the mark. Returns the new mark, or null when nothing was waiting. The caller tells
   * {@link committed} once the transaction committed (a rollback leaves the old mark).
   * Another writer (the CLI) may have moved the mark: it is re-read here.
   */
  projectInTransaction(): number | null {
    const mark = this.s.mark.get() as number;
    const last = this.lastSeq();
    if (last <= mark) {
      this.markValue = mark;
      return null;
    }
    this.s.subjects.run(mark);
    this.s.dedupe.run(mark);
    this.s.markPut.run(META_PROJECTED_THROUGH, String(last));
    return last;
  }

  committed(mark: number): void {
    if (mark > this.markValue) this.markValue = mark;
  }

  /** One transaction: project what is waiting (start-up, idle flush, before a retention step). */
  projectNow(): number | null {
    let mark: number | null = null;
    this.db
      .transaction(() => {
        mark = this.projectInTransaction();
      })
      .immediate();
    if (mark !== null) this.committed(mark);
    return mark;
  }
}

/**
 * The device message keys of committed events the projector has not reached yet, in the
 * writer's memory, so a redelivery is refused exactly without an index written per step.
 * Empty at start (the writer projects everything before it accepts a unit). Keys of the
 * batch being committed are held apart until the commit succeeds (a rolled-back unit or
 * batch leaves nothing behind).
 */
export class TailKeys {
  private readonly committedKeys = new Map<string, number>();
  private batch = new Map<string, number>();

  has(deviceId: string, msgId: string): boolean {
    const k = keyOf(deviceId, msgId);
    return this.committedKeys.has(k) || this.batch.has(k);
  }

  /** A key on an event row of a unit whose savepoint was released. */
  add(deviceId: string, msgId: string, seq: number): void {
    this.batch.set(keyOf(deviceId, msgId), seq);
  }

  /** A unit's savepoint was rolled back after add(). */
  drop(deviceId: string, msgId: string): void {
    this.batch.delete(keyOf(deviceId, msgId));
  }

  batchCommitted(): void {
    for (const [k, seq] of this.batch) this.committedKeys.set(k, seq);
    this.batch = new Map();
  }

  batchRolledBack(): void {
    this.batch = new Map();
  }

  /** The projector committed through `mark`: those keys are in event_dedupe now. */
  projectedThrough(mark: number): void {
    // Insertion order is commit order, so seqs increase along the map: stop at the first one beyond.
    for (const [k, seq] of this.committedKeys) {
      if (seq > mark) break;
      this.committedKeys.delete(k);
    }
  }

  get size(): number {
    return this.committedKeys.size;
  }
}

/**
 * The same bookkeeping on the store's main thread, for the duplicate lookup of every device
 * message (sqlite-store.ts dedupeSeq): a unit's folded key is known from the moment its write
 * resolves until the writer reports the projector's mark past its seq, after which the side
 * table has it. Only the gateway's writer writes device message keys (the CLI's units carry
 * none), so this map and the side table together are exact; the store reader's own lookup
 * (other connections: the CLI, tests) scans the tail instead.
 */
export class RecentKeys {
  private readonly keys = new Map<string, number>();

  add(deviceId: string, msgId: string, seq: number): void {
    this.keys.set(keyOf(deviceId, msgId), seq);
  }

  get(deviceId: string, msgId: string): number | undefined {
    return this.keys.get(keyOf(deviceId, msgId));
  }

  projectedThrough(mark: number): void {
    // Insertion order is commit order (writes resolve in commit order): stop at the first one beyond.
    for (const [k, seq] of this.keys) {
      if (seq > mark) break;
      this.keys.delete(k);
    }
  }

  clear(): void {
    this.keys.clear();
  }

  get size(): number {
    return this.keys.size;
  }
}
