/**
 * One retention step on the writer's connection (writer-worker.ts runs it between group
 * commits, only when no unit is waiting): read a small batch of candidates, decide with
 * retention-plan.ts, delete exactly that, all in one short transaction; then give back a few
 * free pages to the file system with `PRAGMA incremental_vacuum(N)`.
 *
 * Why on the writer: SQLite has one writer at a time. A second connection deleting rows would
 * hold the write lock while station commits wait on SQLite's busy handler (it sleeps in
 * steps up to 100 ms, sqlite.org/c3ref/busy_timeout.html); on the writer's own thread a step
 * simply runs between two commits, and a step is bounded by `batchRows`.
 *
 * Orders are walked by rowid from a cursor kept here (wrapping at the end): no index on age is
 * needed, and old orders sit at low rowids. Events are walked from the mark
 * `store.events_pruned_through` (retention-plan.ts).
 */
import type { Database, Statement } from 'better-sqlite3';
import { META_SEQ_FLOOR, PROJECTED_THROUGH_SQL } from './event-projector.js';
import { META_ACKED_SEQ_KEY, META_EVENTS_PRUNED_THROUGH } from './retention-meta.js';
import { type EventCandidate, type OrderCandidate, planPrune, type RetentionWindows, SETTLED_SHIPMENT_STATES } from './retention-plan.js';
import type { PrintJobState, ShipmentState } from './types.js';

export interface PruneRequest {
  /** The wall clock of the caller (ms); windows count back from it. */
  now: number;
  windows: RetentionWindows;
  /** Orders and events looked at per step (each kind). */
  batchRows: number;
  /** Free pages returned to the file system per step (`PRAGMA incremental_vacuum(N)`); 0 = none. */
  vacuumPages: number;
  /** Event types never pruned: their state is rebuilt from the log at start-up (retention-plan.ts). */
  keepEventTypes?: readonly string[];
}

export interface PruneResult {
  /** Orders deleted (with their barcodes), and the ids of the shipments deleted with them. */
  orders: string[];
  shipments: string[];
  printJobs: number;
  events: number;
  syncFailures: number;
  /** The mark after this step (every seq ≤ it is gone but the kept ones). */
  eventsThrough: number;
  /** Orders looked at; `ordersWrapped`: the walk reached the end and starts over next step. */
  ordersScanned: number;
  ordersWrapped: boolean;
  /** Events looked at beyond the mark, and whether the walk stopped at one that must stay. */
  eventsScanned: number;
  vacuumedPages: number;
  /** Free pages left in the file after the step. */
  freePages: number;
  /** `PRAGMA auto_vacuum`: 0 none, 1 full, 2 incremental. */
  autoVacuum: number;
  /** How long the step held the writer: the delete transaction and the vacuum (ms). */
  pruneMs: number;
  vacuumMs: number;
}

interface OrderRow {
  rid: number;
  order_id: string;
  refund_requested: number;
  refunded: number;
  cancelled: number;
  platform_closed: number;
  shipped: number;
  updated_at: number;
}

interface EventRow {
  seq: number;
  hlc: string;
  subject: string;
  type: string;
}

const HELD_ORDER_PREFIX = 'held.order.';

export class RetentionPruner {
  private orderCursor = 0;
  private keptCursor = 0;
  private readonly s: Record<string, Statement>;

  constructor(private readonly db: Database) {
    this.s = {
      meta: db.prepare('SELECT value FROM meta WHERE key = ?').pluck(),
      metaPut: db.prepare('INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value'),
      orders: db.prepare(
        'SELECT rowid AS rid, order_id, refund_requested, refunded, cancelled, platform_closed, shipped, updated_at FROM orders WHERE rowid > ? ORDER BY rowid LIMIT ?',
      ),
      shipments: db.prepare('SELECT shipment_id, state, updated_at FROM shipments WHERE order_id = ?'),
      jobStates: db.prepare('SELECT state FROM print_jobs WHERE shipment_id = ?').pluck(),
      // By subject: the projected side table, then the events after its mark (schema v6; the
      // writer projects before each step, so the tail is short or empty).
      lastEventOf: db
        .prepare(
          `SELECT max(seq) FROM (SELECT max(seq) AS seq FROM event_subjects WHERE subject = @subject
                               UNION ALL SELECT max(seq) FROM events WHERE seq > ${PROJECTED_THROUGH_SQL} AND subject = @subject)`,
        )
        .pluck(),
      eventsAfter: db.prepare('SELECT seq, hlc, subject, type FROM events WHERE seq > ? ORDER BY seq LIMIT ?'),
      keptBelow: db.prepare('SELECT seq, hlc, subject, type FROM events WHERE seq > ? AND seq <= ? ORDER BY seq LIMIT ?'),
      openFailure: db.prepare("SELECT 1 FROM sync_failures WHERE seq = ? AND state <> 'resolved'").pluck(),
      shipmentState: db.prepare('SELECT state FROM shipments WHERE shipment_id = ?').pluck(),
      latestOfType: db
        .prepare(
          `SELECT max(seq) FROM (SELECT max(e.seq) AS seq FROM event_subjects s JOIN events e ON e.seq = s.seq WHERE s.subject = @subject AND e.type = @type
                               UNION ALL SELECT max(seq) FROM events WHERE seq > ${PROJECTED_THROUGH_SQL} AND subject = @subject AND type = @type)`,
        )
        .pluck(),
      lastSeq: db.prepare('SELECT max(seq) FROM events').pluck(),
      delJobs: db.prepare('DELETE FROM print_jobs WHERE shipment_id = ?'),
      delShipments: db.prepare('DELETE FROM shipments WHERE order_id = ?'),
      // order_barcodes go with it (ON DELETE CASCADE; the writer runs with foreign_keys=ON).
      delOrder: db.prepare('DELETE FROM orders WHERE order_id = ?'),
      delEvent: db.prepare('DELETE FROM events WHERE seq = ?'),
      // Test pages and other jobs of no shipment (print_jobs_shipment indexes the NULLs too).
      delLooseJobs: db.prepare(
        "DELETE FROM print_jobs WHERE rowid IN (SELECT rowid FROM print_jobs WHERE shipment_id IS NULL AND updated_at < ? AND state NOT IN ('queued','sent','printing') LIMIT ?)",
      ),
      delFailures: db.prepare(
        "DELETE FROM sync_failures WHERE seq IN (SELECT seq FROM sync_failures WHERE state = 'resolved' AND seq <= ? AND resolved_at < ? ORDER BY seq LIMIT ?)",
      ),
    };
  }

  /** One step, in its own transaction (the caller holds no transaction). */
  step(req: PruneRequest): PruneResult {
    const db = this.db;
    const batch = Math.max(1, Math.floor(req.batchRows));
    let result: PruneResult;
    const t0 = performance.now();
    db.exec('BEGIN IMMEDIATE');
    try {
      result = this.pruneInTransaction(req, batch);
      db.exec('COMMIT');
    } catch (err) {
      if (db.inTransaction) db.exec('ROLLBACK');
      throw err;
    }
    const t1 = performance.now();
    result.pruneMs = t1 - t0;
    const autoVacuum = db.pragma('auto_vacuum', { simple: true }) as number;
    result.autoVacuum = autoVacuum;
    if (autoVacuum === 2 && req.vacuumPages > 0) {
      const before = db.pragma('freelist_count', { simple: true }) as number;
      if (before > 0) {
        // Moves up to N pages from the end of the file into free slots and truncates it.
        db.exec(`PRAGMA incremental_vacuum(${Math.floor(req.vacuumPages)})`);
        result.vacuumedPages = before - (db.pragma('freelist_count', { simple: true }) as number);
      }
    }
    result.freePages = db.pragma('freelist_count', { simple: true }) as number;
    result.vacuumMs = performance.now() - t1;
    return result;
  }

  private pruneInTransaction(req: PruneRequest, batch: number): PruneResult {
    const s = this.s;
    const acked = Number(s.meta!.get(META_ACKED_SEQ_KEY) ?? 0) || 0;
    const mark = Number(s.meta!.get(META_EVENTS_PRUNED_THROUGH) ?? 0) || 0;
    const orderCutoff = req.now - req.windows.ordersMs;

    // Orders: a batch by rowid; the details are read only for those old enough to matter.
    const rows = s.orders!.all(this.orderCursor, batch) as OrderRow[];
    const ordersWrapped = rows.length < batch;
    this.orderCursor = ordersWrapped ? 0 : (rows[rows.length - 1]?.rid ?? 0);
    const orders: OrderCandidate[] = [];
    const shipmentsOf = new Map<string, string[]>();
    for (const r of rows) {
      if (r.updated_at > orderCutoff) continue;
      const shipments = (s.shipments!.all(r.order_id) as Array<{ shipment_id: string; state: ShipmentState; updated_at: number }>).map((x) => ({
        shipmentId: x.shipment_id,
        state: x.state,
        updatedAt: x.updated_at,
      }));
      const jobStates: PrintJobState[] = [];
      let lastEventSeq = (s.lastEventOf!.get({ subject: `order:${r.order_id}` }) as number | null) ?? null;
      for (const sh of shipments) {
        jobStates.push(...(s.jobStates!.all(sh.shipmentId) as PrintJobState[]));
        const last = s.lastEventOf!.get({ subject: `shipment:${sh.shipmentId}` }) as number | null;
        if (last !== null && (lastEventSeq === null || last > lastEventSeq)) lastEventSeq = last;
      }
      shipmentsOf.set(
        r.order_id,
        shipments.map((x) => x.shipmentId),
      );
      orders.push({
        orderId: r.order_id,
        flags: {
          refundRequested: r.refund_requested !== 0,
          refunded: r.refunded !== 0,
          cancelled: r.cancelled !== 0,
          platformClosed: r.platform_closed !== 0,
          shipped: r.shipped !== 0,
        },
        updatedAt: r.updated_at,
        shipments,
        jobStates,
        held: s.meta!.get(`${HELD_ORDER_PREFIX}${r.order_id}`) !== undefined,
        lastEventSeq,
      });
    }

    // Events beyond the mark: only as far as the ack and the window allow (the plan stops there too).
    const eventCutoff = req.now - req.windows.eventsMs;
    const events: EventCandidate[] = [];
    let eventsScanned = 0;
    for (const e of s.eventsAfter!.all(mark, batch) as EventRow[]) {
      eventsScanned += 1;
      const wall = wallMsOf(e.hlc);
      if (e.seq > acked || wall > eventCutoff) break;
      events.push(this.eventCandidate(e, wall));
    }
    // Events kept below the mark, a batch at a time from a cursor: each goes once its reason ends.
    const kept = s.keptBelow!.all(this.keptCursor, mark, batch) as EventRow[];
    this.keptCursor = kept.length < batch ? 0 : (kept[kept.length - 1]?.seq ?? 0);
    const keptBelow = kept.map((e) => this.eventCandidate(e, wallMsOf(e.hlc)));

    const plan = planPrune({
      now: req.now,
      windows: req.windows,
      ackedSeq: acked,
      prunedThrough: mark,
      orders,
      events,
      keptBelow,
      keepEventTypes: req.keepEventTypes,
    });

    const prunedShipments: string[] = [];
    let printJobs = 0;
    for (const orderId of plan.orders) {
      for (const sh of shipmentsOf.get(orderId) ?? []) {
        printJobs += s.delJobs!.run(sh).changes;
        prunedShipments.push(sh);
      }
      s.delShipments!.run(orderId);
      s.delOrder!.run(orderId);
    }
    printJobs += s.delLooseJobs!.run(orderCutoff, batch).changes;
    let deleted = 0;
    // seq is max(seq) + 1 (schema v6): deleting the newest event leaves its seq as the floor, so it is never handed out again.
    const top = s.lastSeq!.get() as number | null;
    if (top !== null && plan.deleteEvents.includes(top)) s.metaPut!.run(META_SEQ_FLOOR, String(top));
    for (const seq of plan.deleteEvents) deleted += s.delEvent!.run(seq).changes;
    if (plan.eventsThrough !== mark) s.metaPut!.run(META_EVENTS_PRUNED_THROUGH, String(plan.eventsThrough));
    const syncFailures = s.delFailures!.run(plan.eventsThrough, eventCutoff, batch).changes;
    return {
      orders: plan.orders,
      shipments: prunedShipments,
      printJobs,
      events: deleted,
      syncFailures,
      eventsThrough: plan.eventsThrough,
      ordersScanned: rows.length,
      ordersWrapped,
      eventsScanned,
      vacuumedPages: 0,
      freePages: 0,
      autoVacuum: 0,
      pruneMs: 0,
      vacuumMs: 0,
    };
  }

  private eventCandidate(e: EventRow, wallMs: number): EventCandidate {
    const s = this.s;
    let openShipment = false;
    if (e.subject.startsWith('shipment:')) {
      const state = s.shipmentState!.get(e.subject.slice('shipment:'.length)) as ShipmentState | undefined;
      openShipment = state !== undefined && !SETTLED_SHIPMENT_STATES.includes(state);
    }
    const latestOfSubjectType = e.subject.startsWith('station:') ? s.latestOfType!.get({ subject: e.subject, type: e.type }) === e.seq : false;
    return {
      seq: e.seq,
      wallMs,
      subject: e.subject,
      type: e.type,
      openSyncFailure: s.openFailure!.get(e.seq) !== undefined,
      openShipment,
      latestOfSubjectType,
    };
  }
}

/** The wall-clock part of an HLC stamp `wallMs.counter` (lib/hlc.ts). */
function wallMsOf(hlc: string): number {
  const dot = hlc.indexOf('.');
  return Number(dot < 0 ? hlc : hlc.slice(0, dot));
}
