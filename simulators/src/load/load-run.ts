/**
 * The core load generator behind `npm run bench -- core`: N simulated packing stations on
 * real MQTT connections (each with its own scanner, scale and printer credentials) drive
 * complete shipments through the gateway and measure scan-to-print latency: from the stable
 * weight publish to the print command arriving at the station's printer.
 *
 * Two modes:
 * - `rate`: open loop at a fixed total rate. Shipment k is due (its weight published) at
 *   t0 + k / rate, round-robin over the stations. A station still busy with an earlier parcel
 *   weighs late, and the delay counts: `fromIntendedMs` runs from the due time, so a slow
 *   gateway cannot hide behind fewer requests (no coordinated omission).
 * - `max`: closed loop; every station packs back to back as fast as the gateway answers.
 *
 * Orders must exist first: either M generated clean orders (waybilled, not intercepted, with
 * items) imported through the HTTP API, or a prepared order list (imported unless told not to).
 */
import { CLEAN_SHARES, OrderGenerator } from '../orders/order-generator.js';
import type { WireOrder } from '../orders/wire-order.js';
import { isShippable } from '../orders/wire-order.js';
import { GatewayApi } from '../cloud/gateway-api.js';
import { StationSim, type ShipmentResult, type VerifyItems } from '../devices/station-sim.js';
import { type CredentialsInput, stationsFromCredentials, toCredentialBook } from '../lib/credentials.js';
import { type SimLogger, silentLogger } from '../lib/logger.js';
import { Counter, LatencyRecorder, type LatencySummary } from '../lib/stats.js';
import { nowMs, sleep } from '../lib/time.js';
import { PacklineError } from '../../../contracts/errors.js';

export type LoadMode = { kind: 'rate'; perSecond: number } | { kind: 'max' };

export interface LoadOptions {
  mqttUrl: string;
  credentials: CredentialsInput;
  mode: LoadMode;
  /** Stations to use (the first N, by id, that have scanner + scale + printer); default all. */
  stations?: number;
  /** Stop after this many shipments… */
  count?: number;
  /** …or after this long (seconds), whichever comes first. */
  durationSeconds?: number;
  /** Needed to import orders. */
  httpUrl?: string;
  adminToken?: string;
  /** Prepared orders; default: generate clean ones. */
  orders?: readonly WireOrder[];
  /** How many orders to generate (default: enough for count / rate × duration). */
  generateOrders?: number;
  /** Orders are already on the gateway: do not import. */
  skipImport?: boolean;
  /** Must match the stations' gateway config; `never` skips item scans. */
  verifyItems?: VerifyItems;
  seed?: number;
  labelsDir?: string;
  replyTimeoutMs?: number;
  printTimeoutMs?: number;
  logger?: SimLogger;
}

export interface LoadSummary {
  mode: 'rate' | 'max';
  target_rate: number | null;
  stations: number;
  verify_items: VerifyItems;
  orders_imported: number;
  import_seconds: number;
  duration_seconds: number;
  shipments: { attempted: number; completed: number; failed: number };
  /** Completed shipments per second over the measured run. */
  rate_achieved: number;
  /** Stable weight published → print command received at the printer. */
  latency_ms: LatencySummary;
  /** Rate mode: due time of the weight → print command received (coordinated-omission safe). */
  latency_from_intended_ms: LatencySummary | null;
  outcomes: Record<string, number>;
  errors: Record<string, number>;
}

/** Default order count when neither count nor rate × duration says. */
const DEFAULT_MAX_ORDERS = 5000;

function invalid(reason: string): PacklineError {
  return new PacklineError('PKL_CONFIG_INVALID', { reason });
}

export async function runLoad(opts: LoadOptions): Promise<LoadSummary> {
  const log = opts.logger ?? silentLogger;
  const verify = opts.verifyItems ?? 'always';
  if (opts.mode.kind === 'rate' && !(opts.mode.perSecond > 0)) throw invalid('rate must be > 0');
  if (opts.count === undefined && opts.durationSeconds === undefined) throw invalid('give a count or a duration');
  const book = toCredentialBook(opts.credentials);
  const all = stationsFromCredentials(book);
  const want = opts.stations ?? all.length;
  if (want < 1 || all.length < want) {
    throw invalid(`need ${want} station(s) with scanner, scale and printer in the credentials, found ${all.length}`);
  }
  const plans = all.slice(0, want);

  // ---- orders ----------------------------------------------------------------------------
  const planned =
    opts.count ??
    (opts.mode.kind === 'rate' ? Math.ceil(opts.mode.perSecond * (opts.durationSeconds ?? 0)) : DEFAULT_MAX_ORDERS);
  let orders: WireOrder[];
  if (opts.orders) {
    orders = opts.orders.filter(isShippable);
    if (orders.length < opts.orders.length) log.warn({ dropped: opts.orders.length - orders.length }, 'load: unshippable orders dropped');
  } else {
    const gen = new OrderGenerator({
      seed: opts.seed ?? 1,
      shares: CLEAN_SHARES,
      idPrefix: `L${Math.floor(Date.now() / 1000).toString(36).toUpperCase()}`,
    });
    orders = gen.batch(opts.generateOrders ?? planned);
  }
  let importSeconds = 0;
  if (!opts.skipImport) {
    if (!opts.httpUrl || !opts.adminToken) throw invalid('importing orders needs httpUrl and adminToken');
    const t = nowMs();
    await new GatewayApi({ httpUrl: opts.httpUrl, adminToken: opts.adminToken }).importOrders(orders);
    importSeconds = (nowMs() - t) / 1000;
    log.info({ orders: orders.length, seconds: importSeconds }, 'load: orders imported');
  }
  const total = Math.min(planned, orders.length);
  if (total < planned) log.warn({ planned, orders: orders.length }, 'load: fewer orders than planned shipments');

  // ---- stations --------------------------------------------------------------------------
  const stations = plans.map(
    (p, i) =>
      new StationSim({
        stationId: p.stationId,
        mqttUrl: opts.mqttUrl,
        scanner: { deviceId: p.scanner.deviceId, secret: p.scanner.secret },
        scale: { deviceId: p.scale.deviceId, secret: p.scale.secret },
        printer: { deviceId: p.printer.deviceId, secret: p.printer.secret },
        verifyItems: verify,
        seed: (opts.seed ?? 1) * 1000 + i,
        // Straight to a stable reading: the measured path is the gateway's, not a swinging platform.
        scaleSettleReadings: 0,
        scaleFaults: { noiseGrams: 1 },
        replyTimeoutMs: opts.replyTimeoutMs ?? 30_000,
        printTimeoutMs: opts.printTimeoutMs ?? 30_000,
        ...(opts.labelsDir ? { labelsDir: opts.labelsDir } : {}),
        logger: log,
      }),
  );
  try {
    await Promise.all(stations.map((s) => s.start()));
  } catch (err) {
    await Promise.allSettled(stations.map((s) => s.stop()));
    throw err;
  }

  // ---- run -------------------------------------------------------------------------------
  const latency = new LatencyRecorder();
  const fromIntended = new LatencyRecorder();
  const outcomes = new Counter();
  const errors = new Counter();
  let attempted = 0;
  let completed = 0;
  const record = (r: ShipmentResult) => {
    outcomes.add(r.outcome);
    if (r.code) errors.add(r.code);
    if (r.outcome === 'printed') completed++;
    if (r.latencyMs !== null) latency.record(r.latencyMs);
    if (r.fromIntendedMs !== null) fromIntended.record(r.fromIntendedMs);
  };

  const t0 = nowMs();
  const deadline = opts.durationSeconds !== undefined ? t0 + opts.durationSeconds * 1000 : Infinity;
  let next = 0;
  const takeOrder = (): { order: WireOrder; k: number } | undefined => {
    if (next >= total || nowMs() >= deadline) return undefined;
    const k = next++;
    return { order: orders[k] as WireOrder, k };
  };

  if (opts.mode.kind === 'rate') {
    const periodMs = 1000 / opts.mode.perSecond;
    // Shipment k is due at start + k·period on station k mod N (round-robin).
    const startAt = t0 + 200; // lets the first stations scan before their first due time
    const n = stations.length;
    await Promise.all(
      stations.map(async (st, i) => {
        for (let k = i; k < total; k += n) {
          const due = startAt + k * periodMs;
          if (due >= deadline) break;
          attempted++;
          record(await st.pack(orders[k] as WireOrder, { weighAt: due }));
        }
      }),
    );
  } else {
    await Promise.all(
      stations.map(async (st) => {
        for (let job = takeOrder(); job; job = takeOrder()) {
          attempted++;
          record(await st.pack(job.order));
        }
      }),
    );
  }
  const durationSeconds = (nowMs() - t0) / 1000;
  await Promise.allSettled(stations.map((s) => s.stop()));
  // Let in-flight QoS 1 state settle before the process exits.
  await sleep(50);

  return {
    mode: opts.mode.kind,
    target_rate: opts.mode.kind === 'rate' ? opts.mode.perSecond : null,
    stations: stations.length,
    verify_items: verify,
    orders_imported: opts.skipImport ? 0 : orders.length,
    import_seconds: Math.round(importSeconds * 1000) / 1000,
    duration_seconds: Math.round(durationSeconds * 1000) / 1000,
    shipments: { attempted, completed, failed: attempted - completed },
    rate_achieved: durationSeconds > 0 ? Math.round((completed / durationSeconds) * 100) / 100 : 0,
    latency_ms: latency.summary(),
    latency_from_intended_ms: opts.mode.kind === 'rate' ? fromIntended.summary() : null,
    outcomes: outcomes.toJSON(),
    errors: errors.toJSON(),
  };
}
