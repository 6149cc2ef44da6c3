/**
 * Retention, the background loop: asks the store's writer for one small prune step at a
 * time (retention-pruner.ts; rules in retention-plan.ts) and deletes old label files and
 * previews, a few per step. While a step finds work the next follows after `stepEveryMs`;
 * once the database and the file walk have nothing left the loop rests for `idleEveryMs`.
 * So pruning is spread thin: one transaction of at most `batchRows` orders and events, run by
 * the writer only when no station unit is waiting, at most once per `stepEveryMs`.
 */
import type { Dir } from 'node:fs';
import { opendir, stat, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from '../lib/logger.js';
import { timeJob } from '../lib/loop-jobs.js';
import { PERSONAL_DATA_DIRS } from './file-modes.js';
import type { PruneRequest, PruneResult } from './retention-pruner.js';

const DAY_MS = 24 * 60 * 60 * 1000;

/** The part of the store retention uses (sqlite-store.ts SqliteStore). */
export interface RetentionStore {
  prune(req: PruneRequest): Promise<PruneResult>;
}

/** Kinds counted by `packline_retention_pruned_total{kind}`. */
export const RETENTION_KINDS = ['orders', 'shipments', 'print_jobs', 'events', 'sync_failures', 'label_files', 'vacuum_pages'] as const;
export type RetentionKind = (typeof RETENTION_KINDS)[number];

export interface RetentionSettings {
  enabled: boolean;
  ordersDays: number;
  eventsDays: number;
  labelFilesDays: number;
  batchRows: number;
  filesPerStep: number;
  stepEveryMs: number;
  idleEveryMs: number;
  vacuumPagesPerStep: number;
}

export interface RetentionOptions {
  store: RetentionStore;
  dataDir: string;
  settings: RetentionSettings;
  logger: Logger;
  /** Called with what each step removed (metrics). */
  onPruned?: (kind: RetentionKind, count: number) => void;
  /** The wall clock (ms); injected by tests and the season bench. */
  now?: () => number;
  /** Event types never pruned: a runtime rebuilds its state from them at start-up (picking, stock). */
  keepEventTypes?: readonly string[];
}

export interface RetentionStepResult {
  db: PruneResult | null;
  files: number;
  /** A walk has not finished its pass, or this pass pruned something: step again soon. */
  busy: boolean;
}

export class RetentionService {
  readonly name = 'retention';
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<unknown> | null = null;
  private stopped = true;
  private readonly now: () => number;
  private files: FileWalk;
  /** This pass so far: something was pruned; the order walk wrapped; the file walk finished. */
  private pass = { pruned: false, orders: false, files: false };
  /** Totals since start, by kind (for tests, the bench and logs). */
  readonly totals: Record<RetentionKind, number> = Object.fromEntries(RETENTION_KINDS.map((k) => [k, 0])) as Record<RetentionKind, number>;

  constructor(private readonly o: RetentionOptions) {
    this.now = o.now ?? Date.now;
    this.files = new FileWalk(PERSONAL_DATA_DIRS.map((d) => join(o.dataDir, d)));
  }

  async start(): Promise<void> {
    if (!this.stopped || !this.o.settings.enabled) return;
    this.stopped = false;
    this.schedule(this.o.settings.stepEveryMs);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    await this.running?.catch(() => undefined);
    await this.files.close();
  }

  private schedule(ms: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      const run = timeJob('retention:step', () => this.step());
      this.running = run;
      run.then(
        (r) => this.schedule(r.busy ? this.o.settings.stepEveryMs : this.o.settings.idleEveryMs),
        (err: unknown) => {
          this.o.logger.warn({ err }, 'retention step failed; trying again later');
          this.schedule(this.o.settings.idleEveryMs);
        },
      );
    }, ms);
    this.timer.unref();
  }

  /** One step: a database batch through the writer, then a few label files. */
  async step(): Promise<RetentionStepResult> {
    const s = this.o.settings;
    const now = this.now();
    const db = await this.o.store.prune({
      now,
      windows: { ordersMs: s.ordersDays * DAY_MS, eventsMs: s.eventsDays * DAY_MS },
      batchRows: s.batchRows,
      vacuumPages: s.vacuumPagesPerStep,
      ...(this.o.keepEventTypes ? { keepEventTypes: this.o.keepEventTypes } : {}),
    });
    const files = await this.files.step(now - s.labelFilesDays * DAY_MS, s.filesPerStep);
    this.count('orders', db.orders.length);
    this.count('shipments', db.shipments.length);
    this.count('print_jobs', db.printJobs);
    this.count('events', db.events);
    this.count('sync_failures', db.syncFailures);
    this.count('vacuum_pages', db.vacuumedPages);
    this.count('label_files', files.deleted);
    // Rest only after both walks (orders in the database, files in the folders) went all the
    // way round without finding anything; until then, or while something is found, keep going.
    this.pass.pruned ||= db.orders.length + db.printJobs + db.events + db.syncFailures + db.vacuumedPages + files.deleted > 0;
    this.pass.orders ||= db.ordersWrapped;
    this.pass.files ||= files.passDone;
    let busy = true;
    if (this.pass.orders && this.pass.files) {
      busy = this.pass.pruned;
      this.pass = { pruned: false, orders: false, files: false };
    }
    return { db, files: files.deleted, busy };
  }

  private count(kind: RetentionKind, n: number): void {
    if (n <= 0) return;
    this.totals[kind] += n;
    this.o.onPruned?.(kind, n);
  }
}

/**
 * A walk over the files under some folders, resumed step by step (a directory handle stays
 * open between steps), deleting those last modified before a cutoff. A pass ends when every
 * folder was walked; the next step starts a new one.
 */
class FileWalk {
  private stack: Array<{ path: string; dir: Dir | null }> = [];
  private fresh = true;

  constructor(private readonly roots: readonly string[]) {}

  async step(cutoffMs: number, maxDeletes: number): Promise<{ deleted: number; passDone: boolean }> {
    if (this.fresh) {
      this.stack = this.roots.map((path) => ({ path, dir: null }));
      this.fresh = false;
    }
    let deleted = 0;
    // Look at no more than 10× the deletions allowed, so a folder of new files is walked over several steps.
    let looked = 0;
    while (this.stack.length > 0 && deleted < maxDeletes && looked < maxDeletes * 10) {
      const top = this.stack[this.stack.length - 1]!;
      if (top.dir === null) {
        try {
          top.dir = await opendir(top.path);
        } catch {
          this.stack.pop();
          continue;
        }
      }
      const entry = await top.dir.read();
      if (entry === null) {
        await top.dir.close().catch(() => undefined);
        this.stack.pop();
        continue;
      }
      looked += 1;
      const path = join(top.path, entry.name);
      if (entry.isDirectory()) {
        this.stack.push({ path, dir: null });
      } else if (entry.isFile()) {
        try {
          const st = await stat(path);
          if (st.mtimeMs < cutoffMs) {
            await unlink(path);
            deleted += 1;
          }
        } catch {
          // Gone meanwhile (a printer simulator rotating its files): nothing to do.
        }
      }
    }
    const passDone = this.stack.length === 0;
    if (passDone) this.fresh = true;
    return { deleted, passDone };
  }

  async close(): Promise<void> {
    for (const e of this.stack) await e.dir?.close().catch(() => undefined);
    this.stack = [];
    this.fresh = true;
  }
}
