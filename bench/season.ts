/**
 * `npm run bench -- season`: a simulated 60-day season through the real store (SQLite, its
 * writer thread, group commit, the checkpointer) with retention on, and the same season with
 * retention off as the baseline, in one run. It prints the database file, its WAL and the
 * data folder (database + label files) at the end of every simulated day.
 *
 * Time is compressed with an injected clock: each simulated day the store starts with its
 * writer's clock `day × 24 h` ahead (OpenStoreOptions.wallOffsetMs, so event HLC stamps carry
 * the simulated day), rows carry simulated times, label files get simulated mtimes, and
 * retention runs with `now` = the simulated clock. The WAL is measured before each day's stop.
 *
 * Volume: a season profile (normal days, the pre-sale ramp, the Double-11 peak, returns)
 * scaled down by `--scale` from `--peak-per-day`. Each parcel writes what the station flow
 * wrote in a real `packline start --sim` run (bench/README.md "season"): the order from the
 * cloud feed, the scan, item scans, the weight with the label job, the print result, each a
 * unit with its events and device dedupe row; 1 in 10 is intercepted instead. Label files are
 * `--label-bytes` (19 KB: the simulated ZPL printer's files in that run). The cloud
 * acknowledges at the end of each day, except during a 2-day WAN outage (days 45–46): nothing
 * of those days may be pruned until the ack comes.
 */
import { mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { createLogger } from '../gateway/src/lib/logger.js';
import { RetentionService, type RetentionSettings } from '../gateway/src/storage/retention.js';
import { DB_FILE, openStore, type SqliteStore } from '../gateway/src/storage/sqlite-store.js';
import type { Order, Shipment, WriteOp } from '../gateway/src/storage/types.js';
import { META_ACKED_SEQ } from '../gateway/src/sync/sync-store-adapter.js';

const DAY = 86_400_000;

interface SeasonOptions {
  days: number;
  peakPerDay: number;
  scale: number;
  labelBytes: number;
  stations: number;
  retention: RetentionSettings;
  outage: [number, number];
}

/** Share of the peak day's volume on day `d` (1-based) of a 60-day season ending after Double 11 (day 41). */
export function seasonShare(d: number, days: number): number {
  const peakDay = Math.round((days * 41) / 60);
  if (d === peakDay) return 1;
  if (d === peakDay + 1) return 0.8;
  if (d > peakDay + 1) return 0.35;
  if (d >= peakDay - 10) return 0.5 + (0.2 * (d - (peakDay - 10))) / 10;
  return 0.3;
}

interface DayFigures {
  day: number;
  parcels: number;
  dbBytes: number;
  walBytes: number;
  dataBytes: number;
  orders: number;
  events: number;
  pruneSteps: number;
  /** Longest a step held the writer: its delete transaction, and its incremental vacuum (ms). */
  pruneMaxMs: number;
  vacuumMaxMs: number;
}

function arg(args: string[], name: string, dflt: number): number {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? Number(args[i + 1]) : dflt;
}

function folderBytes(dir: string): number {
  let total = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) total += folderBytes(p);
    else if (e.isFile()) total += statSync(p).size;
  }
  return total;
}

function fileBytes(p: string): number {
  try {
    return statSync(p).size;
  } catch {
    return 0;
  }
}

const ORDER_LINES = [
  { sku: 'SKU-10023', barcode: '6901234567892', name: '保温杯 500ml', qty: 1, unitGrams: 350 },
  { sku: 'SKU-20077', barcode: '6901234567908', name: '杯套', qty: 1, unitGrams: 40 },
];

/** The units one parcel writes, in flow order (see the file comment). */
function parcelUnits(gw: string, n: number, t: number, station: string, intercepted: boolean): WriteOp[][] {
  const orderId = `TB${String(n).padStart(10, '0')}`;
  const shipmentId = `S-${gw}-${n}`;
  const jobId = `J-${gw}-${n}`;
  const order: Order = {
    orderId,
    shop: 'shop-tmall-01',
    barcodes: [`PS${n}`],
    lines: ORDER_LINES,
    packagingGrams: 60,
    flags: { refundRequested: intercepted, refunded: false, cancelled: intercepted, platformClosed: false, shipped: false },
    carrier: 'ZTO',
    waybill: `7${String(n).padStart(12, '0')}`,
    printData: { receiverName: '张三', receiverPhone: '13812345678', receiverAddress: '浙江省杭州市余杭区文一西路 969 号 3 幢 5 楼', sortCode: '300-A1' },
    shipBy: t + DAY,
    revision: 1,
    updatedAt: t,
  };
  const sh = (over: Partial<Shipment>): Shipment => ({
    shipmentId,
    orderId,
    stationId: station,
    state: 'verifying',
    reasonCode: null,
    scanned: {},
    expectedGrams: 450,
    actualGrams: null,
    carrier: 'ZTO',
    waybill: order.waybill,
    labelJobId: null,
    operator: 'op-1',
    openedAt: t,
    updatedAt: t,
    shippedAt: null,
    ...over,
  });
  const ev = (type: string, data: unknown, subject = `shipment:${shipmentId}`): WriteOp => ({ op: 'event', type, subject, data });
  const dd = (k: string): WriteOp => ({ op: 'dedupe', deviceId: `${station}-scanner`, msgId: `${n}-${k}` });
  const units: WriteOp[][] = [[{ op: 'order.put', order }, ev('order.imported', { order_id: orderId, revision: 1, shop: order.shop }, `order:${orderId}`)]];
  if (intercepted) {
    units.push([
      { op: 'shipment.put', shipment: sh({ state: 'intercepted', reasonCode: 'PKL_INTERCEPT_CANCELLED' }) },
      ev('shipment.intercepted', { order_id: orderId, code: 'PKL_INTERCEPT_CANCELLED', checkpoint: 'packing', station_id: station }),
      dd('scan'),
    ]);
    return units;
  }
  units.push([{ op: 'shipment.put', shipment: sh({}) }, ev('shipment.opened', { order_id: orderId, station_id: station, operator: 'op-1' }), dd('scan')]);
  units.push([
    { op: 'shipment.put', shipment: sh({ scanned: { '6901234567892': 1 } }) },
    ev('shipment.item_scanned', { barcode: '6901234567892', scanned: 1 }),
    dd('i1'),
  ]);
  units.push([
    { op: 'shipment.put', shipment: sh({ state: 'weighing', scanned: { '6901234567892': 1, '6901234567908': 1 } }) },
    ev('shipment.item_scanned', { barcode: '6901234567908', scanned: 1 }),
    dd('i2'),
  ]);
  const job = {
    jobId,
    shipmentId,
    printerId: `${station}-printer`,
    format: 'zpl' as const,
    data: '',
    state: 'queued' as const,
    reason: null,
    createdAt: t,
    updatedAt: t,
  };
  units.push([
    { op: 'shipment.put', shipment: sh({ state: 'labelling', actualGrams: 452, labelJobId: jobId, scanned: { '6901234567892': 1, '6901234567908': 1 } }) },
    ev('shipment.weighed', { grams: 452, expected: 450 }),
    { op: 'printjob.put', job },
    ev('shipment.label_queued', { job_id: jobId, printer_id: job.printerId, waybill: order.waybill, carrier: 'ZTO' }),
    dd('w'),
  ]);
  units.push([
    {
      op: 'shipment.put',
      shipment: sh({ state: 'shipped', actualGrams: 452, labelJobId: jobId, shippedAt: t, scanned: { '6901234567892': 1, '6901234567908': 1 } }),
    },
    { op: 'printjob.put', job: { ...job, state: 'printed' } },
    ev('shipment.shipped', { order_id: orderId, job_id: jobId, waybill: order.waybill, carrier: 'ZTO', grams: 452 }),
    dd('p'),
  ]);
  return units;
}

async function runSeason(o: SeasonOptions, retentionOn: boolean, label: string): Promise<DayFigures[]> {
  const dataDir = mkdtempSync(join(tmpdir(), `pkl-season-${label}-`));
  const logger = createLogger('silent');
  const t0 = Date.UTC(2026, 8, 1);
  // The writer's clock runs `offset` ahead of the wall clock; the simulated day starts at t0 + (d-1) days.
  const realStart = Date.now();
  const figures: DayFigures[] = [];
  const label19k = Buffer.alloc(o.labelBytes, 0x41);
  let n = 0;
  try {
    for (let d = 1; d <= o.days; d += 1) {
      const dayStart = t0 + (d - 1) * DAY;
      const store: SqliteStore = openStore({ dataDir, logger, wallOffsetMs: dayStart - realStart });
      await store.start();
      // The simulated clock: the time of the parcel being written, then the day's end.
      let clock = dayStart;
      const retention = new RetentionService({ store, dataDir, settings: o.retention, logger, now: () => clock });
      const parcels = Math.max(1, Math.round((o.peakPerDay / o.scale) * seasonShare(d, o.days)));
      let steps = 0;
      let maxMs = 0;
      let maxVacuumMs = 0;
      const step = async () => {
        const r = await retention.step();
        steps += 1;
        maxMs = Math.max(maxMs, r.db?.pruneMs ?? 0);
        maxVacuumMs = Math.max(maxVacuumMs, r.db?.vacuumMs ?? 0);
        return r.busy;
      };
      // Parcels spread over 16 working hours; stations interleave; retention steps in between.
      const chunk = 100;
      for (let i = 0; i < parcels; i += chunk) {
        const writes: Array<Promise<unknown>> = [];
        const ts: Array<[number, string]> = [];
        for (let j = i; j < Math.min(parcels, i + chunk); j += 1) {
          n += 1;
          const t = dayStart + 6 * 3_600_000 + Math.floor((j / parcels) * 16 * 3_600_000);
          clock = t;
          const station = `st-${(n % o.stations) + 1}`;
          const intercepted = n % 10 === 0;
          const units = parcelUnits('gw-01', n, t, station, intercepted);
          writes.push(
            (async () => {
              for (const u of units) await store.write(u);
            })(),
          );
          if (!intercepted) ts.push([t, station]);
        }
        await Promise.all(writes);
        for (const [t, station] of ts) {
          const dir = join(dataDir, 'labels', station);
          mkdirSync(dir, { recursive: true });
          const f = join(dir, `label-${t}-${Math.random().toString(36).slice(2, 8)}.zpl`);
          writeFileSync(f, label19k);
          utimesSync(f, new Date(t), new Date(t));
        }
        if (retentionOn) await step();
      }
      // End of the day: the cloud acknowledges all (but during the outage), retention catches up.
      clock = dayStart + 23 * 3_600_000;
      if (d < o.outage[0] || d > o.outage[1]) await store.write([{ op: 'meta.put', key: META_ACKED_SEQ, value: String(store.stats().lastSeq) }]);
      // As the background loop would: steps until a pass over orders and files finds nothing.
      if (retentionOn) while ((await step()) && steps < 1_000_000);
      const walBytes = fileBytes(join(dataDir, `${DB_FILE}-wal`));
      const dbBytes = fileBytes(join(dataDir, DB_FILE));
      const dataBytes = folderBytes(dataDir);
      await store.stop();
      const counts = countRows(join(dataDir, DB_FILE));
      figures.push({
        day: d,
        parcels,
        dbBytes,
        walBytes,
        dataBytes,
        orders: counts.orders,
        events: counts.events,
        pruneSteps: steps,
        pruneMaxMs: maxMs,
        vacuumMaxMs: maxVacuumMs,
      });
      process.stdout.write(
        `  ${label.padEnd(9)} day ${String(d).padStart(2)}  ${String(parcels).padStart(5)} parcels  db ${mb(figures.at(-1)!.dbBytes)}  wal ${mb(walBytes)}  data ${mb(figures.at(-1)!.dataBytes)}\r`,
      );
    }
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
  process.stdout.write('\n');
  return figures;
}

function countRows(dbPath: string): { orders: number; events: number } {
  const db = new Database(dbPath, { readonly: true });
  try {
    return {
      orders: db.prepare('SELECT COUNT(*) FROM orders').pluck().get() as number,
      events: db.prepare('SELECT COUNT(*) FROM events').pluck().get() as number,
    };
  } finally {
    db.close();
  }
}

const mb = (b: number): string => `${(b / 1_048_576).toFixed(1).padStart(7)} MB`;

export async function benchSeason(args: string[]): Promise<void> {
  const o: SeasonOptions = {
    days: arg(args, 'days', 60),
    peakPerDay: arg(args, 'peak-per-day', 150_000),
    scale: arg(args, 'scale', 200),
    labelBytes: arg(args, 'label-bytes', 19_000),
    stations: arg(args, 'stations', 24),
    outage: [Math.round((arg(args, 'days', 60) * 45) / 60), Math.round((arg(args, 'days', 60) * 46) / 60)],
    retention: {
      enabled: true,
      ordersDays: arg(args, 'orders-days', 14),
      eventsDays: arg(args, 'events-days', 7),
      labelFilesDays: arg(args, 'label-days', 2),
      batchRows: arg(args, 'batch-rows', 100),
      filesPerStep: 200,
      stepEveryMs: 1_000,
      idleEveryMs: 60_000,
      vacuumPagesPerStep: arg(args, 'vacuum-pages', 256),
    },
  };
  process.stdout.write(
    `season: ${o.days} simulated days, peak day ${o.peakPerDay}/${o.scale} = ${Math.round(o.peakPerDay / o.scale)} parcels, ${o.labelBytes} B labels, ` +
      `retention orders ${o.retention.ordersDays} d, events ${o.retention.eventsDays} d, labels ${o.retention.labelFilesDays} d; WAN outage days ${o.outage[0]}-${o.outage[1]}\n`,
  );
  const t = performance.now();
  const on = await runSeason(o, true, 'retention');
  const tOn = performance.now() - t;
  const off = await runSeason(o, false, 'baseline');
  const tOff = performance.now() - t - tOn;
  process.stdout.write(
    `\n day  parcels | retention on:  database        WAL  data folder   orders   events steps max delete/vacuum | baseline (off): database        WAL  data folder   orders   events\n`,
  );
  for (let i = 0; i < on.length; i += 1) {
    const a = on[i]!;
    const b = off[i]!;
    process.stdout.write(
      `${String(a.day).padStart(4)} ${String(a.parcels).padStart(8)} |              ${mb(a.dbBytes)} ${mb(a.walBytes)} ${mb(a.dataBytes)} ${String(a.orders).padStart(8)} ${String(a.events).padStart(8)} ${String(a.pruneSteps).padStart(5)} ${a.pruneMaxMs.toFixed(0).padStart(5)} / ${a.vacuumMaxMs.toFixed(0).padStart(3)} ms |                ${mb(b.dbBytes)} ${mb(b.walBytes)} ${mb(b.dataBytes)} ${String(b.orders).padStart(8)} ${String(b.events).padStart(8)}\n`,
    );
  }
  const total = on.reduce((s, x) => s + x.parcels, 0);
  const last = on.at(-1)!;
  const lastOff = off.at(-1)!;
  const maxAfterWindow = Math.max(...on.filter((x) => x.day > o.retention.ordersDays + 1).map((x) => x.dbBytes));
  process.stdout.write(
    `\n${total} parcels in ${o.days} days (×${o.scale} = ${total * o.scale} at full scale); run ${(tOn / 1000).toFixed(0)} s with retention, ${(tOff / 1000).toFixed(0)} s baseline\n` +
      `end of season: database ${mb(last.dbBytes)} vs ${mb(lastOff.dbBytes)} baseline; data folder ${mb(last.dataBytes)} vs ${mb(lastOff.dataBytes)}\n` +
      `largest database after the order window: ${mb(maxAfterWindow)}; database bytes per parcel kept (baseline, end): ${Math.round(lastOff.dbBytes / total)}\n`,
  );
}
