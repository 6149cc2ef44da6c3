/**
 * The gateway's store behind cloud-sync's ports (cloud-sync/src/ports.ts). The two cursors
 * live in `meta`: `sync.acked_seq` (the cloud's cumulative ack) and `sync.inbound_cursor`
 * (the change feed). Sync bookkeeping writes no events: an event about an ack would itself
 * need syncing, for ever.
 */
import { CHANGE_REJECT_CODES, type Change, SYNC_EVENT } from '../../../contracts/sync.js';
import type { AckResult, ApplyResult, FeedItem, InboundStore, OutboxEventRow, OutboxStore, QuarantinedChange } from '../../../cloud-sync/src/ports.js';
import { PacklineError } from '../../../contracts/errors.js';
import type { Store, WriteOp } from '../storage/types.js';
import { planChanges } from './change-applier.js';

export const META_ACKED_SEQ = 'sync.acked_seq';
// storage/retention-meta.ts reads the same key as META_ACKED_SEQ_KEY (retention never prunes past it).
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

  async applyChanges(items: FeedItem[], nextCursor: string): Promise<ApplyResult> {
    const quarantined: QuarantinedChange[] = [];
    const changes: Change[] = [];
    for (const it of items) {
      if ('bad' in it) quarantined.push(it.bad);
      else changes.push(it.change);
    }
    const cursorOp: WriteOp = { op: 'meta.put', key: META_INBOUND_CURSOR, value: nextCursor };
    let plan;
    try {
      plan = planChanges(this.store, changes, this.now());
      await this.store.write([...plan.ops, ...quarantined.map(quarantineOp), cursorOp]);
    } catch (err) {
      // One change the store refuses (a coded PKL_STORE_OP_INVALID, or planning threw on it)
      // must not hold the page: apply change by change, quarantining the ones that fail.
      if (err instanceof PacklineError && err.code !== 'PKL_STORE_OP_INVALID') throw err;
      return this.applyOneByOne(changes, quarantined, cursorOp);
    }
    if (plan.touched.length > 0) this.onOrdersChanged(plan.touched);
    return { applied: plan.applied, skipped: plan.skipped, quarantined };
  }

  private async applyOneByOne(changes: Change[], quarantined: QuarantinedChange[], cursorOp: WriteOp): Promise<ApplyResult> {
    let applied = 0;
    let skipped = 0;
    const touched = new Set<string>();
    for (const c of changes) {
      try {
        const plan = planChanges(this.store, [c], this.now());
        if (plan.ops.length > 0) await this.store.write(plan.ops);
        applied += plan.applied;
        skipped += plan.skipped;
        for (const id of plan.touched) touched.add(id);
      } catch (err) {
        if (err instanceof PacklineError && err.code !== 'PKL_STORE_OP_INVALID') throw err;
        quarantined.push({
          cursor: c.cursor,
          kind: c.kind,
          order_id: c.kind === 'order.upsert' ? c.order.order_id : 'order_id' in c ? c.order_id : null,
          code: CHANGE_REJECT_CODES.unapplicable,
          reason: (err as Error).message.slice(0, 500),
          raw: JSON.stringify(c).slice(0, 4_000),
        });
      }
    }
    await this.store.write([...quarantined.map(quarantineOp), cursorOp]);
    if (touched.size > 0) this.onOrdersChanged([...touched]);
    return { applied, skipped, quarantined };
  }
}

/** The quarantine record: an event, so it is durable and travels upstream in order. */
function quarantineOp(q: QuarantinedChange): WriteOp {
  return {
    op: 'event',
    type: SYNC_EVENT.changeRejected,
    subject: q.order_id !== null ? `order:${q.order_id}` : `change:${q.cursor ?? 'unknown'}`,
    data: { cursor: q.cursor, kind: q.kind, order_id: q.order_id, code: q.code, reason: q.reason, change: q.raw },
  };
}
