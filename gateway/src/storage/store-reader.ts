/**
 * The synchronous read side: prepared statements over one connection and the row → domain
 * mapping. The store uses it on a read-only connection on the main thread (WAL readers see
 * the last committed snapshot and never fsync); the admin opener uses it on its own
 * connection.
 */
import { decodeJobData } from './job-data-codec.js';
import type { Database, Statement } from 'better-sqlite3';
import {
  FINAL_SHIPMENT_STATES,
  type DeviceRecord,
  type StationRecord,
  type StationSettings,
  type EventRecord,
  type Order,
  type PrintException,
  type PrintJob,
  type RawEventRow,
  type Shipment,
  type ShipmentQuery,
  type SupervisorRecord,
  type SupervisorSummary,
  type SyncFailure,
  type SyncFailureState,
} from './types.js';
import { META_SEQ_FLOOR, PROJECTED_THROUGH_SQL } from './event-projector.js';

export const MAX_LIST_LIMIT = 1000;

/**
 * Open orders (not intercepted, not shipped, no label printed) and how many have a pre-fetched
 * waybill: a full scan of the orders cache, so the store runs it off the main thread
 * (checkpoint-worker.ts) and serves the last count.
 */
export const WAYBILL_COVERAGE_SQL = `
  SELECT count(*) AS open, coalesce(sum(o.waybill IS NOT NULL), 0) AS withWaybill
  FROM orders o
  WHERE o.refund_requested = 0 AND o.refunded = 0 AND o.cancelled = 0 AND o.platform_closed = 0
    AND o.shipped = 0
    AND NOT EXISTS (SELECT 1 FROM shipments s WHERE s.order_id = o.order_id AND s.state IN ('printed','shipped'))`;
export const MAX_EVENTS_LIMIT = 10_000;

/** An event row as the outbox and the API see it: not the dedupe key the store keeps on it (schema v5). */
const EVENT_COLUMNS = 'seq, hlc, boot, clock_unsynced, type, subject, data';

interface OrderRow {
  order_id: string;
  shop: string;
  lines: string;
  packaging_grams: number | null;
  refund_requested: number;
  refunded: number;
  cancelled: number;
  platform_closed: number;
  shipped: number;
  carrier: string | null;
  waybill: string | null;
  print_data: string | null;
  ship_by: number | null;
  revision: number;
  updated_at: number;
}

interface ShipmentRow {
  shipment_id: string;
  order_id: string;
  station_id: string;
  state: Shipment['state'];
  reason_code: string | null;
  scanned: string;
  expected_grams: number | null;
  actual_grams: number | null;
  carrier: string | null;
  waybill: string | null;
  label_job_id: string | null;
  operator: string | null;
  opened_at: number;
  updated_at: number;
  shipped_at: number | null;
}

interface PrintJobRow {
  job_id: string;
  shipment_id: string | null;
  printer_id: string;
  format: PrintJob['format'];
  /** Text, or DEFLATE bytes (job-data-codec.ts). */
  data: string | Uint8Array;
  state: PrintJob['state'];
  reason: string | null;
  created_at: number;
  updated_at: number;
}

interface DeviceRow {
  device_id: string;
  role: string;
  station: string | null;
  model: string | null;
  secret_hash: string;
  created_at: number;
  rotated_at: number;
}

interface SupervisorRow {
  name: string;
  secret_hash: string;
  created_at: number;
  rotated_at: number;
}

interface EventRow {
  seq: number;
  hlc: string;
  boot: number;
  clock_unsynced: number;
  type: string;
  subject: string;
  data: string;
}

function toOrder(r: OrderRow, barcodes: string[]): Order {
  return {
    orderId: r.order_id,
    shop: r.shop,
    barcodes,
    lines: JSON.parse(r.lines) as Order['lines'],
    packagingGrams: r.packaging_grams,
    flags: {
      refundRequested: r.refund_requested === 1,
      refunded: r.refunded === 1,
      cancelled: r.cancelled === 1,
      platformClosed: r.platform_closed === 1,
      shipped: r.shipped === 1,
    },
    carrier: r.carrier,
    waybill: r.waybill,
    printData: r.print_data === null ? null : (JSON.parse(r.print_data) as Order['printData']),
    shipBy: r.ship_by,
    revision: r.revision,
    updatedAt: r.updated_at,
  };
}

function toShipment(r: ShipmentRow): Shipment {
  return {
    shipmentId: r.shipment_id,
    orderId: r.order_id,
    stationId: r.station_id,
    state: r.state,
    reasonCode: r.reason_code,
    scanned: JSON.parse(r.scanned) as Record<string, number>,
    expectedGrams: r.expected_grams,
    actualGrams: r.actual_grams,
    carrier: r.carrier,
    waybill: r.waybill,
    labelJobId: r.label_job_id,
    operator: r.operator,
    openedAt: r.opened_at,
    updatedAt: r.updated_at,
    shippedAt: r.shipped_at,
  };
}

function toPrintJob(r: PrintJobRow): PrintJob {
  return {
    jobId: r.job_id,
    shipmentId: r.shipment_id,
    printerId: r.printer_id,
    format: r.format,
    data: decodeJobData(r.data),
    state: r.state,
    reason: r.reason,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
  };
}

function toDevice(r: DeviceRow): DeviceRecord {
  return {
    deviceId: r.device_id,
    role: r.role,
    station: r.station,
    model: r.model,
    secretHash: r.secret_hash,
    createdAt: r.created_at,
    rotatedAt: r.rotated_at,
  };
}

function toEvent(r: EventRow): EventRecord {
  return {
    seq: r.seq,
    hlc: r.hlc,
    boot: r.boot,
    clockUnsynced: r.clock_unsynced === 1,
    type: r.type,
    subject: r.subject,
    data: JSON.parse(r.data) as unknown,
  };
}

interface SyncFailureRow {
  seq: number;
  code: string;
  reason: string;
  state: SyncFailureState;
  attempts: number;
  first_failed_at: number;
  last_failed_at: number;
  resolved_at: number | null;
}

function toSyncFailure(r: SyncFailureRow): SyncFailure {
  return {
    seq: r.seq,
    code: r.code,
    reason: r.reason,
    state: r.state,
    attempts: r.attempts,
    firstFailedAt: r.first_failed_at,
    lastFailedAt: r.last_failed_at,
    resolvedAt: r.resolved_at,
  };
}

function clampLimit(limit: number | undefined, dflt: number, max: number): number {
  if (limit === undefined || !Number.isFinite(limit)) return dflt;
  return Math.min(Math.max(Math.floor(limit), 1), max);
}

const FINAL_LIST = FINAL_SHIPMENT_STATES.map((s) => `'${s}'`).join(',');

/**
 * Print exceptions: the newest failed job per shipment (through the partial index
 * print_jobs_failed), newest first, with no printed job of the same shipment created after it.
 * Intercepted shipments need no label; abandoned ones whose order left in another shipment
 * need none either. Exported for the query-plan test.
 */
export const FAILED_JOBS_SQL = `
        SELECT f.* FROM print_jobs f JOIN shipments s ON s.shipment_id = f.shipment_id
        WHERE f.state = 'failed'
          AND f.job_id = (SELECT l.job_id FROM print_jobs l WHERE l.shipment_id = f.shipment_id AND l.state = 'failed'
                          ORDER BY l.updated_at DESC, l.job_id DESC LIMIT 1)
          -- Not when a later job of the shipment printed or is still out (a failover's new job
          -- on another printer of the channel: the label is on its way, not an exception).
          AND NOT EXISTS (SELECT 1 FROM print_jobs p WHERE p.shipment_id = f.shipment_id AND p.state NOT IN ('failed', 'cancelled')
                            AND p.created_at >= f.created_at AND p.job_id <> f.job_id)
          AND s.state <> 'intercepted'
          -- Shipped without a label printed here (station/decide/ship-unlabelled-plan.ts): its failed
          -- label job is still the shipment's label job. A failed reprint of a shipped parcel
          -- (whose label job is the one that printed) stays listed.
          AND NOT (s.state = 'shipped' AND s.label_job_id = f.job_id)
          AND NOT (s.state = 'abandoned' AND EXISTS (
                SELECT 1 FROM shipments o WHERE o.order_id = s.order_id AND o.shipment_id <> s.shipment_id
                  AND o.state IN ('printed','shipped')))
        ORDER BY f.updated_at DESC, f.job_id DESC LIMIT ?`;

export class StoreReader {
  private readonly s: Record<
    | 'order'
    | 'orderBarcodes'
    | 'orderByCode'
    | 'orderByWaybill'
    | 'shipment'
    | 'openShipments'
    | 'latestForOrder'
    | 'printJob'
    | 'pendingJobs'
    | 'dedupe'
    | 'dedupeProjected'
    | 'device'
    | 'devices'
    | 'stations'
    | 'events'
    | 'subjectEvents'
    | 'lastEvent'
    | 'meta'
    | 'lastSeq'
    | 'syncFailure'
    | 'syncFailuresOpen'
    | 'syncFailuresByState'
    | 'syncFailuresAll'
    | 'syncFailuresOpenCount'
    | 'lastInWindow'
    | 'shippedIntercepted'
    | 'waybillCoverage'
    | 'supervisor'
    | 'supervisors'
    | 'jobsForShipment'
    | 'failedJobs'
    | 'printFailedShipments',
    Statement
  >;

  private readonly listStatements = new Map<string, Statement>();

  constructor(private readonly db: Database) {
    this.s = {
      order: db.prepare('SELECT * FROM orders WHERE order_id = ?'),
      orderBarcodes: db.prepare('SELECT code FROM order_barcodes WHERE order_id = ? ORDER BY rowid').pluck(),
      orderByCode: db.prepare('SELECT o.* FROM order_barcodes b JOIN orders o ON o.order_id = b.order_id WHERE b.code = ?'),
      orderByWaybill: db.prepare('SELECT * FROM orders WHERE waybill = ? AND waybill IS NOT NULL ORDER BY updated_at DESC LIMIT 1'),
      shipment: db.prepare('SELECT * FROM shipments WHERE shipment_id = ?'),
      openShipments: db.prepare(`SELECT * FROM shipments WHERE state NOT IN (${FINAL_LIST}) ORDER BY opened_at, shipment_id`),
      latestForOrder: db.prepare('SELECT * FROM shipments WHERE order_id = ? ORDER BY opened_at DESC, updated_at DESC LIMIT 1'),
      printJob: db.prepare('SELECT * FROM print_jobs WHERE job_id = ?'),
      pendingJobs: db.prepare("SELECT * FROM print_jobs WHERE state IN ('queued','sent','printing') ORDER BY created_at, job_id"),
      // The event row that carries the message's key (schema v5): projected into event_dedupe,
      // or after the projector's mark (v6); else a dedupe row (a message that wrote no event,
      // or one recorded before v5). One statement: one snapshot.
      dedupe: db.prepare(`
        SELECT seq FROM (SELECT seq FROM event_dedupe WHERE device_id = @device AND msg_id = @msg
                         UNION ALL SELECT seq FROM dedupe WHERE device_id = @device AND msg_id = @msg
                         UNION ALL SELECT seq FROM events WHERE seq > ${PROJECTED_THROUGH_SQL}
                                                          AND dedupe_device = @device AND dedupe_msg = @msg) LIMIT 1`),
      // The same without the tail: for the store, which knows the tail's keys itself (event-projector.ts RecentKeys).
      dedupeProjected: db.prepare(`
        SELECT seq FROM (SELECT seq FROM event_dedupe WHERE device_id = @device AND msg_id = @msg
                         UNION ALL SELECT seq FROM dedupe WHERE device_id = @device AND msg_id = @msg) LIMIT 1`),
      device: db.prepare('SELECT * FROM devices WHERE device_id = ?'),
      devices: db.prepare('SELECT * FROM devices ORDER BY device_id'),
      stations: db.prepare('SELECT * FROM stations ORDER BY station_id'),
      events: db.prepare(`SELECT ${EVENT_COLUMNS} FROM events WHERE seq > ? ORDER BY seq LIMIT ?`),
      // By subject (schema v6): the projected side table up to the mark, the log's tail after it,
      // in one statement (one snapshot: the mark and the side table move in one commit).
      subjectEvents: db.prepare(`
        SELECT ${EVENT_COLUMNS} FROM events WHERE seq IN (SELECT seq FROM event_subjects WHERE subject = @subject)
        UNION ALL
        SELECT ${EVENT_COLUMNS} FROM events WHERE seq > ${PROJECTED_THROUGH_SQL} AND subject = @subject
        ORDER BY seq LIMIT @limit`),
      lastEvent: db.prepare(`
        SELECT ${EVENT_COLUMNS} FROM events WHERE seq = (
          SELECT max(seq) FROM (
            SELECT max(seq) AS seq FROM events WHERE seq > ${PROJECTED_THROUGH_SQL} AND subject = @subject AND type = @type
            UNION ALL
            SELECT max(e.seq) FROM event_subjects s JOIN events e ON e.seq = s.seq WHERE s.subject = @subject AND e.type = @type))`),
      meta: db.prepare('SELECT value FROM meta WHERE key = ?').pluck(),
      // The newest seq handed out: the last row, or the floor retention left (schema v6).
      lastSeq: db
        .prepare(`SELECT max(coalesce((SELECT max(seq) FROM events), 0),
                                  coalesce((SELECT CAST(value AS INTEGER) FROM meta WHERE key = '${META_SEQ_FLOOR}'), 0))`)
        .pluck(),
      syncFailure: db.prepare('SELECT * FROM sync_failures WHERE seq = ?'),
      syncFailuresOpen: db.prepare("SELECT * FROM sync_failures WHERE state <> 'resolved' ORDER BY seq LIMIT ?"),
      syncFailuresByState: db.prepare('SELECT * FROM sync_failures WHERE state = ? ORDER BY seq LIMIT ?'),
      syncFailuresAll: db.prepare('SELECT * FROM sync_failures ORDER BY seq LIMIT ?'),
      lastInWindow: db.prepare('SELECT max(seq) FROM (SELECT seq FROM events WHERE seq > ? ORDER BY seq LIMIT ?)').pluck(),
      shippedIntercepted: db.prepare(`
        SELECT s.* FROM shipments s JOIN orders o ON o.order_id = s.order_id
        WHERE s.state IN ('printed','shipped')
          AND (o.refund_requested = 1 OR o.refunded = 1 OR o.cancelled = 1 OR o.platform_closed = 1)
        ORDER BY s.updated_at DESC LIMIT ?`),
      syncFailuresOpenCount: db.prepare("SELECT count(*) FROM sync_failures WHERE state <> 'resolved'").pluck(),
      waybillCoverage: db.prepare(WAYBILL_COVERAGE_SQL),
      supervisor: db.prepare('SELECT * FROM supervisors WHERE name = ?'),
      supervisors: db.prepare('SELECT name, created_at, rotated_at FROM supervisors ORDER BY name'),
      jobsForShipment: db.prepare('SELECT * FROM print_jobs WHERE shipment_id = ? ORDER BY created_at, job_id'),
      failedJobs: db.prepare(FAILED_JOBS_SQL),
      printFailedShipments: db.prepare(
        `SELECT * FROM shipments WHERE state NOT IN (${FINAL_LIST}) AND reason_code = 'PKL_PRINT_FAILED' ORDER BY updated_at DESC`,
      ),
    };
  }

  getOrder(orderId: string): Order | null {
    const r = this.s.order.get(orderId) as OrderRow | undefined;
    return r ? toOrder(r, this.s.orderBarcodes.all(r.order_id) as string[]) : null;
  }

  /** By order id, then by a listed barcode, then by waybill number. */
  findOrderByBarcode(code: string): Order | null {
    const direct = this.getOrder(code);
    if (direct) return direct;
    const r = (this.s.orderByCode.get(code) ?? this.s.orderByWaybill.get(code)) as OrderRow | undefined;
    return r ? toOrder(r, this.s.orderBarcodes.all(r.order_id) as string[]) : null;
  }

  getShipment(shipmentId: string): Shipment | null {
    const r = this.s.shipment.get(shipmentId) as ShipmentRow | undefined;
    return r ? toShipment(r) : null;
  }

  openShipments(): Shipment[] {
    return (this.s.openShipments.all() as ShipmentRow[]).map(toShipment);
  }

  listShipments(q: ShipmentQuery): Shipment[] {
    const where: string[] = [];
    const args: (string | number)[] = [];
    if (q.stationId !== undefined) where.push('station_id = ?'), args.push(q.stationId);
    if (q.state !== undefined) where.push('state = ?'), args.push(q.state);
    if (q.orderId !== undefined) where.push('order_id = ?'), args.push(q.orderId);
    if (q.before !== undefined) where.push('updated_at < ?'), args.push(q.before);
    args.push(clampLimit(q.limit, 100, MAX_LIST_LIMIT));
    // At most 16 filter combinations: prepare each once (the station flow asks for an
    // order's shipments at every step, and preparing showed up in the core benchmark profile).
    const sql = `SELECT * FROM shipments ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
                 ORDER BY updated_at DESC, shipment_id DESC LIMIT ?`;
    let stmt = this.listStatements.get(sql);
    if (stmt === undefined) {
      stmt = this.db.prepare(sql);
      this.listStatements.set(sql, stmt);
    }
    return (stmt.all(...args) as ShipmentRow[]).map(toShipment);
  }

  latestShipmentForOrder(orderId: string): Shipment | null {
    const r = this.s.latestForOrder.get(orderId) as ShipmentRow | undefined;
    return r ? toShipment(r) : null;
  }

  getPrintJob(jobId: string): PrintJob | null {
    const r = this.s.printJob.get(jobId) as PrintJobRow | undefined;
    return r ? toPrintJob(r) : null;
  }

  pendingPrintJobs(): PrintJob[] {
    return (this.s.pendingJobs.all() as PrintJobRow[]).map(toPrintJob);
  }

  hasDedupe(deviceId: string, msgId: string): boolean {
    return this.s.dedupe.get({ device: deviceId, msg: msgId }) !== undefined;
  }

  /** The seq an applied message produced: undefined when not applied, null when it wrote no event (or before v4). */
  dedupeSeq(deviceId: string, msgId: string): number | null | undefined {
    const row = this.s.dedupe.get({ device: deviceId, msg: msgId }) as { seq: number | null } | undefined;
    return row === undefined ? undefined : row.seq;
  }

  /** dedupeSeq() for keys of events up to the projector's mark only (the caller holds the tail's keys). */
  dedupeSeqProjected(deviceId: string, msgId: string): number | null | undefined {
    const row = this.s.dedupeProjected.get({ device: deviceId, msg: msgId }) as { seq: number | null } | undefined;
    return row === undefined ? undefined : row.seq;
  }

  getDevice(deviceId: string): DeviceRecord | null {
    const r = this.s.device.get(deviceId) as DeviceRow | undefined;
    return r ? toDevice(r) : null;
  }

  listDevices(): DeviceRecord[] {
    return (this.s.devices.all() as DeviceRow[]).map(toDevice);
  }

  listStations(): StationRecord[] {
    return (this.s.stations.all() as Array<{ station_id: string; station: string; created_at: number }>).map((r) => ({
      stationId: r.station_id,
      settings: JSON.parse(r.station) as StationSettings,
      createdAt: r.created_at,
    }));
  }

  getSupervisor(name: string): SupervisorRecord | null {
    const r = this.s.supervisor.get(name) as SupervisorRow | undefined;
    return r ? { name: r.name, secretHash: r.secret_hash, createdAt: r.created_at, rotatedAt: r.rotated_at } : null;
  }

  listSupervisors(): SupervisorSummary[] {
    return (this.s.supervisors.all() as Omit<SupervisorRow, 'secret_hash'>[]).map((r) => ({
      name: r.name,
      createdAt: r.created_at,
      rotatedAt: r.rotated_at,
    }));
  }

  printJobsForShipment(shipmentId: string): PrintJob[] {
    return (this.s.jobsForShipment.all(shipmentId) as PrintJobRow[]).map(toPrintJob);
  }

  printExceptions(q: { limit?: number } = {}): PrintException[] {
    const limit = clampLimit(q.limit, 100, MAX_LIST_LIMIT);
    const found = new Map<string, PrintException>();
    for (const row of this.s.failedJobs.all(limit) as PrintJobRow[]) {
      const shipment = row.shipment_id === null ? null : this.getShipment(row.shipment_id);
      if (shipment !== null) found.set(shipment.shipmentId, { shipment, job: toPrintJob(row) });
    }
    // Rows tagged PKL_PRINT_FAILED always come with a failed job in the same unit; this only
    // catches a tag whose job row is gone, so the list never hides a tagged shipment.
    for (const r of this.s.printFailedShipments.all() as ShipmentRow[]) {
      if (found.has(r.shipment_id)) continue;
      const jobs = this.printJobsForShipment(r.shipment_id);
      const job = jobs.filter((j) => j.state === 'failed').at(-1) ?? jobs.find((j) => j.jobId === r.label_job_id) ?? null;
      found.set(r.shipment_id, { shipment: toShipment(r), job });
    }
    const at = (e: PrintException) => e.job?.updatedAt ?? e.shipment.updatedAt;
    return [...found.values()].sort((a, b) => at(b) - at(a)).slice(0, limit);
  }

  eventsForSubject(subject: string, limit: number): EventRecord[] {
    return (this.s.subjectEvents.all({ subject, limit: clampLimit(limit, 100, MAX_EVENTS_LIMIT) }) as EventRow[]).map(toEvent);
  }

  lastEvent(subject: string, type: string): EventRecord | null {
    const r = this.s.lastEvent.get({ subject, type }) as EventRow | undefined;
    return r ? toEvent(r) : null;
  }

  readEvents(afterSeq: number, limit: number): EventRecord[] {
    const after = Number.isFinite(afterSeq) ? Math.max(Math.floor(afterSeq), 0) : 0;
    return (this.s.events.all(after, clampLimit(limit, 100, MAX_EVENTS_LIMIT)) as EventRow[]).map(toEvent);
  }

  readEventRows(afterSeq: number, limit: number): RawEventRow[] {
    const after = Number.isFinite(afterSeq) ? Math.max(Math.floor(afterSeq), 0) : 0;
    return this.s.events.all(after, clampLimit(limit, 100, MAX_EVENTS_LIMIT)) as RawEventRow[];
  }

  syncFailures(q: { state?: SyncFailureState | 'open'; limit?: number } = {}): SyncFailure[] {
    const limit = clampLimit(q.limit, 100, MAX_LIST_LIMIT);
    const state = q.state ?? 'open';
    const rows = state === 'open' ? this.s.syncFailuresOpen.all(limit) : this.s.syncFailuresByState.all(state, limit);
    return (rows as SyncFailureRow[]).map(toSyncFailure);
  }

  eventRowsOfTypes(types: readonly string[], afterSeq: number, limit: number, scan: number): { rows: RawEventRow[]; scannedTo: number } {
    const after = Number.isFinite(afterSeq) ? Math.max(Math.floor(afterSeq), 0) : 0;
    const window = clampLimit(scan, 1000, 100_000);
    const sql = `SELECT * FROM (SELECT ${EVENT_COLUMNS} FROM events WHERE seq > ? ORDER BY seq LIMIT ?)
                 WHERE type IN (${types.map(() => '?').join(',')}) ORDER BY seq LIMIT ?`;
    let stmt = this.listStatements.get(sql);
    if (stmt === undefined) {
      stmt = this.db.prepare(sql);
      this.listStatements.set(sql, stmt);
    }
    const cap = clampLimit(limit, 100, MAX_EVENTS_LIMIT);
    const rows = stmt.all(after, window, ...types, cap) as RawEventRow[];
    // When the page filled up before the window ended, the cursor stops at the last row sent.
    const lastInWindow = (this.s.lastInWindow.get(after, window) as number | undefined) ?? after;
    const scannedTo = rows.length === cap ? rows[rows.length - 1]!.seq : lastInWindow;
    return { rows, scannedTo };
  }

  /**
   * Orders with no shipment yet, not flagged shipped, earliest ship-by first (nulls last): what
   * picking builds waves from. A scan of the order cache; picking calls it per build, not per scan.
   */
  ordersAwaitingPick(limit: number): Order[] {
    const sql = `SELECT * FROM orders o WHERE o.shipped = 0
                   AND NOT EXISTS (SELECT 1 FROM shipments s WHERE s.order_id = o.order_id)
                 ORDER BY o.ship_by IS NULL, o.ship_by, o.order_id LIMIT ?`;
    let stmt = this.listStatements.get(sql);
    if (stmt === undefined) {
      stmt = this.db.prepare(sql);
      this.listStatements.set(sql, stmt);
    }
    const rows = stmt.all(Math.max(1, Math.min(Math.floor(limit), 100_000))) as OrderRow[];
    return rows.map((r) => toOrder(r, this.s.orderBarcodes.all(r.order_id) as string[]));
  }

  shippedButIntercepted(limit: number): Array<{ shipment: Shipment; order: Order }> {
    const rows = this.s.shippedIntercepted.all(clampLimit(limit, 100, MAX_LIST_LIMIT)) as ShipmentRow[];
    return rows.flatMap((r) => {
      const order = this.getOrder(r.order_id);
      return order === null ? [] : [{ shipment: toShipment(r), order }];
    });
  }

  openSyncFailureCount(): number {
    return this.s.syncFailuresOpenCount.get() as number;
  }

  waybillCoverage(): { open: number; withWaybill: number } {
    return this.s.waybillCoverage.get() as { open: number; withWaybill: number };
  }

  getSyncFailure(seq: number): SyncFailure | null {
    const r = this.s.syncFailure.get(seq) as SyncFailureRow | undefined;
    return r ? toSyncFailure(r) : null;
  }

  /**
   * Orders that could still be packed (batch building, gateway/src/batches/): no interception
   * flag set and no shipment other than abandoned ones; earliest ship-by first, at most `limit`.
   */
  pendingOrders(limit: number): Order[] {
    const sql = `SELECT * FROM orders o
                 WHERE refund_requested = 0 AND refunded = 0 AND cancelled = 0 AND platform_closed = 0 AND shipped = 0
                   AND NOT EXISTS (SELECT 1 FROM shipments s WHERE s.order_id = o.order_id AND s.state != 'abandoned')
                 ORDER BY ship_by IS NULL, ship_by, order_id LIMIT ?`;
    let stmt = this.listStatements.get(sql);
    if (stmt === undefined) {
      stmt = this.db.prepare(sql);
      this.listStatements.set(sql, stmt);
    }
    const rows = stmt.all(clampLimit(limit, 1000, 100_000)) as OrderRow[];
    return rows.map((r) => toOrder(r, this.s.orderBarcodes.all(r.order_id) as string[]));
  }

  getMeta(key: string): string | null {
    return (this.s.meta.get(key) as string | undefined) ?? null;
  }

  lastSeq(): number {
    return (this.s.lastSeq.get() as number | undefined) ?? 0;
  }

  dbBytes(): number {
    const pages = this.db.pragma('page_count', { simple: true }) as number;
    const size = this.db.pragma('page_size', { simple: true }) as number;
    return pages * size;
  }
}
