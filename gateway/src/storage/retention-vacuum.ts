/**
 * Keeping the database file compact after retention deletes rows.
 *
 * SQLite keeps deleted pages on a free list and reuses them, but never gives them back to the
 * file system unless the database has `auto_vacuum` on (sqlite.org/pragma.html#pragma_auto_vacuum).
 * With `auto_vacuum = INCREMENTAL` the free pages stay until `PRAGMA incremental_vacuum(N)`
 * moves up to N of them from the end of the file into the holes and truncates it: cheap small
 * steps the pruner runs after each batch (retention-pruner.ts). FULL would do that at every
 * commit, on the station's commit path; NONE only reuses pages (the file stays at its peak).
 *
 * The mode can be chosen only before the first table is created, or switched by a full VACUUM
 * (it rewrites the whole file: minutes on an SD card for a large one, and twice its size of
 * free space). So:
 * - a new database gets INCREMENTAL before anything is written to it (schema.ts
 *   configureWriterConnection: after page_size, before WAL writes the header — later SQLite
 *   ignores the change silently);
 * - an existing database with `auto_vacuum = NONE` is switched once at start-up by VACUUM
 *   when it is at most `vacuumAtStartMaxBytes` (default 256 MiB: seconds on an SD card) — at
 *   start-up because VACUUM needs the only connection, before the gateway accepts work;
 * - a larger one is left as it is (its free pages are still reused, so it stops growing once
 *   retention runs) and the store logs how to switch it during a maintenance window:
 *   `packline store compact` with the gateway stopped.
 */
import type { Database } from 'better-sqlite3';

export const AUTO_VACUUM_INCREMENTAL = 2;
export const DEFAULT_VACUUM_AT_START_MAX_BYTES = 256 * 1024 * 1024;

export interface AutoVacuumOutcome {
  /** 'converted': VACUUM ran; 'already' (a new database is created so); 'too_large': left NONE. */
  action: 'converted' | 'already' | 'too_large';
  bytes: number;
  ms: number;
}

/** Call on the writer connection of an existing database before the migrations run (no transaction open). */
export function prepareAutoVacuum(db: Database, vacuumAtStartMaxBytes = DEFAULT_VACUUM_AT_START_MAX_BYTES): AutoVacuumOutcome {
  const t0 = performance.now();
  const bytes = (db.pragma('page_count', { simple: true }) as number) * (db.pragma('page_size', { simple: true }) as number);
  if ((db.pragma('auto_vacuum', { simple: true }) as number) === AUTO_VACUUM_INCREMENTAL) return { action: 'already', bytes, ms: 0 };
  if (bytes > vacuumAtStartMaxBytes) return { action: 'too_large', bytes, ms: 0 };
  return convertToIncremental(db, bytes, t0);
}

/** Switches the database to INCREMENTAL with a full VACUUM (the CLI's `packline store compact`). */
export function convertToIncremental(db: Database, bytes?: number, t0 = performance.now()): AutoVacuumOutcome {
  const size = bytes ?? (db.pragma('page_count', { simple: true }) as number) * (db.pragma('page_size', { simple: true }) as number);
  db.pragma(`auto_vacuum = ${AUTO_VACUUM_INCREMENTAL}`);
  db.exec('VACUUM');
  return { action: 'converted', bytes: size, ms: performance.now() - t0 };
}
