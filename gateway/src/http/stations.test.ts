import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type HttpHarness, asAdmin, asStation, makeHttpHarness, wireOrder } from '../../test/support/http-harness.js';
import { DEFAULT_BODY_LIMIT } from './app.js';

let h: HttpHarness;
beforeEach(async () => {
  h = await makeHttpHarness();
  const res = await h.app.inject({
    method: 'POST',
    url: '/api/v1/orders',
    headers: asAdmin,
    payload: [wireOrder('O1'), wireOrder('O2', { flags: { refunded: true } })],
  });
  expect(res.statusCode).toBe(200);
});
afterEach(async () => {
  await h.close();
});

const scan = (station: string, payload: unknown, headers: Record<string, string> = asStation) =>
  h.app.inject({ method: 'POST', url: `/api/v1/stations/${station}/scan`, headers, payload: payload as object });

describe('GET /api/v1/stations', () => {
  it('lists every station with state, shipment and device status', async () => {
    const res = await h.app.inject({ method: 'GET', url: '/api/v1/stations', headers: asStation });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({
      stations: [
        {
          station_id: 'st-1',
          state: 'idle',
          shipment_id: null,
          devices: {
            scanner: { device_id: 'scan-1', online: true },
            scale: { device_id: 'scale-1', online: true },
            printer: { device_id: 'prn-1', online: true },
            display: { device_id: 'disp-1', online: true },
          },
        },
        {
          station_id: 'st-2',
          state: 'idle',
          shipment_id: null,
          devices: {
            scanner: { device_id: 'scan-2', online: true },
            scale: { device_id: 'scale-2', online: true },
            printer: { device_id: 'prn-2', online: false },
          },
        },
      ],
    });
  });
});

describe('GET /api/v1/stations/:stationId', () => {
  it("returns the station's view", async () => {
    const res = await h.app.inject({ method: 'GET', url: '/api/v1/stations/st-1', headers: asStation });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ station_id: 'st-1', state: 'idle', shipment_id: null, lines: [], alert: null });
  });

  it('answers an unknown station with 404 PKL_STATION_UNKNOWN', async () => {
    const res = await h.app.inject({ method: 'GET', url: '/api/v1/stations/st-9', headers: asStation });
    expect(res.statusCode).toBe(404);
    expect(res.json().error).toMatchObject({ code: 'PKL_STATION_UNKNOWN', details: { stationId: 'st-9' } });
  });
});

describe('POST /api/v1/stations/:stationId/scan', () => {
  it('drives the station like its scanner would: order, then items', async () => {
    const order = await scan('st-1', { code: 'PKO1', operator: 'li.wei' });
    expect(order.statusCode).toBe(200);
    const view = order.json().view;
    expect(view).toMatchObject({ station_id: 'st-1', state: 'verifying', order_id: 'O1', alert: null });
    expect(h.store.getShipment(view.shipment_id)).toMatchObject({ orderId: 'O1', operator: 'li.wei', state: 'verifying' });

    await scan('st-1', { code: '690O11' });
    await scan('st-1', { code: '690O11' });
    const last = await scan('st-1', { code: '690O12' }, asAdmin); // admin may scan too
    expect(last.statusCode).toBe(200);
    expect(last.json().view.state).toBe('weighing');
    expect(last.json().view.lines.map((l: { scanned: number }) => l.scanned)).toEqual([2, 1]);

    const listed = await h.app.inject({ method: 'GET', url: '/api/v1/stations', headers: asStation });
    expect(listed.json().stations[0]).toMatchObject({ state: 'weighing', shipment_id: view.shipment_id });
  });

  it("answers a refused scan with the refusal's code and status", async () => {
    const none = await scan('st-1', { code: '690O11' });
    expect(none.statusCode).toBe(409);
    expect(none.json().error).toMatchObject({ code: 'PKL_NO_OPEN_SHIPMENT', details: { stationId: 'st-1' } });

    const intercepted = await scan('st-1', { code: 'O2' });
    expect(intercepted.statusCode).toBe(409);
    expect(intercepted.json().error).toMatchObject({ code: 'PKL_INTERCEPT_REFUNDED', details: { orderId: 'O2' } });
    expect(intercepted.json().error.message_zh).toContain('O2');

    await scan('st-1', { code: 'O1' });
    const wrong = await scan('st-1', { code: '690O21' });
    expect(wrong.statusCode).toBe(409);
    expect(wrong.json().error.code).toBe('PKL_ITEM_WRONG');
  });

  it('refuses an unknown station with 404 before touching anything', async () => {
    const res = await scan('st-9', { code: 'PKO1' });
    expect(res.statusCode).toBe(404);
    expect(res.json().error.code).toBe('PKL_STATION_UNKNOWN');
    expect(h.store.listShipments({})).toEqual([]);
  });

  it.each([
    ['no code', {}, 'body.code'],
    ['an empty code', { code: '' }, 'body.code'],
    ['a code with a newline', { code: 'PKO1\n' }, 'body.code'],
    ['a numeric code', { code: 123 }, 'body.code'],
    ['an unknown field', { code: 'PKO1', station: 'st-2' }, 'body'],
    ['an empty operator', { code: 'PKO1', operator: '' }, 'body.operator'],
  ])('refuses %s with PKL_PAYLOAD_INVALID and opens nothing', async (_name, body, field) => {
    const res = await scan('st-1', body);
    expect(res.statusCode).toBe(400);
    expect(res.json().error).toMatchObject({ code: 'PKL_PAYLOAD_INVALID', details: { field } });
    expect(h.store.listShipments({})).toEqual([]);
  });

  it('keeps the small default body limit', async () => {
    const res = await h.app.inject({
      method: 'POST',
      url: '/api/v1/stations/st-1/scan',
      headers: { ...asStation, 'content-type': 'application/json' },
      payload: JSON.stringify({ code: 'PKO1', operator: 'x'.repeat(DEFAULT_BODY_LIMIT) }),
    });
    expect(res.statusCode).toBe(413);
    expect(res.json().error).toMatchObject({ code: 'PKL_PAYLOAD_TOO_LARGE', details: { limit: DEFAULT_BODY_LIMIT } });
  });
});
