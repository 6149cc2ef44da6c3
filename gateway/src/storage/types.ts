/**
 * The durable store's interface (its domain rows live in station/domain.ts).
 *
 * Reads are synchronous, on the main thread, from a read-only SQLite connection (WAL readers
 * never fsync). Writes are asynchronous: they go to one writer (a worker thread) that groups
 * concurrent units into one transaction (group commit), commits with `synchronous=FULL` and
 * only then resolves. So "acknowledged" always means "on disk", and the event loop never
 * waits on an fsync.
 */
import type { EventRecord, Order, OrderFlags, PrintJob, Shipment, ShipmentState, StationWrite } from '../station/domain.js';

export {
  FINAL_SHIPMENT_STATES,
  SHIPMENT_STATES,
  type EventRecord,
  type Order,
  type OrderFlags,
  type OrderLine,
  type PrintData,
  type PrintJob,
  type PrintJobState,
  type Shipment,
  type ShipmentState,
  type StationWrite,
} from '../station/domain.js';

export interface DeviceRecord {
  deviceId: string;
  role: string;
  station: string | null;
  model: string | null;
  /** `scrypt$N$r$p$salt$hash` (base64 parts); never logged, never returned by the API. */
  secretHash: string;
  createdAt: number;
  rotatedAt: number;
}

/** A supervisor who may authorise guarded actions (reprints) with a password. */
export interface SupervisorRecord {
  name: string;
  /** `scrypt$N$r$p$salt$hash` like device secrets; never logged, never returned by the API. */
  secretHash: string;
  createdAt: number;
  rotatedAt: number;
}

/** A supervisor as listed: everything but the password hash. */
export type SupervisorSummary = Omit<SupervisorRecord, 'secretHash'>;

/**
 * A shipment whose label failed ("print exception"): its row says PKL_PRINT_FAILED, or its
 * latest failed job has no printed job after it. `job` is that failed job (printer and cause
 * in `printerId` / `reason`), or the shipment's label job when no failed row is left.
 */
export interface PrintException {
  shipment: Shipment;
  job: PrintJob | null;
}

export type SyncFailureState = 'failed' | 'retry_requested' | 'resolved';

/** An event the cloud stored as rejected ("sync failed" tag), see cloud-sync. */
export interface SyncFailure {
  seq: number;
  /** The cloud's reason code. */
  code: string;
  reason: string;
  state: SyncFailureState;
  /** Times the cloud rejected it (first delivery and each retry). */
  attempts: number;
  firstFailedAt: number;
  lastFailedAt: number;
  resolvedAt: number | null;
}

/** An event row as stored, `data` still JSON text (the outbox copies it to the wire as is). */
export interface RawEventRow {
  seq: number;
  hlc: string;
  boot: number;
  clock_unsynced: number;
  type: string;
  subject: string;
  data: string;
}

/** One write operation; a unit of several is applied atomically. */
export type WriteOp =
  | StationWrite
  | { op: 'order.put'; order: Order }
  | { op: 'order.flags'; orderId: string; flags: Partial<OrderFlags>; revision?: number }
  /**
   * A status change (or an accepted owner cancel) for an order that may not be cached yet.
   * Cached: applied like `order.flags`. Not cached: kept durably (meta `held.order.{id}`) and
   * applied inside the `order.put` that brings the order, so a cancel that arrived first still
   * stops every checkpoint. `sticky` flags (an accepted owner cancel) apply whatever the
   * arriving order's revision; the others only when newer than it (the revision rule).
   */
  | { op: 'order.hold'; orderId: string; flags: Partial<OrderFlags>; revision: number | null; sticky: boolean; at: number }
  /** Forgets held changes whose latest one is older than `before` (their order never came). */
  | { op: 'order.hold_prune'; before: number }
  | { op: 'device.put'; device: DeviceRecord }
  | { op: 'device.delete'; deviceId: string }
  | { op: 'station.put'; station: StationRecord }
  | { op: 'station.delete'; stationId: string }
  /** Adds or replaces a supervisor (password set or changed). */
  | { op: 'supervisor.put'; supervisor: SupervisorRecord }
  /** Removes a supervisor; PKL_NOT_FOUND if there is none. */
  | { op: 'supervisor.delete'; name: string }
  | { op: 'meta.put'; key: string; value: string }
  /** The cloud rejected event `seq` (again): tag it failed, count the attempt. */
  | { op: 'syncfail.put'; seq: number; code: string; reason: string; at: number }
  /** A supervisor asked for a retry, or the cloud accepted the event on retry. */
  | { op: 'syncfail.state'; seq: number; state: SyncFailureState; at: number };

export interface WriteResult {
  /** Sequence numbers of the unit's `event` ops, in op order. */
  seqs: number[];
  /**
   * Indexes (into the unit's ops) of `order.put` / `order.flags` ops skipped because the
   * stored order has a higher revision. Absent when none were skipped.
   */
  stale?: number[];
}

export interface ShipmentQuery {
  stationId?: string;
  state?: ShipmentState;
  orderId?: string;
  limit?: number;
  /** Only shipments with `updatedAt` before this (paging, newest first). */
  before?: number;
}

export interface StoreStats {
  lastSeq: number;
  boot: number;
  commits: number;
  unitsWritten: number;
  pendingUnits: number;
  dbBytes: number;
  walBytes: number;
  /** Free space on the data directory's filesystem at the last check (MB), if checked yet. */
  diskFreeMb?: number;
}

export interface Store {
  readonly boot: number;
  start(): Promise<void>;
  stop(): Promise<void>;

  /**
   * Applies the ops atomically; resolves once the transaction is durable (fsynced). A
   * rejected unit changed nothing. Rejects with a PacklineError: PKL_STORE_OP_INVALID (a
   * malformed op, an order.flags for an uncached order, reserved `store.*` meta key),
   * PKL_DUPLICATE_MESSAGE (its `dedupe` op was already recorded), PKL_DEVICE_UNKNOWN
   * (device.delete of an unknown device), PKL_DISK_FULL, PKL_STORE_UNAVAILABLE (not
   * started, stopped, writer crashed, I/O error).
   */
  write(ops: WriteOp[]): Promise<WriteResult>;

  getOrder(orderId: string): Order | null;
  /** Finds an order by its id or any of its barcodes. */
  findOrderByBarcode(code: string): Order | null;
  getShipment(shipmentId: string): Shipment | null;
  /** Shipments not in a final state (for restoring stations after a restart). */
  openShipments(): Shipment[];
  listShipments(q: ShipmentQuery): Shipment[];
  /** The latest shipment of an order (any state), or null. */
  latestShipmentForOrder(orderId: string): Shipment | null;
  getPrintJob(jobId: string): PrintJob | null;
  /** Jobs not yet printed/failed/cancelled (re-issued after a restart). */
  pendingPrintJobs(): PrintJob[];
  hasDedupe(deviceId: string, msgId: string): boolean;
  /** The event seq an applied message produced: undefined when not applied, null when it wrote no event. */
  dedupeSeq(deviceId: string, msgId: string): number | null | undefined;
  getDevice(deviceId: string): DeviceRecord | null;
  listDevices(): DeviceRecord[];
  /** Stations added at run time (packline station add, POST /api/v1/stations). */
  listStations(): StationRecord[];
  /** A supervisor with its password hash (for verification only), or null. */
  getSupervisor(name: string): SupervisorRecord | null;
  /** Supervisors by name, without their password hashes. */
  listSupervisors(): SupervisorSummary[];
  /** A shipment's print jobs, oldest first. */
  printJobsForShipment(shipmentId: string): PrintJob[];
  /**
   * Shipments whose label failed and has not been printed since (see {@link PrintException}),
   * newest failure first, at most `limit` (default 100). Abandoned ones whose order has since
   * shipped in another shipment are left out: nothing is left to print for them.
   */
  printExceptions(q?: { limit?: number }): PrintException[];
  /** Events with seq > afterSeq, ascending, at most `limit`. */
  readEvents(afterSeq: number, limit: number): EventRecord[];
  /** Events about one subject (e.g. `shipment:S-…`), ascending by seq, at most `limit`. */
  eventsForSubject(subject: string, limit: number): EventRecord[];
  /** The newest event of this type about this subject, or null. */
  lastEvent(subject: string, type: string): EventRecord | null;
  /**
   * Like readEvents but rows as stored (data as JSON text), seq > afterSeq ascending, at
   * most `limit`: the outbox streams them to the cloud without a parse/serialise round trip.
   */
  readEventRows(afterSeq: number, limit: number): RawEventRow[];
  /** Sync failures, oldest first; `state` filters, default all but resolved. */
  syncFailures(q?: { state?: SyncFailureState | 'open'; limit?: number }): SyncFailure[];
  getSyncFailure(seq: number): SyncFailure | null;
  /**
   * Rows of the given event types with seq > afterSeq, ascending, at most `limit`, looking at
   * no more than `scan` rows of the log (the last seq looked at comes back as `scannedTo`).
   */
  eventRowsOfTypes(types: readonly string[], afterSeq: number, limit: number, scan: number): { rows: RawEventRow[]; scannedTo: number };
  /** Orders with no shipment yet and not shipped elsewhere, earliest ship-by first (picking's wave builder). */
  ordersAwaitingPick(limit: number): Order[];
  /** Printed or shipped shipments whose order now carries an interception flag (recall tasks). */
  shippedButIntercepted(limit: number): Array<{ shipment: Shipment; order: Order }>;
  /** Sync failures not resolved. */
  openSyncFailureCount(): number;
  /**
   * Open orders (no interception flag, not shipped, no shipped or printed shipment) and how
   * many of them have a pre-fetched waybill, i.e. can ship with the WAN down. The SQLite store
   * serves one count to every caller for up to 5 s (it is a full scan).
   */
  waybillCoverage(): { open: number; withWaybill: number };
  getMeta(key: string): string | null;
  /** Orders that could still be packed: no interception flag, no shipment but abandoned ones (batch building). */
  pendingOrders(limit: number): Order[];
  stats(): StoreStats;
  /**
   * True when the data directory's filesystem had less than `storage.minFreeMb` free at the
   * last periodic check: refuse new work (PKL_DISK_FULL) but let open shipments finish.
   */
  diskLow(): boolean;
}

/**
 * A station added at run time (`packline station add`, `POST /api/v1/stations`). Settings left
 * out are filled in when the station is resolved: its scanner, scale, printer and display are
 * the devices registered with `--station` for it (gateway/src/provisioning/stations.ts).
 */
export interface StationRecord {
  stationId: string;
  settings: StationSettings;
  createdAt: number;
}

export interface StationSettings {
  scanner?: string;
  scale?: string;
  printer?: string;
  display?: string;
  channel?: number;
  verifyItems?: 'always' | 'multi_item' | 'never';
  labelFormat?: 'zpl' | 'tspl';
}
