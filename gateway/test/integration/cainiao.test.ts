/**
 * The Cainiao print-component endpoint on a real gateway: an ERP-page-like WebSocket client
 * (simulators/src/cloud/cainiao-client.ts) prints on a printer that is an MQTT device with its
 * own credentials on the embedded broker, answering `dev/{id}/cmd/print` with
 * `dev/{id}/evt/print_result` as a printer driver does.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PrintCommand } from '../../../contracts/payloads.js';
import {
  CainiaoClient,
  type CainiaoFrame,
  encryptedWaybillDocument,
  plainWaybillDocument,
  rawZplDocument,
} from '../../../simulators/src/cloud/cainiao-client.js';
import type { BrokerLink } from '../../src/broker/link.js';
import { parsePlaintextConfig } from '../support/plaintext.js';
import type { Config } from '../../src/config/schema.js';
import { Gateway, type GatewayInfo } from '../../src/gateway.js';
import type { Component } from '../../src/lib/component.js';
import { createLogger } from '../../src/lib/logger.js';
import { CainiaoPrintEndpoint, type CainiaoLimits } from '../../src/printing/cainiao/endpoint.js';
import { device, floorConfig } from '../support/floor.js';

const PRINTER = 'cn-printer-1';
const OFFLINE_PRINTER = 'st-1-printer';

let dir: string;
let config: Readonly<Config>;
let gateway: Gateway;
let info: GatewayInfo;
let url: string;
let printer: MqttClient;
const clients: CainiaoClient[] = [];

/** What the printer received, and how it answers the next job. */
const jobs: PrintCommand[] = [];
let answer: (job: PrintCommand) => { status: 'printed' | 'failed'; reason?: string } = () => ({ status: 'printed' });

/**
 * The gateway does not publish the endpoint's port in GatewayInfo; the test finds the running
 * component (and the broker link, for the limit tests) on the instance.
 */
function internals(g: Gateway): { running: Component[]; link: BrokerLink } {
  return g as unknown as { running: Component[]; link: BrokerLink };
}

async function page(at = url): Promise<CainiaoClient> {
  const c = await CainiaoClient.connect(at);
  clients.push(c);
  return c;
}

/** Waits (bounded) until the printer has received `n` jobs; returns them. */
async function jobsReceived(n: number): Promise<PrintCommand[]> {
  for (let i = 0; i < 500 && jobs.length < n; i++) await new Promise((r) => setTimeout(r, 10));
  expect(jobs.length).toBeGreaterThanOrEqual(n);
  return jobs.slice(0, n);
}

/**
 * Proof that a task sent earlier produced no job: a later task's job is the very next one the
 * printer receives (MQTT keeps a publisher's order on one topic).
 */
async function expectNoJobBefore(client: CainiaoClient, jobCountBefore: number): Promise<void> {
  const marker = plainWaybillDocument(`YT${Date.now()}${jobCountBefore}`);
  const taskID = `barrier-${jobCountBefore}-${marker.documentID}`;
  await client.print({ taskID, printer: PRINTER, documents: [marker] });
  await client.notification(taskID);
  const received = await jobsReceived(jobCountBefore + 1);
  expect(jobs.length).toBe(jobCountBefore + 1);
  expect(received[jobCountBefore]?.data).toContain(marker.documentID);
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'pkl-cainiao-'));
  const raw = floorConfig(dir, { stations: 1, lines: 0 }, { printing: { cainiao: { enabled: true, host: '127.0.0.1', port: 0 } } }) as {
    devices: Array<Record<string, string>>;
  };
  raw.devices.push({ id: PRINTER, role: 'printer', model: 'ZD421' });
  config = parsePlaintextConfig(raw);
  gateway = new Gateway(config, createLogger('silent'));
  await gateway.start();
  info = gateway.info();
  const endpoint = internals(gateway).running.find((c): c is CainiaoPrintEndpoint => c instanceof CainiaoPrintEndpoint);
  const address = endpoint?.address();
  if (!address) throw new Error('print-component endpoint not running');
  url = `ws://127.0.0.1:${address.port}`;

  const secret = info.issued.find((s) => s.deviceId === PRINTER)?.secret;
  if (secret === undefined) throw new Error(`no secret for ${PRINTER}`);
  printer = await device(info.mqttUrl as string, PRINTER, secret);
  printer.on('message', (topic, buf) => {
    if (topic !== `dev/${PRINTER}/cmd/print`) return;
    const job = JSON.parse(buf.toString()) as PrintCommand;
    jobs.push(job);
    printer.publish(`dev/${PRINTER}/evt/print_result`, JSON.stringify({ job_id: job.job_id, ...answer(job) }), { qos: 1 });
  });
  await printer.subscribeAsync(`dev/${PRINTER}/cmd/print`, { qos: 1 });
});

afterAll(async () => {
  await Promise.all(clients.map((c) => c.close().catch(() => undefined)));
  await printer?.endAsync(true).catch(() => undefined);
  await gateway?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('Cainiao print-component endpoint', () => {
  it('lists the configured printers; a connected one is enabled', async () => {
    const c = await page();
    let res: CainiaoFrame = {};
    // The broker reports the printer's connection a moment after its CONNACK: ask again until it shows.
    for (let i = 0; i < 100; i++) {
      res = await c.getPrinters();
      const p = (res.printers as Array<{ name: string; status: string }>).find((x) => x.name === PRINTER);
      if (p?.status === 'enable') break;
      await new Promise((r) => setTimeout(r, 20));
    }
    expect(res).toMatchObject({ cmd: 'getPrinters', status: 'success', errorCode: 0, defaultPrinter: OFFLINE_PRINTER });
    expect(res.printers).toEqual(
      expect.arrayContaining([
        { name: PRINTER, status: 'enable', type: 'RAW', model: 'ZD421' },
        { name: OFFLINE_PRINTER, status: 'disable', type: 'RAW' },
      ]),
    );
  });

  it('answers getPrinterConfig with the label paper, and refuses an unknown printer', async () => {
    const c = await page();
    expect(await c.getPrinterConfig(PRINTER)).toMatchObject({
      status: 'success',
      printer: { name: PRINTER, paperSize: { width: 76, height: 130 } },
    });
    expect(await c.getPrinterConfig('HP LaserJet')).toMatchObject({ status: 'failed', code: 'PKL_DEVICE_UNKNOWN' });
  });

  it('prints a plain-data waybill as a ZPL job and notifies rendered, then printed', async () => {
    const c = await page();
    const doc = plainWaybillDocument('YT7001', { customArea: { item_name: '白色T恤 x2', orderId: 'O-77' } });
    const before = jobs.length;
    const res = await c.print({ taskID: 'task-plain-1', printer: PRINTER, documents: [doc] }, 'req-1');
    expect(res).toMatchObject({ cmd: 'print', requestID: 'req-1', taskID: 'task-plain-1', status: 'success' });

    const printed = await c.notification('task-plain-1', ['printed']);
    const [job] = (await jobsReceived(before + 1)).slice(before);
    expect(job).toMatchObject({ format: 'zpl', copies: 1 });
    expect(job?.job_id).toMatch(/^cn-[0-9a-f]{32}$/);
    expect(job?.data).toMatch(/^\^XA/);
    expect(job?.data).toContain('^FDYT7001^FS');
    expect(job?.data).toContain('白色T恤 x2');

    const rendered = await c.notification('task-plain-1', ['rendered']);
    expect(c.frames.indexOf(rendered)).toBeLessThan(c.frames.indexOf(printed));
    expect(printed).toMatchObject({
      cmd: 'notifyPrintResult',
      requestID: 'req-1',
      printer: PRINTER,
      taskStatus: 'printed',
      status: 'success',
      printStatus: [{ documentID: 'YT7001', status: 'success', printer: PRINTER }],
    });
  });

  it('never prints a re-sent task twice: the sender is told it printed', async () => {
    const c = await page();
    const other = await page();
    const before = jobs.length;
    const task = { taskID: 'task-plain-1', printer: PRINTER, documents: [plainWaybillDocument('YT7001')] };
    expect(await c.print(task, 'req-again')).toMatchObject({ status: 'success', taskID: 'task-plain-1' });
    expect(await c.notification('task-plain-1', ['printed'])).toMatchObject({ requestID: 'req-again', taskStatus: 'printed' });
    // From another page (another PC) too.
    await other.print(task);
    await other.notification('task-plain-1', ['printed']);
    await expectNoJobBefore(c, before);

    const status = await c.getTaskStatus(['task-plain-1', 'never-sent']);
    expect(status.printStatus).toEqual([
      expect.objectContaining({
        taskID: 'task-plain-1',
        taskStatus: 'printed',
        detailStatus: [expect.objectContaining({ documentID: 'YT7001', status: 'success' })],
      }),
      expect.objectContaining({ taskID: 'never-sent', taskStatus: 'unknown', code: 'PKL_PRINT_JOB_UNKNOWN' }),
    ]);
  });

  it('fails an encrypted document with PKL_PRINT_ENCRYPTED_DOCUMENT and prints nothing', async () => {
    const c = await page();
    const before = jobs.length;
    expect(await c.print({ taskID: 'task-enc-1', printer: PRINTER, documents: [encryptedWaybillDocument('78000000001')] })).toMatchObject({
      status: 'success',
    });
    const failed = await c.notification('task-enc-1', ['failed']);
    expect(failed).toMatchObject({
      taskStatus: 'failed',
      status: 'failed',
      code: 'PKL_PRINT_ENCRYPTED_DOCUMENT',
      printStatus: [{ documentID: '78000000001', status: 'failed', code: 'PKL_PRINT_ENCRYPTED_DOCUMENT' }],
    });
    expect(String(failed.msg)).toContain('encrypted');
    // No "rendered" notification for a task nothing of which was rendered.
    expect(c.notifications('task-enc-1').map((f) => f.taskStatus)).toEqual(['failed']);
    await expectNoJobBefore(c, before);
  });

  it('reports the printer’s failure (paper out) with its reason; a re-send after the fix prints', async () => {
    const c = await page();
    answer = () => ({ status: 'failed', reason: 'paper out' });
    const before = jobs.length;
    const task = { taskID: 'task-paper-1', printer: PRINTER, documents: [plainWaybillDocument('YT7002')] };
    await c.print(task);
    const failed = await c.notification('task-paper-1', ['failed']);
    expect(failed).toMatchObject({
      taskStatus: 'failed',
      code: 'PKL_PRINT_FAILED',
      printStatus: [{ documentID: 'YT7002', status: 'failed', code: 'PKL_PRINT_FAILED', detail: 'paper out' }],
    });
    expect(String(failed.msg)).toContain('paper out');
    const firstJob = (await jobsReceived(before + 1))[before];

    answer = () => ({ status: 'printed' });
    await c.print(task);
    expect(await c.notification('task-paper-1', ['printed'])).toMatchObject({ taskStatus: 'printed' });
    const retry = (await jobsReceived(before + 2))[before + 1];
    expect(retry?.job_id).toBe(`${firstJob?.job_id}-2`);
  });

  it('passes raw ZPL through, and refuses raw ZPL that would reconfigure the printer', async () => {
    const c = await page();
    const before = jobs.length;
    const zpl = '^XA^FO40,40^A0N,40,40^FDRAW PASS^FS^XZ';
    await c.print({ taskID: 'task-raw-1', printer: PRINTER, documents: [rawZplDocument('raw-1', zpl)] });
    await c.notification('task-raw-1', ['printed']);
    expect((await jobsReceived(before + 1))[before]?.data).toBe(`${zpl}\n`);

    await c.print({ taskID: 'task-raw-2', printer: PRINTER, documents: [rawZplDocument('raw-2', '^XA^JUS^XZ')] });
    expect(await c.notification('task-raw-2', ['failed'])).toMatchObject({ code: 'PKL_LABEL_TEMPLATE_ERROR' });
    await expectNoJobBefore(c, before + 1);
  });

  it('refuses a task for an offline printer, records nothing, and refuses previews', async () => {
    const c = await page();
    const task = { taskID: 'task-offline-1', printer: OFFLINE_PRINTER, documents: [plainWaybillDocument('YT7003')] };
    expect(await c.print(task)).toMatchObject({ status: 'failed', code: 'PKL_PRINTER_UNAVAILABLE', taskID: 'task-offline-1' });
    expect((await c.getTaskStatus(['task-offline-1'])).printStatus).toEqual([expect.objectContaining({ taskStatus: 'unknown' })]);
    expect(await c.print({ ...task, taskID: 'task-preview-1', printer: PRINTER, preview: true })).toMatchObject({
      status: 'failed',
      code: 'PKL_PAYLOAD_INVALID',
    });
  });

  it('shows a printer reporting a fault as disabled until it recovers', async () => {
    const c = await page();
    const statusOf = async () => ((await c.getPrinters()).printers as Array<{ name: string; status: string }>).find((p) => p.name === PRINTER)?.status;
    const until = async (want: string) => {
      for (let i = 0; i < 100 && (await statusOf()) !== want; i++) await new Promise((r) => setTimeout(r, 20));
      return statusOf();
    };
    await printer.publishAsync(`dev/${PRINTER}/state`, JSON.stringify({ state: 'error', reason: 'head open' }), { qos: 1, retain: true });
    expect(await until('disable')).toBe('disable');
    await printer.publishAsync(`dev/${PRINTER}/state`, JSON.stringify({ state: 'online' }), { qos: 1, retain: true });
    expect(await until('enable')).toBe('enable');
  });

  it('answers plain HTTP on its port with 426 Upgrade Required', async () => {
    const res = await fetch(url.replace('ws://', 'http://'));
    expect(res.status).toBe(426);
    expect(await res.text()).toContain('print-component');
  });

  it('answers garbage with a coded error and keeps the connection', async () => {
    const c = await page();
    c.sendRaw('hello, printer');
    expect(await c.next((f) => f.code === 'PKL_PAYLOAD_NOT_JSON')).toMatchObject({ status: 'failed', requestID: null, errorCode: 400 });
    c.sendRaw(Buffer.from([0xfe, 0xff, 0x00]));
    await c.next((f) => f.code === 'PKL_PAYLOAD_NOT_JSON' && c.frames.filter((x) => x.code === 'PKL_PAYLOAD_NOT_JSON').length === 2);
    c.sendRaw(JSON.stringify({ cmd: 'print', requestID: 'g-1', version: '1.0', task: { taskID: 't', documents: [] } }));
    expect(await c.next((f) => f.requestID === 'g-1')).toMatchObject({ cmd: 'print', status: 'failed', code: 'PKL_PAYLOAD_INVALID' });
    c.sendRaw(JSON.stringify({ cmd: 'selfDestruct', requestID: 'g-2', version: '1.0' }));
    expect(await c.next((f) => f.requestID === 'g-2')).toMatchObject({ cmd: 'selfDestruct', status: 'failed', code: 'PKL_PAYLOAD_INVALID' });
    expect(c.isOpen).toBe(true);
    expect(await c.getPrinters()).toMatchObject({ status: 'success' });
    expect(await c.request('getAgentInfo')).toMatchObject({ status: 'success', version: '1.0.0' });
  });
});

describe('Cainiao print-component endpoint limits', () => {
  /** A second endpoint on the same gateway's broker link, with small limits and a clock the test turns. */
  async function limitedEndpoint(limits: Partial<CainiaoLimits>, clock: { now: number }): Promise<{ endpoint: CainiaoPrintEndpoint; url: string }> {
    const endpoint = new CainiaoPrintEndpoint({ config, link: internals(gateway).link, logger: createLogger('silent'), limits, now: () => clock.now });
    await endpoint.start();
    const a = endpoint.address();
    if (!a) throw new Error('not listening');
    return { endpoint, url: `ws://127.0.0.1:${a.port}` };
  }

  it('answers an oversize frame with PKL_PAYLOAD_TOO_LARGE and closes on one beyond 4× the limit', async () => {
    const { endpoint, url: at } = await limitedEndpoint({ maxFrameBytes: 2048 }, { now: 0 });
    try {
      const c = await page(at);
      c.sendRaw(JSON.stringify({ cmd: 'getPrinters', requestID: 'big', pad: 'x'.repeat(3000) }));
      expect(await c.next((f) => f.code === 'PKL_PAYLOAD_TOO_LARGE')).toMatchObject({ status: 'failed', errorCode: 413 });
      expect(await c.getPrinters()).toMatchObject({ status: 'success' });
      c.sendRaw('x'.repeat(3 * 4096));
      expect((await c.whenClosed).code).toBe(1009);
    } finally {
      await endpoint.stop();
    }
  });

  it('rate-limits each connection and closes one that keeps flooding', async () => {
    const clock = { now: 1_000 };
    const { endpoint, url: at } = await limitedEndpoint({ framesPerSecond: 1, burst: 2, closeAfterRefused: 5 }, clock);
    try {
      const c = await page(at);
      for (let i = 0; i < 4; i++) c.sendRaw(JSON.stringify({ cmd: 'getPrinters', requestID: `r${i}`, version: '1.0' }));
      await c.next(() => c.frames.length === 4);
      expect(c.frames.filter((f) => f.status === 'success').map((f) => f.requestID)).toEqual(['r0', 'r1']);
      expect(c.frames.filter((f) => f.code === 'PKL_RATE_LIMITED')).toHaveLength(2);
      // Another page has its own allowance.
      expect(await (await page(at)).getPrinters()).toMatchObject({ status: 'success' });
      clock.now += 1_000;
      expect(await c.getPrinters()).toMatchObject({ status: 'success' });
      for (let i = 0; i < 5; i++) c.sendRaw(JSON.stringify({ cmd: 'getPrinters', requestID: `f${i}`, version: '1.0' }));
      expect((await c.whenClosed).code).toBe(1008);
    } finally {
      await endpoint.stop();
    }
  });

  it('refuses connections beyond the limit with 1013', async () => {
    const { endpoint, url: at } = await limitedEndpoint({ maxConnections: 1 }, { now: 0 });
    try {
      const first = await page(at);
      const second = await page(at);
      expect((await second.whenClosed).code).toBe(1013);
      expect(await first.getPrinters()).toMatchObject({ status: 'success' });
    } finally {
      await endpoint.stop();
    }
  });

  it('closes its clients with 1001 when it stops', async () => {
    const { endpoint, url: at } = await limitedEndpoint({}, { now: 0 });
    const c = await page(at);
    await c.getPrinters();
    await endpoint.stop();
    expect((await c.whenClosed).code).toBe(1001);
  });
});
