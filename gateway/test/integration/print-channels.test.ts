/**
 * Print channels on the real gateway, devices on real MQTT: station st-1 prints on channel 1
 * with its own printer and a spare. A label the station printer reports it could not print
 * (paper out) goes to the spare, once; a printer that announces a fault is skipped for the
 * next label; when every printer of the channel is at its queue limit the next scan is
 * refused (back-pressure), and nothing prints twice.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { MqttClient } from 'mqtt';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { parsePlaintextConfig } from '../support/plaintext.js';
import { Gateway, type GatewayInfo } from '../../src/gateway.js';
import { createLogger } from '../../src/lib/logger.js';
import { device, floorConfig, importOrders, Inbox, replyTopics, stationDevices, wireOrder, wireOrderGrams } from '../support/floor.js';

const dir = mkdtempSync(join(tmpdir(), 'pkl-channels-'));
const st = stationDevices(1);
const SPARE = 'spare-printer';
let gateway: Gateway;
let info: GatewayInfo;
const clients: MqttClient[] = [];
let scanner: MqttClient;
let scale: MqttClient;
let printer: MqttClient;
let spare: MqttClient;
let scans: Inbox;
let printerIn: Inbox;
let spareIn: Inbox;
let n = 0;

beforeAll(async () => {
  const raw = floorConfig(join(dir, 'data'), { stations: 1, lines: 0, verifyItems: 'never' }) as { devices: Array<Record<string, string>> };
  raw.devices.push({ id: SPARE, role: 'printer' });
  gateway = new Gateway(
    parsePlaintextConfig({ ...raw, printing: { channels: [{ id: 1, printers: [st.printer, SPARE] }], queueLimit: 1 } }),
    createLogger('silent'),
  );
  await gateway.start();
  info = gateway.info();
  const secrets = Object.fromEntries(info.issued.map((i) => [i.deviceId, i.secret]));
  const connect = async (id: string) => {
    const c = await device(info.mqttUrl!, id, secrets[id]!);
    clients.push(c);
    return c;
  };
  [scanner, scale, printer, spare] = await Promise.all([connect(st.scanner), connect(st.scale), connect(st.printer), connect(SPARE)]);
  scans = await Inbox.open(scanner, replyTopics(st.scanner));
  printerIn = await Inbox.open(printer, [`dev/${st.printer}/cmd/print`, ...replyTopics(st.printer)]);
  spareIn = await Inbox.open(spare, [`dev/${SPARE}/cmd/print`, ...replyTopics(SPARE)]);
  for (const [c, id] of [
    [printer, st.printer],
    [spare, SPARE],
  ] as const) {
    await c.publishAsync(`dev/${id}/state`, JSON.stringify({ state: 'online' }), { qos: 1, retain: true });
  }
  const orders = ['C-1', 'C-2', 'C-3', 'C-4'].map((id) => wireOrder(id));
  expect((await importOrders(info.httpUrl, info.tokens.admin, orders)).status).toBe(200);
});

afterAll(async () => {
  await Promise.all(clients.map((c) => c.endAsync(true).catch(() => undefined)));
  await gateway?.stop();
  rmSync(dir, { recursive: true, force: true });
});

const pub = (c: MqttClient, topic: string, payload: unknown) => c.publishAsync(topic, JSON.stringify(payload), { qos: 1 });

/** Scans an order and puts its parcel on the scale; resolves with the scan's answer. */
async function pack(orderId: string) {
  const tag = `s${n++}`;
  await pub(scale, `dev/${st.scale}/evt/weight`, { grams: 0, stable: true });
  await pub(scanner, `dev/${st.scanner}/evt/scan`, { msg_id: tag, code: orderId });
  const answer = await scans.next((m) => m.payload.msg_id === tag);
  if (answer.topic.endsWith('/ack')) await pub(scale, `dev/${st.scale}/evt/weight`, { grams: wireOrderGrams(wireOrder(orderId)), stable: true });
  return answer;
}

async function shipmentOf(orderId: string): Promise<{ state: string; label_job_id: string | null }> {
  const res = await fetch(`${info.httpUrl}/api/v1/orders/${orderId}`, { headers: { authorization: `Bearer ${info.tokens.admin}` } });
  const body = (await res.json()) as { latest_shipment: { shipment_id: string } };
  const s = await fetch(`${info.httpUrl}/api/v1/shipments/${body.latest_shipment.shipment_id}`, { headers: { authorization: `Bearer ${info.tokens.admin}` } });
  return (await s.json()) as { state: string; label_job_id: string | null };
}

it('moves a label its printer could not print (paper out) to the spare, and it prints once', async () => {
  await pack('C-1');
  const first = await printerIn.next((m) => m.topic.endsWith('/cmd/print'));
  await pub(printer, `dev/${st.printer}/evt/print_result`, { msg_id: 'r1', job_id: first.payload.job_id, status: 'failed', reason: 'paper out' });
  const moved = await spareIn.next((m) => m.topic.endsWith('/cmd/print'));
  expect(moved.payload.job_id).not.toBe(first.payload.job_id);
  expect(moved.payload.data).toBe(first.payload.data); // the same label
  await pub(spare, `dev/${SPARE}/evt/print_result`, { msg_id: 'r2', job_id: moved.payload.job_id, status: 'printed' });
  await spareIn.next((m) => m.payload.msg_id === 'r2' && m.topic.endsWith('/ack'));
  expect(await shipmentOf('C-1')).toMatchObject({ state: 'shipped', label_job_id: moved.payload.job_id });
  expect(printerIn.messages.filter((m) => m.topic.endsWith('/cmd/print'))).toHaveLength(1);
});

it('skips a printer that announced a fault', async () => {
  await pub(printer, `dev/${st.printer}/state`, { state: 'error', reason: 'media_empty' });
  // A round trip from the same client after it: MQTT keeps one client's messages in order, so
  // once this is answered the gateway has seen the fault.
  await pub(printer, `dev/${st.printer}/evt/print_result`, { msg_id: 'sync-1', job_id: 'J-none', status: 'printed' });
  await printerIn.next((m) => m.payload.msg_id === 'sync-1');
  const before = spareIn.messages.length;
  await pack('C-2');
  const job = await spareIn.next((m) => m.topic.endsWith('/cmd/print') && spareIn.messages.indexOf(m) >= before);
  expect(printerIn.messages.filter((m) => m.topic.endsWith('/cmd/print'))).toHaveLength(1); // nothing new for the faulted one
  // Leave this label unanswered: the spare now holds its queue limit (1).
  expect(job.payload.job_id).toBeTruthy();
});

it('refuses the next scan while every usable printer of the channel is at its limit', async () => {
  const answer = await pack('C-3');
  expect(answer.topic).toMatch(/\/err$/);
  expect(answer.payload.code).toBe('PKL_PRINT_QUEUE_FULL');
});
