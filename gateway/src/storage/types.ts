/**
 * The durable store's domain rows and its interface.
 *
 * Reads are synchronous, on the main thread, from a read-only SQLite connection (WAL readers
 * never fsync). Writes are asynchronous: they go to one writer (a worker thread) that groups
 * concurrent units into one transaction (group commit), commits with `synchronous=FULL` and
 * only then resolves. So "acknowledged" always means "on disk", and the event loop never
 * waits on an fsync.
 */

export interface OrderLine {
  sku: string;
  /** Item barcode scanned at verification (EAN/UPC or the merchant's own). */
  barcode: string;
  name: string;
  qty: number;
  unitGrams: number;
}

export interface OrderFlags {
  refundRequested: boolean;
  refunded: boolean;
  cancelled: boolean;
  platformClosed: boolean;
  /** Shipped elsewhere (another warehouse or a previous gateway shipment). */
  shipped: boolean;
}

/** What the label needs besides the waybill (from the carrier's e-waybill response). */
export interface PrintData {
  receiverName: string;
  receiverPhone: string;
  receiverAddress: string;
  senderName?: string;
  routingCode?: string;
  /** Big-character sort code printed on Chinese e-waybills (大头笔). */
  sortCode?: string;
}

export interface Order {
  orderId: string;
  shop: string;
  /** Extra barcodes that identify the order: platform order no., pick-slip no., waybill no. */
  barcodes: string[];
  lines: OrderLine[];
  /** Packaging (box, filler) weight in grams; null means use the configured default. */
  packagingGrams: number | null;
  flags: OrderFlags;
  carrier: string | null;
  waybill: string | null;
  printData: PrintData | null;
  /** Ship-by deadline, epoch ms. */
  shipBy: number | null;
  /** Monotonic revision from the cloud; an older revision never overwrites a newer one. */
  revision: number;
  updatedAt: number;
}

export const SHIPMENT_STATES = [
  'verifying',
  'weighing',
  'held',
  'intercepted',
  'labelling',
  'printed',
  'shipped',
  'abandoned',
] as const;
export type ShipmentState = (typeof SHIPMENT_STATES)[number];
/** States a shipment never leaves; every other state is "open" (see Store.openShipments). */
export const FINAL_SHIPMENT_STATES: readonly ShipmentState[] = ['shipped', 'abandoned'];

export interface Shipment {
  shipmentId: string;
  orderId: string;
  /** Station or line id. */
  stationId: string;
  state: ShipmentState;
  /** Stable error code of the current hold or intercept, or null. */
  reasonCode: string | null;
  /** item barcode → scanned count. */
  scanned: Record<string, number>;
  expectedGrams: number | null;
  actualGrams: number | null;
  carrier: string | null;
  waybill: string | null;
  labelJobId: string | null;
  operator: string | null;
  openedAt: number;
  updatedAt: number;
  shippedAt: number | null;
}

export type PrintJobState = 'queued' | 'sent' | 'printing' | 'printed' | 'failed' | 'cancelled';

export interface PrintJob {
  jobId: string;
  shipmentId: string | null;
  printerId: string;
  format: 'zpl' | 'tspl';
  data: string;
  state: PrintJobState;
  reason: string | null;
  createdAt: number;
  updatedAt: number;
}

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

/** One entry of the append-only event log that cloud sync drains. */
export interface EventRecord {
  /** Gap-free per gateway, assigned at commit. */
  seq: number;
  /** Hybrid logical clock `wallMs.counter` encoded sortable (see hlc.ts). */
  hlc: string;
  /** Boot counter at the time of writing (the Pi has no RTC). */
  boot: number;
  /** True when the wall clock was not known to be synchronised when recorded. */
  clockUnsynced: boolean;
  type: string;
  /** The entity the event is about, e.g. `shipment:S-…`, `order:O-…`, `device:scale-1`. */
  subject: string;
  data: unknown;
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
  | { op: 'shipment.put'; shipment: Shipment }
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
  | { op: 'printjob.put'; job: PrintJob }
  | { op: 'event'; type: string; subject: string; data: unknown }
  /** Records a device message id so a redelivery is applied once (also after a restart). */
  | { op: 'dedupe'; deviceId: string; msgId: string }
  | { op: 'device.put'; device: DeviceRecord }
  | { op: 'device.delete'; deviceId: string }
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
  getDevice(deviceId: string): DeviceRecord | null;
  listDevices(): DeviceRecord[];
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
  stats(): StoreStats;
  /**
   * True when the data directory's filesystem had less than `storage.minFreeMb` free at the
   * last periodic check: refuse new work (PKL_DISK_FULL) but let open shipments finish.
   */
  diskLow(): boolean;
}
