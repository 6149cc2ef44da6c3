/**
 * The whole vertical slice, driven as the floor drives it: devices with their own
 * credentials on real MQTT connections (mqtt.js over TCP and WebSocket, and Debian's
 * mosquitto_pub / mosquitto_sub) → embedded broker → shipment core → SQLite → event log.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { skipWithout } from '../../../test-peers/peers.js';
import { parsePlaintextConfig } from '../support/plaintext.js';
import { Gateway, type GatewayInfo } from '../../src/gateway.js';
import { createLogger } from '../../src/lib/logger.js';
import { device, floorConfig, importOrders, Inbox, lineDevice, replyTopics, stationDevices, wireOrder, wireOrderGrams } from '../support/floor.js';

const run = promisify(execFile);

let dir: string;
let gateway: Gateway;
let info: GatewayInfo;
let secrets: Record<string, string>;
const clients: MqttClient[] = [];

const st = stationDevices(1);
const orders = {
  ok: wireOrder('O-1001'),
  refund: wireOrder('O-1002', { flags: { refund_requested: true } }),
  noWaybill: wireOrder('O-1003', { waybill: null }),
  viaCli: wireOrder('O-1004', { items: [{ sku: 'SKU-C', barcode: '6900000000017', qty: 1, unit_grams: 500 }] }),
  heavy: wireOrder('O-1007', { items: [{ sku: 'SKU-D', barcode: '6900000000024', qty: 1, unit_grams: 1000 }] }),
  dws: wireOrder('O-1005'),
  dwsRefund: wireOrder('O-1006', { flags: { cancelled: true } }),
};

async function connect(id: string, url = info.mqttUrl as string): Promise<MqttClient> {
  const secret = secrets[id];
  if (secret === undefined) throw new Error(`no secret issued for ${id}`);
  const c = await device(url, id, secret);
  clients.push(c);
  return c;
}

function events(): Promise<Array<{ seq: number; type: string; subject: string; data: unknown }>> {
  return fetch(`${info.httpUrl}/api/v1/events?after=0&limit=1000`, {
    headers: { authorization: `Bearer ${info.tokens.admin}` },
  })
    .then((r) => r.json() as Promise<{ events: Array<{ seq: number; type: string; subject: string; data: unknown }> }>)
    .then((b) => b.events);
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'pkl-flow-'));
  const raw = floorConfig(dir, { stations: 2, lines: 1 }) as { devices: Array<Record<string, string>> };
  raw.devices.push({ id: 'pda-1', role: 'pda', station: 'st-2' });
  const config = parsePlaintextConfig(raw);
  gateway = new Gateway(config, createLogger('silent'));
  await gateway.start();
  info = gateway.info();
  secrets = Object.fromEntries(info.issued.map((s) => [s.deviceId, s.secret]));
  const res = await importOrders(info.httpUrl, info.tokens.admin, Object.values(orders));
  expect(res.status).toBe(200);
});

afterAll(async () => {
  await Promise.all(clients.map((c) => c.endAsync(true).catch(() => undefined)));
  await gateway?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('packing station over MQTT', () => {
  it('provisions a secret per device and writes them to an owner-only file', () => {
    expect(Object.keys(secrets).sort()).toContain(st.scanner);
    expect(readFileSync(info.provisioningFile, 'utf8')).toContain(st.scanner);
    expect(statSync(info.provisioningFile).mode & 0o077).toBe(0);
    expect(statSync(info.apiTokensFile).mode & 0o077).toBe(0);
  });

  it('scan → items → stable weight → print command → printed → shipped', async () => {
    const scanner = await connect(st.scanner);
    const scale = await connect(st.scale);
    const printer = await connect(st.printer);
    const acks = await Inbox.open(scanner, replyTopics(st.scanner));
    const jobs = await Inbox.open(printer, `dev/${st.printer}/cmd/print`);
    const printerAcks = await Inbox.open(printer, `dev/${st.printer}/ack`);

    // The weight lock needs the scale seen empty before this parcel.
    await scale.publishAsync(`dev/${st.scale}/evt/weight`, JSON.stringify({ grams: 0, stable: true }), { qos: 1 });
    await scanner.publishAsync(`dev/${st.scanner}/evt/scan`, JSON.stringify({ msg_id: 's1', code: 'O-1001' }), { qos: 1 });
    const opened = await acks.next((m) => m.payload.msg_id === 's1');
    expect(opened.topic).toBe(`dev/${st.scanner}/ack`);
    expect(typeof opened.payload.seq).toBe('number');

    for (const [i, code] of ['6901234567892', '6909876543210', '6909876543210'].entries()) {
      await scanner.publishAsync(`dev/${st.scanner}/evt/scan`, JSON.stringify({ msg_id: `i${i}`, code }), { qos: 1 });
      expect((await acks.next((m) => m.payload.msg_id === `i${i}`)).topic).toBe(`dev/${st.scanner}/ack`);
    }
    const grams = wireOrderGrams(orders.ok);
    await scale.publishAsync(`dev/${st.scale}/evt/weight`, JSON.stringify({ grams: grams - 300, stable: false }), { qos: 1 });
    await scale.publishAsync(`dev/${st.scale}/evt/weight`, JSON.stringify({ grams: grams + 4, stable: true }), { qos: 1 });

    const job = await jobs.next();
    expect(job.payload.format).toBe('zpl');
    expect(String(job.payload.data)).toContain('^XA');
    expect(String(job.payload.data)).toContain(String(orders.ok.waybill));
    const jobId = String(job.payload.job_id);

    await printer.publishAsync(`dev/${st.printer}/evt/print_result`, JSON.stringify({ msg_id: 'p1', job_id: jobId, status: 'printed' }), { qos: 1 });
    await printerAcks.next((m) => m.payload.msg_id === 'p1');
    const shipments = (await (
      await fetch(`${info.httpUrl}/api/v1/shipments?order=O-1001`, { headers: { authorization: `Bearer ${info.tokens.station}` } })
    ).json()) as { shipments: Array<{ state: string; waybill: string; actual_grams: number }> };
    expect(shipments.shipments.map((s) => s.state)).toEqual(['shipped']);
    expect(shipments.shipments[0]?.waybill).toBe(orders.ok.waybill);

    // A second scan of the shipped order is intercepted and prints nothing.
    await scanner.publishAsync(`dev/${st.scanner}/evt/scan`, JSON.stringify({ msg_id: 's2', code: 'O-1001' }), { qos: 1 });
    const again = await acks.next((m) => m.payload.msg_id === 's2');
    expect(again.topic).toBe(`dev/${st.scanner}/err`);
    expect(again.payload.code).toBe('PKL_INTERCEPT_ALREADY_SHIPPED');
    expect(jobs.messages).toHaveLength(1);

    const log = await events();
    const seqs = log.map((e) => e.seq);
    expect(seqs).toEqual(seqs.map((_, i) => i + 1)); // gap-free from 1
    expect(log.map((e) => e.type)).toContain('shipment.shipped');
  });

  it('a refunded order is intercepted with its reason, shown on the station view, and nothing prints', async () => {
    const d = stationDevices(2);
    const scanner = await connect(d.scanner);
    const display = await connect(d.display);
    const printer = await connect(d.printer);
    const replies = await Inbox.open(scanner, replyTopics(d.scanner));
    const jobs = await Inbox.open(printer, `dev/${d.printer}/cmd/print`);
    const view = await Inbox.open(display, `station/${d.station}/view`);
    await scanner.publishAsync(`dev/${d.scanner}/evt/scan`, JSON.stringify({ msg_id: 'r1', code: 'PS-O-1002' }), { qos: 1 });
    const err = await replies.next((m) => m.payload.msg_id === 'r1');
    expect(err.topic).toBe(`dev/${d.scanner}/err`);
    expect(err.payload.code).toBe('PKL_INTERCEPT_REFUND_REQUESTED');
    expect(err.payload.message_zh).toContain('退款');
    const shown = await view.next((m) => (m.payload.alert as { code?: string } | null)?.code === 'PKL_INTERCEPT_REFUND_REQUESTED');
    expect((shown.payload.alert as { level: string }).level).toBe('alert');
    expect(jobs.messages).toHaveLength(0);
  });

  it('bad input gets a coded error on dev/{id}/err and changes nothing', async () => {
    const scanner = await connect(st.scanner);
    const replies = await Inbox.open(scanner, `dev/${st.scanner}/err`);
    const before = (await events()).length;
    await scanner.publishAsync(`dev/${st.scanner}/evt/scan`, '{"code": 42}', { qos: 1 });
    expect((await replies.next((m) => m.payload.code === 'PKL_PAYLOAD_INVALID')).payload.message).toMatch(/code/);
    await scanner.publishAsync(`dev/${st.scanner}/evt/scan`, Buffer.from([0xde, 0xad, 0xbe, 0xef]), { qos: 1 });
    await replies.next((m) => m.payload.code === 'PKL_PAYLOAD_NOT_JSON');
    // Every refusal carries the msg_id whenever one can be read (docs/mqtt.md §4): schema,
    // unknown field and size errors included.
    await scanner.publishAsync(`dev/${st.scanner}/evt/scan`, '{"msg_id":"bad-1","code":42}', { qos: 1 });
    expect((await replies.next((m) => m.payload.msg_id === 'bad-1')).payload.code).toBe('PKL_PAYLOAD_INVALID');
    await scanner.publishAsync(`dev/${st.scanner}/evt/scan`, '{"msg_id":"bad-2","code":"X","colour":"red"}', { qos: 1 });
    expect((await replies.next((m) => m.payload.msg_id === 'bad-2')).payload.code).toBe('PKL_PAYLOAD_INVALID');
    await scanner.publishAsync(`dev/${st.scanner}/evt/scan`, JSON.stringify({ msg_id: 'bad-3', code: 'X'.repeat(5000) }), { qos: 1 });
    expect((await replies.next((m) => m.payload.msg_id === 'bad-3')).payload.code).toBe('PKL_PAYLOAD_TOO_LARGE');
    expect((await events()).length).toBe(before);
  });

  it('a QoS 1 redelivery (same msg_id) is applied once', async () => {
    const d = stationDevices(2);
    const scanner = await connect(d.scanner);
    const replies = await Inbox.open(scanner, replyTopics(d.scanner));
    const before = (await events()).length;
    const msg = JSON.stringify({ msg_id: 'dup-1', code: 'O-1003' });
    await scanner.publishAsync(`dev/${d.scanner}/evt/scan`, msg, { qos: 1 });
    await scanner.publishAsync(`dev/${d.scanner}/evt/scan`, msg, { qos: 1 });
    await replies.next((m) => m.payload.msg_id === 'dup-1' && m.payload.duplicate === true);
    const first = replies.messages.filter((m) => m.payload.msg_id === 'dup-1');
    expect(first).toHaveLength(2);
    expect(first.filter((m) => m.payload.duplicate !== true)).toHaveLength(1);
    // The duplicate's ack is the original one plus duplicate: true (docs/mqtt.md §5), seq included.
    const [original, duplicate] = [first.find((m) => m.payload.duplicate !== true), first.find((m) => m.payload.duplicate === true)];
    expect(typeof original?.payload.seq).toBe('number');
    expect(duplicate?.payload).toEqual({ ...original?.payload, duplicate: true });
    const after = await events();
    expect(after.slice(before).filter((e) => e.type === 'shipment.opened')).toHaveLength(1);
  });

  it('a scanner may not send a print command, and a wrong secret is refused', async () => {
    const scanner = await connect(st.scanner);
    const printer = await connect(st.printer);
    const jobs = await Inbox.open(printer, `dev/${st.printer}/cmd/print`);
    const seen = jobs.messages.length;
    await scanner.publishAsync(`dev/${st.printer}/cmd/print`, JSON.stringify({ job_id: 'evil', format: 'zpl', data: '^XA^XZ', copies: 1 }), { qos: 1 });
    // A probe through the allowed path proves the broker delivered everything before it.
    await printer.publishAsync(`dev/${st.printer}/state`, JSON.stringify({ state: 'online' }), { qos: 1 });
    await new Promise((r) => setTimeout(r, 200));
    expect(jobs.messages.slice(seen).some((m) => m.payload.job_id === 'evil')).toBe(false);
    await expect(device(info.mqttUrl as string, st.scanner, 'not-the-secret')).rejects.toThrow(/Bad username or password|Not authorized/i);
    // Both refusals reach the operator's metrics (docs/http.md packline_mqtt_refused_total).
    const metrics = await (await fetch(`${info.httpUrl}/metrics`)).text();
    const refused = (reason: string) => Number(new RegExp(`packline_mqtt_refused_total\\{reason="${reason}"\\} (\\d+)`).exec(metrics)?.[1] ?? NaN);
    expect(refused('auth')).toBeGreaterThanOrEqual(1);
    expect(refused('acl_publish')).toBeGreaterThanOrEqual(1);
    expect(refused('packet_too_large')).toBe(0);
  });

  it('works over MQTT-over-WebSocket on the HTTP port', async () => {
    // Station 1's last shipment is finished, so an unknown code is an order lookup (on an open
    // shipment it would be a wrong item).
    const d = stationDevices(1);
    const scanner = await connect(d.scanner, info.wsUrl);
    const replies = await Inbox.open(scanner, replyTopics(d.scanner));
    await scanner.publishAsync(`dev/${d.scanner}/evt/scan`, JSON.stringify({ msg_id: 'ws-1', code: 'O-NOPE' }), { qos: 1 });
    expect((await replies.next((m) => m.payload.msg_id === 'ws-1')).payload.code).toBe('PKL_ORDER_NOT_FOUND');
  });

  it.skipIf(skipWithout(import.meta.url, 'mosquitto-clients'))("Debian's mosquitto_pub / mosquitto_sub talk to the embedded broker", async () => {
    const port = new URL(info.mqttUrl as string).port;
    // Station 1's last shipment is finished, so an unknown code is an order lookup (on an open
    // shipment it would be a wrong item).
    const d = stationDevices(1);
    const secret = secrets[d.scanner] as string;
    // Client ids must be the device id or `{deviceId}:{suffix}` (docs/mqtt.md).
    const as = (clientId: string) => ['-h', '127.0.0.1', '-p', port, '-i', clientId, '-u', d.scanner, '-P', secret, '-q', '1'];
    const sub = run('mosquitto_sub', [...as(`${d.scanner}:sub`), '-t', `dev/${d.scanner}/err`, '-C', '1', '-W', '20']);
    await new Promise((r) => setTimeout(r, 500));
    await run('mosquitto_pub', [
      ...as(`${d.scanner}:pub`),
      '-t',
      `dev/${d.scanner}/evt/scan`,
      '-m',
      JSON.stringify({ msg_id: 'cli-1', code: 'NO-SUCH-ORDER' }),
    ]);
    const { stdout } = await sub;
    expect(JSON.parse(stdout)).toMatchObject({ code: 'PKL_ORDER_NOT_FOUND', msg_id: 'cli-1' });
    await expect(
      run('mosquitto_pub', ['-h', '127.0.0.1', '-p', port, '-i', d.scanner, '-u', d.scanner, '-P', 'wrong', '-t', `dev/${d.scanner}/evt/scan`, '-m', '{}']),
    ).rejects.toMatchObject({ code: expect.any(Number) });
  });
});

describe('weight hold and supervisor override', () => {
  it('holds a parcel outside tolerance with the figures; the audited override over HTTP prints it', async () => {
    const scanner = await connect(st.scanner);
    const scale = await connect(st.scale);
    const printer = await connect(st.printer);
    const replies = await Inbox.open(scale, replyTopics(st.scale));
    const jobs = await Inbox.open(printer, `dev/${st.printer}/cmd/print`);
    const scans = await Inbox.open(scanner, replyTopics(st.scanner));
    await scale.publishAsync(`dev/${st.scale}/evt/weight`, JSON.stringify({ grams: 0, stable: true }), { qos: 1 });
    await scanner.publishAsync(`dev/${st.scanner}/evt/scan`, JSON.stringify({ msg_id: 'h1', code: 'O-1007' }), { qos: 1 });
    await scans.next((m) => m.payload.msg_id === 'h1');
    await scanner.publishAsync(`dev/${st.scanner}/evt/scan`, JSON.stringify({ msg_id: 'h2', code: '6900000000024' }), { qos: 1 });
    await scans.next((m) => m.payload.msg_id === 'h2');
    const before = jobs.messages.length;
    // Expected 1,050 g; 1,400 g is far outside max(50 g, 5 %).
    await scale.publishAsync(`dev/${st.scale}/evt/weight`, JSON.stringify({ msg_id: 'w1', grams: 1400, stable: true }), { qos: 1 });
    const held = await replies.next((m) => m.payload.msg_id === 'w1');
    expect(held.topic).toBe(`dev/${st.scale}/err`);
    expect(held.payload).toMatchObject({ code: 'PKL_WEIGHT_OUT_OF_TOLERANCE', details: { actual: 1400, expected: 1050 } });
    expect(jobs.messages.length).toBe(before);

    const override = (token: string, body: unknown) =>
      fetch(`${info.httpUrl}/api/v1/stations/${st.station}/override`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
    expect((await override(info.tokens.station, { supervisor: 'Wang' })).status).toBe(403);
    expect((await override(info.tokens.admin, {})).status).toBe(400);
    const res = await override(info.tokens.admin, { supervisor: 'Wang', note: 'double box' });
    expect(res.status).toBe(200);
    const job = await jobs.next((m) => String(m.payload.data).includes(String(orders.heavy.waybill)));
    expect(job.payload.format).toBe('zpl');
    const released = (await events()).find((e) => e.type === 'shipment.released') as unknown as { data: Record<string, unknown> };
    expect(released.data).toMatchObject({ supervisor: 'Wang', note: 'double box', grams: 1400 });
    // Nothing is held any more: a second override is refused with a coded error.
    const again = (await (await override(info.tokens.admin, { supervisor: 'Wang' })).json()) as { error: { code: string } };
    expect(again.error.code).toMatch(/PKL_(SHIPMENT_STATE|NO_OPEN_SHIPMENT)/);
  });
});

describe('PDA over MQTT-over-WebSocket', () => {
  it('logs an operator in at its station, scans with that operator, confirms a task; refuses another station', async () => {
    const pda = await connect('pda-1', info.wsUrl);
    const replies = await Inbox.open(pda, replyTopics('pda-1'));
    const send = (kind: string, body: Record<string, unknown>) => pda.publishAsync(`dev/pda-1/evt/${kind}`, JSON.stringify(body), { qos: 1 });
    await send('pda_login', { msg_id: 'l1', operator: '李娜', station_id: 'st-2' });
    expect((await replies.next((m) => m.payload.msg_id === 'l1')).topic).toBe('dev/pda-1/ack');
    await send('pda_login', { msg_id: 'l2', operator: 'x', station_id: 'st-1' });
    expect((await replies.next((m) => m.payload.msg_id === 'l2')).payload.code).toBe('PKL_DEVICE_NOT_BOUND');
    await send('scan', { msg_id: 's9', code: 'O-1004' });
    expect((await replies.next((m) => m.payload.msg_id === 's9')).topic).toBe('dev/pda-1/ack');
    const res = await fetch(`${info.httpUrl}/api/v1/shipments?order=O-1004`, { headers: { authorization: `Bearer ${info.tokens.station}` } });
    const body = (await res.json()) as { shipments: Array<{ operator: string | null; station_id: string }> };
    expect(body.shipments[0]).toMatchObject({ operator: '李娜', station_id: 'st-2' });
    await send('pda_confirm', { msg_id: 'c1', task_id: 'T-1', result: 'done' });
    expect((await replies.next((m) => m.payload.msg_id === 'c1')).topic).toBe('dev/pda-1/ack');
    const log = await events();
    expect(log.find((e) => e.type === 'task.confirmed')).toMatchObject({ subject: 'task:T-1' });
    expect(log.find((e) => e.type === 'station.operator_login')).toMatchObject({ subject: 'station:st-2' });
  });
});

describe('DWS line over MQTT', () => {
  it('answers each parcel with a chute: carrier, exception for intercepts, default for no-reads', async () => {
    const l = lineDevice(1);
    const dws = await connect(l.dws);
    const diverts = await Inbox.open(dws, `dev/${l.dws}/cmd/divert`);
    const grams = wireOrderGrams(orders.dws);
    const send = (seq: number, barcode: string | null) =>
      dws.publishAsync(`dev/${l.dws}/evt/parcel`, JSON.stringify({ msg_id: `t${seq}`, seq, barcode, grams, length_mm: 300, width_mm: 200, height_mm: 100 }), {
        qos: 1,
      });
    await send(1, 'O-1005');
    expect((await diverts.next((m) => m.payload.seq === 1)).payload).toMatchObject({ chute: 'C01', reason: 'carrier' });
    await send(2, 'O-1006');
    expect((await diverts.next((m) => m.payload.seq === 2)).payload).toMatchObject({ chute: 'EXC', reason: 'PKL_INTERCEPT_CANCELLED' });
    await send(3, null);
    expect((await diverts.next((m) => m.payload.seq === 3)).payload).toMatchObject({ chute: 'DEFAULT', reason: 'no_read' });
  });
});
