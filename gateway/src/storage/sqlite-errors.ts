/**
 * Maps what the SQLite layer throws to the coded errors of contracts/errors.ts, and carries
 * them across the worker boundary (structured clone drops class identity).
 */
import { statfsSync } from 'node:fs';
import { PacklineError, isErrorCode, type ErrorCode, type ErrorDetails } from '../../../contracts/errors.js';

export interface SerializedError {
  code: ErrorCode;
  details?: ErrorDetails;
  message: string;
}

function sqliteCode(err: unknown): string | null {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' && code.startsWith('SQLITE_') ? code : null;
}

function freeMb(dir: string | undefined): number | null {
  if (!dir) return null;
  try {
    const s = statfsSync(dir);
    return Math.floor((s.bavail * s.bsize) / (1024 * 1024));
  } catch {
    return null;
  }
}

/**
 * SQLITE_FULL → PKL_DISK_FULL; constraint violations → PKL_STORE_OP_INVALID (a bad op);
 * anything else from SQLite (I/O error, busy beyond busy_timeout, corruption) →
 * PKL_STORE_UNAVAILABLE. A PacklineError passes through unchanged.
 */
export function toStoreError(err: unknown, ctx: { op?: string; dataDir?: string } = {}): PacklineError {
  if (err instanceof PacklineError) return err;
  const code = sqliteCode(err);
  const message = err instanceof Error ? err.message : String(err);
  if (code === 'SQLITE_FULL') return new PacklineError('PKL_DISK_FULL', { freeMb: freeMb(ctx.dataDir) }, { cause: err });
  if (code?.startsWith('SQLITE_CONSTRAINT')) {
    return new PacklineError('PKL_STORE_OP_INVALID', { op: ctx.op ?? 'unit', reason: message }, { cause: err });
  }
  if (code) return new PacklineError('PKL_STORE_UNAVAILABLE', { reason: `${code}: ${message}` }, { cause: err });
  // Not from SQLite: e.g. JSON.stringify of event data with a BigInt or a cycle.
  return new PacklineError('PKL_STORE_OP_INVALID', { op: ctx.op ?? 'unit', reason: message }, { cause: err });
}

export function serializeError(err: PacklineError): SerializedError {
  const s: SerializedError = { code: err.code, message: err.message };
  if (err.details !== undefined) s.details = err.details;
  return s;
}

export function deserializeError(s: SerializedError): PacklineError {
  if (!isErrorCode(s.code)) return new PacklineError('PKL_STORE_UNAVAILABLE', { reason: s.message });
  return new PacklineError(s.code, s.details);
}
