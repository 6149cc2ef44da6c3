/**
 * The promises checked after every restart, read straight from the gateway's SQLite file
 * (read-only; WAL lets it be read while the gateway runs):
 *
 * - every acknowledged event-log seq is there, with the effect acknowledged (an acknowledged
 *   print result is a `shipment.shipped` event of that shipment and the shipment is `shipped`);
 * - the event sequence is gap-free from 1, or from retention's mark (meta
 *   `store.events_pruned_through`, never beyond the cloud's ack) when it pruned;
 * - the HLC stamps never go backwards in seq order (nothing reordered, even across a clock jump);
 * - no order shipped twice;
 * - `PRAGMA integrity_check` is `ok`;
 * and, against the reference cloud, the sync checker (exactly-once effect, no gap, no
 * intercepted order shipped).
 */
import Database from 'better-sqlite3';
import type { checkSync } from '../../../simulators/src/cloud/reference/checker.js';
import type { AckLedger } from './floor-load.js';
import { META_ACKED_SEQ_KEY, META_EVENTS_PRUNED_THROUGH } from '../../src/storage/retention-meta.js';

export interface StoreCheck {
  violations: string[];
  events: number;
  maxSeq: number;
  ackedChecked: number;
  /** Retention's mark (meta `store.events_pruned_through`): seqs up to it were pruned. */
  prunedThrough: number;
}

const MAX_LISTED = 20;

export function checkStore(dbPath: string, ledger: AckLedger, opts: { integrity?: boolean } = {}): StoreCheck {
  const v: string[] = [];
  const add = (s: string) => {
    if (v.length < MAX_LISTED) v.push(s);
    else if (v.length === MAX_LISTED) v.push('… more violations not listed');
  };
  const db = new Database(dbPath, { readonly: true, fileMustExist: true });
  try {
    // One read transaction, so every query below sees the same snapshot.
    db.exec('BEGIN');
    if (opts.integrity !== false) {
      const ic = db.pragma('integrity_check', { simple: true });
      if (ic !== 'ok') add(`integrity_check: ${String(ic)}`);
    }
    // Retention prunes acknowledged events as a prefix: every seq up to the mark is gone but a
    // few kept on purpose (storage/retention-plan.ts); above it the log must be gap-free.
    const markRow = db.prepare('SELECT value FROM meta WHERE key = ?').pluck().get(META_EVENTS_PRUNED_THROUGH) as string | undefined;
    const prunedThrough = Number(markRow ?? 0) || 0;
    const ackedRow = db.prepare('SELECT value FROM meta WHERE key = ?').pluck().get(META_ACKED_SEQ_KEY) as string | undefined;
    if (prunedThrough > (Number(ackedRow ?? 0) || 0)) add(`events pruned through ${prunedThrough}, beyond the cloud's ack ${ackedRow ?? 0}`);
    const agg = db.prepare('SELECT COUNT(*) AS n, MIN(seq) AS lo, MAX(seq) AS hi FROM events WHERE seq > ?').get(prunedThrough) as {
      n: number;
      lo: number | null;
      hi: number | null;
    };
    const maxSeq = agg.hi ?? prunedThrough;
    if (agg.n > 0 && (agg.lo !== prunedThrough + 1 || agg.n !== maxSeq - prunedThrough))
      add(`event log not gap-free above the pruned mark ${prunedThrough}: ${agg.n} events, seqs ${agg.lo}..${agg.hi}`);

    let prev = '';
    let prevSeq = 0;
    for (const row of db.prepare('SELECT seq, hlc FROM events ORDER BY seq').iterate() as IterableIterator<{ seq: number; hlc: string }>) {
      if (row.hlc <= prev) add(`HLC not increasing: seq ${prevSeq} ${prev} → seq ${row.seq} ${row.hlc}`);
      prev = row.hlc;
      prevSeq = row.seq;
    }

    for (const s of ledger.seqs) if (s > maxSeq || s < 1) add(`acknowledged seq ${s} is not in the log (max ${maxSeq})`);
    // An acknowledged seq at or below the mark was pruned on purpose (the cloud had it): its
    // effect may be gone with its order, so only the ones above the mark are looked up.
    const kept = (seq: number) => seq > prunedThrough;

    const eventAt = db.prepare('SELECT type, subject FROM events WHERE seq = ?');
    const shipment = db.prepare('SELECT state, order_id FROM shipments WHERE shipment_id = ?');
    for (const a of ledger.shipments) {
      if (!kept(a.seq)) continue;
      const e = eventAt.get(a.seq) as { type: string; subject: string } | undefined;
      if (e === undefined || e.type !== 'shipment.shipped' || e.subject !== `shipment:${a.shipmentId}`) {
        add(`acknowledged print result of ${a.shipmentId} (seq ${a.seq}) is ${e === undefined ? 'missing' : `${e.type} ${e.subject}`}`);
      }
      const s = shipment.get(a.shipmentId) as { state: string; order_id: string } | undefined;
      if (s?.state !== 'shipped' || s.order_id !== a.orderId)
        add(`acknowledged shipment ${a.shipmentId} of ${a.orderId} is ${s === undefined ? 'missing' : `${s.state} (order ${s.order_id})`}`);
    }
    for (const p of ledger.parcels) {
      if (!kept(p.seq)) continue;
      const e = eventAt.get(p.seq) as { type: string; subject: string } | undefined;
      if (e === undefined) add(`acknowledged parcel ${p.barcode} (seq ${p.seq}) is missing`);
    }
    const twice = db.prepare("SELECT order_id, COUNT(*) AS n FROM shipments WHERE state = 'shipped' GROUP BY order_id HAVING n > 1").all() as Array<{
      order_id: string;
      n: number;
    }>;
    for (const t of twice) add(`order ${t.order_id} shipped ${t.n} times`);
    db.exec('COMMIT');
    return { violations: v, events: agg.n, maxSeq, ackedChecked: ledger.seqs.length, prunedThrough };
  } finally {
    db.close();
  }
}

/** The sync checker's result as violations (its problems, plus intercept violations). */
export function syncViolations(r: ReturnType<typeof checkSync>): string[] {
  const v = [...r.problems];
  if (r.stats.interceptViolations > 0 && !v.some((p) => /intercept|was .* at seq/.test(p)))
    v.push(`${r.stats.interceptViolations} intercepted order(s) shipped`);
  return v;
}
