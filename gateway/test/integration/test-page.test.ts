/**
 * The printer test page end to end: a real gateway (embedded broker, store, HTTP API) and
 * printer devices on real MQTT connections with their own credentials, subscribed to their
 * `dev/{id}/cmd/print`. An admin POSTs the test page; the printer receives it.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parsePlaintextConfig } from '../support/plaintext.js';
import { Gateway, type GatewayInfo } from '../../src/gateway.js';
import { createLogger } from '../../src/lib/logger.js';
import { renderZplPng } from '../../../device-drivers/src/printer/zpl/png.js';
import { Inbox, device, floorConfig, stationDevices } from '../support/floor.js';

let dir: string;
let gateway: Gateway;
let info: GatewayInfo;
let secrets: Record<string, string>;
const clients: MqttClient[] = [];
const [st1, st2, st3] = [stationDevices(1), stationDevices(2), stationDevices(3)];

async function connect(id: string): Promise<MqttClient> {
  const secret = secrets[id];
  if (secret === undefined) throw new Error(`no secret issued for ${id}`);
  const c = await device(info.mqttUrl as string, id, secret);
  clients.push(c);
  return c;
}

function testPage(printerId: string, token = info.tokens.admin): Promise<Response> {
  return fetch(`${info.httpUrl}/api/v1/printers/${printerId}/test-page`, { method: 'POST', headers: { authorization: `Bearer ${token}` } });
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'pkl-testpage-'));
  const raw = floorConfig(dir, { stations: 3, lines: 0 }) as { stations: Array<Record<string, unknown>> };
  // Station 2's printer speaks TSPL (e.g. a TSC behind IPP): its test page must be TSPL too.
  (raw.stations[1] as Record<string, unknown>).labelFormat = 'tspl';
  gateway = new Gateway(parsePlaintextConfig(raw), createLogger('silent'));
  await gateway.start();
  info = gateway.info();
  secrets = Object.fromEntries(info.issued.map((s) => [s.deviceId, s.secret]));
});

afterAll(async () => {
  await Promise.all(clients.map((c) => c.endAsync(true).catch(() => undefined)));
  await gateway?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('POST /api/v1/printers/:printerId/test-page', () => {
  it('sends a ZPL test page to a ZPL printer over MQTT', async () => {
    const printer = await connect(st1.printer);
    const jobs = await Inbox.open(printer, `dev/${st1.printer}/cmd/print`);

    const res = await testPage(st1.printer);
    expect(res.status).toBe(200);
    const body = (await res.json()) as { job_id: string; printer_id: string; format: string };
    expect(body).toMatchObject({ printer_id: st1.printer, format: 'zpl' });
    expect(body.job_id).toMatch(/^T-gw-test-/);

    const job = await jobs.next((m) => m.payload.job_id === body.job_id);
    expect(job.payload).toMatchObject({ job_id: body.job_id, format: 'zpl', copies: 1 });
    const zpl = String(job.payload.data);
    expect(zpl).toContain(`^FDPrinter: ${st1.printer}^FS`);
    expect(zpl).toContain('^FDGateway: gw-test^FS');
    expect(zpl).toContain(`^BCN,100,Y,N,N^FD${body.job_id}^FS`);
    expect(zpl).toContain('^FO0,0^GB608,1040,1^FS');
    expect(zpl).toContain('^CI28');
    expect(zpl).toMatch(/\^AJN,\d+,\d+\^FH\^FD中文测试/);
    // What the printer received is a label the renderer draws at its declared size.
    const png = await renderZplPng(zpl);
    expect([png.readUInt32BE(16), png.readUInt32BE(20)]).toEqual([608, 1040]);

    // A second page is a new job.
    const again = (await (await testPage(st1.printer)).json()) as { job_id: string };
    expect(again.job_id).not.toBe(body.job_id);
    expect((await jobs.next((m) => m.payload.job_id === again.job_id)).payload.format).toBe('zpl');
  });

  it('sends TSPL to a printer whose station prints TSPL', async () => {
    const printer = await connect(st2.printer);
    const jobs = await Inbox.open(printer, `dev/${st2.printer}/cmd/print`);
    const res = await testPage(st2.printer);
    expect(res.status).toBe(200);
    const body = (await res.json()) as { job_id: string; format: string };
    expect(body.format).toBe('tspl');
    const job = await jobs.next((m) => m.payload.job_id === body.job_id);
    const tspl = String(job.payload.data);
    expect(tspl.startsWith('SIZE 76 mm,130 mm\r\n')).toBe(true);
    expect(tspl).toContain('BOX 0,0,607,1039,1\r\n');
    expect(tspl).toContain(`"Printer: ${st2.printer}"`);
    expect(tspl.endsWith('PRINT 1\r\n')).toBe(true);
  });

  it('refuses a printer that is not connected, a device that is not a printer and the station token', async () => {
    const offline = await testPage(st3.printer);
    expect(offline.status).toBe(503);
    expect(((await offline.json()) as { error: { code: string } }).error.code).toBe('PKL_PRINTER_UNAVAILABLE');
    const scanner = await testPage(st1.scanner);
    expect(scanner.status).toBe(404);
    expect(((await scanner.json()) as { error: { code: string } }).error.code).toBe('PKL_DEVICE_UNKNOWN');
    expect((await testPage(st1.printer, info.tokens.station)).status).toBe(403);
  });
});
