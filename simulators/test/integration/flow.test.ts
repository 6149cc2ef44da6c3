/**
 * The orchestrating simulators (packing station, load generator, cloud, whole floor) over
 * real MQTT and HTTP, against the aedes broker plus a stand-in for the gateway's flow.
 */
import { once } from 'node:events';
import { existsSync, mkdtempSync, readdirSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CloudSim } from '../../src/cloud/cloud-sim.js';
import { StationSim } from '../../src/devices/station-sim.js';
import { startFloor } from '../../src/floor/floor.js';
import { CLEAN_SHARES, OrderGenerator } from '../../src/orders/order-generator.js';
import type { WireOrder } from '../../src/orders/wire-order.js';
import { fakeGateway, startBroker, stationCredentials, type TestBroker, waitFor } from './harness.js';

let broker: TestBroker;
beforeAll(async () => {
  broker = await startBroker();
});
afterAll(async () => {
  await broker.close();
});

/** Captures order imports; answers 503 for the first `failFirst` requests. */
async function fakeImportApi(failFirst = 0) {
  const posts: { auth: string | undefined; orders: WireOrder[] }[] = [];
  let seen = 0;
  const server: Server = createServer(async (req: IncomingMessage, res) => {
    let body = '';
    for await (const chunk of req) body += chunk;
    if (req.method !== 'POST' || req.url !== '/api/v1/orders') {
      res.writeHead(404).end();
      return;
    }
    if (seen++ < failFirst) {
      res.writeHead(503, { 'content-type': 'application/json' }).end(JSON.stringify({ code: 'PKL_OVERLOADED' }));
      return;
    }
    posts.push({ auth: req.headers.authorization, orders: JSON.parse(body) });
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ imported: JSON.parse(body).length }));
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { url, posts, close: () => new Promise<void>((r) => server.close(() => r())) };
}

const clean = (n: number, seed = 1) => new OrderGenerator({ seed, shares: CLEAN_SHARES, idPrefix: `T${seed}` }).batch(n);

describe('station sim', () => {
  it('packs an order end to end and measures weight-to-print latency', async () => {
    const gw = await fakeGateway(broker.url, { maxGrams: 20_000 });
    const labelsDir = mkdtempSync(join(tmpdir(), 'labels-'));
    const creds = stationCredentials(['s1']).devices;
    const login = (id: string) => ({ deviceId: id, secret: creds[id]?.secret as string });
    const station = new StationSim({
      stationId: 's1',
      mqttUrl: broker.url,
      scanner: login('s1-scanner'),
      scale: login('s1-scale'),
      printer: login('s1-printer'),
      labelsDir,
      scaleSettleReadings: 2,
      scaleReadingIntervalMs: 5,
      wrongItemRate: 1,
      replyTimeoutMs: 5000,
      printTimeoutMs: 5000,
    });
    await station.start();
    const [order, heavy] = clean(2, 7) as [WireOrder, WireOrder];
    const r = await station.pack(order);
    expect(r).toMatchObject({ outcome: 'printed', stage: 'print', code: null, waybill: order.waybill, orderId: order.order_id });
    expect(r.latencyMs).toBeGreaterThan(0);
    expect(existsSync(join(labelsDir, `${r.jobId}.zpl`))).toBe(true);

    // A parcel the gateway refuses on weight: no label, the code is reported.
    const strict = await fakeGateway(broker.url, { maxGrams: 1 });
    await gw.close();
    const refused = await station.pack(heavy);
    expect(refused).toMatchObject({ outcome: 'rejected', stage: 'weigh', code: 'PKL_WEIGHT_OUT_OF_TOLERANCE', latencyMs: null });
    const stats = station.stats();
    expect(stats.shipments).toBe(2);
    expect(stats.outcomes).toEqual({ printed: 1, rejected: 1 });
    // wrongItemRate 1: each parcel began with a wrong item the gateway refused.
    expect(stats.codes).toEqual({ PKL_ITEM_WRONG: 2, PKL_WEIGHT_OUT_OF_TOLERANCE: 1 });
    expect(stats.latencyMs.count).toBe(1);
    await station.stop();
    await strict.close();
  });
});

describe('cloud sim', () => {
  it('pushes orders, retries a refusing gateway, and flips refunds with a higher revision', async () => {
    const api = await fakeImportApi(2);
    const cloud = new CloudSim({
      httpUrl: api.url,
      adminToken: 'admin',
      seed: 5,
      idPrefix: 'C',
      initialOrders: 30,
      batchEveryMs: 0,
      refundFlipEveryMs: 0,
      waybillEveryMs: 0,
      shares: { noWaybill: 0.5 },
    });
    const imported: WireOrder[] = [];
    cloud.on('imported', (o) => imported.push(...o));
    await cloud.start();
    expect(api.posts[0]?.orders).toHaveLength(30);
    expect(cloud.stats()).toMatchObject({ orders: 30, pushed: 30, pushErrors: 2, queued: 0 });
    expect(imported).toHaveLength(30);

    const flipped = await cloud.flipToRefund();
    expect(flipped?.flags.refund_requested).toBe(true);
    expect(flipped?.revision).toBe(2);
    expect(api.posts.at(-1)?.orders).toEqual([flipped]);
    expect(cloud.book.get(flipped?.order_id as string)?.revision).toBe(2);

    const waybilled = await cloud.issueWaybills();
    expect(waybilled.length).toBeGreaterThan(0);
    for (const o of waybilled) expect(o.waybill).not.toBeNull();

    const batch = await cloud.addBatch(5);
    expect(api.posts.at(-1)?.orders.map((o) => o.order_id)).toEqual(batch.map((o) => o.order_id));
    await cloud.stop();
    await api.close();
  });
});

describe('floor', () => {
  it('runs the default floor shape: cloud → stations → DWS line', async () => {
    const gw = await fakeGateway(broker.url);
    const api = await fakeImportApi();
    const labelsDir = mkdtempSync(join(tmpdir(), 'floor-labels-'));
    const creds = stationCredentials(['st-01', 'st-02']);
    (creds.devices as Record<string, unknown>)['dws-01'] = { secret: 'd', role: 'conveyor', station: 'line-01' };
    const floor = await startFloor({
      mqttUrl: broker.url,
      httpUrl: api.url,
      adminToken: 'admin',
      credentials: creds,
      labelsDir,
      scenario: {
        runTag: 'F1',
        stations: [
          { id: 'st-01', parcelEverySeconds: 0.01, wrongItemRate: 0, wrongWeightRate: 0 },
          { id: 'st-02', parcelEverySeconds: 0.01, wrongItemRate: 0, wrongWeightRate: 0 },
        ],
        lines: [{ id: 'line-01', parcelEverySeconds: 0.05, divertTimeoutMs: 50 }],
        cloud: {
          initialOrders: 12,
          batchEverySeconds: 0,
          refundFlipEverySeconds: 0,
          waybillEverySeconds: 0,
          shares: { refundRequested: 0, cancelled: 0, platformClosed: 0, noWaybill: 0 },
        },
        scaleSettleReadings: 1,
        scaleReadingIntervalMs: 5,
      },
    });
    await waitFor(() => floor.stats().totals.shipments >= 6 && (floor.stats().lines[0]?.parcels ?? 0) >= 2, 10_000).catch((e) => {
      console.log(JSON.stringify(floor.stats(), null, 1));
      throw e;
    });
    await floor.stop();
    const stats = floor.stats();
    expect(stats.runTag).toBe('F1');
    expect(stats.cloud).toMatchObject({ orders: 12, pushed: 12 });
    expect(api.posts[0]?.orders[0]?.order_id.startsWith('F1')).toBe(true);
    expect(stats.totals.outcomes['printed']).toBe(stats.totals.shipments);
    expect(stats.totals.scanToPrintMs.count).toBe(stats.totals.shipments);
    expect(stats.stations.map((s) => s.stationId)).toEqual(['st-01', 'st-02']);
    expect(stats.stations.every((s) => s.shipments > 0)).toBe(true);
    // The stand-in gateway never diverts, so every parcel rode to the default chute.
    expect(stats.lines[0]).toMatchObject({ lineId: 'line-01', deviceId: 'dws-01', chutes: { DEFAULT: stats.lines[0]?.parcels } });
    expect(readdirSync(labelsDir).filter((f) => f.endsWith('.zpl')).length).toBe(stats.totals.shipments);
    await gw.close();
    await api.close();
  });

  it('refuses a scenario whose devices are missing from the credentials', async () => {
    await expect(
      startFloor({
        mqttUrl: broker.url,
        httpUrl: 'http://127.0.0.1:9',
        adminToken: 'a',
        credentials: stationCredentials(['st-01']),
        labelsDir: tmpdir(),
        scenario: {},
      }),
    ).rejects.toMatchObject({ code: 'PKL_CONFIG_INVALID', message: expect.stringMatching(/st-02/) });
  });
});
