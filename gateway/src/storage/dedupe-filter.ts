/**
 * A Bloom filter of device message keys (deviceId, msgId), so the duplicate lookup of every
 * device message answers the common case — a key never seen — from memory instead of two
 * B-tree lookups in SQLite. On the store's main thread those lookups re-read their pages from
 * disk after every commit: a connection's page cache is discarded whenever another
 * connection changed the database (sqlite.org/wal.html, "the WAL-index ... a reader
 * detects that the database has changed and must flush its cache"; the change counter,
 * sqlite.org/fileformat2.html#file_change_counter), so each lookup cost ~46 µs at 100
 * shipments/s (decision 0015).
 *
 * A Bloom filter never forgets a key it was given, so "absent" is exact; "maybe" falls through
 * to the SQL lookup, which stays the authority. Keys whose rows retention deleted simply stay
 * in the filter (one wasted SQL lookup each, no wrong answer).
 *
 * {@link DedupeKeys} builds the filter from SQLite in chunks between event-loop turns and
 * answers "not ready" (use SQL) until the build is complete; the store (main thread) and the
 * writer's UnitApplier each keep one.
 */
import type { Database, Statement } from 'better-sqlite3';
import { PROJECTED_THROUGH_SQL } from './event-projector.js';

/**
 * 10 bits and 7 probes per key: a false-positive rate of (1 − e^(−7/10))^7 ≈ 0.82 % at
 * capacity (≤ 1 %), i.e. 1.25 MB per million keys of capacity.
 */
const BITS_PER_KEY = 10;
const PROBES = 7;
const MAX_CAPACITY = 200_000_000;

/** Both hashes are FNV-1a style (xor, then multiply by an odd constant) with different constants. */
const FNV_OFFSET = 0x811c9dc5;
const FNV_PRIME = 0x01000193;
const H2_OFFSET = 0x5bd1e995;
const H2_PRIME = 0x9e3779b1;

/** murmur3's fmix32: every input bit affects every output bit (the FNV state alone is weak in its low bits). */
function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/**
 * Two 32-bit hashes of the key in one pass over its UTF-16 code units. The device id's
 * length goes in first, so the encoding is injective without a separator character that an
 * id could contain: ('ab', 'c') and ('a', 'bc') hash different inputs (2,a,b,c vs 1,a,b,c).
 */
function hashKey(deviceId: string, msgId: string, out: Uint32Array): void {
  let h1 = FNV_OFFSET;
  let h2 = H2_OFFSET;
  const len = deviceId.length;
  h1 = Math.imul(h1 ^ len, FNV_PRIME);
  h2 = Math.imul(h2 ^ len, H2_PRIME);
  for (let i = 0; i < len; i++) {
    const c = deviceId.charCodeAt(i);
    h1 = Math.imul(h1 ^ c, FNV_PRIME);
    h2 = Math.imul(h2 ^ c, H2_PRIME);
  }
  for (let i = 0; i < msgId.length; i++) {
    const c = msgId.charCodeAt(i);
    h1 = Math.imul(h1 ^ c, FNV_PRIME);
    h2 = Math.imul(h2 ^ c, H2_PRIME);
  }
  out[0] = fmix32(h1);
  out[1] = fmix32(h2);
}

export class DedupeFilter {
  /** Keys it is sized for (false positives ≤ 1 % up to this many). */
  readonly capacity: number;
  private readonly words: Uint32Array;
  /** m / 2^32: maps a 32-bit probe onto [0, m) by a multiply (Lemire's "fast range"). */
  private readonly scale: number;
  private n = 0;
  private readonly h = new Uint32Array(2);

  constructor(capacity: number) {
    // At most MAX_CAPACITY, so the bit index fits in an int32 (a fuller filter only answers "maybe" more often).
    this.capacity = Math.min(Math.max(1, Math.ceil(capacity)), MAX_CAPACITY);
    // A whole number of 32-bit words; ~1.25 MB per million keys (BITS_PER_KEY).
    const words = Math.ceil((this.capacity * BITS_PER_KEY) / 32);
    this.words = new Uint32Array(words);
    // m < 2^31 bits (capacity < 200 million keys); x · m / 2^32 < m for x < 2^32, and its
    // rounding error (≤ m · 2^-53) is far below the distance to m.
    this.scale = (words * 32) / 2 ** 32;
  }

  /**
   * Adds a key. Counts it only when it set a bit that was clear: a key added twice (the same
   * key from two sources) is counted once, and the count under-states distinct keys by at
   * most the false-positive rate.
   */
  add(deviceId: string, msgId: string): void {
    hashKey(deviceId, msgId, this.h);
    const h1 = this.h[0]!;
    const h2 = this.h[1]!;
    let fresh = false;
    // Double hashing (Kirsch & Mitzenmacher, "Less hashing, same performance"): probe i is
    // h1 + i·h2 (mod 2^32), mapped onto the m bits.
    for (let i = 0; i < PROBES; i++) {
      const bit = (((h1 + Math.imul(i, h2)) >>> 0) * this.scale) | 0;
      const w = bit >>> 5;
      const mask = 1 << (bit & 31);
      if ((this.words[w]! & mask) === 0) {
        this.words[w]! |= mask;
        fresh = true;
      }
    }
    if (fresh) this.n += 1;
  }

  /** false: the key was certainly never added. */
  mayContain(deviceId: string, msgId: string): boolean {
    hashKey(deviceId, msgId, this.h);
    const h1 = this.h[0]!;
    const h2 = this.h[1]!;
    for (let i = 0; i < PROBES; i++) {
      const bit = (((h1 + Math.imul(i, h2)) >>> 0) * this.scale) | 0;
      if ((this.words[bit >>> 5]! & (1 << (bit & 31))) === 0) return false;
    }
    return true;
  }

  /** Distinct keys added (approximately: see add()). */
  get count(): number {
    return this.n;
  }

  get bytes(): number {
    return this.words.byteLength;
  }
}

/**
 * One build chunk per event-loop turn (see DedupeKeys): at most this many rows, and no longer
 * than {@link DEDUPE_FILTER_CHUNK_MS}. Reading and hashing costs ~1.2 µs a row on the
 * gateway's 2-core box (bench/dedupe-lookup.ts), so a 20,000-row chunk alone would hold the
 * loop ~25 ms; the time budget keeps each turn short whatever the machine.
 */
export const DEDUPE_FILTER_CHUNK_ROWS = 20_000;
export const DEDUPE_FILTER_CHUNK_MS = 3;

export interface DedupeKeysOptions {
  /** The smallest capacity of a filter (the store's dedupeMaxRows, default 1,000,000). */
  minCapacity: number;
  chunkRows?: number;
  /** Time budget of a chunk (ms); checked every 256 rows. */
  chunkMs?: number;
  /** Wraps each chunk (the store times it as a loop job). */
  run?: (fn: () => void) => void;
  /** A build finished (tests, logs). */
  onReady?: (figures: { keys: number; rows: number; capacity: number; ms: number; chunks: number }) => void;
}

/** Tables the filter is built from, keyset-paginated on their primary key (device_id, msg_id). */
const TABLES = ['event_dedupe', 'dedupe'] as const;

interface Build {
  filter: DedupeFilter;
  /** Index into TABLES, or -1 before the tail of unprojected events was read. */
  table: number;
  after: [string, string] | null;
  rows: number;
  chunks: number;
  startedAt: number;
}

/**
 * The filter over every device message key in a database, kept current by the caller's
 * add() of each key it records, and built without holding the event loop:
 *
 * - A build starts with an empty filter that receives every add() from that moment on; then,
 *   one chunk per setImmediate, it reads the keys of events after the projector's mark (they
 *   are in `events` only), then `event_dedupe` and `dedupe` in primary-key order, `chunkRows`
 *   rows or `chunkMs` at a time (keyset pagination: `WHERE (device_id, msg_id) > (?, ?)`, a seek in the
 *   primary-key B-tree, sqlite.org/rowvalue.html "Row values ... can use indexes").
 * - Nothing committed is missed: a key recorded after the build started came through add();
 *   one recorded before is in SQLite when the build first reads — in the tail (read first, in
 *   one statement with the mark), or in a side table, where it stays until retention deletes
 *   it (then SQL finds nothing either). The projector moving a key from the tail into
 *   event_dedupe behind the cursor is why the tail is read before the side tables.
 * - Until a build completes, certainlyAbsent() answers false (the caller asks SQL, as before).
 * - A filter whose count passed its capacity is rebuilt, larger, on the same path while the
 *   old one keeps answering (and keeps receiving add()).
 */
export class DedupeKeys {
  private current: DedupeFilter | null = null;
  private build: Build | null = null;
  private timer: NodeJS.Immediate | null = null;
  private stopped = false;
  /** Rows the last complete build read (the "rows present" estimate that sizes the next). */
  private lastRows = 0;
  private readonly chunkRows: number;
  private readonly chunkMs: number;
  private readonly s: { tail: Statement; first: Statement[]; next: Statement[] };

  constructor(
    private readonly db: Database,
    private readonly opts: DedupeKeysOptions,
  ) {
    this.chunkRows = Math.max(1, opts.chunkRows ?? DEDUPE_FILTER_CHUNK_ROWS);
    this.chunkMs = opts.chunkMs ?? DEDUPE_FILTER_CHUNK_MS;
    this.s = {
      tail: db.prepare(`SELECT dedupe_device, dedupe_msg FROM events WHERE seq > ${PROJECTED_THROUGH_SQL} AND dedupe_device IS NOT NULL`).raw(),
      first: TABLES.map((t) => db.prepare(`SELECT device_id, msg_id FROM ${t} ORDER BY device_id, msg_id LIMIT ?`).raw()),
      next: TABLES.map((t) => db.prepare(`SELECT device_id, msg_id FROM ${t} WHERE (device_id, msg_id) > (?, ?) ORDER BY device_id, msg_id LIMIT ?`).raw()),
    };
  }

  /** Starts the first build (chunks follow on later event-loop turns). */
  start(): void {
    if (this.build === null && this.current === null) this.begin();
  }

  stop(): void {
    this.stopped = true;
    if (this.timer !== null) clearImmediate(this.timer);
    this.timer = null;
    this.build = null;
  }

  get ready(): boolean {
    return this.current !== null;
  }

  get rebuilding(): boolean {
    return this.build !== null;
  }

  /** The answering filter's figures (null before the first build completes). */
  get figures(): { keys: number; capacity: number; bytes: number } | null {
    const f = this.current;
    return f === null ? null : { keys: f.count, capacity: f.capacity, bytes: f.bytes };
  }

  /** A key the caller recorded (or is recording: a key that then rolls back only costs a lookup). */
  add(deviceId: string, msgId: string): void {
    this.current?.add(deviceId, msgId);
    this.build?.filter.add(deviceId, msgId);
    const f = this.current;
    if (f !== null && this.build === null && f.count > f.capacity) this.begin();
  }

  /** true only when the key was certainly never recorded: answer "new" without SQL. */
  certainlyAbsent(deviceId: string, msgId: string): boolean {
    return this.current !== null && !this.current.mayContain(deviceId, msgId);
  }

  private begin(): void {
    if (this.stopped) return;
    // max(minCapacity, 2 × rows present), rows present as the last build counted them; the
    // first build does not know it and starts at minCapacity (it rebuilds if that was short).
    const capacity = Math.max(this.opts.minCapacity, 2 * this.lastRows);
    this.build = { filter: new DedupeFilter(capacity), table: -1, after: null, rows: 0, chunks: 0, startedAt: performance.now() };
    this.schedule();
  }

  private schedule(): void {
    this.timer = setImmediate(() => {
      this.timer = null;
      const run = this.opts.run ?? ((fn: () => void) => fn());
      run(() => this.step());
    });
  }

  private step(): void {
    const b = this.build;
    if (b === null || this.stopped || !this.db.open) return;
    b.chunks += 1;
    if (b.table === -1) {
      for (const [d, m] of this.s.tail.iterate() as IterableIterator<[string, string]>) {
        b.filter.add(d, m);
        b.rows += 1;
      }
      b.table = 0;
    } else {
      const rows = (
        b.after === null ? this.s.first[b.table]!.iterate(this.chunkRows) : this.s.next[b.table]!.iterate(b.after[0], b.after[1], this.chunkRows)
      ) as IterableIterator<[string, string]>;
      const t0 = performance.now();
      let n = 0;
      let last: [string, string] | undefined;
      let cut = false;
      for (const row of rows) {
        b.filter.add(row[0], row[1]);
        last = row;
        n += 1;
        // Leaving the loop resets the statement (better-sqlite3 iterators); the next chunk
        // seeks past `last`, so rows committed meanwhile behind it come through add().
        if ((n & 255) === 0 && performance.now() - t0 >= this.chunkMs) {
          cut = true;
          break;
        }
      }
      b.rows += n;
      if ((cut || n === this.chunkRows) && last !== undefined) b.after = last;
      else {
        b.table += 1;
        b.after = null;
      }
    }
    if (b.table < TABLES.length) {
      this.schedule();
      return;
    }
    this.build = null;
    this.current = b.filter;
    this.lastRows = b.rows;
    this.opts.onReady?.({ keys: b.filter.count, rows: b.rows, capacity: b.filter.capacity, ms: performance.now() - b.startedAt, chunks: b.chunks });
    // More keys than it was sized for (the first build, or keys added meanwhile): build again,
    // sized from the rows just counted; this one answers until then.
    if (b.filter.count > b.filter.capacity) this.begin();
  }
}
