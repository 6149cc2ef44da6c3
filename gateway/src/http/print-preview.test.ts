/**
 * Label previews and the test page over HTTP (`app.inject`), on the real SQLite store and the
 * real worker-thread renderer. The test page's MQTT side is tested against the real broker in
 * gateway/test/integration/test-page.test.ts; here the broker link is a recording publish.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { type HttpHarness, asAdmin, asStation, makeHttpHarness, wireOrder } from '../../test/support/http-harness.js';
import { StoreStationService } from '../../test/support/station-service.js';
import { parseConfig } from '../config/load.js';
import { createLogger } from '../lib/logger.js';
import { Metrics } from '../metrics.js';
import { createPrinterService } from '../printing/printers.js';
import { openStore } from '../storage/sqlite-store.js';
import type { PrintJob, Shipment, Store } from '../storage/types.js';
import { SyncService } from '../sync/sync-service.js';
import { buildHttpApp } from './app.js';
import { createStoreOrderService } from './order-import.js';

// Safety net only: the first preview starts the renderer's worker (a 9 MB WebAssembly module).
vi.setConfig({ testTimeout: 60_000, hookTimeout: 60_000 });

const golden = readFileSync(new URL('../label/golden/sf-basic.zpl', import.meta.url), 'utf8');
const PNG_SIGNATURE = '89504e470d0a1a0a';

function pngSize(body: Buffer): { signature: string; width: number; height: number } {
  return { signature: body.subarray(0, 8).toString('hex'), width: body.readUInt32BE(16), height: body.readUInt32BE(20) };
}

function job(jobId: string, extra: Partial<PrintJob> = {}): PrintJob {
  return { jobId, shipmentId: null, printerId: 'prn-1', format: 'zpl', data: golden, state: 'queued', reason: null, createdAt: 1, updatedAt: 1, ...extra };
}

function shipment(shipmentId: string, extra: Partial<Shipment> = {}): Shipment {
  return {
    shipmentId,
    orderId: 'O1',
    stationId: 'st-1',
    state: 'printed',
    reasonCode: null,
    scanned: {},
    expectedGrams: 430,
    actualGrams: 432,
    carrier: 'ZTO',
    waybill: 'ZTO1',
    labelJobId: null,
    operator: null,
    openedAt: 1,
    updatedAt: 2,
    shippedAt: null,
    ...extra,
  };
}

describe('label previews', () => {
  let h: HttpHarness;
  beforeAll(async () => {
    h = await makeHttpHarness();
    const res = await h.app.inject({ method: 'POST', url: '/api/v1/orders', headers: asAdmin, payload: [wireOrder('O1')] });
    expect(res.statusCode).toBe(200);
    await h.store.write([
      { op: 'shipment.put', shipment: shipment('S-1', { labelJobId: 'J-2' }) },
      { op: 'shipment.put', shipment: shipment('S-2', { state: 'verifying' }) },
      { op: 'printjob.put', job: job('J-1') },
      // Printed: the store keeps no data (station-machine.ts), the preview rebuilds the label.
      { op: 'printjob.put', job: job('J-2', { shipmentId: 'S-1', data: '', state: 'printed' }) },
      { op: 'printjob.put', job: job('J-3', { format: 'tspl', data: 'SIZE 76 mm,130 mm\r\nCLS\r\nPRINT 1\r\n' }) },
      { op: 'printjob.put', job: job('J-4', { data: '', state: 'printed' }) },
    ]);
  });
  afterAll(() => h.close());

  it('GET /api/v1/print/jobs/:jobId/preview.png draws a stored job (any token)', async () => {
    const res = await h.app.inject({ method: 'GET', url: '/api/v1/print/jobs/J-1/preview.png', headers: asStation });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toBe('image/png');
    expect(pngSize(res.rawPayload)).toEqual({ signature: PNG_SIGNATURE, width: 608, height: 1040 });
  });

  it("rebuilds a printed job's label from its shipment and order", async () => {
    const res = await h.app.inject({ method: 'GET', url: '/api/v1/print/jobs/J-2/preview.png', headers: asAdmin });
    expect(res.statusCode).toBe(200);
    expect(pngSize(res.rawPayload)).toEqual({ signature: PNG_SIGNATURE, width: 608, height: 1040 });
  });

  it('answers coded errors: no token, unknown job, TSPL, a printed job with nothing to rebuild from', async () => {
    const anonymous = await h.app.inject({ method: 'GET', url: '/api/v1/print/jobs/J-1/preview.png' });
    expect(anonymous.statusCode).toBe(401);
    const unknown = await h.app.inject({ method: 'GET', url: '/api/v1/print/jobs/J-9/preview.png', headers: asStation });
    expect(unknown.statusCode).toBe(404);
    expect(unknown.json().error).toMatchObject({ code: 'PKL_PRINT_JOB_UNKNOWN', details: { jobId: 'J-9' } });
    const tspl = await h.app.inject({ method: 'GET', url: '/api/v1/print/jobs/J-3/preview.png', headers: asStation });
    expect(tspl.statusCode).toBe(501);
    expect(tspl.headers['content-type']).toMatch(/^application\/json/);
    expect(tspl.json().error).toMatchObject({ code: 'PKL_PREVIEW_UNSUPPORTED', details: { format: 'tspl' } });
    const gone = await h.app.inject({ method: 'GET', url: '/api/v1/print/jobs/J-4/preview.png', headers: asStation });
    expect(gone.statusCode).toBe(500);
    expect(gone.json().error.code).toBe('PKL_PREVIEW_FAILED');
  });

  it("GET /api/v1/shipments/:shipmentId/label.png draws the shipment's latest label", async () => {
    const res = await h.app.inject({ method: 'GET', url: '/api/v1/shipments/S-1/label.png', headers: asStation });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toBe('image/png');
    expect(pngSize(res.rawPayload)).toEqual({ signature: PNG_SIGNATURE, width: 608, height: 1040 });
    const unlabelled = await h.app.inject({ method: 'GET', url: '/api/v1/shipments/S-2/label.png', headers: asStation });
    expect(unlabelled.statusCode).toBe(404);
    expect(unlabelled.json().error.code).toBe('PKL_NOT_FOUND');
    const unknown = await h.app.inject({ method: 'GET', url: '/api/v1/shipments/S-9/label.png', headers: asStation });
    expect(unknown.statusCode).toBe(404);
    expect(unknown.json().error).toMatchObject({ code: 'PKL_SHIPMENT_NOT_FOUND', details: { shipmentId: 'S-9' } });
  });

  it('the test page without a printer service: unknown printer 404, station token 403', async () => {
    const res = await h.app.inject({ method: 'POST', url: '/api/v1/printers/prn-1/test-page', headers: asAdmin });
    expect(res.statusCode).toBe(404);
    expect(res.json().error).toMatchObject({ code: 'PKL_DEVICE_UNKNOWN', details: { deviceId: 'prn-1' } });
    const station = await h.app.inject({ method: 'POST', url: '/api/v1/printers/prn-1/test-page', headers: asStation });
    expect(station.statusCode).toBe(403);
  });
});

describe('POST /api/v1/printers/:printerId/test-page', () => {
  const ADMIN = 'adm-0123456789abcdef-test';
  const STATION = 'stn-0123456789abcdef-test';
  const published: Array<{ topic: string; payload: string; qos: number | undefined }> = [];
  const online = new Set(['prn-1', 'prn-tsc']);
  let dir: string;
  let store: Store;
  let app: FastifyInstance;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'pkl-testpage-'));
    const logger = createLogger('silent');
    store = openStore({ dataDir: dir, logger, minFreeMb: 0 });
    await store.start();
    const config = parseConfig({
      gatewayId: 'gw-test',
      devices: [
        { id: 'scan-1', role: 'scanner', station: 'st-1' },
        { id: 'scale-1', role: 'scale', station: 'st-1' },
        { id: 'prn-1', role: 'printer', station: 'st-1' },
        { id: 'prn-tsc', role: 'printer', driver: { kind: 'printer', definition: 'tsc-ttp-244', host: '127.0.0.1' } },
        { id: 'prn-off', role: 'printer' },
      ],
      stations: [{ id: 'st-1', scanner: 'scan-1', scale: 'scale-1', printer: 'prn-1' }],
    });
    app = await buildHttpApp({
      config,
      store,
      stations: new StoreStationService(store, [{ id: 'st-1', scanner: 'scan-1', scale: 'scale-1', printer: 'prn-1' }]),
      orders: createStoreOrderService(store),
      sync: new SyncService({ config, store, link: null, logger }),
      metrics: new Metrics({ logger }),
      health: { ready: () => ({ ready: true, checks: {} }) },
      tokens: { admin: ADMIN, station: STATION },
      logger,
      version: '0.0.0-test',
      printers: createPrinterService({
        config,
        boot: store.boot,
        publish: async (topic, payload, opts) => void published.push({ topic, payload, qos: opts.qos }),
        isOnline: (id) => online.has(id),
        logger,
        now: () => Date.UTC(2026, 10, 27, 10, 0, 0),
      }),
    });
  });
  afterAll(async () => {
    await app?.close();
    await store?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const post = (printerId: string, token = ADMIN) =>
    app.inject({ method: 'POST', url: `/api/v1/printers/${printerId}/test-page`, headers: { authorization: `Bearer ${token}` } });

  it("publishes a test page in the printer's language with fresh T- job ids", async () => {
    const first = await post('prn-1');
    expect(first.statusCode).toBe(200);
    const body = first.json();
    expect(body).toEqual({ job_id: expect.stringMatching(/^T-gw-test-[0-9a-z]+-0$/), printer_id: 'prn-1', format: 'zpl' });
    const second = await post('prn-1');
    expect(second.json().job_id).toMatch(/-1$/);
    const tsc = await post('prn-tsc');
    expect(tsc.json()).toMatchObject({ printer_id: 'prn-tsc', format: 'tspl' });

    expect(published.map((p) => [p.topic, p.qos])).toEqual([
      ['dev/prn-1/cmd/print', 1],
      ['dev/prn-1/cmd/print', 1],
      ['dev/prn-tsc/cmd/print', 1],
    ]);
    const cmd = JSON.parse(published[0]?.payload ?? '{}');
    expect(cmd).toMatchObject({ job_id: body.job_id, format: 'zpl', copies: 1 });
    expect(cmd.shipment_id).toBeUndefined();
    expect(cmd.data).toContain('^FDPrinter: prn-1^FS');
    expect(cmd.data).toContain(`^BCN,100,Y,N,N^FD${body.job_id}^FS`);
    expect(JSON.parse(published[2]?.payload ?? '{}').data).toContain('BOX 0,0,607,1039,1\r\n');
  });

  it('refuses unknown devices, non-printers, offline printers and the station token', async () => {
    const before = published.length;
    expect((await post('prn-9')).json().error).toMatchObject({ code: 'PKL_DEVICE_UNKNOWN', details: { deviceId: 'prn-9' } });
    expect((await post('scan-1')).statusCode).toBe(404);
    const off = await post('prn-off');
    expect(off.statusCode).toBe(503);
    expect(off.json().error).toMatchObject({ code: 'PKL_PRINTER_UNAVAILABLE', details: { deviceId: 'prn-off' } });
    expect((await post('prn-1', STATION)).statusCode).toBe(403);
    expect(published.length).toBe(before);
  });
});
