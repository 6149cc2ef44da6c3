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
 */
import { parentPort, workerData } from 'node:worker_threads';
import Database from 'better-sqlite3';

export interface CheckpointInit {
  dbPath: string;
  /** How often to checkpoint (ms). */
  intervalMs: number;
}

export type ToCheckpointer = { t: 'stop' };
export type FromCheckpointer =
  | { t: 'ready' }
  | { t: 'checkpoint'; frames: number; copied: number; busy: boolean }
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
const timer = setInterval(() => {
  try {
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

port.on('message', (m: ToCheckpointer) => {
  if (m.t !== 'stop') return;
  clearInterval(timer);
  try {
    db.close();
  } catch {
    // Closing a read-mostly connection cannot lose anything.
  }
  post({ t: 'stopped' });
  process.exit(0);
});
