/** Sync routes and the pull feed through fastify inject(), on a real store (sync not configured). */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type HttpHarness, asAdmin, asStation, makeHttpHarness } from '../../test/support/http-harness.js';
import { EVENT } from '../station/events.js';
import { anOrder, aShipment } from '../storage/test-fixtures.js';

let h: HttpHarness;

beforeAll(async () => {
  h = await makeHttpHarness();
  await h.store.write([
    { op: 'order.put', order: anOrder({ orderId: 'O-1' }) },
    { op: 'order.put', order: anOrder({ orderId: 'O-2', waybill: null }) },
    { op: 'shipment.put', shipment: aShipment({ shipmentId: 'S-1', orderId: 'O-1', state: 'shipped', shippedAt: 5 }) },
    { op: 'event', type: EVENT.shipped, subject: 'shipment:S-1', data: { order_id: 'O-1' } },
  ]);
  await h.store.write([{ op: 'syncfail.put', seq: 1, code: 'ORDER_UNKNOWN', reason: 'no such order upstream', at: 7 }]);
});
afterAll(async () => {
  await h.close();
});

describe('GET /api/v1/sync', () => {
  it('answers with sync disabled, the backlog and the waybill coverage', async () => {
    const res = await h.app.inject({ method: 'GET', url: '/api/v1/sync', headers: asStation });
    expect(res.statusCode).toBe(200);
    const body = res.json();
    expect(body).toMatchObject({
      enabled: false,
      link: { state: 'disabled', transport: 'none', backlog: 1, acked_seq: 0, failed: 1 },
      outbox: null,
      inbound: null,
      // O-1 has shipped (not open); O-2 is open without a waybill.
      waybill_coverage: { open: 1, with_waybill: 0, percent: 0, alarm: true },
    });
    expect(body.pre_shipment_callback.note).toMatch(/not re-sent/);
  });
});

describe('sync failures', () => {
  it('lists failures with the event they are about', async () => {
    const res = await h.app.inject({ method: 'GET', url: '/api/v1/sync/failures', headers: asStation });
    expect(res.json()).toMatchObject({
      failures: [{ seq: 1, code: 'ORDER_UNKNOWN', state: 'failed', attempts: 1, event: { type: EVENT.shipped, subject: 'shipment:S-1' } }],
    });
  });

  it('refuses a retry while sync is not configured, with a coded error', async () => {
    const res = await h.app.inject({ method: 'POST', url: '/api/v1/sync/failures/retry', headers: asAdmin, payload: {} });
    expect(res.statusCode).toBe(409);
    expect(res.json().error.code).toBe('PKL_SYNC_NOT_CONFIGURED');
  });

  it('needs the admin token to retry', async () => {
    const res = await h.app.inject({ method: 'POST', url: '/api/v1/sync/failures/retry', headers: asStation, payload: {} });
    expect(res.statusCode).toBe(403);
  });
});

describe('GET /api/v1/shipments?after= (cloud pull feed)', () => {
  it('pages shipments in seq order for the admin token', async () => {
    const res = await h.app.inject({ method: 'GET', url: '/api/v1/shipments?after=0&limit=10', headers: asAdmin });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({
      records: [{ seq: 1, shipment_id: 'S-1', order_id: 'O-1', state: 'shipped', cloud_acked: false, ship_confirmed_at: null }],
      next_cursor: 1,
      high_water: 1,
      pruned_through: 0,
    });
  });

  it('is not for station tokens, and takes no list filters', async () => {
    const station = await h.app.inject({ method: 'GET', url: '/api/v1/shipments?after=0', headers: asStation });
    expect(station.statusCode).toBe(403);
    const mixed = await h.app.inject({ method: 'GET', url: '/api/v1/shipments?after=0&state=shipped', headers: asAdmin });
    expect(mixed.statusCode).toBe(400);
    expect(mixed.json().error.code).toBe('PKL_PAYLOAD_INVALID');
  });

  it('keeps the list mode without `after`', async () => {
    const res = await h.app.inject({ method: 'GET', url: '/api/v1/shipments', headers: asStation });
    expect(res.json()).toMatchObject({ shipments: [{ shipment_id: 'S-1' }], next_before: null });
  });
});

describe('GET /api/v1/sync/reconciliation', () => {
  it('lists the sync failure with the action to take', async () => {
    const res = await h.app.inject({ method: 'GET', url: '/api/v1/sync/reconciliation', headers: asStation });
    const conflicts = res.json().conflicts as Array<{ kind: string; action: string }>;
    expect(conflicts.map((c) => c.kind)).toContain('sync_failed');
    expect(conflicts.find((c) => c.kind === 'sync_failed')?.action).toMatch(/packline sync retry/);
  });
});
