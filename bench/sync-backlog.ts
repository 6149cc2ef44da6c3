/**
 * The backlog for `npm run bench -- sync`: a gateway data directory whose event log holds a
 * day of packing that never reached the cloud (720,000 events = 24 h at peak, docs/sync.md),
 * written straight into the gateway's own SQLite file before the gateway starts, with the
 * gateway's own schema and connection settings (gateway/src/storage/schema.ts). Playing 24 h
 * of stations over MQTT would take hours; the drain only reads the `events` table, so what
 * must be real is each row: the types, data keys and sizes the shipment core writes
 * (docs/shipment-flow.md "Events"), ids from the gateway's id source, HLC stamps spread
 * over the day, boot 1.
 *
 * Also written: the orders the live stations ship during the benchmark (straight into the
 * orders cache, through the store's own UnitApplier, so they add no events to the backlog),
 * and optionally the orders and shipments rows of the day itself (`historyRows`), which a
 * real gateway would hold and which the gateway's queries then run against.
 */
import { mkdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import type { OrderInWire } from '../contracts/orders.js';
import { orderFromWire } from '../gateway/src/station/order-wire.js';
import { encodeHlc } from '../gateway/src/lib/hlc.js';
import { idSource } from '../gateway/src/runtime/ids.js';
import { configureWriterConnection, migrate } from '../gateway/src/storage/schema.js';
import { DB_FILE } from '../gateway/src/storage/sqlite-store.js';
import type { WriteOp } from '../gateway/src/storage/types.js';
import { EventProjector } from '../gateway/src/storage/event-projector.js';
import { META_BOOT, META_HLC, UnitApplier } from '../gateway/src/storage/unit-applier.js';

export interface BacklogOptions {
  dataDir: string;
  gatewayId: string;
  /** Events in the backlog (720,000). */
  events: number;
  /** Stations the day was packed on (`st-1` … `st-N`). */
  stations: number;
  /** Orders for the live stations: `liveOrder(0 … liveOrders - 1)`. */
  liveOrders: number;
  /** Also write the day's orders and shipments rows (default false: events only). */
  historyRows?: boolean;
  /** The backlog ends this long before now (default 60 s); it spans 24 h. */
  endsAgoMs?: number;
  now?: number;
}

export interface BacklogFigures {
  events: number;
  shipments: number;
  byType: Record<string, number>;
  /** Mean length of the `data` JSON, bytes. */
  meanDataBytes: number;
  /** Mean length of one event as it travels (batch-builder's eventJson), bytes. */
  meanWireEventBytes: number;
  dbBytes: number;
  seconds: number;
}

const DAY_MS = 24 * 60 * 60 * 1000;
/** Rows per transaction: big enough that fsyncs do not matter, small enough for the WAL. */
const ROWS_PER_TX = 50_000;

const CARRIERS = ['ZTO', 'YTO', 'STO', 'YUNDA', 'SF', 'JTSDE', 'EMS'] as const;
const OPERATORS = ['li.na', 'wang.wei', 'zhang.min', null] as const;

/** A deterministic PRNG (mulberry32), so two runs write the same backlog. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The order a live station ships as its i-th parcel (one line, 350 g + 40 g packaging). */
export function liveOrder(i: number): OrderInWire {
  return {
    order_id: `L${String(i).padStart(9, '0')}`,
    shop: 'bench-shop',
    lines: [{ sku: `SKU-${i % 97}`, barcode: liveItemBarcode(i), name: '商品', qty: 1, unit_grams: 350 }],
    packaging_grams: 40,
    carrier: 'ZTO',
    waybill: `7310${String(i).padStart(10, '0')}`,
    print_data: {
      receiver_name: '李四',
      receiver_phone: '139****1234',
      receiver_address: '上海市浦东新区张江路 1 号',
      routing_code: '200-B2',
      sort_code: '上海',
    },
    revision: 1,
  };
}

export function liveItemBarcode(i: number): string {
  return `69${String(i % 97).padStart(11, '0')}`;
}

/** Grams the live scale reports for `liveOrder(i)` (inside the tolerance). */
export const LIVE_GRAMS = 390;

interface DayShipment {
  orderId: string;
  shipmentId: string;
  jobId: string;
  station: string;
  carrier: string;
  waybill: string;
  operator: string | null;
  lines: Array<{ sku: string; barcode: string; qty: number; unitGrams: number }>;
  expected: number;
  grams: number;
  tolerance: number;
}

function dayShipment(k: number, rnd: () => number, ids: ReturnType<typeof idSource>, stations: number): DayShipment {
  // Lines: most parcels hold one article, some two or three; a few lines have qty 2.
  const r = rnd();
  const nLines = r < 0.62 ? 1 : r < 0.88 ? 2 : 3;
  const lines = Array.from({ length: nLines }, () => {
    const sku = Math.floor(rnd() * 40_000);
    return {
      sku: `SKU-${sku}`,
      barcode: `69${String(sku * 7919).padStart(11, '0')}`,
      qty: rnd() < 0.1 ? 2 : 1,
      unitGrams: 80 + Math.floor(rnd() * 1400),
    };
  });
  const packaging = 40;
  const expected = lines.reduce((a, l) => a + l.qty * l.unitGrams, 0) + packaging;
  // weight check default: max(50 g, 5 %) (config shipment.weight)
  const tolerance = Math.max(50, Math.round(expected * 0.05));
  const carrier = CARRIERS[Math.floor(rnd() * CARRIERS.length)] as string;
  return {
    orderId: `${String(3_900_000_000_000_000 + k * 7_919)}`,
    shipmentId: ids.next('S'),
    jobId: ids.next('J'),
    station: `st-${(k % stations) + 1}`,
    carrier,
    waybill: `${carrier === 'SF' ? 'SF' : '7'}${String(31_000_000_000 + k * 13).padStart(13, '0')}`,
    operator: OPERATORS[Math.floor(rnd() * OPERATORS.length)] ?? null,
    lines,
    expected,
    grams: expected + Math.round((rnd() - 0.5) * tolerance),
    tolerance,
  };
}

/** The events one shipment writes, in order (gateway/src/station/decide/step-station.ts). */
function shipmentEvents(s: DayShipment): Array<{ type: string; subject: string; data: Record<string, unknown> }> {
  const subject = `shipment:${s.shipmentId}`;
  const out: Array<{ type: string; subject: string; data: Record<string, unknown> }> = [];
  // The order reached the gateway through the cloud change feed (sync/change-applier.ts).
  out.push({ type: 'order.imported', subject: `order:${s.orderId}`, data: { revision: 1, lines: s.lines.length, source: 'cloud', waybill: true } });
  const opened: Record<string, unknown> = { order_id: s.orderId, station_id: s.station, verify: true, expected_grams: s.expected };
  if (s.operator !== null) opened.operator = s.operator;
  out.push({ type: 'shipment.opened', subject, data: opened });
  const total = s.lines.reduce((a, l) => a + l.qty, 0);
  let done = 0;
  for (const l of s.lines) {
    for (let n = 1; n <= l.qty; n++) {
      done += 1;
      const data: Record<string, unknown> = { barcode: l.barcode, scanned: n, qty: l.qty };
      if (done === total) data.complete = true;
      out.push({ type: 'shipment.item_scanned', subject, data });
    }
  }
  out.push({ type: 'shipment.weighed', subject, data: { grams: s.grams, expected_grams: s.expected, tolerance: s.tolerance, ok: true } });
  out.push({
    type: 'shipment.label_queued',
    subject,
    data: { order_id: s.orderId, job_id: s.jobId, printer_id: `${s.station}-printer`, waybill: s.waybill, carrier: s.carrier },
  });
  out.push({ type: 'shipment.shipped', subject, data: { order_id: s.orderId, job_id: s.jobId, waybill: s.waybill, carrier: s.carrier, grams: s.grams } });
  return out;
}

/** Creates `dataDir/packline.db` with the backlog; the gateway must not be running. */
export function buildBacklog(opts: BacklogOptions): BacklogFigures {
  const t0 = performance.now();
  mkdirSync(opts.dataDir, { recursive: true });
  const dbPath = join(opts.dataDir, DB_FILE);
  const db = new Database(dbPath);
  configureWriterConnection(db);
  migrate(db);
  const now = opts.now ?? Date.now();
  const end = now - (opts.endsAgoMs ?? 60_000);
  const start = end - DAY_MS;
  const boot = 1;
  const rnd = prng(4);
  const ids = idSource(opts.gatewayId, boot);
  const applier = new UnitApplier(db, opts.dataDir, () => now);
  const insert = db.prepare('INSERT INTO events (hlc, boot, clock_unsynced, type, subject, data) VALUES (?, ?, 0, ?, ?, ?)');
  const byType: Record<string, number> = {};
  let dataBytes = 0;
  let wireBytes = 0;
  let written = 0;
  let shipments = 0;
  let lastWall = -1;
  let counter = 0;
  let lastHlc = '';

  const history: WriteOp[] = [];
  const writeChunk = db.transaction((rows: Array<{ type: string; subject: string; data: string }>, ops: WriteOp[]) => {
    for (const r of rows) {
      // Evenly over the day; several events in one millisecond take the HLC counter.
      const wall = start + Math.floor((written * DAY_MS) / opts.events);
      counter = wall === lastWall ? counter + 1 : 0;
      lastWall = wall;
      lastHlc = encodeHlc({ wallMs: wall, counter });
      insert.run(lastHlc, boot, r.type, r.subject, r.data);
      written += 1;
    }
    if (ops.length > 0) applier.apply(ops, { boot, clockUnsynced: false });
  });

  let rows: Array<{ type: string; subject: string; data: string }> = [];
  for (let k = 0; written + rows.length < opts.events; k++) {
    const s = dayShipment(k, rnd, ids, opts.stations);
    shipments += 1;
    for (const e of shipmentEvents(s)) {
      if (written + rows.length >= opts.events) break;
      const data = JSON.stringify(e.data);
      rows.push({ type: e.type, subject: e.subject, data });
      byType[e.type] = (byType[e.type] ?? 0) + 1;
      dataBytes += data.length;
      // The event as batch-builder.ts puts it on the wire (seq and hlc are fixed width here).
      wireBytes += 70 + e.type.length + e.subject.length + Buffer.byteLength(data) + 7 + 23 + 1;
    }
    if (opts.historyRows === true) history.push(...historyOps(s, start + Math.floor(((written + rows.length) * DAY_MS) / opts.events)));
    if (rows.length >= ROWS_PER_TX) {
      writeChunk(rows, history.splice(0));
      rows = [];
    }
  }
  writeChunk(rows, history.splice(0));

  // The live stations' orders, and the store's own bookkeeping: boot 1 was the day above,
  // and the HLC carries on after its last stamp (unit-applier.ts syncClock).
  db.transaction(() => {
    for (let i = 0; i < opts.liveOrders; i += 1000) {
      const ops: WriteOp[] = [];
      for (let j = i; j < Math.min(opts.liveOrders, i + 1000); j++) ops.push({ op: 'order.put', order: orderFromWire(liveOrder(j), now) });
      applier.apply(ops, { boot, clockUnsynced: false });
    }
    applier.writeMeta(META_BOOT, String(boot));
    applier.writeMeta(META_HLC, lastHlc);
  })();
  // The gateway's writer projects the log's lookups as it goes (event-projector.ts); a day
  // written here in bulk gets them now, so the gateway's start does not project a day at once.
  new EventProjector(db).projectNow();
  db.pragma('wal_checkpoint(TRUNCATE)');
  db.close();
  return {
    events: written,
    shipments,
    byType,
    meanDataBytes: dataBytes / Math.max(1, written),
    meanWireEventBytes: wireBytes / Math.max(1, written),
    dbBytes: statSync(dbPath).size,
    seconds: (performance.now() - t0) / 1000,
  };
}

/** The orders and shipments rows a shipped parcel leaves behind (optional `historyRows`). */
function historyOps(s: DayShipment, at: number): WriteOp[] {
  const wire: OrderInWire = {
    order_id: s.orderId,
    shop: 'tmall-1',
    lines: s.lines.map((l) => ({ sku: l.sku, barcode: l.barcode, name: '商品', qty: l.qty, unit_grams: l.unitGrams })),
    packaging_grams: 40,
    carrier: s.carrier,
    waybill: s.waybill,
    print_data: {
      receiver_name: '王五',
      receiver_phone: '138****5678',
      receiver_address: '浙江省杭州市余杭区文一西路 969 号',
      routing_code: '310-A1',
      sort_code: '杭州',
    },
    revision: 1,
  };
  const scanned: Record<string, number> = {};
  for (const l of s.lines) scanned[l.barcode] = l.qty;
  return [
    { op: 'order.put', order: orderFromWire(wire, at) },
    {
      op: 'shipment.put',
      shipment: {
        shipmentId: s.shipmentId,
        orderId: s.orderId,
        stationId: s.station,
        state: 'shipped',
        reasonCode: null,
        scanned,
        expectedGrams: s.expected,
        actualGrams: s.grams,
        carrier: s.carrier,
        waybill: s.waybill,
        labelJobId: s.jobId,
        operator: s.operator,
        openedAt: at,
        updatedAt: at + 20_000,
        shippedAt: at + 20_000,
      },
    },
  ];
}
