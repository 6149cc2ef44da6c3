/**
 * The store's single writer, in a worker thread so the main event loop never waits on an
 * fsync (better-sqlite3 is synchronous).
 *
 * Group commit: units queue up while a commit is running; when the writer is idle it opens
 * one transaction with everything queued (after an optional `commitWindowMs` linger),
 * applies each unit in its own SAVEPOINT (a failing unit rolls back alone), commits once
 * (one WAL fsync with synchronous=FULL) and only then reports every outcome. So a resolved
 * write is durable, and N concurrent writes cost one fsync instead of N.
 */
import { mkdirSync } from 'node:fs';
import { parentPort, receiveMessageOnPort, workerData } from 'node:worker_threads';
import Database, { type Database as Db } from 'better-sqlite3';
import { PacklineError } from '../../../contracts/errors.js';
import { configureWriterConnection, migrate, WRITER_SAFETY_CHECKPOINT_PAGES } from './schema.js';
import { serializeError, toStoreError } from './sqlite-errors.js';
import { META_BOOT, UnitApplier } from './unit-applier.js';
import { EventProjector, PROJECT_INTERVAL_MS, PROJECT_MAX_EVENTS, TailKeys } from './event-projector.js';
import type { FromWriter, ToWriter, UnitOutcome, WriterInit } from './writer-protocol.js';
import { RetentionPruner } from './retention-pruner.js';
import { type AutoVacuumOutcome, prepareAutoVacuum } from './retention-vacuum.js';

/** Prune the dedupe inbox at most this often (piggybacks on a commit that happens anyway). */
const DEDUPE_PRUNE_INTERVAL_MS = 60_000;
/**
 * Copy the HLC to `meta` at most this often (and at stop), in a commit that writes events
 * anyway. Not for durability of the clock order: the last event's stamp bounds it
 * (UnitApplier.syncClock); this copy is the floor if retention ever empties the log.
 */
const CLOCK_PERSIST_INTERVAL_MS = 60_000;

interface QueuedUnit {
  id: number;
  ops: unknown;
  clockUnsynced: boolean;
}

const port = parentPort;
if (!port) throw new Error('writer-worker.ts must run as a worker thread');
const init = workerData as WriterInit;

function post(m: FromWriter): void {
  port!.postMessage(m);
}

let db: Db;
let applier: UnitApplier;
let projector: EventProjector;
const tailKeys = new TailKeys();
let boot = 0;
let autoVacuum: AutoVacuumOutcome | undefined;
try {
  mkdirSync(init.dataDir, { recursive: true });
  db = new Database(init.dbPath);
  configureWriterConnection(db);
  if (init.checkpointElsewhere === true) db.pragma(`wal_autocheckpoint = ${WRITER_SAFETY_CHECKPOINT_PAGES}`);
  autoVacuum = prepareAutoVacuum(db, init.vacuumAtStartMaxBytes);
  const migrated = migrate(db);
  const offset = init.wallOffsetMs ?? 0;
  applier = new UnitApplier(db, init.dataDir, () => Date.now() + offset, tailKeys, { minCapacity: init.dedupeMaxRows });
  // Events a crash left unprojected (or the CLI wrote since) get their lookups before the
  // first unit: the tail of device message keys starts empty (event-projector.ts).
  projector = new EventProjector(db);
  projector.projectNow();
  // The boot counter is bumped once per store start, durably, before any unit is accepted.
  db.transaction(() => {
    boot = Number(applier.readMeta(META_BOOT) ?? '0') + 1;
    applier.writeMeta(META_BOOT, String(boot));
  }).immediate();
  post({ t: 'ready', boot, migrated, autoVacuum });
} catch (err) {
  post({ t: 'fatal', error: serializeError(toStoreError(err, { dataDir: init.dataDir })) });
  // postMessage already queued the message on the receiving port; exit ends this thread only.
  process.exit(1);
}

const pruneAge = db.prepare('DELETE FROM dedupe WHERE at < ?');
// Deletes the oldest rows beyond the bound; walks the `at` index only as far as maxRows.
const pruneCount = db.prepare('DELETE FROM dedupe WHERE at <= (SELECT at FROM dedupe ORDER BY at DESC LIMIT 1 OFFSET ?)');
let lastPrune = 0;
let lastClockPersist = 0;

let queue: QueuedUnit[] = [];
/** Retention steps asked for; each runs only when no unit waits (units go first). */
const prunes: Array<{ id: number; req: Extract<ToWriter, { t: 'prune' }>['req'] }> = [];
let pruner: RetentionPruner | null = null;
let stopping = false;
let scheduled = false;
/** When the oldest commit the projector has not reached was made (performance.now), or null. */
let unprojectedSince: number | null = null;
let projectTimer: NodeJS.Timeout | null = null;
let projectDue = false;

function handle(m: ToWriter): void {
  if (m.t === 'unit') queue.push({ id: m.id, ops: m.ops, clockUnsynced: m.clockUnsynced });
  else if (m.t === 'stop') stopping = true;
  else if (m.t === 'prune') prunes.push({ id: m.id, req: m.req });
}

function schedule(): void {
  if (scheduled) return;
  scheduled = true;
  if (init.commitWindowMs > 0 && !stopping) setTimeout(flush, init.commitWindowMs);
  else setImmediate(flush);
}

port.on('message', (m: ToWriter) => {
  handle(m);
  schedule();
});

function flush(): void {
  scheduled = false;
  for (;;) {
    // Take everything that arrived during the previous commit's fsync: it all shares the next one.
    for (let m = receiveMessageOnPort(port!); m; m = receiveMessageOnPort(port!)) handle(m.message as ToWriter);
    if (queue.length === 0 && projectDue) {
      projectDue = false;
      runProjection();
      continue;
    }
    if (queue.length === 0) {
      const p = prunes.shift();
      if (p === undefined) break;
      runPrune(p.id, p.req);
      continue;
    }
    const batch = queue;
    queue = [];
    runBatch(batch);
  }
  if (stopping) shutdown();
}

function maybePruneDedupe(): void {
  const now = applier.clock.peek().wallMs || Date.now();
  if (now - lastPrune < DEDUPE_PRUNE_INTERVAL_MS) return;
  lastPrune = now;
  pruneAge.run(now - init.dedupeRetentionMs);
  pruneCount.run(init.dedupeMaxRows);
}

/** A projection is due in this commit: enough events wait, or the oldest waited long enough. */
function projectionDue(): boolean {
  if (unprojectedSince === null) return false;
  return performance.now() - unprojectedSince >= PROJECT_INTERVAL_MS || projector.lastSeq() - projector.through >= PROJECT_MAX_EVENTS;
}

/** After a commit that left events unprojected: project at the latest PROJECT_INTERVAL_MS later. */
function armProjection(): void {
  unprojectedSince ??= performance.now();
  if (projectTimer !== null) return;
  projectTimer = setTimeout(() => {
    projectTimer = null;
    if (unprojectedSince === null) return;
    projectDue = true;
    schedule();
  }, PROJECT_INTERVAL_MS);
}

function projected(mark: number): void {
  projector.committed(mark);
  tailKeys.projectedThrough(mark);
  unprojectedSince = null;
  if (projectTimer !== null) clearTimeout(projectTimer);
  projectTimer = null;
}

/**
 * A projection on its own (the floor went quiet, a retention step, stop). Its commit is not
 * synced (synchronous=NORMAL for this transaction only): the side tables are derived from
 * events that are durable already, a lost projection is redone from the mark at the next
 * start, and the next unit's synced commit makes it durable anyway (the WAL is appended in
 * order and synced whole).
 */
function runProjection(): void {
  try {
    db.pragma('synchronous = NORMAL');
    let mark: number | null;
    try {
      mark = projector.projectNow();
    } finally {
      db.pragma('synchronous = FULL');
    }
    if (mark !== null) {
      projected(mark);
      post({ t: 'projected', through: mark });
    } else unprojectedSince = null;
  } catch (err) {
    // The units are durable; the lookups stay on the tail scan until the next try.
    post({ t: 'fatal', error: serializeError(toStoreError(err, { dataDir: init.dataDir })) });
    armProjection();
  }
}

function runBatch(batch: QueuedUnit[]): void {
  const outcomes: UnitOutcome[] = [];
  const folded: Array<{ id: number; deviceId: string; msgId: string; seq: number }> = [];
  let unitsWritten = 0;
  let events = 0;
  let mark: number | null = null;
  try {
    db.exec('BEGIN IMMEDIATE');
    applier.syncClock();
    maybePruneDedupe();
    for (const u of batch) {
      db.exec('SAVEPOINT unit');
      try {
        const r = applier.apply(u.ops, { boot, clockUnsynced: u.clockUnsynced });
        db.exec('RELEASE unit');
        const ok: UnitOutcome = { id: u.id, ok: true, seqs: r.seqs };
        if (r.stale) ok.stale = r.stale;
        outcomes.push(ok);
        if (r.folded) {
          tailKeys.add(r.folded.deviceId, r.folded.msgId, r.folded.seq);
          folded.push({ id: u.id, ...r.folded });
        }
        unitsWritten += 1;
        events += r.events;
      } catch (err) {
        const e = toStoreError(err, { dataDir: init.dataDir });
        // Some errors (SQLITE_FULL, IOERR, NOMEM) make SQLite roll back the whole transaction
        // (sqlite.org/lang_transaction.html "Response To Errors Within A Transaction");
        // then the whole batch fails below.
        if (!db.inTransaction) throw e;
        db.exec('ROLLBACK TO unit');
        db.exec('RELEASE unit');
        outcomes.push({ id: u.id, ok: false, error: serializeError(e) });
      }
    }
    if (events > 0) {
      const now = Date.now();
      if (now - lastClockPersist >= CLOCK_PERSIST_INTERVAL_MS) {
        lastClockPersist = now;
        applier.persistClock();
      }
      unprojectedSince ??= performance.now();
    }
    // The projection rides on this commit when due: no commit or sync of its own.
    if (projectionDue()) {
      db.exec('SAVEPOINT project');
      try {
        mark = projector.projectInTransaction();
        db.exec('RELEASE project');
      } catch (err) {
        if (!db.inTransaction) throw err;
        db.exec('ROLLBACK TO project');
        db.exec('RELEASE project');
        mark = null;
        post({ t: 'fatal', error: serializeError(toStoreError(err, { dataDir: init.dataDir })) });
      }
    }
    db.exec('COMMIT');
  } catch (err) {
    tailKeys.batchRolledBack();
    if (db.inTransaction) {
      try {
        db.exec('ROLLBACK');
      } catch {
        // The connection already rolled back; nothing else to undo.
      }
    }
    const e = serializeError(toStoreError(err, { dataDir: init.dataDir }));
    post({ t: 'done', committed: false, unitsWritten: 0, outcomes: batch.map((u) => ({ id: u.id, ok: false, error: e })), projected: projector.through });
    return;
  }
  tailKeys.batchCommitted();
  if (mark !== null) projected(mark);
  else if (unprojectedSince !== null) armProjection();
  const done: FromWriter = { t: 'done', committed: unitsWritten > 0, unitsWritten, outcomes, projected: projector.through };
  if (folded.length > 0) done.folded = folded;
  post(done);
}

function runPrune(id: number, req: Extract<ToWriter, { t: 'prune' }>['req']): void {
  try {
    // Lookups complete and the tail empty before events are deleted: the pruner reads events
    // by subject, and a pruned event's key must not linger in the writer's memory.
    runProjection();
    pruner ??= new RetentionPruner(db);
    post({ t: 'pruned', id, ok: true, result: pruner.step(req) });
  } catch (err) {
    post({ t: 'pruned', id, ok: false, error: serializeError(toStoreError(err, { dataDir: init.dataDir })) });
  }
}

function shutdown(): void {
  port!.removeAllListeners('message');
  if (projectTimer !== null) clearTimeout(projectTimer);
  try {
    // The clock's floor in meta as of the last event (see CLOCK_PERSIST_INTERVAL_MS).
    db.transaction(() => {
      applier.syncClock();
      applier.persistClock();
      // The next start finds nothing to project.
      const mark = projector.projectInTransaction();
      if (mark !== null) projector.committed(mark);
    }).immediate();
  } catch {
    // Not needed for the clock order (the last event bounds it); close anyway.
  }
  // No filter chunk may run on the closed connection.
  applier.close();
  try {
    db.close();
  } catch (err) {
    post({
      t: 'fatal',
      error: serializeError(new PacklineError('PKL_STORE_UNAVAILABLE', { reason: `close failed: ${String(err)}` })),
    });
  }
  post({ t: 'stopped' });
  // Exit explicitly: under tsx the loader may keep handles open in this thread. The message
  // above is already queued on the main thread's side of the port.
  process.exit(0);
}
