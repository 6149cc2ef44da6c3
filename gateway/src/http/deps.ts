/**
 * What the HTTP API needs from the rest of the gateway. Interfaces only: the composition
 * root hands in the real station runtime, store and metrics; tests hand in small real
 * implementations. The HTTP layer never reaches past these.
 */
import type { LoginGuard } from '../broker/auth-guard.js';
import type { StationProvisioningService } from '../provisioning/provisioning-service.js';
import type { BatchService } from '../batches/batch-service.js';
import type { Config } from '../config/schema.js';
import type { Logger } from '../lib/logger.js';
import type { Metrics } from '../metrics.js';
import type { Order, Store, SyncFailure } from '../storage/types.js';
import type { SyncStatus } from '../sync/sync-service.js';

export type {
  ManualScanResult,
  ReprintResult,
  ShipUnlabelledResult,
  StationDeviceStatus,
  StationService,
  StationSummary,
} from '../station/ports.js';
import type { StationService } from '../station/ports.js';

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

export type { PrinterFacade, PrinterSummary } from '../printing/printers.js';
import type { PrinterFacade } from '../printing/printers.js';

export type { ApiTokens } from '../runtime/api-tokens.js';
import type { ApiTokens } from '../runtime/api-tokens.js';

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
  /** Login-flood guard for API tokens and supervisor passwords; the app makes one when absent. */
  loginGuard?: LoginGuard;
  /** Stations provisioned at run time; absent, their routes answer PKL_NOT_FOUND. */
  provisioning?: StationProvisioningService;
  /** Batches, post-print and pre-pack jobs (gateway/src/batches/); absent, their routes are not served. */
  batches?: BatchService;
}
