/**
 * Courier handover and the courier overload plan on the simulated floor, through a cloud
 * outage and a kill -9: the real `packline start` child ships parcels over MQTT, a handover
 * manifest is scanned through the HTTP API while the cloud is down, a carrier is held and
 * orders are switched to another carrier from the local waybill pool, the gateway is killed
 * with SIGKILL and restarted, the manifest is closed and the switched order ships with its new
 * carrier. Then the cloud comes back and its checker must find every shipment, handover and
 * switch exactly once. Last, a UPS "lowbatt" followed at once by SIGKILL loses nothing
 * acknowledged, and a UPS "lowbatt" alone stops the gateway by itself.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { type ChildGateway, startChildGateway } from '../support/child-gateway.js';
import { runCli } from '../support/cli.js';
import { device, Inbox, replyTopics, stationDevices } from '../support/floor.js';
import { type AckedShipment, type StationDriver, startStationDriver } from '../support/station-driver.js';
import { drained, fastSync, type Rig, shippable, startRig, until } from '../support/sync-rig.js';

let rig: Rig;
let child: ChildGateway | null = null;
let configFile: string;
let dataDir: string;

beforeAll(async () => {
  rig = await startRig();
  dataDir = join(rig.dir, 'gw');
  configFile = join(rig.dir, 'packline.json');
  const raw = rig.config(1, {
    sync: fastSync(rig.cloud.url, rig.keyFile),
    handover: { waybillPool: { SF: ['SF0000000001', 'SF0000000002', 'SF0000000003'] }, rollLabels: { '*': 8 }, lowMediaPercent: 50 },
  });
  writeFileSync(configFile, JSON.stringify(raw));
});

afterAll(async () => {
  child?.proc.kill('SIGKILL');
  await rig?.close();
});

async function ship(g: ChildGateway, ids: string[], tag: string): Promise<AckedShipment[]> {
  const queue = ids.map(shippable);
  let driver: StationDriver | undefined;
  driver = await startStationDriver({
    mqttUrl: g.mqttUrl,
    secrets: g.secrets,
    station: 1,
    runTag: tag,
    timeoutMs: 5_000,
    nextOrder: () => queue.shift() ?? null,
  });
  await driver.done;
  await driver.stop();
  return driver.acked;
}

async function api(g: ChildGateway, method: string, path: string, body?: unknown, token = g.tokens.admin): Promise<{ status: number; body: any }> {
  const res = await fetch(`${g.httpUrl}${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await res.text();
  return { status: res.status, body: text.startsWith('{') ? JSON.parse(text) : text };
}

it('a handover manifest and a carrier switch survive a cloud outage and a kill -9; the checker finds each once', async () => {
  const ids = Array.from({ length: 10 }, (_, i) => `H-${String(i).padStart(3, '0')}`);
  await rig.addOrders(ids);
  child = await startChildGateway(configFile, dataDir);
  const g1 = child;
  await until('orders pulled', async () => (await api(g1, 'GET', `/api/v1/orders/${ids.at(-1)}`)).status === 200);
  const shipped = await ship(g1, ids.slice(0, 6), 'h1');
  expect(shipped.map((a) => a.orderId)).toEqual(ids.slice(0, 6));

  await rig.cloud.setFaults({ down: true });
  const opened = await api(g1, 'POST', '/api/v1/handover/manifests', { carrier: 'ZTO', operator: 'pda-7' }, g1.tokens.station);
  expect(opened.status).toBe(200);
  const mid = opened.body.manifest_id as string;
  expect(opened.body).toMatchObject({ carrier: 'ZTO', state: 'open', count: 0, expected: 6 });
  const scan = (code: string) => api(g1, 'POST', `/api/v1/handover/manifests/${mid}/scans`, { code }, g1.tokens.station);
  for (const id of ids.slice(0, 3)) expect((await scan(`PS-${id}`)).status).toBe(200);
  // The fourth from the station's scanner over MQTT (docs/mqtt.md §8), its redelivery answered once.
  const scannerId = stationDevices(1).scanner;
  const scanner = await device(g1.mqttUrl, scannerId, g1.secrets[scannerId] as string);
  const replies = await Inbox.open(scanner, [...replyTopics(scannerId), `dev/${scannerId}/cmd/display`]);
  const evt = JSON.stringify({ msg_id: 'hs-1', manifest_id: mid, code: 'PS-H-003' });
  await scanner.publishAsync(`dev/${scannerId}/evt/handover_scan`, evt, { qos: 1 });
  const ack = await replies.next((m) => m.payload.msg_id === 'hs-1');
  expect(ack.topic).toBe(`dev/${scannerId}/ack`);
  expect(typeof ack.payload.seq).toBe('number');
  expect((await replies.next((m) => m.topic.endsWith('/cmd/display'))).payload).toMatchObject({ level: 'ok', text: 'ZTO 4/6' });
  await scanner.publishAsync(`dev/${scannerId}/evt/handover_scan`, evt, { qos: 1 });
  await until('the redelivery answered', () => replies.messages.filter((m) => m.payload.msg_id === 'hs-1').length === 2);
  await scanner.publishAsync(`dev/${scannerId}/evt/handover_scan`, JSON.stringify({ msg_id: 'hs-2', manifest_id: mid, code: 'PS-H-007' }), { qos: 1 });
  expect((await replies.next((m) => m.payload.msg_id === 'hs-2')).payload).toMatchObject({ code: 'PKL_HANDOVER_NOT_SHIPPED' });
  await scanner.endAsync();
  const again = await scan('PS-H-000');
  expect(again.body).toMatchObject({ duplicate: true, manifest: { count: 4, expected: 6 } });
  const notShipped = await scan('PS-H-008');
  expect([notShipped.status, notShipped.body.error.code]).toEqual([409, 'PKL_HANDOVER_NOT_SHIPPED']);
  expect((await scan('NO-SUCH-PARCEL')).body.error.code).toBe('PKL_HANDOVER_PARCEL_UNKNOWN');

  // Courier overload: ZTO is held; two of its orders move to SF from the local pool.
  expect((await api(g1, 'POST', '/api/v1/carriers/ZTO/hold', { supervisor: 'lee', reason: 'depot full' }, g1.tokens.station)).status).toBe(403);
  expect((await api(g1, 'POST', '/api/v1/carriers/ZTO/hold', { supervisor: 'lee', reason: 'depot full' })).status).toBe(200);
  const sw = await api(g1, 'POST', '/api/v1/carriers/ZTO/switch', { supervisor: 'lee', to: 'SF', request_id: 'r1', order_ids: ['H-008', 'H-009'] });
  expect(sw.body.switched.map((s: any) => [s.order_id, s.new_waybill, s.duplicate])).toEqual([
    ['H-008', 'SF0000000001', false],
    ['H-009', 'SF0000000002', false],
  ]);

  // Power cut: everything acknowledged above must be there after the restart.
  g1.proc.kill('SIGKILL');
  await g1.exited;
  child = await startChildGateway(configFile, dataDir);
  const g2 = child;
  const m = await api(g2, 'GET', `/api/v1/handover/manifests/${mid}`);
  expect(m.body).toMatchObject({ state: 'open', count: 4 });
  expect((await api(g2, 'GET', '/api/v1/carriers/holds')).body.holds.map((h: any) => h.carrier)).toEqual(['ZTO']);
  const retried = await api(g2, 'POST', '/api/v1/carriers/ZTO/switch', { supervisor: 'lee', to: 'SF', request_id: 'r1', order_ids: ['H-008', 'H-009'] });
  expect(retried.body.switched.map((s: any) => s.duplicate)).toEqual([true, true]);

  // The switched order ships with its new carrier while ZTO stays held.
  const after = await ship(g2, ['H-008'], 'h2');
  expect(after.map((a) => a.orderId)).toEqual(['H-008']);
  const scan2 = (code: string) => api(g2, 'POST', `/api/v1/handover/manifests/${mid}/scans`, { code }, g2.tokens.station);
  expect((await scan2('SF0000000001')).body.error.code).toBe('PKL_HANDOVER_WRONG_CARRIER');
  const closed = await api(g2, 'POST', `/api/v1/handover/manifests/${mid}/close`, { operator: 'pda-7' }, g2.tokens.station);
  expect(closed.body).toMatchObject({ state: 'closed', count: 4 });
  expect((await api(g2, 'GET', `/api/v1/handover/manifests/${mid}/manifest.html`)).body).toContain(`<b id="count">4</b>`);
  // Still to hand over: ZTO's two not scanned, and the switched parcel for SF.
  const left = (await api(g2, 'GET', '/api/v1/handover')).body;
  expect(left).toMatchObject({ pending: 3, open_manifests: 0 });
  expect(left.carriers.map((c: any) => [c.carrier, c.pending])).toEqual([
    ['SF', 1],
    ['ZTO', 2],
  ]);
  // Label rolls: 7 labels on rolls of 8, under the 50 % mark.
  const rolls = (await api(g2, 'GET', '/api/v1/consumables')).body.printers as any[];
  expect(rolls.find((r) => r.printed > 0)).toMatchObject({ printed: 7, roll_labels: 8, left: 1, level: 'low' });

  await rig.cloud.setFaults({ down: false });
  await drained(g2.httpUrl, g2.tokens.admin);
  const r = rig.check();
  expect(r.problems).toEqual([]);
  expect(r.stats.handovers).toBe(4);
  expect(r.stats.carrierSwitches).toBe(2);
  const db = new Database(rig.gatewayDb(), { readonly: true });
  try {
    const label = db.prepare("SELECT data FROM events WHERE type = 'shipment.label_queued' ORDER BY seq DESC LIMIT 1").pluck().get() as string;
    expect(JSON.parse(label)).toMatchObject({ carrier: 'SF', waybill: 'SF0000000001' });
    const shippedCount = db.prepare("SELECT COUNT(*) FROM events WHERE type = 'shipment.shipped'").pluck().get();
    expect(shippedCount).toBe(7);
  } finally {
    db.close();
  }
});

it('a UPS lowbatt then SIGKILL loses nothing acknowledged; lowbatt alone stops the gateway by itself', async () => {
  const g = child as ChildGateway;
  await api(g, 'POST', '/api/v1/carriers/ZTO/release', { supervisor: 'lee' });
  const ids = ['U-000', 'U-001', 'U-002'];
  await rig.addOrders(ids);
  await until('orders pulled', async () => (await api(g, 'GET', '/api/v1/orders/U-002')).status === 200);
  const acked = await ship(g, ids.slice(0, 2), 'u1');
  expect(acked).toHaveLength(2);
  expect((await api(g, 'POST', '/api/v1/power', { event: 'lowbatt', source: 'test' })).body).toEqual({ state: 'shutting_down' });
  g.proc.kill('SIGKILL');
  await g.exited;

  child = await startChildGateway(configFile, dataDir);
  const g2 = child;
  for (const a of acked) expect((await api(g2, 'GET', `/api/v1/shipments/${a.shipmentId}`)).body).toMatchObject({ state: 'shipped' });
  const db = new Database(rig.gatewayDb(), { readonly: true });
  try {
    expect(db.prepare("SELECT COUNT(*) FROM events WHERE type = 'gateway.power_event'").pluck().get()).toBe(1);
  } finally {
    db.close();
  }
  // The UPS alone, as upsmon's NOTIFYCMD runs it: the gateway refuses new work and exits cleanly on its own.
  const cli = await runCli(dataDir, ['--config', configFile, 'ups', '--url', g2.httpUrl, 'UPS ups@localhost battery is low'], {
    env: { NOTIFYTYPE: 'LOWBATT' },
  });
  expect(cli.stdout).toContain('ups lowbatt: gateway shutting_down');
  expect(await g2.exited).toEqual({ code: 0, signal: null });
  child = null;
});
