/** Messages between the store (main thread) and its writer worker. */
import type { SerializedError } from './sqlite-errors.js';
import type { PruneRequest, PruneResult } from './retention-pruner.js';
import type { AutoVacuumOutcome } from './retention-vacuum.js';
import type { WriteOp } from './types.js';

/** Passed as `workerData`. */
export interface WriterInit {
  dataDir: string;
  dbPath: string;
  commitWindowMs: number;
  dedupeRetentionMs: number;
  dedupeMaxRows: number;
  /**
   * true when checkpoint-worker.ts checkpoints the WAL on its own thread: the writer's
   * auto-checkpoint is then only a safety net (schema.ts WRITER_SAFETY_CHECKPOINT_PAGES).
   */
  checkpointElsewhere?: boolean;
  /** Test hook: a fixed wall clock offset (ms) for the writer's HLC. */
  wallOffsetMs?: number;
  /** An existing database with auto_vacuum NONE up to this size is switched at start (retention-vacuum.ts). */
  vacuumAtStartMaxBytes?: number;
}

export type ToWriter =
  | { t: 'unit'; id: number; ops: WriteOp[]; clockUnsynced: boolean }
  /** Finish every unit received before this message, close the database, then exit. */
  | { t: 'stop' }
  /** One retention step (retention-pruner.ts), run when no unit is waiting. */
  | { t: 'prune'; id: number; req: PruneRequest };

export type UnitOutcome = { id: number; ok: true; seqs: number[]; stale?: number[] } | { id: number; ok: false; error: SerializedError };

export type FromWriter =
  | { t: 'ready'; boot: number; migrated: number[]; autoVacuum?: AutoVacuumOutcome }
  /** The database could not be opened or migrated; the worker exits after this. */
  | { t: 'fatal'; error: SerializedError }
  /** One group commit (or one failed transaction): an outcome per unit. */
  | {
      t: 'done';
      outcomes: UnitOutcome[];
      committed: boolean;
      unitsWritten: number;
      /** The event projector's committed mark (event-projector.ts), after this commit. */
      projected: number;
      /** The device message key each ok unit wrote on its last event row (UnitApplier.apply). */
      folded?: Array<{ id: number; deviceId: string; msgId: string; seq: number }>;
    }
  /** The projector committed a batch on its own (no unit was waiting). */
  | { t: 'projected'; through: number }
  | { t: 'stopped' }
  | { t: 'pruned'; id: number; ok: true; result: PruneResult }
  | { t: 'pruned'; id: number; ok: false; error: SerializedError };
