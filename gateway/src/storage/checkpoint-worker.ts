/**
 * WAL checkpoints in their own thread, off the writer's commit path (SD-card mode, docs/deploy-raspberry-pi.md).
 *
 * Why: with SQLite's auto-checkpoint the writer copies the WAL back into the database inside
 * whichever COMMIT crosses the threshold (sqlite.org/wal.html "Automatic Checkpoint"), and
 * with synchronous=FULL that checkpoint syncs the WAL and then the database file. On an SD
 * card (8 ms a sync, spikes to 180 ms) those two extra syncs sit in front of every unit
 * queued behind that commit: at 100 shipments/s about 10 % of the writer's syncs were
 * checkpoints, and they made the scan-to-print tail (bench/README.md "SD-card mode").
 *
 * Here a second connection runs `PRAGMA wal_checkpoint(PASSIVE)` on a timer. PASSIVE "does
 * as much work as possible without interfering with other database connections": it never
 * takes the writer lock and never waits (sqlite.org/c3ref/wal_checkpoint_v2.html), so the
 * writer keeps committing while frames are copied; a checkpoint with nothing new to copy does
 * no I/O. Durability is unchanged: a commit is durable once its WAL frames are synced, which
 * the writer still does at every COMMIT; a checkpoint only moves durable pages.
 *
 * The writer keeps auto-checkpoint as a safety net with a high threshold
 * (WRITER_SAFETY_CHECKPOINT_PAGES in schema.ts): if this thread dies or falls behind, the WAL
 * stays bounded exactly as before, only with the old cost.
 *
 * The same connection also counts the waybill coverage of the orders cache when the store
 * asks (a full scan: 90-200 ms with 100,000+ cached orders, which held the main thread's event
 * loop that long every 5 s when the store ran it there) and posts the count; the store serves
 * the last one. One thread and one V8 isolate for both background reads.
 */
import { statSync } from 'node:fs';
import { parentPort, workerData } from 'node:worker_threads';
import Database from 'better-sqlite3';
import { WAYBILL_COVERAGE_SQL } from './store-reader.js';

export interface CheckpointInit {
  dbPath: string;
  /** How often to checkpoint (ms). */
  intervalMs: number;
}

export type ToCheckpointer = { t: 'stop' } | { t: 'coverage' };
export type FromCheckpointer =
  | { t: 'ready' }
  | { t: 'checkpoint'; frames: number; copied: number; busy: boolean }
  | { t: 'coverage'; open: number; withWaybill: number }
  | { t: 'error'; reason: string }
  | { t: 'stopped' };

const port = parentPort;
if (!port) throw new Error('checkpoint-worker.ts must run as a worker thread');
const init = workerData as CheckpointInit;
const post = (m: FromCheckpointer): void => port.postMessage(m);

let db: Database.Database;
try {
  db = new Database(init.dbPath, { fileMustExist: true });
  // This connection never writes; it must not checkpoint on its own schedule either.
  db.pragma('wal_autocheckpoint = 0');
  db.pragma('busy_timeout = 0');
  post({ t: 'ready' });
} catch (err) {
  post({ t: 'error', reason: String(err) });
  process.exit(1);
}

let lastLog = -1;
/** The WAL file's size and modification time at the last checkpoint: unchanged = nothing to copy. */
let lastWal = '';
const timer = setInterval(() => {
  try {
    // A quiet floor commits a few times a second at most: skip the checkpoint (and its
    // wal-index reads) when the WAL has not been written since the last one.
    let wal = '';
    try {
      const st = statSync(`${init.dbPath}-wal`, { bigint: true });
      wal = `${st.size}:${st.mtimeNs}`;
    } catch {
      wal = 'none';
    }
    if (wal === lastWal) return;
    lastWal = wal;
    // [{ busy, log, checkpointed }]: busy = 1 when a reader or the writer kept it from finishing.
    const r = db.pragma('wal_checkpoint(PASSIVE)') as Array<{ busy: number; log: number; checkpointed: number }>;
    const row = r[0];
    if (row !== undefined && row.log !== lastLog) {
      lastLog = row.log;
      post({ t: 'checkpoint', frames: row.log, copied: row.checkpointed, busy: row.busy !== 0 });
    }
  } catch (err) {
    // SQLITE_BUSY and friends: try again next tick; the writer's safety net bounds the WAL.
    post({ t: 'error', reason: String(err) });
  }
}, init.intervalMs);

/**
 * Waybill coverage counts on request. A count runs at most ~0.2 % of a core: the next one
 * waits 500× the last one's duration (a 90 ms scan of 150,000 orders → 45 s apart; 2 ms on a
 * few thousand orders → 1 s), and requests in between share it. Coverage is a figure for the
 * dashboard tile, preflight and the coverage alarm, which move in minutes; at 60× the count was
 * 1.6–2.6 % of a core on a busy bench floor, more than the checkpoints on the same thread.
 */
const COVERAGE_PAUSE_FACTOR = 500;
const coverage = db.prepare(WAYBILL_COVERAGE_SQL);
let coverageTimer: NodeJS.Timeout | null = null;
let coverageFreeAt = 0;
function countCoverage(): void {
  coverageTimer = null;
  const t0 = performance.now();
  try {
    const r = coverage.get() as { open: number; withWaybill: number };
    post({ t: 'coverage', open: r.open, withWaybill: r.withWaybill });
  } catch (err) {
    post({ t: 'error', reason: String(err) });
  }
  const t1 = performance.now();
  coverageFreeAt = t1 + COVERAGE_PAUSE_FACTOR * (t1 - t0);
}

port.on('message', (m: ToCheckpointer) => {
  if (m.t === 'coverage') {
    if (coverageTimer === null) coverageTimer = setTimeout(countCoverage, Math.max(0, coverageFreeAt - performance.now()));
    return;
  }
  clearInterval(timer);
  if (coverageTimer !== null) clearTimeout(coverageTimer);
  try {
    db.close();
  } catch {
    // Closing a read-mostly connection cannot lose anything.
  }
  post({ t: 'stopped' });
  process.exit(0);
});
