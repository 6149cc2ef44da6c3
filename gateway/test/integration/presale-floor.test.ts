/**
 * Presale on the simulated floor (docs/packing-modes.md "Presale"), through a cloud outage and
 * a kill -9: the real `packline start` child pulls presale orders from the reference cloud;
 * with the cloud down, the station packs and weighs them and prints staging labels, not carrier
 * labels (the last staging label is still unanswered when the gateway is killed, and is
 * re-issued after the restart); a staging label scanned before payment is refused. The cloud
 * comes back, four orders are paid and one is cancelled by its owner: the paid parcels are
 * labelled and shipped on the next scan of their staging label, the cancelled one is on the
 * unpack list and is marked unpacked. The cloud's checker must find every staging, release,
 * unpack and shipment exactly once, no carrier label for an order before its payment, and none
 * for the cancelled order.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import type { MqttClient } from 'mqtt';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { type ChildGateway, startChildGateway } from '../support/child-gateway.js';
import { device, Inbox, replyTopics, stationDevices, wireOrder, wireOrderGrams } from '../support/floor.js';
import { drained, type Rig, startRig, until } from '../support/sync-rig.js';

let rig: Rig;
let child: ChildGateway | null = null;
let configFile: string;
let dataDir: string;

const PRESALE = Array.from({ length: 5 }, (_, i) => `PRE-${String(i).padStart(3, '0')}`);
const NORMAL = 'NOR-000';
const GRAMS = wireOrderGrams(wireOrder(NORMAL));
type ParcelWire = { order_id: string; state: string; grams: number | null; unpack_reason: string | null };

beforeAll(async () => {
  rig = await startRig();
  dataDir = join(rig.dir, 'gw');
  configFile = join(rig.dir, 'packline.json');
  writeFileSync(configFile, JSON.stringify(rig.config(1)));
});

afterAll(async () => {
  child?.proc.kill('SIGKILL');
  await rig?.close();
});

async function api(g: ChildGateway, method: string, path: string, body?: unknown, token = g.tokens.admin): Promise<{ status: number; body: any }> {
  const res = await fetch(`${g.httpUrl}${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await res.text();
  return { status: res.status, body: text.startsWith('{') ? JSON.parse(text) : text };
}

/** The station's scanner, scale and printer over MQTT with their own identities. */
async function station(g: ChildGateway) {
  const d = stationDevices(1);
  const scanner = await device(g.mqttUrl, d.scanner, g.secrets[d.scanner] as string);
  const scale = await device(g.mqttUrl, d.scale, g.secrets[d.scale] as string);
  const printer = await device(g.mqttUrl, d.printer, g.secrets[d.printer] as string);
  const clients: MqttClient[] = [scanner, scale, printer];
  for (const c of clients) c.on('error', () => undefined);
  const scans = await Inbox.open(scanner, replyTopics(d.scanner));
  const prints = await Inbox.open(printer, [`dev/${d.printer}/cmd/print`, ...replyTopics(d.printer)]);
  await printer.publishAsync(`dev/${d.printer}/state`, JSON.stringify({ state: 'online' }), { qos: 1, retain: true });
  const pub = (c: MqttClient, topic: string, payload: unknown) => c.publishAsync(topic, JSON.stringify(payload), { qos: 1 });
  const answered = new Set<string>();
  let n = 0;
  const newJob = (m: { topic: string; payload: Record<string, unknown> }) => m.topic.endsWith('/cmd/print') && !answered.has(String(m.payload.job_id));
  return {
    /** Scans a code; the gateway's answer (ack or err). */
    async scan(code: string, tag: string) {
      await pub(scanner, `dev/${d.scanner}/evt/scan`, { msg_id: `s-${tag}`, code });
      return scans.next((m) => m.payload.msg_id === `s-${tag}`);
    },
    /** Empty scale, then the parcel: the weight that reaches the label gate. */
    async weigh(grams: number) {
      await pub(scale, `dev/${d.scale}/evt/weight`, { grams: 0, stable: true });
      await pub(scale, `dev/${d.scale}/evt/weight`, { grams, stable: true });
    },
    nextJob: () => prints.next(newJob),
    /** Leaves a label unanswered (the printer never reports it). */
    skip: (job: { payload: Record<string, unknown> }) => answered.add(String(job.payload.job_id)),
    async printed(job: { payload: Record<string, unknown> }) {
      const jobId = String(job.payload.job_id);
      answered.add(jobId);
      const tag = `p-${n++}-${jobId}`;
      await pub(printer, `dev/${d.printer}/evt/print_result`, { msg_id: tag, job_id: jobId, status: 'printed' });
      return prints.next((m) => m.payload.msg_id === tag);
    },
    stop: () => Promise.all(clients.map((c) => c.endAsync(true).catch(() => undefined))),
  };
}

it('presale parcels staged in an outage, a kill -9, paid after it: released on their staging label; a cancelled one unpacked; the checker finds each once', async () => {
  const presale = PRESALE.map((id) => ({ ...wireOrder(id), presale: true }));
  expect((await rig.admin('POST', '/admin/orders', [...presale, wireOrder(NORMAL)])).status).toBe(200);
  child = await startChildGateway(configFile, dataDir);
  const g1 = child;
  await until('orders pulled', async () => (await api(g1, 'GET', `/api/v1/orders/${NORMAL}`)).status === 200);

  // The cloud goes down; the floor packs ahead.
  await rig.cloud.setFaults({ down: true });
  const st1 = await station(g1);
  const staging = new Map<string, string>();
  for (const [i, id] of PRESALE.entries()) {
    expect((await st1.scan(`PS-${id}`, `a${i}`)).topic).toMatch(/\/ack$/);
    await st1.weigh(GRAMS);
    const job = await st1.nextJob();
    const zpl = String(job.payload.data);
    // A staging label: its own barcode, no waybill.
    expect(zpl).toContain('PRESALE - DO NOT SHIP');
    expect(zpl).toContain(`^FDSTG-${String(job.payload.shipment_id)}^FS`);
    expect(zpl).not.toContain(String(wireOrder(id).waybill));
    staging.set(id, String(job.payload.shipment_id));
    // The last one's label is still out when the power goes.
    if (i < PRESALE.length - 1) expect((await st1.printed(job)).topic).toMatch(/\/ack$/);
    else st1.skip(job);
  }
  // An ordinary order ships as usual meanwhile.
  expect((await st1.scan(`PS-${NORMAL}`, 'n0')).topic).toMatch(/\/ack$/);
  await st1.weigh(GRAMS);
  expect((await st1.printed(await st1.nextJob())).topic).toMatch(/\/ack$/);
  // Not paid: its staging label is refused and nothing is written.
  const early = await st1.scan(`STG-${staging.get(PRESALE[0]!)}`, 'early');
  expect(early.payload).toMatchObject({ code: 'PKL_PRESALE_UNPAID' });
  await st1.stop();

  g1.proc.kill('SIGKILL');
  await g1.exited;
  child = await startChildGateway(configFile, dataDir);
  const g2 = child;
  const st2 = await station(g2);
  // The staging label unanswered at the kill comes again, with its job id.
  const reissued = await st2.nextJob();
  expect(reissued.payload.shipment_id).toBe(staging.get(PRESALE.at(-1)!));
  expect(String(reissued.payload.data)).toContain('PRESALE - DO NOT SHIP');
  expect((await st2.printed(reissued)).topic).toMatch(/\/ack$/);
  const shelf = await api(g2, 'GET', '/api/v1/presale');
  expect(shelf.body).toMatchObject({ staged: 5, ready: 0, unpack: 0 });
  expect((shelf.body.parcels as ParcelWire[]).map((p) => [p.order_id, p.state, p.grams])).toEqual(PRESALE.map((id) => [id, 'staged', GRAMS]));

  // The cloud is back: four are paid, the owner cancels the last one before paying.
  await rig.cloud.setFaults({ down: false });
  for (const id of PRESALE.slice(0, 4)) expect((await rig.admin('POST', `/admin/orders/${id}/paid`)).status).toBe(200);
  expect((await rig.admin('POST', `/admin/orders/${PRESALE[4]}/cancel-request`, { request_id: 'CR-PRE-4', reason: 'deposit refunded' })).status).toBe(201);
  await until('payments and the cancel applied', async () => {
    const s = (await api(g2, 'GET', '/api/v1/presale')).body;
    return s.ready === 4 && s.unpack === 1;
  });
  const view = (await api(g2, 'GET', '/api/v1/stations/st-1')).body;
  expect(view.presale).toMatchObject({ staged: 0, ready: 4, unpack: 1 });

  for (const [i, id] of PRESALE.slice(0, 4).entries()) {
    expect((await st2.scan(`STG-${staging.get(id)}`, `r${i}`)).topic).toMatch(/\/ack$/);
    const label = await st2.nextJob();
    expect(String(label.payload.data)).toContain(String(wireOrder(id).waybill));
    expect((await st2.printed(label)).topic).toMatch(/\/ack$/);
  }
  // Scanned again: released already, no second label.
  expect((await st2.scan(`STG-${staging.get(PRESALE[0]!)}`, 'again')).payload).toMatchObject({ code: 'PKL_PRESALE_RELEASED' });
  const cancelled = PRESALE[4]!;
  expect((await st2.scan(`STG-${staging.get(cancelled)}`, 'cx')).payload).toMatchObject({ code: 'PKL_PRESALE_UNPACK' });
  await st2.stop();

  const unpack = await api(g2, 'GET', '/api/v1/presale/unpack');
  expect((unpack.body.parcels as ParcelWire[]).map((p) => [p.order_id, p.unpack_reason])).toEqual([[cancelled, 'PKL_INTERCEPT_CANCELLED']]);
  const stagingId = staging.get(cancelled) as string;
  expect((await api(g2, 'POST', `/api/v1/presale/parcels/${stagingId}/unpacked`, { operator: 'lee' }, g2.tokens.station)).body).toMatchObject({
    duplicate: false,
    parcel: { state: 'unpacked', unpacked_by: 'lee' },
  });
  expect((await api(g2, 'POST', `/api/v1/presale/parcels/${stagingId}/unpacked`, {}, g2.tokens.station)).body).toMatchObject({ duplicate: true });
  expect((await api(g2, 'POST', `/api/v1/presale/parcels/${staging.get(PRESALE[0]!)}/unpacked`, {})).body.error.code).toBe('PKL_PRESALE_RELEASED');

  await drained(g2.httpUrl, g2.tokens.admin);
  const r = rig.check();
  expect(r.problems).toEqual([]);
  expect(r.stats).toMatchObject({ presaleStaged: 5, presaleReleased: 4, presaleUnpacked: 1, presalePaid: 4, interceptViolations: 0 });
  const db = new Database(rig.gatewayDb(), { readonly: true });
  try {
    const labelled = db
      .prepare("SELECT json_extract(data, '$.order_id') AS o FROM events WHERE type = 'shipment.label_queued' ORDER BY seq")
      .pluck()
      .all() as string[];
    expect(labelled).toEqual([NORMAL, ...PRESALE.slice(0, 4)]);
    const shipped = db.prepare("SELECT json_extract(data, '$.order_id') FROM events WHERE type = 'shipment.shipped' ORDER BY seq").pluck().all() as string[];
    expect(shipped).toEqual([NORMAL, ...PRESALE.slice(0, 4)]);
    const accepted = db.prepare("SELECT COUNT(*) FROM events WHERE type = 'order.cancel_accepted'").pluck().get();
    expect(accepted).toBe(1);
  } finally {
    db.close();
  }
}, 180_000);
