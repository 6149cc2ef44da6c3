/**
 * The reprint guard end to end (docs/printing.md): a real gateway, devices on real MQTT connections,
 * supervisors added with the `packline` CLI against the running gateway's data directory, and
 * reprints through the HTTP API. What must hold: a wrong password prints nothing; the right one
 * prints exactly one new job with the same waybill and audits it; the same request id again
 * prints nothing; a failed label is listed as a print exception and a reprint from there ships
 * it; wrong passwords lock the supervisor out.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parsePlaintextConfig } from '../support/plaintext.js';
import { Gateway, type GatewayInfo } from '../../src/gateway.js';
import { createLogger } from '../../src/lib/logger.js';
import { runCli } from '../support/cli.js';
import { device, floorConfig, importOrders, Inbox, replyTopics, stationDevices, wireOrder, wireOrderGrams } from '../support/floor.js';

const PASSWORD = 'correct horse battery';
const MAX_FAILURES = 3;

let dir: string;
let gateway: Gateway;
let info: GatewayInfo;
const clients: MqttClient[] = [];
const st = stationDevices(1);
let scanner: MqttClient;
let scale: MqttClient;
let printer: MqttClient;
let scans: Inbox;
let printerIn: Inbox;

const cli = (args: string[], stdin = '') => runCli(dir, args, { stdin });

const orders = { first: wireOrder('O-2001'), failing: wireOrder('O-2002'), unlabelled: wireOrder('O-2003') };

function api(method: string, path: string, body?: unknown, token = info.tokens.station): Promise<Response> {
  return fetch(`${info.httpUrl}${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body !== undefined && { 'content-type': 'application/json' }) },
    ...(body !== undefined && { body: JSON.stringify(body) }),
  });
}

const reprint = (shipmentId: string, body: Record<string, unknown>) => api('POST', `/api/v1/shipments/${shipmentId}/reprint`, body);

async function events(): Promise<Array<{ type: string; subject: string; data: Record<string, unknown> }>> {
  const res = await api('GET', '/api/v1/events?after=0&limit=1000', undefined, info.tokens.admin);
  return ((await res.json()) as { events: Array<{ type: string; subject: string; data: Record<string, unknown> }> }).events;
}

let msg = 0;
async function publish(client: MqttClient, topic: string, payload: Record<string, unknown>): Promise<string> {
  const msgId = `m-${++msg}`;
  await client.publishAsync(topic, JSON.stringify({ msg_id: msgId, ...payload }), { qos: 1 });
  return msgId;
}

/** Scans an order and weighs it; resolves with the print command the gateway sent. */
async function packAndWeigh(order: Record<string, unknown>) {
  const seen = printerIn.messages.length;
  await publish(scale, `dev/${st.scale}/evt/weight`, { grams: 0, stable: true });
  const scanned = await publish(scanner, `dev/${st.scanner}/evt/scan`, { code: order.order_id });
  expect((await scans.next((m) => m.payload.msg_id === scanned)).topic).toBe(`dev/${st.scanner}/ack`);
  await publish(scale, `dev/${st.scale}/evt/weight`, { grams: wireOrderGrams(order), stable: true });
  return printerIn.next((m, i = printerIn.messages.indexOf(m)) => i >= seen && m.topic.endsWith('/cmd/print'));
}

/** The printer answers a job; resolves once the gateway acknowledged it (all earlier commands to the printer have arrived by then). */
async function answer(jobId: unknown, status: 'printed' | 'failed', reason?: string): Promise<void> {
  const id = await publish(printer, `dev/${st.printer}/evt/print_result`, { job_id: jobId, status, ...(reason !== undefined && { reason }) });
  const ack = await printerIn.next((m) => m.payload.msg_id === id);
  expect(ack.topic).toBe(`dev/${st.printer}/ack`);
}

const printCommands = () => printerIn.messages.filter((m) => m.topic.endsWith('/cmd/print'));

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'pkl-reprint-'));
  const raw = floorConfig(
    dir,
    { stations: 1, lines: 0, verifyItems: 'never' },
    {
      printing: { reprint: { maxFailures: MAX_FAILURES, windowMs: 60_000 } },
    },
  );
  gateway = new Gateway(parsePlaintextConfig(raw), createLogger('silent'));
  await gateway.start();
  info = gateway.info();
  const secrets = Object.fromEntries(info.issued.map((s) => [s.deviceId, s.secret]));
  const connect = async (id: string) => {
    const c = await device(info.mqttUrl as string, id, secrets[id] as string);
    clients.push(c);
    return c;
  };
  scanner = await connect(st.scanner);
  scale = await connect(st.scale);
  printer = await connect(st.printer);
  scans = await Inbox.open(scanner, replyTopics(st.scanner));
  printerIn = await Inbox.open(printer, [`dev/${st.printer}/cmd/print`, ...replyTopics(st.printer)]);
  expect((await importOrders(info.httpUrl, info.tokens.admin, Object.values(orders))).status).toBe(200);
});

afterAll(async () => {
  await Promise.all(clients.map((c) => c.endAsync(true).catch(() => undefined)));
  await gateway?.stop();
  if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
});

describe('reprint guard on a running gateway', () => {
  let shipmentId: string;
  let firstJob: string;
  let reprintJob: string;

  it('adds supervisors with the CLI while the gateway runs (password from stdin, never listed)', async () => {
    const short = await cli(['supervisor', 'add', 'li'], 'short\n');
    expect(short.code).toBe(1);
    expect(short.stderr).toContain('PKL_PAYLOAD_INVALID');
    const add = await cli(['supervisor', 'add', 'li'], `${PASSWORD}\n`);
    expect(add.stderr).toBe('');
    expect(add.stdout).toBe('supervisor li added\n');
    expect((await cli(['supervisor', 'add', '王主管'], `${PASSWORD}-wang\n`)).code).toBe(0);
    const list = await cli(['supervisor', 'list', '--json']);
    expect((JSON.parse(list.stdout) as Array<{ name: string }>).map((s) => s.name)).toEqual(['li', '王主管']);
    expect(list.stdout).not.toContain('scrypt');
  });

  it('ships a parcel', async () => {
    const job = await packAndWeigh(orders.first);
    firstJob = String(job.payload.job_id);
    shipmentId = String(job.payload.shipment_id);
    await answer(firstJob, 'printed');
    const s = (await (await api('GET', `/api/v1/shipments/${shipmentId}`)).json()) as { state: string; waybill: string };
    expect(s).toMatchObject({ state: 'shipped', waybill: orders.first.waybill });
  });

  it('refuses a wrong password and prints nothing', async () => {
    const res = await reprint(shipmentId, { supervisor: 'li', password: 'not the password', request_id: 'rp-0' });
    expect(res.status).toBe(403);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('PKL_SUPERVISOR_PASSWORD_WRONG');
  });

  it('reprints with the right password: exactly one new job, same waybill, audited', async () => {
    const res = await reprint(shipmentId, { supervisor: 'li', password: PASSWORD, request_id: 'rp-1', note: 'label smudged' });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { job_id: string; duplicate: boolean };
    expect(body.duplicate).toBe(false);
    reprintJob = body.job_id;
    expect(reprintJob).not.toBe(firstJob);
    const cmd = await printerIn.next((m) => m.topic.endsWith('/cmd/print') && m.payload.job_id === reprintJob);
    expect(cmd.payload).toMatchObject({ shipment_id: shipmentId, format: 'zpl', copies: 1 });
    expect(String(cmd.payload.data)).toContain(String(orders.first.waybill));
  });

  it('the same request id again answers with the same job and prints nothing', async () => {
    const res = await reprint(shipmentId, { supervisor: 'li', password: PASSWORD, request_id: 'rp-1', note: 'label smudged' });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ job_id: reprintJob, duplicate: true });
    // The printer's answer is acknowledged after anything sent to it before: a second print
    // command (wrong password, repeated request) would have arrived by then.
    await answer(reprintJob, 'printed');
    expect(printCommands().map((m) => m.payload.job_id)).toEqual([firstJob, reprintJob]);
    const reprinted = (await events()).filter((e) => e.type === 'shipment.reprinted');
    expect(reprinted).toEqual(
      [
        {
          type: 'shipment.reprinted',
          subject: `shipment:${shipmentId}`,
          data: {
            job_id: reprintJob,
            previous_job_id: firstJob,
            supervisor: 'li',
            request_id: 'rp-1',
            note: 'label smudged',
            waybill: orders.first.waybill,
            printer_id: st.printer,
          },
        },
      ].map((e) => expect.objectContaining(e)),
    );
    const s = (await (await api('GET', `/api/v1/shipments/${shipmentId}`)).json()) as { state: string };
    expect(s.state).toBe('shipped');
  });

  it('lists a failed label as a print exception (API and CLI); a reprint from there ships it', async () => {
    const job = await packAndWeigh(orders.failing);
    const failedId = String(job.payload.shipment_id);
    await answer(job.payload.job_id, 'failed', 'paper_out');
    const listed = (await (await api('GET', '/api/v1/print/exceptions')).json()) as {
      exceptions: Array<{ shipment: { shipment_id: string; waybill: string }; printer_id: string; cause: string }>;
    };
    expect(listed.exceptions).toEqual([
      expect.objectContaining({ shipment: expect.objectContaining({ shipment_id: failedId }), printer_id: st.printer, cause: 'paper_out' }),
    ]);
    const fromCli = await cli(['print', 'exceptions', '--json']);
    expect((JSON.parse(fromCli.stdout) as Array<{ shipment: { shipmentId: string } }>).map((e) => e.shipment.shipmentId)).toEqual([failedId]);

    const res = await reprint(failedId, { supervisor: '王主管', password: `${PASSWORD}-wang`, request_id: 'rp-2' });
    expect(res.status).toBe(200);
    const { job_id: jobId } = (await res.json()) as { job_id: string };
    const cmd = await printerIn.next((m) => m.topic.endsWith('/cmd/print') && m.payload.job_id === jobId);
    expect(String(cmd.payload.data)).toContain(String(orders.failing.waybill));
    await answer(jobId, 'printed');
    const s = (await (await api('GET', `/api/v1/shipments/${failedId}`)).json()) as { state: string; label_job_id: string };
    expect(s).toMatchObject({ state: 'shipped', label_job_id: jobId });
    expect(((await (await api('GET', '/api/v1/print/exceptions')).json()) as { exceptions: unknown[] }).exceptions).toEqual([]);
  });

  it('ships a failed label without a label printed here, with the password, once (直接发货)', async () => {
    const job = await packAndWeigh(orders.unlabelled);
    const id = String(job.payload.shipment_id);
    await answer(job.payload.job_id, 'failed', 'head_open');
    const ship = (body: Record<string, unknown>) => api('POST', `/api/v1/shipments/${id}/ship-unlabelled`, body);
    expect((await ship({ supervisor: '王主管', password: 'wrong', request_id: 'su-1' })).status).toBe(403);
    const printsBefore = printCommands().length;
    const ok = await ship({ supervisor: '王主管', password: `${PASSWORD}-wang`, request_id: 'su-1', note: 'printer head broken' });
    expect(ok.status).toBe(200);
    expect(await ok.json()).toEqual({ shipment_id: id, duplicate: false });
    expect(await (await ship({ supervisor: '王主管', password: `${PASSWORD}-wang`, request_id: 'su-1' })).json()).toEqual({ shipment_id: id, duplicate: true });
    const s = (await (await api('GET', `/api/v1/shipments/${id}`)).json()) as { state: string };
    expect(s.state).toBe('shipped');
    const mine = (await events()).filter((e) => e.subject === `shipment:${id}`);
    expect(mine.filter((e) => e.type === 'shipment.shipped').map((e) => e.data.unlabelled)).toEqual([true]);
    expect(mine.filter((e) => e.type === 'shipment.shipped_unlabelled').map((e) => e.data.supervisor)).toEqual(['王主管']);
    expect(printCommands().length).toBe(printsBefore); // nothing printed
    expect(((await (await api('GET', '/api/v1/print/exceptions')).json()) as { exceptions: unknown[] }).exceptions).toEqual([]);
  });

  it(`locks a supervisor out after ${MAX_FAILURES} wrong passwords, even for the right one`, async () => {
    for (let i = 0; i < MAX_FAILURES; i++) {
      expect((await reprint(shipmentId, { supervisor: 'li', password: `guess ${i}`, request_id: `rp-g${i}` })).status).toBe(403);
    }
    const locked = await reprint(shipmentId, { supervisor: 'li', password: PASSWORD, request_id: 'rp-3' });
    expect(locked.status).toBe(429);
    expect(Number(locked.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(((await locked.json()) as { error: { code: string } }).error.code).toBe('PKL_REPRINT_LOCKED');
    // Another supervisor is not locked; the parcel's last job printed, so this one prints.
    const other = await reprint(shipmentId, { supervisor: '王主管', password: `${PASSWORD}-wang`, request_id: 'rp-4' });
    expect(other.status).toBe(200);
    const { job_id: jobId } = (await other.json()) as { job_id: string };
    await printerIn.next((m) => m.topic.endsWith('/cmd/print') && m.payload.job_id === jobId);
    await answer(jobId, 'printed');
    const reprints = (await events()).filter((e) => e.type === 'shipment.reprinted' && e.subject === `shipment:${shipmentId}`);
    expect(reprints.map((e) => e.data.request_id)).toEqual(['rp-1', 'rp-4']);
  });
});
