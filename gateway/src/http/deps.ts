/**
 * What the HTTP API needs from the rest of the gateway. Interfaces only: the composition
 * root hands in the real station runtime, store and metrics; tests hand in small real
 * implementations. The HTTP layer never reaches past these.
 */
import type { StationProvisioningService } from '../provisioning/provisioning-service.js';
import type { WireError } from '../../../contracts/errors.js';
import type { StationView } from '../../../contracts/payloads.js';
import type { Config } from '../config/schema.js';
import type { Logger } from '../lib/logger.js';
import type { Metrics } from '../metrics.js';
import type { ReprintRequest } from '../printing/reprint-plan.js';
import type { ShipUnlabelledRequest } from '../printing/ship-unlabelled-plan.js';
import type { Order, Store, SyncFailure } from '../storage/types.js';
import type { SyncStatus } from '../sync/sync-service.js';

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

export interface OrderService {
  /**
   * Upserts orders. An order whose revision is not newer than the stored one is skipped
   * (domain rule: an older revision never overwrites a newer one).
   */
  import(orders: Order[]): Promise<{ imported: number; skipped: number }>;
}

export interface ReadinessCheck {
  ok: boolean;
  detail?: string;
}

export interface Readiness {
  ready: boolean;
  checks: Record<string, ReadinessCheck>;
}

export interface HealthService {
  ready(): Readiness;
}

/** Cloud sync as the API sees it (gateway/src/sync/sync-service.ts). */
export interface SyncFacade {
  status(): SyncStatus;
  ackedSeq(): number;
  failures(q: { state?: SyncFailure['state'] | 'open'; limit?: number }): SyncFailure[];
  /** Marks failed events for resubmission; empty = all failed. Resolves with the seqs marked. */
  requestRetry(seqs: number[]): Promise<number[]>;
}

/** A configured printer (a device with role printer) as the API sees it. */
export interface PrinterSummary {
  printerId: string;
  /** The station whose printer it is, or null. */
  stationId: string | null;
  /** The language it is sent: its station's label format, else its driver definition's, else ZPL. */
  format: 'zpl' | 'tspl';
  online: boolean;
}

/** Printers as the API sees them (gateway/src/printing/printers.ts). */
export interface PrinterFacade {
  list(): PrinterSummary[];
  /**
   * Publishes a test page print job (`dev/{id}/cmd/print`, job id `T-…`) and resolves once the
   * broker took it. PKL_DEVICE_UNKNOWN: not a configured printer; PKL_PRINTER_UNAVAILABLE: offline.
   */
  testPage(printerId: string): Promise<{ jobId: string; format: 'zpl' | 'tspl' }>;
}

export interface ApiTokens {
  /** May do everything, including order import and reading the event log. */
  admin: string;
  /** Station terminals: read endpoints and manual scans. */
  station: string;
}

export interface HttpDeps {
  config: Readonly<Config>;
  store: Store;
  stations: StationService;
  orders: OrderService;
  sync: SyncFacade;
  metrics: Metrics;
  health: HealthService;
  tokens: ApiTokens;
  logger: Logger;
  /** Gateway version, reported by /healthz and the OpenAPI document. */
  version: string;
  /** Printers for the test page; absent (e.g. no broker) the test page answers PKL_PRINTER_UNAVAILABLE. */
  printers?: PrinterFacade;
  /** Stations provisioned at run time; absent, their routes answer PKL_NOT_FOUND. */
  provisioning?: StationProvisioningService;
}
