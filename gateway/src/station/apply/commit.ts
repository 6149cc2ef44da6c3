/**
 * The one commit path of the shipment flow, used by the station and the line runtimes (and
 * the PDA log-in): decide → commit the step's writes as ONE unit → only then adopt the new
 * state, send commands and answer the device. Nothing is sent or acknowledged before the
 * commit, so a crash at any point leaves either nothing or the whole step on disk.
 */
import { PacklineError, type Refusal } from '../../../../contracts/errors.js';
import type { Outcome, UnitWriter } from '../ports.js';
import type { StationWrite } from '../domain.js';

export type Refused = Refusal;

/**
 * Runs a pure decision. A coded error thrown while deciding (a PacklineError: a broken
 * template, a malformed row) keeps its code; anything else is a bug, logged and answered as
 * PKL_INTERNAL with a reference the log carries too.
 */
export function decide<T>(run: () => T, ref: string, onBug: (err: unknown) => void): { ok: true; value: T } | Refused {
  try {
    return { ok: true, value: run() };
  } catch (err) {
    if (err instanceof PacklineError) return { ok: false, code: err.code, details: err.details ?? {} };
    onBug(err);
    return { ok: false, code: 'PKL_INTERNAL', details: { ref } };
  }
}

export interface CommitOptions {
  /**
   * The device message id stored with the effect it produced, so a redelivery after a
   * restart is still recognised. Pass it only with an effect to apply: a refusal is not
   * stored, so a corrected retry is applied.
   */
  dedupe?: { deviceId: string; msgId: string } | undefined;
  /** This unit starts new work: refused with PKL_DISK_FULL while the disk is nearly full. */
  opensNewWork?: boolean;
}

export type Committed =
  /** On disk; `seq` is the unit's last event seq, if it wrote events. */
  | { kind: 'committed'; seq: number | undefined }
  /** The same message id committed meanwhile (a redelivery raced the first copy): nothing of this unit was applied, the first copy's effect stands. */
  | { kind: 'duplicate' }
  /** Nothing written: disk nearly full, or the store refused or failed. */
  | { kind: 'failed'; refused: Refused; cause?: unknown };

/** Commits `writes` (+ the dedupe record) as one unit; an empty unit commits nothing. */
export async function commitUnit(store: UnitWriter, writes: readonly StationWrite[], opts: CommitOptions = {}): Promise<Committed> {
  const unit: StationWrite[] = [...writes];
  if (opts.dedupe !== undefined) unit.push({ op: 'dedupe', deviceId: opts.dedupe.deviceId, msgId: opts.dedupe.msgId });
  if (unit.length === 0) return { kind: 'committed', seq: undefined };
  if (opts.opensNewWork === true && store.diskLow()) {
    return { kind: 'failed', refused: { ok: false, code: 'PKL_DISK_FULL', details: { freeMb: store.stats().diskFreeMb ?? null } } };
  }
  try {
    const result = await store.write(unit);
    return { kind: 'committed', seq: result.seqs[result.seqs.length - 1] };
  } catch (err) {
    if (err instanceof PacklineError && err.code === 'PKL_DUPLICATE_MESSAGE') return { kind: 'duplicate' };
    const code = err instanceof PacklineError ? err.code : 'PKL_STORE_UNAVAILABLE';
    const details = err instanceof PacklineError ? (err.details ?? {}) : { reason: String(err) };
    return { kind: 'failed', refused: { ok: false, code, details }, cause: err };
  }
}

/** The device's answer for a committed unit: ack with its seq, or the refusal. */
export function settled(c: Committed): Outcome {
  if (c.kind === 'failed') return c.refused;
  if (c.kind === 'duplicate' || c.seq === undefined) return { ok: true };
  return { ok: true, seq: c.seq };
}
