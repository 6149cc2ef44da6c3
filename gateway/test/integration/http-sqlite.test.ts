/**
 * The HTTP API over the real SQLite store on disk (the unit tests next to the routes use
 * the in-memory store): every write path lands durably, a refused request writes nothing,
 * and what the API stored is still there after the store is stopped and reopened.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/lib/logger.js';
import { openStore } from '../../src/storage/sqlite-store.js';
import { type HttpHarness, asAdmin, asStation, makeHttpHarness, wireOrder } from '../support/http-harness.js';

const dataDir = mkdtempSync(join(tmpdir(), 'packline-http-'));
const open = () => openStore({ dataDir, logger: createLogger('silent'), minFreeMb: 0 });
let h: HttpHarness;

beforeAll(async () => {
  h = await makeHttpHarness({ store: open() });
});
afterAll(async () => {
  await h?.close();
  rmSync(dataDir, { recursive: true, force: true });
});

// A write that never commits should fail this file quickly, not after the 120 s default.
describe('HTTP API on the SQLite store', { timeout: 30_000 }, () => {
  it('imports orders, drives a station, and reads shipments and events back', async () => {
    const imported = await h.app.inject({
      method: 'POST',
      url: '/api/v1/orders',
      headers: asAdmin,
      payload: [wireOrder('O1'), wireOrder('O2', { revision: 3 })],
    });
    expect(imported.json()).toEqual({ imported: 2, skipped: 0 });
    const stale = await h.app.inject({
      method: 'POST',
      url: '/api/v1/orders',
      headers: asAdmin,
      payload: [wireOrder('O2', { revision: 2, carrier: 'SF' })],
    });
    expect(stale.json()).toEqual({ imported: 0, skipped: 1 });

    const order = await h.app.inject({ method: 'GET', url: '/api/v1/orders/O1', headers: asStation });
    expect(order.statusCode).toBe(200);
    expect(order.json()).toMatchObject({ ...wireOrder('O1'), latest_shipment: null });

    // The order's extra barcode finds it through the store's barcode index.
    const scanned = await h.app.inject({
      method: 'POST',
      url: '/api/v1/stations/st-1/scan',
      headers: asStation,
      payload: { code: 'PKO1', operator: 'li.wei' },
    });
    expect(scanned.statusCode).toBe(200);
    const shipmentId: string = scanned.json().view.shipment_id;

    const one = await h.app.inject({ method: 'GET', url: `/api/v1/shipments/${shipmentId}`, headers: asStation });
    expect(one.json()).toMatchObject({ shipment_id: shipmentId, order_id: 'O1', state: 'verifying', operator: 'li.wei' });
    const list = await h.app.inject({ method: 'GET', url: '/api/v1/shipments?station=st-1&state=verifying', headers: asStation });
    expect(list.json().shipments.map((s: { shipment_id: string }) => s.shipment_id)).toEqual([shipmentId]);

    const events = await h.app.inject({ method: 'GET', url: '/api/v1/events', headers: asAdmin });
    expect(events.json().events.map((e: { seq: number; type: string }) => [e.seq, e.type])).toEqual([
      [1, 'order.imported'],
      [2, 'order.imported'],
      [3, 'shipment.opened'],
    ]);
    expect(events.json().high_water).toBe(3);
  });

  it('writes nothing for a refused import', async () => {
    const before = h.store.stats().lastSeq;
    const res = await h.app.inject({
      method: 'POST',
      url: '/api/v1/orders',
      headers: asAdmin,
      payload: [wireOrder('O3'), wireOrder('O4', { lines: [] })],
    });
    expect(res.statusCode).toBe(400);
    expect(res.json().error.details.field).toBe('body.1.lines');
    expect(h.store.getOrder('O3')).toBeNull();
    expect(h.store.stats().lastSeq).toBe(before);
  });

  it('keeps what the API stored across a store restart', async () => {
    await h.close();
    h = await makeHttpHarness({ store: open() });
    const order = await h.app.inject({ method: 'GET', url: '/api/v1/orders/O2', headers: asStation });
    expect(order.json()).toMatchObject({ order_id: 'O2', revision: 3, carrier: 'ZTO' });
    const events = await h.app.inject({ method: 'GET', url: '/api/v1/events?after=2', headers: asAdmin });
    expect(events.json()).toMatchObject({ next_after: 3, high_water: 3 });
  });
});
