/**
 * Builds the HTTP app with real parts for `app.inject()` tests: a store, the store-backed
 * order import, metrics with their own registry, a small store-backed station service
 * (the production one is the station runtime) and a logger whose lines the test can read.
 */
import type { FastifyInstance } from 'fastify';
import { BatchService } from '../../src/batches/batch-service.js';
import { parseConfig } from '../../src/config/load.js';
import { SyncService } from '../../src/sync/sync-service.js';
import type { LoginGuard } from '../../src/broker/auth-guard.js';
import { buildHttpApp } from '../../src/http/app.js';
import type { HttpDeps, Readiness, StationService } from '../../src/http/deps.js';
import { createStoreOrderService } from '../../src/http/order-import.js';
import { createLogger } from '../../src/lib/logger.js';
import { Metrics } from '../../src/metrics.js';
import type { Store } from '../../src/storage/types.js';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openStore } from '../../src/storage/sqlite-store.js';
import { StoreStationService } from './station-service.js';

export const ADMIN_TOKEN = 'adm-0123456789abcdef-test';
export const STATION_TOKEN = 'stn-0123456789abcdef-test';
export const asAdmin = { authorization: `Bearer ${ADMIN_TOKEN}` };
export const asStation = { authorization: `Bearer ${STATION_TOKEN}` };

export const TEST_STATIONS = [
  { id: 'st-1', scanner: 'scan-1', scale: 'scale-1', printer: 'prn-1', display: 'disp-1' },
  { id: 'st-2', scanner: 'scan-2', scale: 'scale-2', printer: 'prn-2' },
];

export interface HttpHarness {
  app: FastifyInstance;
  store: Store;
  metrics: Metrics;
  stations: StationService;
  /** Set to change what /readyz reports. */
  readiness: Readiness;
  /** Every log line written while the app ran (JSON strings). */
  logs: string[];
  close(): Promise<void>;
}

export interface HarnessOptions {
  /** Replaces station service methods (e.g. to make one throw). */
  stations?: Partial<StationService>;
  /** A store to use instead of a fresh SQLite store; started here, stopped by close(). */
  store?: Store;
  /** storage.minFreeMb of the fresh store: a huge value makes the disk count as low. */
  minFreeMb?: number;
  /** A login-flood guard with the test's settings (default: the app's own). */
  loginGuard?: LoginGuard;
  /** Serve the batch routes with a batch service on the harness's store (gateway/src/batches/). */
  batches?: boolean;
  /** Raw config merged over `{ gatewayId: 'gw-test' }`. */
  config?: Record<string, unknown>;
  /** An api-tokens.json whose issued tokens and revocations the app reads live. */
  tokensFile?: string;
}

export async function makeHttpHarness(options: HarnessOptions = {}): Promise<HttpHarness> {
  const logs: string[] = [];
  const logger = createLogger('debug', { write: (line: string) => void logs.push(line) });
  // The real SQLite store on a throwaway directory: the API is tested on the parts it runs on.
  const dir = options.store ? null : mkdtempSync(join(tmpdir(), 'pkl-http-'));
  const store = options.store ?? openStore({ dataDir: dir as string, logger: logger.child({ component: 'store' }), minFreeMb: options.minFreeMb ?? 0 });
  await store.start();
  const metrics = new Metrics({ logger, defaultMetrics: true });
  const offline = new Set(['prn-2']);
  const base = new StoreStationService(store, TEST_STATIONS, (id) => !offline.has(id));
  const stations: StationService = {
    list: options.stations?.list ?? (() => base.list()),
    view: options.stations?.view ?? ((id) => base.view(id)),
    manualScan: options.stations?.manualScan ?? ((id, code, op) => base.manualScan(id, code, op)),
    override: options.stations?.override ?? ((id, sup, note) => base.override(id, sup, note)),
    reprint: options.stations?.reprint ?? ((shipmentId, request) => base.reprint(shipmentId, request)),
    shipUnlabelled: options.stations?.shipUnlabelled ?? ((shipmentId, request) => base.shipUnlabelled(shipmentId, request)),
  };
  const harness: Omit<HttpHarness, 'app' | 'close'> = {
    store,
    metrics,
    stations,
    readiness: { ready: true, checks: { store: { ok: true }, broker: { ok: true } } },
    logs,
  };
  const config = parseConfig({ gatewayId: 'gw-test', ...options.config });
  const deps: HttpDeps = {
    config,
    store,
    stations,
    orders: createStoreOrderService(store),
    sync: new SyncService({ config, store, link: null, logger }),
    metrics,
    health: { ready: () => harness.readiness },
    tokens: { admin: ADMIN_TOKEN, station: STATION_TOKEN, ...(options.tokensFile !== undefined && { file: options.tokensFile }) },
    logger,
    version: '0.0.0-test',
    ...(options.loginGuard && { loginGuard: options.loginGuard }),
  };
  if (options.batches) {
    let n = 0;
    const batches = new BatchService({
      store,
      logger,
      newId: (prefix) => `${prefix}-test-${++n}`,
      now: () => Date.now(),
      stationExists: (id) => TEST_STATIONS.some((s) => s.id === id),
    });
    await batches.start();
    deps.batches = batches;
  }
  const app = await buildHttpApp(deps);
  return Object.assign(harness, {
    app,
    async close() {
      await app.close();
      await store.stop();
      if (dir !== null) rmSync(dir, { recursive: true, force: true });
    },
  });
}

/** A minimal valid order on the wire. */
export function wireOrder(id: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    order_id: id,
    shop: 'tmall-1',
    barcodes: [`PK${id}`],
    lines: [
      { sku: 'SKU-A', barcode: `690${id}1`, name: 'Tea cup', qty: 2, unit_grams: 150 },
      { sku: 'SKU-B', barcode: `690${id}2`, name: 'Saucer', qty: 1, unit_grams: 90.5 },
    ],
    packaging_grams: 40,
    carrier: 'ZTO',
    waybill: `ZT${id}`,
    print_data: { receiver_name: '张三', receiver_phone: '138****0000', receiver_address: '浙江省杭州市…', sort_code: '杭州 A01' },
    ship_by: 1_760_000_000_000,
    revision: 1,
    ...extra,
  };
}
