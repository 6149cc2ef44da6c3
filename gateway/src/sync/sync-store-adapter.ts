/**
 * The gateway's store behind cloud-sync's ports (cloud-sync/src/ports.ts). The two cursors
 * live in `meta`: `sync.acked_seq` (the cloud's cumulative ack) and `sync.inbound_cursor`
 * (the change feed). Sync bookkeeping writes no events: an event about an ack would itself
 * need syncing, for ever.
 */
import type { Change } from '../../../contracts/sync.js';
import type { AckResult, InboundStore, OutboxEventRow, OutboxStore } from '../../../cloud-sync/src/ports.js';
import type { Store, WriteOp } from '../storage/types.js';
import { planChanges } from './change-applier.js';

export const META_ACKED_SEQ = 'sync.acked_seq';
export const META_INBOUND_CURSOR = 'sync.inbound_cursor';

export class StoreSyncAdapter implements OutboxStore, InboundStore {
  private acked: number | null = null;

  constructor(
    private readonly store: Store,
    /** Called after a page of changes committed, with the orders it touched. */
    private readonly onOrdersChanged: (orderIds: string[]) => void = () => undefined,
    private readonly now: () => number = Date.now,
  ) {}

  readEventRows(afterSeq: number, limit: number): OutboxEventRow[] {
    return this.store.readEventRows(afterSeq, limit);
  }

  lastSeq(): number {
    return this.store.stats().lastSeq;
  }

  ackedSeq(): number {
    this.acked ??= Number(this.store.getMeta(META_ACKED_SEQ) ?? 0) || 0;
    return this.acked;
  }

  async saveAck(ack: AckResult): Promise<void> {
    const ops: WriteOp[] = [];
    const raise = ack.ackedSeq > this.ackedSeq();
    if (raise) ops.push({ op: 'meta.put', key: META_ACKED_SEQ, value: String(ack.ackedSeq) });
    for (const r of ack.rejected) ops.push({ op: 'syncfail.put', seq: r.seq, code: r.code, reason: r.reason, at: ack.at });
    for (const seq of ack.accepted) {
      if (this.store.getSyncFailure(seq) !== null) ops.push({ op: 'syncfail.state', seq, state: 'resolved', at: ack.at });
    }
    if (ops.length === 0) return;
    await this.store.write(ops);
    if (raise) this.acked = Math.max(this.ackedSeq(), ack.ackedSeq);
  }

  retryRequested(limit: number): number[] {
    return this.store.syncFailures({ state: 'retry_requested', limit }).map((f) => f.seq);
  }

  inboundCursor(): string {
    return this.store.getMeta(META_INBOUND_CURSOR) ?? '';
  }

  async applyChanges(changes: Change[], nextCursor: string): Promise<{ applied: number; skipped: number }> {
    const plan = planChanges(this.store, changes, this.now());
    await this.store.write([...plan.ops, { op: 'meta.put', key: META_INBOUND_CURSOR, value: nextCursor }]);
    if (plan.touched.length > 0) this.onOrdersChanged(plan.touched);
    return { applied: plan.applied, skipped: plan.skipped };
  }
}
