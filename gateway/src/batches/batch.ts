/**
 * A batch (波次): orders of one structure shipped together, in a fixed sequence, by one
 * station at a time. Its life: open (built) → working (a station works it) → done (every
 * order shipped or removed) or cancelled. Pure transitions; batch-service.ts persists them.
 */
import type { ErrorCode, ErrorDetails } from '../../../contracts/errors.js';
import type { Structure } from './structure.js';

export const BATCH_STATES = ['open', 'working', 'done', 'cancelled'] as const;
export type BatchState = (typeof BATCH_STATES)[number];

/**
 * How the station works it: `postprint` prints each label when its item is scanned (后置打单);
 * `preprint` prints every label ahead, in sequence, and checks the interception again when
 * the label's waybill is scanned.
 */
export type BatchMode = 'postprint' | 'preprint';

export interface Batch {
  batchId: string;
  structure: Structure | 'manual';
  /** The one composition of a same-composition batch (composition.ts key), else null. */
  composition: string | null;
  carrier: string | null;
  shop: string | null;
  /** Order ids in shipping sequence (sequence number = index + 1). */
  orders: string[];
  state: BatchState;
  /** The station working it (state working), else null. */
  stationId: string | null;
  mode: BatchMode;
  /** Post-print takes the parcel's weight on the station scale before the label (false: label on scan). */
  weigh: boolean;
  createdAt: number;
  updatedAt: number;
}

export type Transition = { ok: true; batch: Batch } | { ok: false; code: ErrorCode; details: ErrorDetails };

function refuse(code: ErrorCode, batch: Batch, extra: ErrorDetails = {}): Transition {
  return { ok: false, code, details: { batchId: batch.batchId, batchState: batch.state, ...extra } };
}

export function startBatch(batch: Batch, stationId: string, opts: { mode?: BatchMode; weigh?: boolean }, at: number): Transition {
  if (batch.state === 'working' && batch.stationId === stationId) return { ok: true, batch };
  if (batch.state !== 'open') return refuse('PKL_BATCH_STATE', batch, { stationId: batch.stationId });
  if (batch.composition === null && (opts.mode ?? batch.mode) === 'postprint') {
    // One scan picks "the next order of that composition": without one there is nothing to pick by.
    return refuse('PKL_BATCH_NOT_SAME_COMPOSITION', batch);
  }
  return {
    ok: true,
    batch: { ...batch, state: 'working', stationId, mode: opts.mode ?? batch.mode, weigh: opts.weigh ?? batch.weigh, updatedAt: at },
  };
}

/** Stops working it at the station; it can be started again (here or elsewhere). */
export function pauseBatch(batch: Batch, at: number): Transition {
  if (batch.state !== 'working') return refuse('PKL_BATCH_STATE', batch);
  return { ok: true, batch: { ...batch, state: 'open', stationId: null, updatedAt: at } };
}

export function cancelBatch(batch: Batch, at: number): Transition {
  if (batch.state === 'done' || batch.state === 'cancelled') return refuse('PKL_BATCH_STATE', batch);
  return { ok: true, batch: { ...batch, state: 'cancelled', stationId: null, updatedAt: at } };
}

export function finishBatch(batch: Batch, at: number): Transition {
  if (batch.state === 'done' || batch.state === 'cancelled') return refuse('PKL_BATCH_STATE', batch);
  return { ok: true, batch: { ...batch, state: 'done', stationId: null, updatedAt: at } };
}

/** Open and working batches hold their orders; done and cancelled ones let them go. */
export function holdsOrders(batch: Batch): boolean {
  return batch.state === 'open' || batch.state === 'working';
}
