/**
 * The simulated warehouse floor behind `npm start --sim` and the benchmarks: a cloud that
 * feeds orders to the gateway, packing stations that pack them, and DWS sorter lines that
 * sort the packed parcels, every device on its own MQTT connection with its own credentials.
 */
import { PacklineError } from '../../../contracts/errors.js';
import { CloudSim, type CloudSimStats } from '../cloud/cloud-sim.js';
import { DwsLineSim } from '../devices/dws-line.js';
import { type DeviceLogin, StationSim, type StationSimStats } from '../devices/station-sim.js';
import { type CredentialBook, type CredentialsInput, findByStationRole, requireCredential, toCredentialBook } from '../lib/credentials.js';
import { type SimLogger, silentLogger } from '../lib/logger.js';
import { Prng } from '../lib/prng.js';
import { SHOPS } from '../orders/catalogue.js';
import { Counter, LatencyRecorder, type LatencySummary } from '../lib/stats.js';
import { sleep } from '../lib/time.js';
import type { WireOrder } from '../orders/wire-order.js';
import { BatchParcelSource } from './batch-parcels.js';
import { OrderPool } from './order-pool.js';
import { PickerSim, type PickerStats } from './picker.js';
import { type LineScenario, parseScenario, type Scenario, type StationScenario, type WireStationScenario } from './scenario.js';
import { wireLabelsDir, WireStationSim } from './wire-station.js';

export interface FloorOptions {
  /** mqtt://host:port or ws://host:port/mqtt */
  mqttUrl: string;
  /** http://host:port of the gateway API (the cloud sim imports orders there). */
  httpUrl: string;
  adminToken: string;
  /** Path to provisioning.json, its parsed JSON, or a credential book. */
  credentials: CredentialsInput;
  /** A Scenario or any partial scenario JSON; defaults fill the rest. */
  scenario?: unknown;
  /** Printers write `<labelsDir>/<job_id>.zpl`. */
  labelsDir: string;
  /** Orders already on the gateway to pack as well (e.g. when `scenario.cloud` is null). */
  orders?: readonly WireOrder[];
  /** How long devices and the cloud keep retrying while the gateway starts (default 30 s). */
  startRetryMs?: number;
  logger?: SimLogger;
}

export interface LineStats {
  lineId: string;
  deviceId: string;
  parcels: number;
  timedOut: number;
  chutes: Record<string, number>;
  reasons: Record<string, number>;
  divertLatencyMs: LatencySummary;
}

export interface FloorStats {
  scenario: string;
  runTag: string;
  uptimeSeconds: number;
  cloud: CloudSimStats | null;
  pool: { queued: number; handedOut: number; packedWaiting: number };
  stations: StationSimStats[];
  lines: LineStats[];
  /** Pickers with PDAs (scenario.pickers): waves, units picked, mistakes refused, orders picked. */
  pickers: PickerStats[];
  totals: {
    shipments: number;
    outcomes: Record<string, number>;
    /** Every refusal and local failure code the stations saw, including refused wrong items. */
    codes: Record<string, number>;
    scanToPrintMs: LatencySummary;
  };
}

export interface Floor {
  readonly scenario: Scenario;
  readonly runTag: string;
  readonly cloud: CloudSim | null;
  readonly stations: readonly StationSim[];
  /** Stations whose scale and printer the gateway drives over their wires (scenario.wireStations). */
  readonly wireStations: readonly WireStationSim[];
  readonly lines: readonly DwsLineSim[];
  readonly pickers: readonly PickerSim[];
  stats(): FloorStats;
  stop(): Promise<void>;
}

function login(book: CredentialBook, id: string): DeviceLogin {
  const c = requireCredential(book, id);
  return { deviceId: c.deviceId, secret: c.secret };
}

function resolveStation(book: CredentialBook, s: StationScenario) {
  const pick = (role: 'scanner' | 'scale' | 'printer', explicit: string | undefined): DeviceLogin => {
    const id = explicit ?? findByStationRole(book, s.id, role)?.deviceId;
    if (!id) {
      throw new PacklineError('PKL_CONFIG_INVALID', {
        reason: `station ${s.id}: no ${role} given and none in the credentials with station ${s.id}`,
      });
    }
    return login(book, id);
  };
  const displayId = s.display === null ? undefined : (s.display ?? findByStationRole(book, s.id, 'display')?.deviceId);
  return {
    scanner: pick('scanner', s.scanner),
    scale: pick('scale', s.scale),
    printer: pick('printer', s.printer),
    ...(displayId ? { display: login(book, displayId) } : {}),
  };
}

function resolveWireStation(book: CredentialBook, s: WireStationScenario) {
  const scannerId = s.scanner ?? findByStationRole(book, s.id, 'scanner')?.deviceId;
  if (!scannerId) {
    throw new PacklineError('PKL_CONFIG_INVALID', { reason: `wire station ${s.id}: no scanner given and none in the credentials with station ${s.id}` });
  }
  const displayId = s.display === null ? undefined : (s.display ?? findByStationRole(book, s.id, 'display')?.deviceId);
  return { scanner: login(book, scannerId), ...(displayId ? { display: login(book, displayId) } : {}) };
}

function resolveLine(book: CredentialBook, l: LineScenario): DeviceLogin {
  const id = l.device ?? findByStationRole(book, l.id, 'conveyor')?.deviceId;
  if (!id) {
    throw new PacklineError('PKL_CONFIG_INVALID', {
      reason: `line ${l.id}: no device given and no conveyor in the credentials with station ${l.id}`,
    });
  }
  return login(book, id);
}

/** Rough carton size for a parcel of `grams` (density ≈ 0.2 g/cm³, typical for e-commerce parcels). */
function dimsFor(grams: number, rng: Prng): { lengthMm: number; widthMm: number; heightMm: number } {
  const volumeCm3 = Math.max(800, grams / 0.2);
  const side = Math.cbrt(volumeCm3) * 10;
  return {
    lengthMm: Math.round(side * (1.3 + rng.next() * 0.3)),
    widthMm: Math.round(side * (0.9 + rng.next() * 0.2)),
    heightMm: Math.round(side * (0.6 + rng.next() * 0.2)),
  };
}

/** Starts the whole floor; resolves once every device is connected and the first orders are in. */
export async function startFloor(opts: FloorOptions): Promise<Floor> {
  const scenario = parseScenario(opts.scenario ?? {});
  const log = opts.logger ?? silentLogger;
  const book = toCredentialBook(opts.credentials);
  const runTag =
    scenario.runTag ??
    `R${Math.floor(Date.now() / 1000)
      .toString(36)
      .toUpperCase()}`;
  const pool = new OrderPool();
  if (opts.orders) pool.offer(opts.orders);
  const startedAt = Date.now();
  const startRetryMs = opts.startRetryMs ?? 30_000;
  const outcomes = new Counter();
  const latency = new LatencyRecorder(200_000);
  let shipments = 0;

  // Resolve every device before connecting anything: a bad scenario fails fast and whole.
  const stationPlans = scenario.stations.map((s) => ({ s, devices: resolveStation(book, s) }));
  const wirePlans = scenario.wireStations.map((s) => ({ s, devices: resolveWireStation(book, s) }));
  const linePlans = scenario.lines.map((l) => ({ l, device: resolveLine(book, l) }));

  const cloud = scenario.cloud
    ? new CloudSim({
        httpUrl: opts.httpUrl,
        adminToken: opts.adminToken,
        seed: scenario.seed,
        idPrefix: runTag,
        shares: scenario.cloud.shares,
        initialOrders: scenario.cloud.initialOrders,
        batchSize: scenario.cloud.batchSize,
        hotSkuShare: scenario.cloud.hotSkuShare,
        batchEveryMs: scenario.cloud.batchEverySeconds * 1000,
        refundFlipEveryMs: scenario.cloud.refundFlipEverySeconds * 1000,
        waybillEveryMs: scenario.cloud.waybillEverySeconds * 1000,
        startRetryMs,
        logger: log,
      })
    : null;
  // Orders of a picking shop wait for their wave (picker.ts); the rest go to the common pool.
  const pickShops = new Set(cloud === null ? [] : scenario.pickers.map((p) => p.shop));
  const waiting = new Map<string, WireOrder>();
  cloud?.on('imported', (orders: WireOrder[]) => {
    pool.offer(orders.filter((o) => !pickShops.has(o.shop)));
    for (const o of orders) if (pickShops.has(o.shop)) waiting.set(o.order_id, o);
  });
  /** Picked orders per packing station, oldest first. */
  const pickedFor = new Map<string, WireOrder[]>();
  const pickers =
    cloud === null
      ? []
      : scenario.pickers.map(
          (p, i) =>
            new PickerSim({
              mqttUrl: opts.mqttUrl,
              httpUrl: opts.httpUrl,
              adminToken: opts.adminToken,
              ...login(book, p.id),
              shop: p.shop,
              catalogue: cloud.generator.catalogue,
              waveOrders: p.waveOrders,
              waveEverySeconds: p.waveEverySeconds,
              mistakeRate: p.mistakeRate,
              shortRate: p.shortRate,
              faceUnits: p.faceUnits,
              seed: scenario.seed * 1000 + 900 + i,
              replyTimeoutMs: scenario.replyTimeoutMs,
              connectRetryMs: startRetryMs,
              logger: log,
            }),
        );

  const stations = stationPlans.map(
    ({ s, devices }, i) =>
      new StationSim({
        stationId: s.id,
        mqttUrl: opts.mqttUrl,
        ...devices,
        labelsDir: opts.labelsDir,
        verifyItems: s.verifyItems,
        orderBarcode: s.orderBarcode,
        postprint: s.postprint,
        seed: scenario.seed * 1000 + i,
        scaleSettleReadings: scenario.scaleSettleReadings,
        scaleReadingIntervalMs: scenario.scaleReadingIntervalMs,
        scaleFaults: s.scaleFaults,
        printerFaults: s.printerFaults,
        wrongItemRate: s.wrongItemRate,
        wrongWeightRate: s.wrongWeightRate,
        defaultPackagingGrams: scenario.defaultPackagingGrams,
        replyTimeoutMs: scenario.replyTimeoutMs,
        printTimeoutMs: scenario.printTimeoutMs,
        parcelEveryMs: s.parcelEverySeconds * 1000,
        connectRetryMs: startRetryMs,
        logger: log,
      }),
  );
  const wireStations = wirePlans.map(
    ({ s, devices }, i) =>
      new WireStationSim({
        stationId: s.id,
        mqttUrl: opts.mqttUrl,
        ...devices,
        scale: {
          protocol: s.scale.protocol,
          ...(s.scale.options ? { options: s.scale.options } : {}),
          ...(s.scale.line ? { line: s.scale.line } : {}),
          driverPath: s.scale.driverPath,
          devicePath: s.scale.devicePath,
        },
        printerPort: s.printer.port,
        labelsDir: wireLabelsDir(opts.labelsDir, s.id),
        verifyItems: s.verifyItems,
        seed: scenario.seed * 1000 + 500 + i,
        wrongItemRate: s.wrongItemRate,
        defaultPackagingGrams: scenario.defaultPackagingGrams,
        replyTimeoutMs: scenario.replyTimeoutMs,
        printTimeoutMs: scenario.printTimeoutMs,
        parcelEveryMs: s.parcelEverySeconds * 1000,
        connectRetryMs: startRetryMs,
        logger: log,
      }),
  );
  const lines = linePlans.map(
    ({ l, device }) =>
      new DwsLineSim({
        mqttUrl: opts.mqttUrl,
        ...device,
        divertTimeoutMs: l.divertTimeoutMs,
        defaultChute: l.defaultChute,
        connectRetryMs: startRetryMs,
        logger: log,
      }),
  );
  const lineLatency = lines.map(() => new LatencyRecorder(100_000));

  const abort = new AbortController();
  const loops: Promise<void>[] = [];
  const stopAll = async () => {
    abort.abort();
    await Promise.allSettled([
      cloud?.stop(),
      ...stations.map((s) => s.stop()),
      ...wireStations.map((s) => s.stop()),
      ...lines.map((l) => l.stop()),
      ...pickers.map((p) => p.stop()),
    ]);
    await Promise.allSettled(loops);
  };

  try {
    await Promise.all([...stations.map((s) => s.start()), ...wireStations.map((s) => s.start()), ...lines.map((l) => l.start())]);
    // The pick floor is laid out before the first orders arrive.
    await Promise.all(pickers.map((p) => p.start()));
    await cloud?.start();
  } catch (err) {
    await stopAll();
    throw err;
  }

  const postprintIds = new Set(scenario.stations.filter((s) => s.postprint).map((s) => s.id));
  const batchParcels = new Map<string, BatchParcelSource>();
  // Orders of a picking shop are picked in waves, not batched for post-print.
  const batchShops = pickShops.size === 0 ? undefined : SHOPS.filter((shop) => !pickShops.has(shop));
  for (const id of postprintIds) batchParcels.set(id, new BatchParcelSource(opts.httpUrl, opts.adminToken, id, log, batchShops));
  pickers.forEach((p, i) => {
    const packAt = scenario.pickers[i]?.packAt as string;
    p.run((orderId) => {
      const o = waiting.get(orderId);
      if (o === undefined) return;
      waiting.delete(orderId);
      const q = pickedFor.get(packAt) ?? [];
      q.push(o);
      pickedFor.set(packAt, q);
    });
  });
  for (const st of [...stations, ...wireStations]) {
    const source = batchParcels.get(st.stationId);
    st.run(
      () => (source ? source.next() : (pickedFor.get(st.stationId)?.shift() ?? pool.take())),
      (r) => {
        shipments++;
        outcomes.add(r.outcome);
        if (r.latencyMs !== null) latency.record(r.latencyMs);
        if (r.outcome === 'printed' && r.waybill && r.grams !== null) {
          pool.addPacked({ orderId: r.orderId, waybill: r.waybill, grams: r.grams });
        }
      },
    );
  }

  linePlans.forEach(({ l }, i) => {
    const line = lines[i] as DwsLineSim;
    const rng = new Prng(scenario.seed * 7919 + i);
    loops.push(
      (async () => {
        while (!abort.signal.aborted) {
          await sleep(l.parcelEverySeconds * 1000, abort.signal);
          if (abort.signal.aborted) break;
          // Parcels packed at the stations first; otherwise a pre-packed (direct shipment) order.
          const packed = pool.takePacked();
          const direct = packed || !rng.chance(l.directShipmentRate) ? undefined : pool.takeWaybilled();
          if (!packed && !direct) continue;
          const waybill = packed?.waybill ?? (direct?.waybill as string);
          const grams =
            packed?.grams ??
            (direct ? direct.lines.reduce((s, x) => s + x.qty * x.unit_grams, 0) + (direct.packaging_grams ?? scenario.defaultPackagingGrams) : 0);
          const barcode = rng.chance(l.noReadRate) ? null : waybill;
          // Inducted without awaiting the divert: parcels keep flowing while earlier ones travel.
          line
            .induct({ barcode, grams: grams + rng.gaussian(3), ...dimsFor(grams, rng) })
            .then((o) => {
              if (o.latencyMs !== null) lineLatency[i]?.record(o.latencyMs);
            })
            .catch((err: Error) => log.warn({ lineId: l.id, err: err.message }, 'line sim parcel failed'));
        }
      })(),
    );
  });

  log.info(
    { scenario: scenario.name, runTag, stations: stations.length, wireStations: wireStations.length, lines: lines.length, pickers: pickers.length },
    'simulated floor running',
  );

  return {
    scenario,
    runTag,
    cloud,
    stations,
    wireStations,
    lines,
    pickers,
    stop: stopAll,
    stats: (): FloorStats => {
      const stationStats = [...stations, ...wireStations].map((s) => s.stats());
      const codes = new Counter();
      for (const st of stationStats) for (const [k, n] of Object.entries(st.codes)) codes.add(k, n);
      return {
        scenario: scenario.name,
        runTag,
        uptimeSeconds: Math.round((Date.now() - startedAt) / 1000),
        cloud: cloud?.stats() ?? null,
        pool: pool.stats(),
        stations: stationStats,
        lines: lines.map((line, i) => {
          const st = line.stats();
          return {
            lineId: linePlans[i]?.l.id ?? line.deviceId,
            deviceId: line.deviceId,
            parcels: st.parcels,
            timedOut: st.timedOut,
            chutes: st.chutes,
            reasons: st.reasons,
            divertLatencyMs: lineLatency[i]?.summary() ?? new LatencyRecorder().summary(),
          };
        }),
        pickers: pickers.map((p) => p.stats()),
        totals: { shipments, outcomes: outcomes.toJSON(), codes: codes.toJSON(), scanToPrintMs: latency.summary() },
      };
    },
  };
}
