/**
 * A floor picks and packs a full wave through a cloud outage and a gateway kill -9, then the
 * reference cloud's checker reconciles stock and picks after the drain. Real parts throughout:
 * the `packline start` child, the reference cloud over HTTP, PDA simulators over MQTT picking
 * with mistakes, packing stations driven over MQTT (scanner, scale, printer).
 *
 * - The floor (locations, counts) and the orders come from the cloud's feed; one order is
 *   refunded in the cloud before the wave and is left out of it.
 * - The cloud goes down. Half the wave is picked, the orders already picked are packed, the
 *   order desk cancels another order (recorded in the cloud, which the gateway cannot reach),
 *   and the gateway is killed with SIGKILL and restarted: picks and stock are the log's.
 * - The cloud comes back long enough for the cancel to arrive: the order is pulled from the
 *   open wave and its picked units go back to their faces. The cloud goes down again.
 * - The rest is picked (a face reported short, a face replenished from reserve), the wave
 *   closes, two stations pack every picked order; the intercepted orders are refused there.
 * - The cloud comes back and drains. The checker finds every event exactly once, no unit
 *   picked twice, no intercepted order picked, and the cloud's stock per location equal to the
 *   gateway's log; the gateway's own stock per location equals the cloud's.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { PdaSim } from '../../../simulators/src/devices/pda.js';
import { setOrderStatus } from '../../../simulators/src/cloud/reference/cloud-orders.js';
import { adminGet, type ChildGateway, startChildGateway } from '../support/child-gateway.js';
import { wireOrder, wireOrderGrams } from '../support/floor.js';
import { type AckedShipment, startStationDriver } from '../support/station-driver.js';
import { drained, GATEWAY_ID, type Rig, startRig, until } from '../support/sync-rig.js';

let rig: Rig;
let child: ChildGateway | null = null;
let configFile: string;
let dataDir: string;
const pdas: PdaSim[] = [];

const SKUS = 8;
const START = 30;
const barcode = (i: number) => `69200000${String(i).padStart(5, '0')}`;
const loc = (i: number) => `A0${1 + (i % 2)}-0${1 + Math.floor(i / 2)}-1`;
const ORDERS = Array.from({ length: 12 }, (_, n) =>
  wireOrder(`PO-${String(n).padStart(2, '0')}`, {
    items: [0, 1, 2].map((k) => ({ sku: `SKU-${(n + k * 3) % SKUS}`, barcode: barcode((n + k * 3) % SKUS), qty: 1 + ((n + k) % 2), unit_grams: 100 })),
  }),
);
const ids = ORDERS.map((o) => o.order_id as string);
const REFUNDED_BEFORE = 'PO-01';
const CANCELLED_DURING = 'PO-05';

beforeAll(async () => {
  rig = await startRig();
  dataDir = join(rig.dir, 'gw');
  configFile = join(rig.dir, 'packline.json');
  const cfg = rig.config(2);
  (cfg.devices as Array<Record<string, string>>).push({ id: 'pda-1', role: 'pda' }, { id: 'pda-2', role: 'pda' });
  writeFileSync(configFile, JSON.stringify(cfg));
});

afterAll(async () => {
  await Promise.all(pdas.map((p) => p.stop().catch(() => undefined)));
  child?.proc.kill('SIGKILL');
  await rig?.close();
});

async function call(g: ChildGateway, method: string, path: string, body?: unknown): Promise<{ status: number; json: any }> {
  const res = await fetch(`${g.httpUrl}${path}`, {
    method,
    headers: { authorization: `Bearer ${g.tokens.admin}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: res.status, json: await res.json() };
}

async function pda(g: ChildGateway, id: string): Promise<PdaSim> {
  const p = new PdaSim({ mqttUrl: g.mqttUrl, deviceId: id, secret: g.secrets[id] as string, replyTimeoutMs: 5000 });
  await p.start();
  pdas.push(p);
  return p;
}

interface WaveWire {
  wave_id: string;
  state: string;
  orders: Array<{ order_id: string; slot: number; state: string; code: string | null }>;
  lines: Array<{ line_no: number; location: string; sku: string; qty: number; picked: number; short: boolean }>;
}

async function gatewayStock(g: ChildGateway): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  for (const code of [...Array.from({ length: SKUS }, (_, i) => loc(i)), 'R-01']) {
    const s = await adminGet<{ stock: Array<{ sku: string; qty: number }> }>(g, `/api/v1/locations/${code}/stock`);
    for (const x of s.stock) out.set(`${code}/${x.sku}`, x.qty);
  }
  return out;
}

/** Packs the given orders on stations 1 and 2 at once (one shared queue), returns what shipped. */
async function pack(g: ChildGateway, orderIds: string[], tag: string): Promise<AckedShipment[]> {
  const queue = orderIds.map((id) => ({ orderId: id, items: [], grams: wireOrderGrams(ORDERS.find((o) => o.order_id === id) as Record<string, unknown>) }));
  const drivers = await Promise.all(
    [1, 2].map((station) =>
      startStationDriver({ mqttUrl: g.mqttUrl, secrets: g.secrets, station, runTag: tag, timeoutMs: 5_000, nextOrder: () => queue.shift() ?? null }),
    ),
  );
  await Promise.all(drivers.map((d) => d.done));
  await Promise.all(drivers.map((d) => d.stop()));
  for (const d of drivers) expect(d.error).toBeUndefined();
  return drivers.flatMap((d) => d.acked);
}

const pickedOrders = (w: WaveWire) => w.orders.filter((o) => o.state === 'picked').map((o) => o.order_id);

it('picks and packs a wave through a cloud outage and a kill -9; stock and picks reconcile with the cloud after the drain', async () => {
  // The floor and the orders, from the cloud's feed.
  const floor = await rig.admin('POST', '/admin/floor', {
    gateway_id: GATEWAY_ID,
    locations: [
      ...Array.from({ length: SKUS }, (_, i) => ({
        code: loc(i),
        zone: 'Z1',
        aisle: 1 + (i % 2),
        bay: 1 + Math.floor(i / 2),
        level: 1,
        kind: 'pick',
        capacity: 40,
        trigger: 25,
      })),
      { code: 'R-01', zone: 'R', aisle: 9, bay: 1, level: 1, kind: 'reserve' },
    ],
    stock: [
      ...Array.from({ length: SKUS }, (_, i) => ({ location: loc(i), sku: `SKU-${i}`, qty: START })),
      ...Array.from({ length: SKUS }, (_, i) => ({ location: 'R-01', sku: `SKU-${i}`, qty: 200 })),
    ],
  });
  expect(floor.status).toBe(200);
  expect((await rig.admin('POST', '/admin/orders', ORDERS)).status).toBe(200);
  child = await startChildGateway(configFile, dataDir);
  let g: ChildGateway = child;
  const g0 = g;
  await until('orders and floor pulled', async () => {
    if ((await call(g0, 'GET', `/api/v1/orders/${ids.at(-1)}`)).status !== 200) return false;
    const s = await call(g0, 'GET', `/api/v1/locations/${loc(SKUS - 1)}/stock`);
    return s.status === 200 && s.json.stock.length === 1;
  });
  // Refunded in the cloud before the wave: the wave leaves it out.
  expect((await rig.admin('POST', `/admin/orders/${REFUNDED_BEFORE}/status`, { status: 'refunded' })).status).toBe(200);
  await until('the refund applied', async () => (await call(g0, 'GET', `/api/v1/orders/${REFUNDED_BEFORE}`)).json.flags?.refunded === true);
  const built = await call(g, 'POST', '/api/v1/waves', { max_orders: 20 });
  expect(built.status).toBe(200);
  const wave = built.json.waves[0] as WaveWire;
  const waveId = wave.wave_id;
  expect(built.json.left_out).toEqual([{ orderId: REFUNDED_BEFORE, code: 'PKL_INTERCEPT_REFUNDED' }]);
  expect(wave.orders.map((o) => o.order_id)).toEqual(ids.filter((id) => id !== REFUNDED_BEFORE));
  expect((await call(g, 'POST', `/api/v1/waves/${waveId}/release`, { device_id: 'pda-1' })).status).toBe(200);

  // The cloud goes down. Half the wave is picked, with mistakes refused at once.
  await rig.cloud.setFaults({ down: true });
  let p1 = await pda(g, 'pda-1');
  expect((await p1.requestWork()).status).toBe('ack');
  await until('the task offer', () => p1.pickTask(waveId));
  expect((await p1.accept(waveId, '张三')).status).toBe('ack');
  const accepted = await until('the accepted task', () => (p1.tasks.length >= 2 ? p1.pickTask(waveId) : null));
  let rand = 7;
  const random = () => (rand = (rand * 48271) % 2147483647) / 2147483647;
  const half = Math.ceil(accepted.lines.length / 2);
  let lines = 0;
  // Stop at half the lines, once at least one order is completely picked (so there is something to pack).
  const g0b = g;
  const first = await p1.work(accepted, {
    mistakes: 0.4,
    random,
    onLine: async () => (++lines >= half && pickedOrders(await adminGet<WaveWire>(g0b, `/api/v1/waves/${waveId}`)).length > 0 ? 'stop' : undefined),
  });
  expect(first.confirmed).toBeGreaterThan(0);
  expect(first.timeouts).toBe(0);

  // What is picked already is packed while the cloud is down.
  const w1 = await adminGet<WaveWire>(g, `/api/v1/waves/${waveId}`);
  expect(w1.state).toBe('picking');
  expect(pickedOrders(w1).length).toBeGreaterThan(0);
  const shipped: AckedShipment[] = await pack(g, pickedOrders(w1), 'a');
  expect(shipped.map((s) => s.orderId).sort()).toEqual(pickedOrders(w1).sort());

  // The order desk cancels an order; the cloud records it but cannot tell the gateway yet.
  rig.cloud.db.transaction(() => setOrderStatus(rig.cloud.db, CANCELLED_DURING, 'cancelled', Date.now()));

  // Power cut in the middle of the wave.
  await p1.stop();
  g.proc.kill('SIGKILL');
  expect((await g.exited).signal).toBe('SIGKILL');
  child = await startChildGateway(configFile, dataDir);
  g = child;
  const after = await adminGet<WaveWire>(g, `/api/v1/waves/${waveId}`);
  expect(after.state).toBe('picking');
  expect(after.lines.reduce((s, l) => s + l.picked, 0)).toBe(first.confirmed);
  const stockAfter = await gatewayStock(g);
  for (let i = 0; i < SKUS; i++) {
    const picked = after.lines.filter((l) => l.sku === `SKU-${i}`).reduce((s, l) => s + l.picked, 0);
    expect(stockAfter.get(`${loc(i)}/SKU-${i}`), `SKU-${i}`).toBe(START - picked);
  }

  // The cloud is back for a moment: the cancel arrives and the order leaves the open wave.
  await rig.cloud.setFaults({ down: false });
  const g1 = g;
  const pulled = await until('the cancelled order pulled', async () => {
    const w = await adminGet<WaveWire>(g1, `/api/v1/waves/${waveId}`);
    return w.orders.find((o) => o.order_id === CANCELLED_DURING)?.state === 'pulled' ? w : null;
  });
  expect(pulled.orders.find((o) => o.order_id === CANCELLED_DURING)?.code).toBe('PKL_INTERCEPT_CANCELLED');
  await rig.cloud.setFaults({ down: true });

  // The rest of the wave: one face reported empty, the others picked with mistakes.
  p1 = await pda(g, 'pda-1');
  expect((await p1.requestWork()).status).toBe('ack');
  const rest = await until('the remaining task', () => p1.pickTask(waveId));
  const shortLine = rest.lines.find((l) => !l.short && l.qty > l.picked);
  if (shortLine === undefined) throw new Error('no line left to pick');
  expect((await p1.short(waveId, shortLine.location, shortLine.barcodes[0] as string, 0, 'not_there')).status).toBe('ack');
  const second = await p1.work({ ...rest, lines: rest.lines.filter((l) => l.line_no !== shortLine.line_no) }, { mistakes: 0.3, random });
  expect(second.timeouts).toBe(0);
  const closed = await adminGet<WaveWire>(g, `/api/v1/waves/${waveId}`);
  expect(closed.state).toBe('closed');
  for (const l of closed.lines) expect(l.picked, `line ${l.line_no}`).toBeLessThanOrEqual(l.qty);

  // A face below its trigger is replenished from reserve by a second PDA.
  const reps = await adminGet<{ replenishments: Array<{ request_id: string; state: string }> }>(g, '/api/v1/replenishments');
  const rep = reps.replenishments.find((r) => r.state === 'requested');
  expect(rep).toBeDefined();
  const p2 = await pda(g, 'pda-2');
  expect((await call(g, 'POST', `/api/v1/replenishments/${rep?.request_id}/task`, { device_id: 'pda-2' })).status).toBe(200);
  await until('the replenishment task', () => p2.tasks.find((t) => (t as { type?: string }).type === 'replenish'));
  expect((await p2.confirmReplenishment(rep?.request_id as string)).status).toBe('ack');

  // Two stations pack every picked order; the intercepted ones are refused at the scan.
  const packed = new Set(shipped.map((s) => s.orderId));
  const toPack = pickedOrders(closed).filter((id) => !packed.has(id));
  expect(toPack.length).toBeGreaterThan(0);
  shipped.push(...(await pack(g, [...toPack, CANCELLED_DURING, REFUNDED_BEFORE], 'b')));
  const shippedIds = shipped.map((s) => s.orderId).sort();
  expect(shippedIds).toEqual(pickedOrders(closed).sort());
  expect(shippedIds).not.toContain(CANCELLED_DURING);
  expect(shippedIds).not.toContain(REFUNDED_BEFORE);
  const held = closed.orders.filter((o) => o.state === 'short').map((o) => o.order_id);
  expect(held.length).toBeGreaterThan(0);
  for (const id of held) expect(shippedIds).not.toContain(id);

  // The gateway's reconciliation report says the cloud's stock lags, and where.
  const lagging = (await call(g, 'GET', '/api/v1/sync/reconciliation')).json;
  expect(lagging.stock.moves_not_acknowledged).toBeGreaterThan(0);
  expect(lagging.stock.locations).toContain(shortLine.location);

  // The cloud comes back and drains; the checker reconciles.
  await rig.cloud.setFaults({ down: false });
  await drained(g.httpUrl, g.tokens.admin);
  expect((await call(g, 'GET', '/api/v1/sync/reconciliation')).json.stock).toEqual({ moves_not_acknowledged: 0, locations: [], more_locations: 0 });
  const r = rig.check();
  expect(r.problems).toEqual([]);
  expect(r.stats.stockMismatches).toBe(0);
  expect(r.stats.stockCompared).toBe(2 * SKUS);
  expect(r.stats.stockPendingCounts).toBe(0);

  const db = new Database(rig.gatewayDb(), { readonly: true });
  try {
    const units = db.prepare("SELECT COALESCE(SUM(json_extract(data, '$.qty')), 0) FROM events WHERE type = 'pick.confirmed'").pluck().get() as number;
    const pickLines = db.prepare("SELECT COUNT(*) FROM events WHERE type = 'pick.confirmed'").pluck().get() as number;
    expect(r.stats.picks).toEqual({ lines: pickLines, units });
    expect(units).toBe(first.confirmed + second.confirmed);
  } finally {
    db.close();
  }
  // Every shipment in the cloud exactly once.
  const cloudShipped = rig.cloud.db.db
    .prepare("SELECT json_extract(data, '$.order_id') AS o, COUNT(*) AS n FROM events WHERE gateway_id = ? AND type = 'shipment.shipped' GROUP BY o ORDER BY o")
    .all(GATEWAY_ID) as Array<{ o: string; n: number }>;
  expect(cloudShipped).toEqual(shippedIds.map((o) => ({ o, n: 1 })));

  // The gateway's own stock per location is the cloud's.
  const cloudStock = (await rig.admin('GET', '/admin/stock')).body.stock as Array<{ location: string; sku: string; qty: number }>;
  const gw = await gatewayStock(g);
  expect(Object.fromEntries(cloudStock.map((s) => [`${s.location}/${s.sku}`, s.qty]))).toEqual(Object.fromEntries(gw));
});
