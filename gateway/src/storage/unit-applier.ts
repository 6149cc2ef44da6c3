/**
 * Applies one unit's ops on a writer connection, inside a transaction the caller opened.
 * Used by the writer worker (group commit) and by the admin opener (CLI). Assigns event
 * sequence numbers (max + 1 above a floor, so a rolled-back savepoint leaves no gap and a
 * pruned seq is never reused) and HLC stamps.
 */
import { encodeJobData } from './job-data-codec.js';
import type { Database, Statement } from 'better-sqlite3';
import { PacklineError } from '../../../contracts/errors.js';
import { HybridClock, decodeHlc, encodeHlc } from '../lib/hlc.js';
import { META_SEQ_FLOOR, PROJECTED_THROUGH_SQL, type TailKeys } from './event-projector.js';
import { assertWriteOp, RESERVED_META_PREFIX } from './op-validation.js';
import { DedupeKeys, type DedupeKeysOptions } from './dedupe-filter.js';
import { toStoreError } from './sqlite-errors.js';
import type { OrderFlags, WriteOp, WriteResult } from './types.js';

/** Meta key of the status changes held for an order that is not cached yet (order.hold). */
export const HELD_ORDER_PREFIX = 'held.order.';
const heldKey = (orderId: string) => `${HELD_ORDER_PREFIX}${orderId}`;

interface HeldChange {
  flags: Partial<OrderFlags>;
  revision: number | null;
  sticky: boolean;
  at: number;
}

function parseHeld(raw: string | undefined): HeldChange[] {
  if (raw === undefined) return [];
  const v = JSON.parse(raw) as unknown;
  return Array.isArray(v) ? (v as HeldChange[]) : [];
}

export const META_BOOT = `${RESERVED_META_PREFIX}boot`;
export const META_HLC = `${RESERVED_META_PREFIX}hlc`;

/** The wall clock counts as unsynced when it is this far behind the HLC (it went back). */
const WALL_BEHIND_TOLERANCE_MS = 1_000;

/** What apply() did: the unit's result, and the device message key it wrote on its last event row. */
export type AppliedUnit = WriteResult & { events: number; folded?: { deviceId: string; msgId: string; seq: number } };

export interface UnitContext {
  boot: number;
  /** The caller knows the wall clock is not NTP-synchronised. */
  clockUnsynced: boolean;
}

/** The writer's dedupe filter capacity floor: the store's default dedupeMaxRows. */
const WRITER_FILTER_MIN_CAPACITY = 1_000_000;

export class UnitApplier {
  readonly clock: HybridClock;
  private readonly s: Record<string, Statement>;
  /**
   * The writer's Bloom filter of every device message key it has seen (dedupe-filter.ts): a
   * key it never saw is new without the two B-tree lookups. Built in chunks between group
   * commits (a chunk runs on its own event-loop turn, never inside a transaction: runBatch
   * is synchronous from BEGIN to COMMIT). Null for the CLI, whose units carry no keys and
   * which is gone before a build would finish.
   */
  private readonly keys: DedupeKeys | null;

  /**
   * `tail`: the device message keys of events after the projector's mark, held in memory
   * (the writer); without it (the CLI) the applier scans those events. The writer also gets
   * the key filter (`filter`, default on when `tail` is given).
   */
  constructor(
    private readonly db: Database,
    private readonly dataDir: string,
    private readonly now: () => number = Date.now,
    private readonly tail?: Pick<TailKeys, 'has'>,
    filter: Partial<DedupeKeysOptions> | false = tail !== undefined ? {} : false,
  ) {
    this.clock = new HybridClock({ now });
    this.s = {
      orderRev: db.prepare('SELECT revision FROM orders WHERE order_id = ?').pluck(),
      orderUpsert: db.prepare(`
        INSERT INTO orders (order_id, shop, lines, packaging_grams, refund_requested, refunded, cancelled,
                            platform_closed, shipped, carrier, waybill, print_data, ship_by, revision, updated_at)
        VALUES (@orderId, @shop, @lines, @packagingGrams, @refundRequested, @refunded, @cancelled,
                @platformClosed, @shipped, @carrier, @waybill, @printData, @shipBy, @revision, @updatedAt)
        ON CONFLICT(order_id) DO UPDATE SET
          shop = excluded.shop, lines = excluded.lines, packaging_grams = excluded.packaging_grams,
          refund_requested = excluded.refund_requested, refunded = excluded.refunded,
          cancelled = excluded.cancelled, platform_closed = excluded.platform_closed,
          shipped = excluded.shipped, carrier = excluded.carrier, waybill = excluded.waybill,
          print_data = excluded.print_data, ship_by = excluded.ship_by, revision = excluded.revision,
          updated_at = excluded.updated_at`),
      barcodesClear: db.prepare('DELETE FROM order_barcodes WHERE order_id = ?'),
      barcodeAdd: db.prepare('INSERT OR REPLACE INTO order_barcodes (code, order_id) VALUES (?, ?)'),
      // Not INSERT OR REPLACE: REPLACE deletes the row and inserts it under a new rowid, so
      // every step rewrote the table leaf twice and every index entry, changed or not. A
      // step first tries an UPDATE in place that leaves the columns a shipment never changes
      // (order, opened_at) out of its SET list — SQLite rewrites an index only when the
      // UPDATE names one of its columns (sqlite.org/lang_update.html; the query planner's
      // "affected indexes") — so the primary-key index and shipments_order are not written
      // after the first step; when that finds no row with those values, the full upsert
      // writes the row as given. Same row afterwards either way (bench/commit-pages.ts
      // counts the pages).
      shipmentUpdate: db.prepare(`
        UPDATE shipments SET station_id = @stationId, state = @state, reason_code = @reasonCode, scanned = @scanned,
          expected_grams = @expectedGrams, actual_grams = @actualGrams, carrier = @carrier, waybill = @waybill,
          label_job_id = @labelJobId, operator = @operator, updated_at = @updatedAt, shipped_at = @shippedAt
        WHERE shipment_id = @shipmentId AND order_id = @orderId AND opened_at = @openedAt`),
      shipmentUpsert: db.prepare(`
        INSERT INTO shipments (shipment_id, order_id, station_id, state, reason_code, scanned,
          expected_grams, actual_grams, carrier, waybill, label_job_id, operator, opened_at, updated_at, shipped_at)
        VALUES (@shipmentId, @orderId, @stationId, @state, @reasonCode, @scanned, @expectedGrams, @actualGrams,
          @carrier, @waybill, @labelJobId, @operator, @openedAt, @updatedAt, @shippedAt)
        ON CONFLICT(shipment_id) DO UPDATE SET
          order_id = excluded.order_id, station_id = excluded.station_id, state = excluded.state,
          reason_code = excluded.reason_code, scanned = excluded.scanned, expected_grams = excluded.expected_grams,
          actual_grams = excluded.actual_grams, carrier = excluded.carrier, waybill = excluded.waybill,
          label_job_id = excluded.label_job_id, operator = excluded.operator, opened_at = excluded.opened_at,
          updated_at = excluded.updated_at, shipped_at = excluded.shipped_at`),
      // As shipmentUpdate: the job's shipment and creation time never change after it is queued.
      jobUpdate: db.prepare(`
        UPDATE print_jobs SET printer_id = @printerId, format = @format, data = @data, state = @state,
          reason = @reason, updated_at = @updatedAt
        WHERE job_id = @jobId AND shipment_id IS @shipmentId AND created_at = @createdAt`),
      jobUpsert: db.prepare(`
        INSERT INTO print_jobs (job_id, shipment_id, printer_id, format, data, state, reason,
          created_at, updated_at)
        VALUES (@jobId, @shipmentId, @printerId, @format, @data, @state, @reason, @createdAt, @updatedAt)
        ON CONFLICT(job_id) DO UPDATE SET
          shipment_id = excluded.shipment_id, printer_id = excluded.printer_id, format = excluded.format,
          data = excluded.data, state = excluded.state, reason = excluded.reason,
          created_at = excluded.created_at, updated_at = excluded.updated_at`),
      // seq = max(seq) + 1 (schema v6: no AUTOINCREMENT, so no sqlite_sequence page per commit),
      // never below the floor retention leaves when it deletes the newest event. Both are
      // B-tree edges already in the cache; a rolled-back savepoint leaves no gap.
      eventInsert: db.prepare(`INSERT INTO events (seq, hlc, boot, clock_unsynced, type, subject, data, dedupe_device, dedupe_msg)
        VALUES (max((SELECT coalesce(max(seq), 0) FROM events),
                    coalesce((SELECT CAST(value AS INTEGER) FROM meta WHERE key = '${META_SEQ_FLOOR}'), 0)) + 1,
                ?, ?, ?, ?, ?, ?, ?, ?)`),
      dedupeInsert: db.prepare('INSERT OR IGNORE INTO dedupe (device_id, msg_id, at) VALUES (?, ?, ?)'),
      // Every place a message's key may be: the event row (schema v5) — projected into
      // event_dedupe (v6), or after the mark (the writer keeps those in memory, TailKeys) —
      // or the dedupe table (before v5, or a unit without events).
      dedupeSeen: db.prepare(`
        SELECT 1 FROM event_dedupe WHERE device_id = @device AND msg_id = @msg
        UNION ALL SELECT 1 FROM dedupe WHERE device_id = @device AND msg_id = @msg LIMIT 1`),
      dedupeTail: db.prepare(`SELECT 1 FROM events WHERE seq > ${PROJECTED_THROUGH_SQL} AND dedupe_device = @device AND dedupe_msg = @msg LIMIT 1`),
      dedupeSeq: db.prepare('UPDATE dedupe SET seq = ? WHERE device_id = ? AND msg_id = ?'),
      deviceUpsert: db.prepare(`
        INSERT OR REPLACE INTO devices (device_id, role, station, model, secret_hash, created_at, rotated_at)
        VALUES (@deviceId, @role, @station, @model, @secretHash, @createdAt, @rotatedAt)`),
      deviceDelete: db.prepare('DELETE FROM devices WHERE device_id = ?'),
      stationUpsert: db.prepare(
        'INSERT INTO stations (station_id, station, created_at) VALUES (?, ?, ?) ON CONFLICT(station_id) DO UPDATE SET station = excluded.station',
      ),
      stationDelete: db.prepare('DELETE FROM stations WHERE station_id = ?'),
      supervisorUpsert: db.prepare(`
        INSERT OR REPLACE INTO supervisors (name, secret_hash, created_at, rotated_at)
        VALUES (@name, @secretHash, @createdAt, @rotatedAt)`),
      supervisorDelete: db.prepare('DELETE FROM supervisors WHERE name = ?'),
      metaPut: db.prepare('INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value'),
      metaGet: db.prepare('SELECT value FROM meta WHERE key = ?').pluck(),
      metaDelete: db.prepare('DELETE FROM meta WHERE key = ?'),
      lastHlc: db.prepare('SELECT hlc FROM events ORDER BY seq DESC LIMIT 1').pluck(),
      // A key range (the primary key), not LIKE: the scan touches held rows only.
      heldPrune: db.prepare(
        `DELETE FROM meta WHERE key >= '${HELD_ORDER_PREFIX}' AND key < '${HELD_ORDER_PREFIX.slice(0, -1)}/' AND json_extract(value, '$[#-1].at') < ?`,
      ),
      syncFailPut: db.prepare(`
        INSERT INTO sync_failures (seq, code, reason, state, attempts, first_failed_at, last_failed_at, resolved_at)
        VALUES (?, ?, ?, 'failed', 1, ?, ?, NULL)
        ON CONFLICT(seq) DO UPDATE SET code = excluded.code, reason = excluded.reason, state = 'failed',
          attempts = attempts + 1, last_failed_at = excluded.last_failed_at, resolved_at = NULL`),
      syncFailState: db.prepare("UPDATE sync_failures SET state = ?, resolved_at = CASE WHEN ? = 'resolved' THEN ? ELSE NULL END WHERE seq = ?"),
    };
    this.keys = filter === false ? null : new DedupeKeys(db, { minCapacity: WRITER_FILTER_MIN_CAPACITY, ...filter });
    this.keys?.start();
  }

  /** The key filter answers (its first build completed); for tests. */
  get dedupeFilterReady(): boolean {
    return this.keys?.ready === true;
  }

  /** Stops the filter's build (the connection is closing). */
  close(): void {
    this.keys?.stop();
  }

  /**
   * Raises the clock to the last HLC any writer (this one before a restart, or the CLI)
   * handed out, so HLC order agrees with seq order. Call at the start of each transaction.
   *
   * The bound is the last event's own stamp: every HLC that orders anything is stored in an
   * event row, and the newest row is the rightmost leaf of `events` (a page already in the
   * cache), so no commit has to rewrite a `meta` page to carry it (one page image per
   * commit, 4 per shipment: bench/commit-pages.ts). `meta` still holds a copy written now and
   * then (persistClock) and by builds before this one; the clock takes the later of the two,
   * so an event log emptied by retention still leaves a floor.
   */
  syncClock(): void {
    for (const v of [this.s.metaGet!.get(META_HLC), this.s.lastHlc!.get()] as Array<string | undefined>) {
      if (v === undefined) continue;
      try {
        this.clock.observe(decodeHlc(v));
      } catch {
        // An unparsable meta value is overwritten by the next persistClock(); nothing to recover.
      }
    }
  }

  /**
   * Stores the clock in `meta`: a floor for syncClock() that outlives the event rows
   * (retention may prune them all). Not needed per commit (the last event bounds the
   * clock); the writer calls it at most once a minute and when it stops.
   */
  persistClock(): void {
    this.s.metaPut!.run(META_HLC, encodeHlc(this.clock.peek()));
  }

  readMeta(key: string): string | null {
    return (this.s.metaGet!.get(key) as string | undefined) ?? null;
  }

  writeMeta(key: string, value: string): void {
    this.s.metaPut!.run(key, value);
  }

  /** Applies the ops (the caller wraps them in a savepoint); throws a PacklineError. */
  apply(ops: unknown, ctx: UnitContext): AppliedUnit {
    if (!Array.isArray(ops) || ops.length === 0) {
      throw new PacklineError('PKL_STORE_OP_INVALID', { op: 'unit', reason: 'a unit needs at least one op' });
    }
    for (const op of ops) assertWriteOp(op);
    const units = ops as WriteOp[];
    // A redelivery changes nothing: refused before any op applies (the savepoint would undo
    // them anyway). Then the unit's first device message key rides on its last event row
    // (schema v5, the unique index events_dedupe); other keys, and a unit without events,
    // get a dedupe row as before.
    let foldAt = -1;
    let folded: { deviceId: string; msgId: string } | undefined;
    let keys: Set<string> | undefined;
    for (let i = 0; i < units.length; i++) {
      const op = units[i]!;
      if (op.op === 'event') foldAt = i;
      else if (op.op === 'dedupe') {
        // Also the same key twice in one unit (one copy would go on the event row, the other to the table).
        const key = JSON.stringify([op.deviceId, op.msgId]);
        if (keys?.has(key) === true || this.seen(op.deviceId, op.msgId)) {
          throw new PacklineError('PKL_DUPLICATE_MESSAGE', { msgId: op.msgId, deviceId: op.deviceId });
        }
        // Into the filter now, before the unit's rows exist: if the unit or the batch rolls
        // back, the key stays in the filter and only costs a SQL lookup later.
        this.keys?.add(op.deviceId, op.msgId);
        (keys ??= new Set()).add(key);
        folded ??= op;
      }
    }
    const fold = foldAt >= 0 ? folded : undefined;
    const seqs: number[] = [];
    const stale: number[] = [];
    units.forEach((op, i) => {
      try {
        if (op === fold) return;
        const r = this.applyOne(op, ctx, i === foldAt ? fold : undefined);
        if (r === 'stale') stale.push(i);
        else if (typeof r === 'number') seqs.push(r);
      } catch (err) {
        throw toStoreError(err, { op: op.op, dataDir: this.dataDir });
      }
    });
    // A device message's dedupe row records the seq its unit ended with, so a duplicate is
    // answered with the original ack, seq included (docs/mqtt.md §5).
    const lastSeq = seqs[seqs.length - 1];
    if (lastSeq !== undefined) {
      for (const op of units) if (op.op === 'dedupe' && op !== fold) this.s.dedupeSeq!.run(lastSeq, op.deviceId, op.msgId);
    }
    const result: AppliedUnit = { seqs, events: seqs.length };
    if (stale.length > 0) result.stale = stale;
    if (fold !== undefined && lastSeq !== undefined) result.folded = { deviceId: fold.deviceId, msgId: fold.msgId, seq: lastSeq };
    return result;
  }

  private seen(deviceId: string, msgId: string): boolean {
    // Every key this writer records goes through apply() (into the filter), and the build
    // read the rest from SQLite, tail included: absent from the filter is absent everywhere.
    if (this.keys?.certainlyAbsent(deviceId, msgId) === true) return false;
    const q = { device: deviceId, msg: msgId };
    if (this.s.dedupeSeen!.get(q) !== undefined) return true;
    return this.tail !== undefined ? this.tail.has(deviceId, msgId) : this.s.dedupeTail!.get(q) !== undefined;
  }

  /**
   * Status changes that arrived before their order (order.hold) take effect in the same
   * transaction that caches it: sticky ones always, the others when newer than the order.
   */
  private applyHeld(orderId: string, revision: number): void {
    const key = heldKey(orderId);
    const raw = this.s.metaGet!.get(key) as string | undefined;
    if (raw === undefined) return;
    const held = parseHeld(raw).sort((a, b) => (a.revision ?? -1) - (b.revision ?? -1));
    let rev = revision;
    for (const h of held) {
      if (h.sticky || (h.revision !== null && h.revision > rev)) {
        rev = Math.max(rev, h.revision ?? rev);
        this.setFlags(orderId, h.flags, rev);
      }
    }
    this.s.metaDelete!.run(key);
  }

  private setFlags(orderId: string, flags: Partial<OrderFlags>, revision: number): void {
    const cols: Record<keyof OrderFlags, string> = {
      refundRequested: 'refund_requested',
      refunded: 'refunded',
      cancelled: 'cancelled',
      platformClosed: 'platform_closed',
      shipped: 'shipped',
    };
    const sets: string[] = [];
    const args: number[] = [];
    for (const [k, v] of Object.entries(flags)) {
      sets.push(`${cols[k as keyof OrderFlags]} = ?`);
      args.push(v ? 1 : 0);
    }
    sets.push('revision = ?', 'updated_at = ?');
    args.push(revision, Math.floor(this.now()));
    // Column names come from the fixed map above, never from input.
    this.db.prepare(`UPDATE orders SET ${sets.join(', ')} WHERE order_id = ?`).run(...args, orderId);
  }

  /** `dedupe`: the device message key to store on this op's event row (see apply()). */
  private applyOne(op: WriteOp, ctx: UnitContext, dedupe?: { deviceId: string; msgId: string }): number | 'stale' | undefined {
    const s = this.s;
    switch (op.op) {
      case 'order.put': {
        const o = op.order;
        const stored = s.orderRev!.get(o.orderId) as number | undefined;
        // The cloud's revision is monotonic; an older copy arriving late must not win.
        if (stored !== undefined && o.revision < stored) return 'stale';
        s.orderUpsert!.run({
          orderId: o.orderId,
          shop: o.shop,
          lines: JSON.stringify(o.lines),
          packagingGrams: o.packagingGrams,
          refundRequested: o.flags.refundRequested ? 1 : 0,
          refunded: o.flags.refunded ? 1 : 0,
          cancelled: o.flags.cancelled ? 1 : 0,
          platformClosed: o.flags.platformClosed ? 1 : 0,
          shipped: o.flags.shipped ? 1 : 0,
          carrier: o.carrier,
          waybill: o.waybill,
          printData: o.printData === null ? null : JSON.stringify(o.printData),
          shipBy: o.shipBy,
          revision: o.revision,
          updatedAt: o.updatedAt,
        });
        s.barcodesClear!.run(o.orderId);
        for (const code of new Set(o.barcodes)) s.barcodeAdd!.run(code, o.orderId);
        this.applyHeld(o.orderId, o.revision);
        return;
      }
      case 'order.flags': {
        const stored = s.orderRev!.get(op.orderId) as number | undefined;
        if (stored === undefined) {
          throw new PacklineError('PKL_STORE_OP_INVALID', {
            op: op.op,
            reason: `order ${op.orderId} is not in the cache`,
          });
        }
        if (op.revision !== undefined && op.revision < stored) return 'stale';
        this.setFlags(op.orderId, op.flags, Math.max(stored, op.revision ?? stored));
        return;
      }
      case 'order.hold_prune':
        s.heldPrune!.run(op.before);
        return;
      case 'order.hold': {
        const stored = s.orderRev!.get(op.orderId) as number | undefined;
        if (stored !== undefined) {
          // Cached by now (it may have arrived since the caller looked): apply at once.
          if (!op.sticky && op.revision !== null && op.revision <= stored) return 'stale';
          this.setFlags(op.orderId, op.flags, Math.max(stored, op.revision ?? stored));
          return;
        }
        const key = heldKey(op.orderId);
        const held = parseHeld(s.metaGet!.get(key) as string | undefined);
        held.push({ flags: op.flags, revision: op.revision, sticky: op.sticky, at: op.at });
        s.metaPut!.run(key, JSON.stringify(held));
        return;
      }
      case 'shipment.put': {
        const sh = op.shipment;
        const row = { ...sh, scanned: JSON.stringify(sh.scanned) };
        if (s.shipmentUpdate!.run(row).changes === 0) s.shipmentUpsert!.run(row);
        return;
      }
      case 'printjob.put': {
        const row = { ...op.job, data: encodeJobData(op.job.data) };
        if (s.jobUpdate!.run(row).changes === 0) s.jobUpsert!.run(row);
        return;
      }
      case 'event': {
        const unsynced = ctx.clockUnsynced || this.clock.wallBehind(WALL_BEHIND_TOLERANCE_MS);
        const data = JSON.stringify(op.data === undefined ? null : op.data);
        const hlc = encodeHlc(this.clock.now());
        const info = s.eventInsert!.run(hlc, ctx.boot, unsynced ? 1 : 0, op.type, op.subject, data, dedupe?.deviceId ?? null, dedupe?.msgId ?? null);
        return Number(info.lastInsertRowid);
      }
      case 'dedupe': {
        const info = s.dedupeInsert!.run(op.deviceId, op.msgId, this.clock.now().wallMs);
        // Already recorded: this unit is a redelivery; its state change must not apply twice.
        if (info.changes === 0) {
          throw new PacklineError('PKL_DUPLICATE_MESSAGE', { msgId: op.msgId, deviceId: op.deviceId });
        }
        return;
      }
      case 'device.put':
        s.deviceUpsert!.run({ ...op.device });
        return;
      case 'device.delete': {
        const info = s.deviceDelete!.run(op.deviceId);
        if (info.changes === 0) throw new PacklineError('PKL_DEVICE_UNKNOWN', { deviceId: op.deviceId });
        return;
      }
      case 'station.put':
        s.stationUpsert!.run(op.station.stationId, JSON.stringify(op.station.settings), op.station.createdAt);
        return;
      case 'station.delete': {
        const info = s.stationDelete!.run(op.stationId);
        if (info.changes === 0) throw new PacklineError('PKL_STATION_UNKNOWN', { stationId: op.stationId });
        return;
      }
      case 'supervisor.put':
        s.supervisorUpsert!.run({ ...op.supervisor });
        return;
      case 'supervisor.delete': {
        const info = s.supervisorDelete!.run(op.name);
        if (info.changes === 0) throw new PacklineError('PKL_NOT_FOUND', { what: `supervisor ${op.name}` });
        return;
      }
      case 'meta.put':
        s.metaPut!.run(op.key, op.value);
        return;
      case 'syncfail.put':
        s.syncFailPut!.run(op.seq, op.code, op.reason.slice(0, 1000), op.at, op.at);
        return;
      case 'syncfail.state': {
        const info = s.syncFailState!.run(op.state, op.state, op.at, op.seq);
        if (info.changes === 0) {
          throw new PacklineError('PKL_NOT_FOUND', { what: `sync failure of event ${op.seq}` });
        }
        return;
      }
    }
  }
}
