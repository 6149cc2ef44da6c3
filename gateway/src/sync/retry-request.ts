/**
 * Marking "sync failed" events for resubmission: shared by the API (SyncService) and the
 * CLI (`packline sync retry`, through its own database connection). The outbox pump picks
 * marked events up before its next batch.
 */
import { PacklineError } from '../../../contracts/errors.js';
import type { Store, WriteOp } from '../storage/types.js';

type FailureReader = Pick<Store, 'syncFailures' | 'getSyncFailure'>;

/** The ops that mark `seqs` (empty: every failed event) for retry; throws PKL_SYNC_NOT_FAILED. */
export function retryOps(reader: FailureReader, seqs: readonly number[], at: number): { seqs: number[]; ops: WriteOp[] } {
  const targets =
    seqs.length === 0
      ? reader.syncFailures({ state: 'failed', limit: 1000 }).map((f) => f.seq)
      : seqs.map((seq) => {
          const f = reader.getSyncFailure(seq);
          if (f === null || f.state === 'resolved') throw new PacklineError('PKL_SYNC_NOT_FAILED', { seq });
          return seq;
        });
  return { seqs: targets, ops: targets.map((seq) => ({ op: 'syncfail.state', seq, state: 'retry_requested', at })) };
}
