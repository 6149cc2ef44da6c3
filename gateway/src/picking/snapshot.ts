/**
 * A snapshot of the picking state on disk, so a restart folds only the picking events after it
 * instead of the whole log (bench/README.md "picking" (4): 1M picking events in a 3M-event log
 * took ~20 s to replay). The state is still the fold of the log: the snapshot names the log
 * position it was taken at (`seq`, every event up to it folded, none after) and the last
 * picking event at or before it (`pick_seq`, `pick_hlc`); the runtime uses it only when that
 * event is in the log with the same HLC — a snapshot from another database (a restored backup,
 * a replaced card) or a newer version is ignored and the log replayed whole.
 *
 * Written as a temporary file, fsynced, renamed over the old one, directory fsynced: a crash
 * leaves the old snapshot or the new one, never half of one. The file work runs on the thread
 * pool (fs.promises); the JSON text is made on the main thread, so the runtime writes one only
 * when nothing waits on it: right after a start's long replay, and at a clean stop.
 */
import { readFileSync } from 'node:fs';
import { open, rename } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { PickingSnapshotData } from './state.js';

export const SNAPSHOT_VERSION = 1;
export const SNAPSHOT_FILE = 'picking-state.json';

export interface PickingSnapshot {
  v: typeof SNAPSHOT_VERSION;
  /** Every event of the log up to this seq is folded in, none after. */
  seq: number;
  /** The last picking event at or before `seq` (0 / '' when none): the check that the log is the same. */
  pick_seq: number;
  pick_hlc: string;
  state: PickingSnapshotData;
}

/** The snapshot at `path`, or null when there is none or it is not this version's. */
export function readSnapshot(path: string): PickingSnapshot | null {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    return null;
  }
  try {
    const s = JSON.parse(text) as PickingSnapshot;
    if (s?.v !== SNAPSHOT_VERSION || !Number.isSafeInteger(s.seq) || typeof s.pick_hlc !== 'string' || typeof s.state !== 'object') return null;
    return s;
  } catch {
    return null;
  }
}

/** Writes the snapshot text durably (tmp, fsync, rename, fsync of the directory). */
export async function writeSnapshot(path: string, text: string): Promise<void> {
  const tmp = `${path}.tmp`;
  const f = await open(tmp, 'w', 0o600);
  try {
    await f.writeFile(text, 'utf8');
    await f.sync();
  } finally {
    await f.close();
  }
  await rename(tmp, path);
  const d = await open(dirname(path), 'r');
  try {
    await d.sync();
  } finally {
    await d.close();
  }
}
