/**
 * Stores one upstream batch or retry (contracts/sync.ts BatchBody / RetryBody) in one
 * transaction and computes the answer, store-then-ack:
 *
 * - seq <= hwm: a redelivery. Nothing new is stored; `deliveries` is incremented and, when
 *   the content differs from what was stored first, a conflict is recorded (the stored
 *   event stays: the natural key (gateway_id, seq) is permanent).
 * - the first new seq is hwm + 1: the new events are stored (as accepted or, when a business
 *   rule refuses them, as rejected) and the hwm advances over all of them: a rejected event
 *   is counted in the cumulative ack and never blocks the ones behind it.
 * - the first new seq is above hwm + 1: a gap. Nothing new is stored and the ack stays at
 *   hwm, so the gateway resends from hwm + 1.
 */
import { createHash } from 'node:crypto';
import type { BatchAck, BatchBody, RejectedEvent, RetryBody, SyncEvent } from '../../../../contracts/sync.js';
import type { CloudDb } from './cloud-db.js';
import { applyEventEffects } from './cloud-orders.js';
import type { Verdict } from './event-rules.js';

/** SHA-256 over the event's content (everything but seq), as received. */
export function eventHash(e: Omit<SyncEvent, 'seq'>): string {
  return createHash('sha256')
    .update(JSON.stringify([e.hlc, e.boot, e.clock_unsynced, e.type, e.subject, e.data]))
    .digest('hex');
}

export interface IngestOptions {
  /** The business rules (and the reject fault mode) for one event, against the state now. */
  judge: (e: SyncEvent) => Verdict;
  /** Store at most this many new events (the slowDrain fault mode); Infinity otherwise. */
  maxNew: number;
  now: number;
  /** Defect for the conformance kit: store a batch across a gap. */
  ackAcrossGaps?: boolean;
  /** Repeat the rejection of a redelivered rejected event (the contract; false is a defect). */
  repeatRejections?: boolean;
}

export interface BatchOutcome {
  ack: BatchAck;
  stored: number;
  redelivered: number;
  conflicts: number;
  gap: boolean;
  /** New events left out by `maxNew`. */
  heldBack: number;
}

/** Stores a validated batch (events contiguous and ascending, checked by the caller). */
export function ingestBatch(db: CloudDb, gatewayId: string, body: BatchBody, opts: IngestOptions): BatchOutcome {
  return db.transaction(() => {
    const hwm = db.hwm(gatewayId);
    const events = body.events;
    const first = events[0]!.seq;
    const last = events[events.length - 1]!.seq;
    const rejected: RejectedEvent[] = [];
    let redelivered = 0;
    let conflicts = 0;

    if (first <= hwm) {
      const upTo = Math.min(last, hwm);
      const stored = new Map(db.storedRange(gatewayId, first, upTo).map((s) => [s.seq, s]));
      for (const e of events) {
        if (e.seq > hwm) break;
        const s = stored.get(e.seq);
        if (s === undefined) continue; // 1..hwm are all stored unless someone edited the db
        redelivered += 1;
        const hash = eventHash(e);
        if (hash !== s.hash) {
          db.recordConflict(gatewayId, e.seq, s.hash, hash, JSON.stringify(e), opts.now);
          conflicts += 1;
        }
        // Said again: the answer that told the gateway may be the one that was lost.
        if (s.status === 'rejected' && opts.repeatRejections !== false) rejected.push({ seq: e.seq, code: s.code ?? '', reason: s.reason ?? '' });
      }
      db.bumpDeliveries(gatewayId, first, upTo);
    }

    const fresh = last > hwm ? events.slice(Math.max(0, hwm + 1 - first)) : [];
    let acked = hwm;
    let stored = 0;
    let heldBack = 0;
    const gap = fresh.length > 0 && fresh[0]!.seq !== hwm + 1 && opts.ackAcrossGaps !== true;
    if (fresh.length > 0 && !gap) {
      const take = fresh.length > opts.maxNew ? fresh.slice(0, opts.maxNew) : fresh;
      heldBack = fresh.length - take.length;
      for (const e of take) {
        const verdict = opts.judge(e);
        db.insertEvent({
          gateway_id: gatewayId,
          seq: e.seq,
          hlc: e.hlc,
          boot: e.boot,
          clock_unsynced: e.clock_unsynced ? 1 : 0,
          type: e.type,
          subject: e.subject,
          data: JSON.stringify(e.data),
          hash: eventHash(e),
          status: verdict === null ? 'accepted' : 'rejected',
          code: verdict?.code ?? null,
          reason: verdict?.reason ?? null,
          received_at: opts.now,
        });
        if (verdict === null) applyEventEffects(db, gatewayId, e, opts.now);
        else rejected.push({ seq: e.seq, ...verdict });
        acked = e.seq;
        stored += 1;
      }
      db.setHwm(gatewayId, acked);
    }
    const ack: BatchAck = { acked_seq: acked, rejected };
    if (fresh.length === 0) ack.duplicate = true;
    return { ack, stored, redelivered, conflicts, gap, heldBack };
  });
}

export interface RetryOutcome {
  ack: BatchAck;
  /** Seqs that were not stored as rejected and were left alone (already accepted or unknown). */
  ignored: number[];
}

/**
 * Re-judges resubmitted events that are stored as rejected, against the state now; the stored
 * content is authoritative (a resubmission with other content is recorded as a conflict).
 * An event already accepted is reported accepted again (the answer may have been lost); a
 * seq the cloud never stored is ignored.
 */
export function ingestRetry(db: CloudDb, gatewayId: string, body: RetryBody, opts: Pick<IngestOptions, 'judge' | 'now'>): RetryOutcome {
  return db.transaction(() => {
    const rejected: RejectedEvent[] = [];
    const accepted: number[] = [];
    const ignored: number[] = [];
    for (const e of body.events) {
      const s = db.event(gatewayId, e.seq);
      if (s === null) {
        ignored.push(e.seq);
        continue;
      }
      const hash = eventHash(e);
      if (hash !== s.hash) db.recordConflict(gatewayId, e.seq, s.hash, hash, JSON.stringify(e), opts.now);
      if (s.status === 'accepted') {
        ignored.push(e.seq);
        accepted.push(e.seq);
        continue;
      }
      const storedEvent: SyncEvent = {
        seq: s.seq,
        hlc: s.hlc,
        boot: s.boot,
        clock_unsynced: s.clock_unsynced === 1,
        type: s.type,
        subject: s.subject,
        data: JSON.parse(s.data) as unknown,
      };
      const verdict = opts.judge(storedEvent);
      if (verdict === null) {
        db.setEventStatus(gatewayId, s.seq, 'accepted', null, null, opts.now);
        applyEventEffects(db, gatewayId, storedEvent, opts.now);
        accepted.push(s.seq);
      } else {
        db.setEventStatus(gatewayId, s.seq, 'rejected', verdict.code, verdict.reason, opts.now);
        rejected.push({ seq: s.seq, ...verdict });
      }
    }
    return { ack: { acked_seq: db.hwm(gatewayId), rejected, accepted }, ignored };
  });
}
