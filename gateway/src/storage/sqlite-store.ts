/**
 * The durable store: SQLite (WAL, synchronous=FULL) with one writer in a worker thread that
 * group-commits (writer-worker.ts) and synchronous reads on the main thread from a separate
 * read-only connection. See types.ts for the contract.
 */
import { createPrivateFile, lockDownDataDir } from './file-modes.js';
import { stat, statfs } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import Database, { type Database as Db } from 'better-sqlite3';
import { PacklineError } from '../../../contracts/errors.js';
import type { Logger } from '../lib/logger.js';
import { deserializeError } from './sqlite-errors.js';
import { MAX_LIST_LIMIT, StoreReader } from './store-reader.js';
import { WorkingSet } from './working-set.js';
import { RecentKeys } from './event-projector.js';
import { DedupeKeys } from './dedupe-filter.js';
import type {
  DeviceRecord,
  EventRecord,
  Order,
  PrintException,
  PrintJob,
  RawEventRow,
  Shipment,
  ShipmentQuery,
  StationRecord,
  Store,
  StoreStats,
  SupervisorRecord,
  SupervisorSummary,
  SyncFailure,
  SyncFailureState,
  WriteOp,
  WriteResult,
} from './types.js';
import type { CheckpointInit, FromCheckpointer, ToCheckpointer } from './checkpoint-worker.js';
import type { FromWriter, ToWriter, WriterInit } from './writer-protocol.js';
import { timeJob } from '../lib/loop-jobs.js';
import type { PruneRequest, PruneResult } from './retention-pruner.js';

export const DB_FILE = 'packline.db';
const DAY_MS = 24 * 60 * 60 * 1000;

export interface OpenStoreOptions {
  dataDir: string;
  /** config `storage.commitWindowMs`: linger before a group commit starts (default 0). */
  commitWindowMs?: number;
  /**
   * WAL checkpoints on their own thread every this many ms (checkpoint-worker.ts), so no
   * commit waits for one; 0 = SQLite's auto-checkpoint inside commits. Default 1000.
   */
  checkpointIntervalMs?: number;
  /** config `storage.minFreeMb`: below this, diskLow() turns true (default 200). */
  minFreeMb?: number;
  logger: Logger;
  /** Whether the wall clock is NTP-synchronised; recorded per event (default: assume yes). */
  clockSynced?: () => boolean;
  /** How often the free space of the data dir is checked (default 10 s). */
  diskCheckIntervalMs?: number;
  /** Dedupe inbox retention (default 7 days) and row bound (default 1,000,000). */
  dedupeRetentionMs?: number;
  dedupeMaxRows?: number;
  /** An existing database with auto_vacuum NONE up to this size is switched at start (retention-vacuum.ts; default 256 MiB). */
  vacuumAtStartMaxBytes?: number;
  /** Test and bench hook: the writer's HLC runs this far ahead of the wall clock (ms). */
  wallOffsetMs?: number;
  /** Test hook: rows per chunk of the dedupe filter's build (dedupe-filter.ts; default 5,000). */
  dedupeFilterChunkRows?: number;
}

/** Factory used by the composition root. Nothing is opened until start(). */
export function openStore(opts: OpenStoreOptions): SqliteStore {
  return new SqliteStore(opts);
}

interface Pending {
  resolve: (r: WriteResult) => void;
  reject: (e: PacklineError) => void;
  /** The unit writes orders or shipments (the waybill coverage count and the working set may change). */
  touchesCoverage: boolean;
  ops: WriteOp[];
}

type Phase = 'new' | 'starting' | 'running' | 'stopping' | 'stopped' | 'failed';

/**
 * Under vitest and `node --import tsx` this module is a .ts file and so is its sibling
 * worker; compiled, both are .js and plain node runs the worker directly. On Node 20 a
 * worker does not get ESM loader hooks (nodejs/node#47747: neither inherited nor via
 * `execArgv: ['--import', 'tsx']`, which fails with ERR_UNKNOWN_FILE_EXTENSION), so the .ts
 * worker starts from a small CommonJS bootstrap that installs tsx's require hook first.
 */
function startStoreWorker(name: 'writer-worker' | 'checkpoint-worker', data: WriterInit | CheckpointInit): Worker {
  const ext = new URL(import.meta.url).pathname.endsWith('.ts') ? '.ts' : '.js';
  const url = new URL(`./${name}${ext}`, import.meta.url);
  if (ext === '.js') return new Worker(url, { workerData: data });
  const tsxCjs = createRequire(import.meta.url).resolve('tsx/cjs/api');
  const bootstrap = `require(${JSON.stringify(tsxCjs)}).register(); require(${JSON.stringify(fileURLToPath(url))});`;
  return new Worker(bootstrap, { eval: true, workerData: data, execArgv: [] });
}

/** A waybill-coverage count this quick runs on the main thread (see waybillCoverage()). */
const COVERAGE_SYNC_MAX_MS = 2;

/**
 * Default checkpoint period of checkpoint-worker.ts (decision 0015, "Checkpoint interval").
 * A page rewritten by many commits between two checkpoints is copied into the database file
 * once, so a longer period copies less: `bench pages` gives 9.0 KB per shipment with a
 * checkpoint every 5 shipments (250 ms at 20/s), 5.8 KB every 20 (1 s at 20/s), 4.3 KB every
 * 100 (1 s at 100/s). The price is WAL length: ~37.5 KB per shipment × 100/s × 1 s ≈ 3.7 MB
 * at peak between checkpoints, half the writer's safety-net threshold
 * (WRITER_SAFETY_CHECKPOINT_PAGES, 8 MiB with 512-byte pages); at 2 s it would reach it.
 */
const CHECKPOINT_INTERVAL_MS = 1000;

export class SqliteStore implements Store {
  readonly name = 'store';
  private phase: Phase = 'new';
  private worker: Worker | null = null;
  private checkpointer: Worker | null = null;
  private checkpoints = 0;
  private coverage: { at: number; value: { open: number; withWaybill: number } } | null = null;
  /** A commit touched orders or shipments since the count in `coverage` was taken (or asked for). */
  private coverageDirty = false;
  private coverageAsked = false;
  /** How long the last main-thread count took (ms). */
  private coverageSyncMs = 0;
  private readDb: Db | null = null;
  private reader: StoreReader | null = null;
  private bootNo = 0;
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  /** Orders and their shipments as the station flow reads them at every step (working-set.ts). */
  private readonly working = new WorkingSet();
  /** Device message keys of committed events the writer's projector has not reached (event-projector.ts). */
  private readonly recentKeys = new RecentKeys();
  /**
   * Every device message key in the side tables (event_dedupe, dedupe), as a Bloom filter
   * built in chunks after start (dedupe-filter.ts): a key it has never seen is new without
   * a SQL lookup. Null before start.
   */
  private dedupeKeys: DedupeKeys | null = null;
  private commits = 0;
  private unitsWritten = 0;
  private diskTimer: NodeJS.Timeout | null = null;
  private freeMb: number | undefined;
  private walBytes = 0;
  private low = false;
  private stopped: Promise<void> | null = null;
  private readonly dbPath: string;
  private readonly log: Logger;

  constructor(private readonly opts: OpenStoreOptions) {
    this.dbPath = join(opts.dataDir, DB_FILE);
    this.log = opts.logger;
  }

  get boot(): number {
    return this.bootNo;
  }

  async start(): Promise<void> {
    if (this.phase !== 'new') return;
    this.phase = 'starting';
    // Personal data: the directory 0700, the database and its WAL/SHM 0600 (file-modes.ts).
    const exposed = lockDownDataDir(this.opts.dataDir, DB_FILE);
    createPrivateFile(this.dbPath);
    const init: WriterInit = {
      dataDir: this.opts.dataDir,
      dbPath: this.dbPath,
      commitWindowMs: this.opts.commitWindowMs ?? 0,
      dedupeRetentionMs: this.opts.dedupeRetentionMs ?? 7 * DAY_MS,
      dedupeMaxRows: this.opts.dedupeMaxRows ?? 1_000_000,
      checkpointElsewhere: (this.opts.checkpointIntervalMs ?? CHECKPOINT_INTERVAL_MS) > 0,
    };
    if (this.opts.vacuumAtStartMaxBytes !== undefined) init.vacuumAtStartMaxBytes = this.opts.vacuumAtStartMaxBytes;
    if (this.opts.wallOffsetMs !== undefined) init.wallOffsetMs = this.opts.wallOffsetMs;
    const worker = startStoreWorker('writer-worker', init);
    this.worker = worker;
    // Only our own start-up listeners are removed afterwards: Worker's removeAllListeners()
    // would also drop Node's internal 'newListener' hook that starts the message port, and no
    // 'message' event would ever arrive again.
    let onMsg: ((m: FromWriter) => void) | undefined;
    let onError: ((err: Error) => void) | undefined;
    let onExit: ((code: number) => void) | undefined;
    const detach = (): void => {
      if (onMsg) worker.off('message', onMsg);
      if (onError) worker.off('error', onError);
      if (onExit) worker.off('exit', onExit);
    };
    try {
      const ready = await new Promise<Extract<FromWriter, { t: 'ready' }>>((resolve, reject) => {
        onMsg = (m: FromWriter): void => {
          if (m.t === 'ready') resolve(m);
          else if (m.t === 'fatal') reject(deserializeError(m.error));
        };
        onError = (err) => reject(new PacklineError('PKL_STORE_UNAVAILABLE', { reason: `writer failed: ${err.message}` }, { cause: err }));
        onExit = (code) => reject(new PacklineError('PKL_STORE_UNAVAILABLE', { reason: `writer exited with code ${code} while opening` }));
        worker.on('message', onMsg);
        worker.once('error', onError);
        worker.once('exit', onExit);
      });
      detach();
      this.bootNo = ready.boot;
      if (ready.migrated.length > 0) this.log.info({ migrated: ready.migrated }, 'store schema migrated');
      this.logAutoVacuum(ready.autoVacuum);
      // The writer created the file and switched it to WAL; readers only need a read-only handle.
      this.readDb = new Database(this.dbPath, { readonly: true, fileMustExist: true });
      // The WAL and SHM exist now; an older version may have left them (or the database) wide.
      exposed.push(...lockDownDataDir(this.opts.dataDir, DB_FILE));
      for (const e of exposed) this.log.warn({ code: e.code, ...e.details }, e.message);
      this.readDb.pragma('busy_timeout = 1000');
      this.reader = new StoreReader(this.readDb);
      this.startDedupeFilter(this.readDb);
    } catch (err) {
      this.phase = 'failed';
      detach();
      await worker.terminate();
      this.worker = null;
      throw err instanceof PacklineError ? err : new PacklineError('PKL_STORE_UNAVAILABLE', { reason: String(err) }, { cause: err });
    }
    worker.on('message', (m: FromWriter) => timeJob('store:commit-done', () => this.onWriterMessage(m)));
    worker.on('error', (err) => {
      this.log.error({ err }, 'store writer crashed');
      this.failAll(`writer crashed: ${err.message}`);
    });
    worker.on('exit', (code) => {
      if (this.phase === 'stopping' || this.phase === 'stopped') return;
      this.log.error({ code }, 'store writer exited unexpectedly');
      this.failAll(`writer exited with code ${code}`);
    });
    if (init.checkpointElsewhere === true) this.startCheckpointer();
    await this.checkDisk();
    const every = this.opts.diskCheckIntervalMs ?? 10_000;
    this.diskTimer = setInterval(() => void timeJob('store:disk-check', () => this.checkDisk()), every);
    this.diskTimer.unref();
    this.phase = 'running';
    this.log.info({ boot: this.bootNo, db: this.dbPath }, 'store started');
  }

  /**
   * The WAL checkpointer thread. Not part of the ack path: if it fails, the writer's own
   * auto-checkpoint (a high threshold) keeps the WAL bounded, so a failure is logged, not fatal.
   */
  /** WAL checkpoints the checkpointer thread has made that found new frames (for tests). */
  get walCheckpoints(): number {
    return this.checkpoints;
  }

  private startCheckpointer(): void {
    const init: CheckpointInit = { dbPath: this.dbPath, intervalMs: this.opts.checkpointIntervalMs ?? CHECKPOINT_INTERVAL_MS };
    const cp = startStoreWorker('checkpoint-worker', init);
    // Never what keeps the process alive: the writer is, until stop().
    cp.unref();
    this.checkpointer = cp;
    let lastError = '';
    cp.on('message', (m: FromCheckpointer) => {
      if (m.t === 'checkpoint') this.checkpoints += 1;
      else if (m.t === 'coverage') {
        this.coverage = { at: performance.now(), value: { open: m.open, withWaybill: m.withWaybill } };
        this.coverageAsked = false;
      } else if (m.t === 'error' && m.reason !== lastError) {
        lastError = m.reason;
        this.log.warn({ reason: m.reason }, 'WAL checkpoint failed; the writer checkpoints itself if the WAL grows');
      }
    });
    cp.on('error', (err) => this.log.error({ err }, 'WAL checkpointer crashed; the writer checkpoints itself'));
    cp.on('exit', (code) => {
      if (this.checkpointer === cp && this.phase === 'running') this.log.error({ code }, 'WAL checkpointer exited');
      if (this.checkpointer === cp) this.checkpointer = null;
    });
  }

  private async stopCheckpointer(): Promise<void> {
    const cp = this.checkpointer;
    this.checkpointer = null;
    if (cp === null) return;
    const exited = new Promise<void>((resolve) => cp.once('exit', () => resolve()));
    cp.postMessage({ t: 'stop' } satisfies ToCheckpointer);
    await exited;
  }

  stop(): Promise<void> {
    if (this.stopped) return this.stopped;
    if (this.phase === 'new' || this.phase === 'failed') {
      this.phase = 'stopped';
      this.closeReader();
      return Promise.resolve();
    }
    this.phase = 'stopping';
    this.stopped = this.drainAndClose();
    return this.stopped;
  }

  private async drainAndClose(): Promise<void> {
    if (this.diskTimer) clearInterval(this.diskTimer);
    this.diskTimer = null;
    // First, so the writer's close is the last connection's and folds the WAL back in.
    await this.stopCheckpointer();
    const worker = this.worker;
    if (worker) {
      // The writer handles messages in order: every unit sent before 'stop' is committed first.
      const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
      worker.postMessage({ t: 'stop' } satisfies ToWriter);
      await exited;
      this.worker = null;
    }
    // Anything still pending never reached a commit (writer crashed while stopping).
    this.failAll('store stopped');
    this.failPrunes('store stopped');
    this.closeReader();
    this.phase = 'stopped';
    this.log.info({ commits: this.commits, units: this.unitsWritten, checkpoints: this.checkpoints }, 'store stopped');
  }

  /**
   * The build reads the side tables on the read connection, one chunk per event-loop turn;
   * until it completes, lookups go to SQL as before. No write can be in flight yet (the
   * store is not running), and every key committed from now on is added in onWriterMessage.
   */
  private startDedupeFilter(db: Db): void {
    const opts: ConstructorParameters<typeof DedupeKeys>[1] = {
      minCapacity: this.opts.dedupeMaxRows ?? 1_000_000,
      run: (fn) => timeJob('store:dedupe-filter', fn),
      onReady: (f) => this.log.debug({ ...f, ms: Math.round(f.ms) }, 'dedupe filter built'),
    };
    if (this.opts.dedupeFilterChunkRows !== undefined) opts.chunkRows = this.opts.dedupeFilterChunkRows;
    this.dedupeKeys = new DedupeKeys(db, opts);
    this.dedupeKeys.start();
  }

  /** The dedupe filter answers (its first build completed); for tests and the benchmark. */
  get dedupeFilterReady(): boolean {
    return this.dedupeKeys?.ready === true;
  }

  private closeReader(): void {
    this.dedupeKeys?.stop();
    this.dedupeKeys = null;
    this.readDb?.close();
    this.readDb = null;
    this.reader = null;
  }

  write(ops: WriteOp[]): Promise<WriteResult> {
    if (this.phase !== 'running' || !this.worker) {
      return Promise.reject(new PacklineError('PKL_STORE_UNAVAILABLE', { reason: `store is ${this.phase}` }));
    }
    const id = this.nextId++;
    return new Promise<WriteResult>((resolve, reject) => {
      this.pending.set(id, {
        resolve,
        reject,
        touchesCoverage:
          Array.isArray(ops) && ops.some((o) => o?.op === 'order.put' || o?.op === 'order.flags' || o?.op === 'order.hold' || o?.op === 'shipment.put'),
        ops,
      });
      const msg: ToWriter = { t: 'unit', id, ops, clockUnsynced: !(this.opts.clockSynced?.() ?? true) };
      try {
        this.worker!.postMessage(msg);
      } catch (err) {
        // DataCloneError: an op holds something that cannot leave this thread (a function…).
        this.pending.delete(id);
        reject(new PacklineError('PKL_STORE_OP_INVALID', { op: 'unit', reason: String(err) }, { cause: err }));
      }
    });
  }

  private onWriterMessage(m: FromWriter): void {
    if (m.t === 'done') {
      if (m.committed) this.commits += 1;
      this.unitsWritten += m.unitsWritten;
      // Before any write resolves: a duplicate of its message is known from then on.
      if (m.folded) for (const f of m.folded) this.recentKeys.add(f.deviceId, f.msgId, f.seq);
      this.recentKeys.projectedThrough(m.projected);
      for (const o of m.outcomes) {
        const p = this.pending.get(o.id);
        if (!p) continue;
        this.pending.delete(o.id);
        if (o.ok && this.dedupeKeys !== null && Array.isArray(p.ops)) {
          // Before the write resolves, like the recent keys: every key the unit recorded (its
          // `dedupe` ops: the one folded onto its event row is one of them, m.folded above).
          for (const op of p.ops) if (op.op === 'dedupe') this.dedupeKeys.add(op.deviceId, op.msgId);
        }
        if (o.ok && p.touchesCoverage) {
          this.coverageDirty = true;
          // Before the write resolves: whoever awaits it reads the committed state.
          this.working.committed(p.ops, o.stale);
        }
        if (o.ok) {
          const r: WriteResult = { seqs: o.seqs };
          if (o.stale) r.stale = o.stale;
          p.resolve(r);
        } else {
          const e = deserializeError(o.error);
          if (e.code === 'PKL_DISK_FULL') this.low = true;
          p.reject(e);
        }
      }
    } else if (m.t === 'projected') {
      this.recentKeys.projectedThrough(m.through);
    } else if (m.t === 'fatal') {
      this.log.error({ error: m.error }, 'store writer reported a fatal error');
    } else if (m.t === 'pruned') {
      this.onPruned(m);
    }
  }

  /** Rejects every pending unit; after a crash the store refuses new writes. */
  private failAll(reason: string): void {
    if (this.phase === 'running') this.phase = 'failed';
    // Units in flight may or may not have committed: read everything from SQLite again.
    this.working.clear();
    for (const [id, p] of this.pending) {
      this.pending.delete(id);
      p.reject(new PacklineError('PKL_STORE_UNAVAILABLE', { reason }));
    }
    this.failPrunes(reason);
  }

  // ---- retention (retention-pruner.ts runs the step on the writer) ----------------------

  private readonly prunes = new Map<number, { resolve: (r: PruneResult) => void; reject: (e: PacklineError) => void }>();

  /**
   * One retention step on the writer, between group commits (only when no unit waits).
   * Pruned orders and shipments leave the working set before the promise resolves.
   */
  prune(req: PruneRequest): Promise<PruneResult> {
    if (this.phase !== 'running' || !this.worker) {
      return Promise.reject(new PacklineError('PKL_STORE_UNAVAILABLE', { reason: `store is ${this.phase}` }));
    }
    const id = this.nextId++;
    return new Promise<PruneResult>((resolve, reject) => {
      this.prunes.set(id, { resolve, reject });
      this.worker!.postMessage({ t: 'prune', id, req } satisfies ToWriter);
    });
  }

  private onPruned(m: Extract<FromWriter, { t: 'pruned' }>): void {
    const p = this.prunes.get(m.id);
    if (!p) return;
    this.prunes.delete(m.id);
    if (!m.ok) {
      p.reject(deserializeError(m.error));
      return;
    }
    if (m.result.orders.length > 0 || m.result.shipments.length > 0) {
      this.coverageDirty = true;
      this.working.forget(m.result.orders, m.result.shipments);
    }
    p.resolve(m.result);
  }

  private failPrunes(reason: string): void {
    for (const [id, p] of this.prunes) {
      this.prunes.delete(id);
      p.reject(new PacklineError('PKL_STORE_UNAVAILABLE', { reason }));
    }
  }

  private logAutoVacuum(av: Extract<FromWriter, { t: 'ready' }>['autoVacuum']): void {
    if (av === undefined) return;
    if (av.action === 'converted') this.log.info({ bytes: av.bytes, ms: Math.round(av.ms) }, 'database switched to incremental vacuum (one-time VACUUM)');
    else if (av.action === 'too_large')
      this.log.warn(
        { bytes: av.bytes },
        'database has auto_vacuum off and is too large to switch at start; retention reuses its free pages, but the file will not shrink until `packline store compact` runs with the gateway stopped',
      );
  }

  private async checkDisk(): Promise<void> {
    try {
      const s = await statfs(this.opts.dataDir);
      this.freeMb = Math.floor((s.bavail * s.bsize) / (1024 * 1024));
      const low = this.freeMb < (this.opts.minFreeMb ?? 200);
      if (low !== this.low) {
        if (low) this.log.warn({ freeMb: this.freeMb }, 'data disk almost full; new work will be refused');
        else this.log.info({ freeMb: this.freeMb }, 'data disk has space again');
      }
      this.low = low;
    } catch (err) {
      this.log.warn({ err }, 'statfs of the data dir failed');
    }
    try {
      this.walBytes = (await stat(`${this.dbPath}-wal`)).size;
    } catch {
      this.walBytes = 0;
    }
  }

  diskLow(): boolean {
    return this.low;
  }

  private r(): StoreReader {
    if (!this.reader) throw new PacklineError('PKL_STORE_UNAVAILABLE', { reason: `store is ${this.phase}` });
    return this.reader;
  }

  getOrder(orderId: string): Order | null {
    const r = this.r();
    return this.working.getOrder(orderId, (id) => r.getOrder(id));
  }
  findOrderByBarcode(code: string): Order | null {
    // By order id first, through the working set (the order scanned is read again at every later step).
    return this.getOrder(code) ?? this.r().findOrderByBarcode(code);
  }
  getShipment(shipmentId: string): Shipment | null {
    const r = this.r();
    return this.working.getShipment(shipmentId, (id) => r.getShipment(id));
  }
  openShipments(): Shipment[] {
    return this.r().openShipments();
  }
  listShipments(q: ShipmentQuery): Shipment[] {
    const r = this.r();
    // An order's shipments (the station flow asks at every step) come from the working set.
    if (q.orderId !== undefined && q.stationId === undefined && q.state === undefined && q.before === undefined) {
      // The reader's clampLimit: default 100, floor, 1…MAX_LIST_LIMIT.
      const limit = q.limit === undefined || !Number.isFinite(q.limit) ? 100 : Math.min(Math.max(Math.floor(q.limit), 1), MAX_LIST_LIMIT);
      return this.working.shipmentsForOrder(q.orderId, limit, (orderId, readLimit) => r.listShipments({ orderId, limit: readLimit }), MAX_LIST_LIMIT);
    }
    return r.listShipments(q);
  }
  latestShipmentForOrder(orderId: string): Shipment | null {
    return this.r().latestShipmentForOrder(orderId);
  }
  getPrintJob(jobId: string): PrintJob | null {
    return this.r().getPrintJob(jobId);
  }
  pendingPrintJobs(): PrintJob[] {
    return this.r().pendingPrintJobs();
  }
  hasDedupe(deviceId: string, msgId: string): boolean {
    return this.dedupeSeq(deviceId, msgId) !== undefined;
  }

  /**
   * Keys of events after the projector's mark from memory, the rest from the side table: a
   * lookup per device message without a scan of the log's tail (event-projector.ts).
   */
  dedupeSeq(deviceId: string, msgId: string): number | null | undefined {
    const r = this.r();
    const recent = this.recentKeys.get(deviceId, msgId);
    if (recent !== undefined) return recent;
    // Most keys are new: the filter says so exactly without touching SQLite (dedupe-filter.ts).
    // It holds every key of a write that resolved, as the recent keys do; a unit committed
    // but not yet reported is the writer's to refuse (UnitApplier), as before.
    if (this.dedupeKeys?.certainlyAbsent(deviceId, msgId) === true) return undefined;
    return r.dedupeSeqProjected(deviceId, msgId);
  }
  getDevice(deviceId: string): DeviceRecord | null {
    return this.r().getDevice(deviceId);
  }
  listDevices(): DeviceRecord[] {
    return this.r().listDevices();
  }

  listStations(): StationRecord[] {
    return this.r().listStations();
  }
  lastEvent(subject: string, type: string): EventRecord | null {
    return this.r().lastEvent(subject, type);
  }
  getSupervisor(name: string): SupervisorRecord | null {
    return this.r().getSupervisor(name);
  }
  listSupervisors(): SupervisorSummary[] {
    return this.r().listSupervisors();
  }
  printJobsForShipment(shipmentId: string): PrintJob[] {
    return this.r().printJobsForShipment(shipmentId);
  }
  printExceptions(q?: { limit?: number }): PrintException[] {
    return this.r().printExceptions(q);
  }

  eventsForSubject(subject: string, limit: number): EventRecord[] {
    return this.r().eventsForSubject(subject, limit);
  }

  readEvents(afterSeq: number, limit: number): EventRecord[] {
    return this.r().readEvents(afterSeq, limit);
  }
  readEventRows(afterSeq: number, limit: number): RawEventRow[] {
    return this.r().readEventRows(afterSeq, limit);
  }
  syncFailures(q?: { state?: SyncFailureState | 'open'; limit?: number }): SyncFailure[] {
    return this.r().syncFailures(q);
  }
  getSyncFailure(seq: number): SyncFailure | null {
    return this.r().getSyncFailure(seq);
  }
  eventRowsOfTypes(types: readonly string[], afterSeq: number, limit: number, scan: number): { rows: RawEventRow[]; scannedTo: number } {
    return this.r().eventRowsOfTypes(types, afterSeq, limit, scan);
  }
  ordersAwaitingPick(limit: number): Order[] {
    return this.r().ordersAwaitingPick(limit);
  }

  shippedButIntercepted(limit: number): Array<{ shipment: Shipment; order: Order }> {
    return this.r().shippedButIntercepted(limit);
  }
  openSyncFailureCount(): number {
    return this.r().openSyncFailureCount();
  }
  waybillCoverage(): { open: number; withWaybill: number } {
    // One count for every reader of it (sync alarms, dashboard, metrics, preflight), exact
    // until a commit touches orders or shipments. Counting is a full scan of the orders cache
    // (90-200 ms with 100,000+ orders): while it is cheap (≤ COVERAGE_SYNC_MAX_MS) it runs
    // here; once it is not, the checkpointer thread counts it and this serves the last count
    // (a figure for people and alarms, seconds old at most), never holding the event loop.
    if (this.coverage !== null && !this.coverageDirty) return { ...this.coverage.value };
    if (this.coverage === null || this.checkpointer === null || this.coverageSyncMs <= COVERAGE_SYNC_MAX_MS) {
      const t0 = performance.now();
      this.coverageDirty = false;
      this.coverage = { at: t0, value: this.r().waybillCoverage() };
      this.coverageSyncMs = performance.now() - t0;
      return { ...this.coverage.value };
    }
    if (!this.coverageAsked) {
      this.coverageAsked = true;
      this.coverageDirty = false;
      this.checkpointer.postMessage({ t: 'coverage' } satisfies ToCheckpointer);
    }
    return { ...this.coverage.value };
  }
  pendingOrders(limit: number): Order[] {
    return this.r().pendingOrders(limit);
  }

  getMeta(key: string): string | null {
    return this.r().getMeta(key);
  }

  stats(): StoreStats {
    const r = this.reader;
    const s: StoreStats = {
      lastSeq: r ? r.lastSeq() : 0,
      boot: this.bootNo,
      commits: this.commits,
      unitsWritten: this.unitsWritten,
      pendingUnits: this.pending.size,
      dbBytes: r ? r.dbBytes() : 0,
      walBytes: this.walBytes,
    };
    if (this.freeMb !== undefined) s.diskFreeMb = this.freeMb;
    return s;
  }
}
