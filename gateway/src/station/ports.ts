/**
 * What the shipment flow needs from the rest of the gateway and what it offers, as narrow
 * ports owned by the flow (like cloud-sync/src/ports.ts). The SQLite store, the broker link
 * and the metrics registry implement them structurally; the unit tests of apply/ hand in
 * small fakes. Nothing in station/ reaches past these.
 */
import type { Result, WireError } from '../../../contracts/errors.js';
import type { EventPayloads } from '../../../contracts/payloads.js';
import type { EventKind } from '../../../contracts/topics.js';
import type { Role } from '../config/schema.js';
import type { StationView } from '../../../contracts/payloads.js';
import type { EventRecord, Order, PrintJob, Shipment, StationWrite } from './domain.js';
import type { ReprintRequest } from './decide/reprint-plan.js';
import type { ShipUnlabelledRequest } from './decide/ship-unlabelled-plan.js';
import type { PreprintLink, StationBatch, StationPresale } from './types.js';

// ---- needs ---------------------------------------------------------------------------------

/**
 * Which station or line a device serves (gateway/src/runtime/bindings.ts derives them from
 * the config).
 */
export interface DeviceBinding {
  deviceId: string;
  role: Role;
  /** `station` for scanner/scale/printer/display/pda of a station, `line` for a conveyor. */
  owner: { type: 'station' | 'line'; id: string } | null;
}

/** Fresh ids for shipments, print jobs and the like (gateway/src/runtime/ids.ts makes them). */
export interface IdSource {
  next(prefix: 'S' | 'J' | 'P' | 'B' | 'K'): string;
}

// ---- device events in (gateway/src/runtime/ingress.ts validates and hands them over) ---------

/** A validated event handed to its owner. */
export interface DeviceEvent<K extends EventKind = EventKind> {
  deviceId: string;
  binding: DeviceBinding;
  kind: K;
  payload: EventPayloads[K];
  msgId: string | undefined;
  /** Gateway receive time (ms); the core orders readings by it, not by device clocks. */
  at: number;
}

/** What the owner answers once the event's effect is durable (or refused). */
export type Outcome = Result<{ seq?: number }>;

export interface EventOwner {
  /**
   * Queues the event; `settle` is called exactly once with the outcome after any writes
   * committed. Returns false when the owner's queue is full (back-pressure).
   */
  submit(event: DeviceEvent, settle: (outcome: Outcome) => void): boolean;
}

/** The order cache and shipment rows the deciders read (synchronous WAL reads, no I/O wait). */
export interface FlowReads {
  getOrder(orderId: string): Order | null;
  /** Finds an order by its id or any of its barcodes. */
  findOrderByBarcode(code: string): Order | null;
  getShipment(shipmentId: string): Shipment | null;
  listShipments(q: { orderId?: string; limit?: number }): Shipment[];
}

/** What a restart and the supervisor actions read besides the order cache. */
export interface FlowHistory {
  /** Shipments not in a final state. */
  openShipments(): Shipment[];
  /** Jobs not yet printed/failed/cancelled. */
  pendingPrintJobs(): PrintJob[];
  /** A shipment's print jobs, oldest first. */
  printJobsForShipment(shipmentId: string): PrintJob[];
  /** Events about one subject, ascending by seq, at most `limit`. */
  eventsForSubject(subject: string, limit: number): EventRecord[];
  /** The newest event of this type about this subject, or null. */
  lastEvent(subject: string, type: string): EventRecord | null;
}

/**
 * Commits one unit atomically and resolves once it is durable (apply/commit.ts). Rejects
 * with a PacklineError: PKL_DUPLICATE_MESSAGE (its `dedupe` op was recorded before),
 * PKL_DISK_FULL, PKL_STORE_UNAVAILABLE…; a rejected unit changed nothing.
 */
export interface UnitWriter {
  write(ops: StationWrite[]): Promise<{ seqs: number[] }>;
  /** True when the data disk is nearly full: new work is refused, open work finishes. */
  diskLow(): boolean;
  stats(): { diskFreeMb?: number };
}

/** Everything the station and line runtimes use of the store. */
export type FlowStore = FlowReads & FlowHistory & UnitWriter;

/** Sends device commands and retained views (the broker link). */
export interface CommandLink {
  publish(topic: string, payload: string, opts: { qos: 0 | 1; retain?: boolean }): Promise<void>;
}

/** How a shipment's new state counts in packline_shipments_total (metrics.ts). */
/** `staged`: a presale parcel packed ahead with a staging label (station/decide/presale-stage.ts). */
export type FlowResult = 'shipped' | 'intercepted' | 'abandoned' | 'awaiting_waybill' | 'weight_rejected' | 'held' | 'print_failed' | 'staged';

export interface FlowMetrics {
  shipment(result: FlowResult): void;
  observeScanToPrint(seconds: number): void;
}

// ---- offers --------------------------------------------------------------------------------

export interface StationDeviceStatus {
  deviceId: string;
  online: boolean;
}

export interface StationSummary {
  stationId: string;
  /** The station's current flow state, e.g. `idle`, `verifying`, `weighing`, `held`. */
  state: string;
  shipmentId: string | null;
  devices: {
    scanner: StationDeviceStatus;
    scale: StationDeviceStatus;
    printer: StationDeviceStatus;
    display?: StationDeviceStatus;
  };
}

export type ManualScanResult = { ok: true; view: StationView } | { ok: false; error: WireError };

/** A reprint's job id; `duplicate` when the request id was seen before and nothing printed. */
export type ReprintResult = { ok: true; jobId: string; duplicate: boolean } | { ok: false; error: WireError };

/** `duplicate` when the request id was seen before and nothing changed. */
export type ShipUnlabelledResult = { ok: true; duplicate: boolean } | { ok: false; error: WireError };

/** The stations as the HTTP API, the station screen and the supervisor tools see them. */
export interface StationService {
  list(): StationSummary[];
  /** The station's current screen snapshot, or null for an unknown station. */
  view(stationId: string): StationView | null;
  /**
   * Feeds a code into the station exactly as if its scanner had read it (for a station
   * whose scanner failed). A refusal (wrong item, intercept, unknown station…) is a result,
   * not a throw.
   */
  manualScan(stationId: string, code: string, operator?: string): Promise<ManualScanResult>;
  /**
   * A supervisor releases the station's held shipment (weight outside tolerance), audited
   * with the supervisor's name and note. Refusals (nothing held, unknown station) are results.
   */
  override(stationId: string, supervisor: string, note?: string): Promise<ManualScanResult>;
  /**
   * Prints a shipment's label again on its station's printer (a new job id, the same waybill)
   * and audits it (`shipment.reprinted`). The caller has checked the supervisor's password.
   * The same request id again answers with the same job id and prints nothing. Refusals
   * (unknown shipment, a job still printing, a shipment that never got a label…) are results.
   */
  reprint(shipmentId: string, request: ReprintRequest): Promise<ReprintResult>;
  /**
   * Records a shipment whose label failed as shipped without a label printed here (waybill
   * written or printed elsewhere), audited as `shipment.shipped_unlabelled`. The caller has
   * checked the supervisor's password; the same request id again changes nothing.
   */
  shipUnlabelled(shipmentId: string, request: ShipUnlabelledRequest): Promise<ShipUnlabelledResult>;
}

/**
 * The batches a station may work (gateway/src/batches/batch-service.ts): post-print's view of
 * a station's batch, the station view's batch block, and every committed station unit (picks
 * and the fate of their shipments move a batch on).
 */
export interface BatchLink {
  forStation(stationId: string): StationBatch | null;
  view(stationId: string): StationView['batch'] | null;
  committed(writes: readonly StationWrite[]): void;
  /** Batch pre-print (decide/preprint.ts); absent: no batch is printed ahead. */
  preprint?: PreprintLink;
}

/**
 * Presale (gateway/src/presale/presale-service.ts): the stations' presale lookups, the station
 * view's presale block, and every committed station unit (staging and release move it on).
 */
export interface PresaleLink {
  station: StationPresale;
  view(): StationView['presale'] | null;
  committed(writes: readonly StationWrite[]): void;
}
