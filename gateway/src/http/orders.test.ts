import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type HttpHarness, asAdmin, asStation, makeHttpHarness, wireOrder } from '../../test/support/http-harness.js';
import { ORDER_IMPORT_BODY_LIMIT } from './routes/orders.js';

let h: HttpHarness;
beforeEach(async () => {
  h = await makeHttpHarness();
});
afterEach(async () => {
  await h.close();
});

const importOrders = (payload: unknown, headers: Record<string, string> = asAdmin) =>
  h.app.inject({ method: 'POST', url: '/api/v1/orders', headers, payload: payload as object });

/** Nothing stored, nothing logged to the event log. */
function expectUnchanged(): void {
  expect(h.store.stats().lastSeq).toBe(0);
  expect(h.store.getOrder('O1')).toBeNull();
}

describe('POST /api/v1/orders', () => {
  it('imports orders and maps every wire field onto the store row', async () => {
    const res = await importOrders([wireOrder('O1'), wireOrder('O2', { flags: { refund_requested: true } })]);
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ imported: 2, skipped: 0 });
    expect(h.store.getOrder('O1')).toMatchObject({
      orderId: 'O1',
      shop: 'tmall-1',
      barcodes: ['PKO1'],
      lines: [
        { sku: 'SKU-A', barcode: '690O11', name: 'Tea cup', qty: 2, unitGrams: 150 },
        { sku: 'SKU-B', barcode: '690O12', name: 'Saucer', qty: 1, unitGrams: 90.5 },
      ],
      packagingGrams: 40,
      flags: { refundRequested: false, refunded: false, cancelled: false, platformClosed: false, shipped: false },
      carrier: 'ZTO',
      waybill: 'ZTO1',
      printData: { receiverName: '张三', receiverPhone: '138****0000', receiverAddress: '浙江省杭州市…', sortCode: '杭州 A01' },
      shipBy: 1_760_000_000_000,
      revision: 1,
    });
    expect(h.store.getOrder('O2')?.flags.refundRequested).toBe(true);
    // Each imported order is recorded in the event log cloud sync drains.
    expect(h.store.readEvents(0, 10).map((e) => [e.type, e.subject])).toEqual([
      ['order.imported', 'order:O1'],
      ['order.imported', 'order:O2'],
    ]);
  });

  it('fills defaults for optional fields', async () => {
    const res = await importOrders([{ order_id: 'O9', lines: [{ sku: 'S', barcode: 'B9', name: '', qty: 1, unit_grams: 0 }] }]);
    expect(res.statusCode).toBe(200);
    expect(h.store.getOrder('O9')).toMatchObject({
      shop: 'local',
      barcodes: [],
      packagingGrams: null,
      carrier: null,
      waybill: null,
      printData: null,
      shipBy: null,
      revision: 0,
      flags: { refundRequested: false, shipped: false },
    });
  });

  it('skips a revision that is not newer than the stored one and applies a newer one', async () => {
    await importOrders([wireOrder('O1', { revision: 5 })]);
    const stale = await importOrders([wireOrder('O1', { revision: 4, carrier: 'SF' }), wireOrder('O1x', { revision: 1 })]);
    expect(stale.json()).toEqual({ imported: 1, skipped: 1 });
    expect(h.store.getOrder('O1')?.carrier).toBe('ZTO');
    const again = await importOrders([wireOrder('O1', { revision: 5, carrier: 'SF' })]);
    expect(again.json()).toEqual({ imported: 0, skipped: 1 });
    const newer = await importOrders([wireOrder('O1', { revision: 6, carrier: 'SF' })]);
    expect(newer.json()).toEqual({ imported: 1, skipped: 0 });
    expect(h.store.getOrder('O1')?.carrier).toBe('SF');
  });

  it.each([
    ['a missing required field', [{ order_id: 'O1' }], 'body.0.lines'],
    ['a string where an integer belongs', [wireOrder('O1', { revision: '2' })], 'body.0.revision'],
    ['a zero quantity', [wireOrder('O1', { lines: [{ sku: 'S', barcode: 'B', name: 'n', qty: 0, unit_grams: 1 }] })], 'body.0.lines.0.qty'],
    ['an unknown field', [wireOrder('O1', { colour: 'red' })], 'body.0'],
    ['a bad order id', [wireOrder('O 1')], 'body.0.order_id'],
    ['a non-printable barcode', [wireOrder('O1', { barcodes: ['a\nb'] })], 'body.0.barcodes.0'],
    ['an empty batch', [], 'body'],
    ['an object instead of an array', wireOrder('O1'), 'body'],
    ['a later invalid order', [wireOrder('O1'), wireOrder('O2', { flags: { refunded: 'yes' } })], 'body.1.flags.refunded'],
  ])('refuses %s with PKL_PAYLOAD_INVALID naming the field, storing nothing', async (_name, body, field) => {
    const res = await importOrders(body);
    expect(res.statusCode).toBe(400);
    const { error } = res.json();
    expect(error.code).toBe('PKL_PAYLOAD_INVALID');
    expect(error.details.field).toBe(field);
    expect(error.message).toContain(field);
    expect(error.message_zh).toContain(field);
    expectUnchanged();
  });

  it('refuses a batch where one code identifies two orders, or an order lists an item twice', async () => {
    const clash = await importOrders([wireOrder('O1'), wireOrder('O2', { barcodes: ['PKO1'] })]);
    expect(clash.statusCode).toBe(400);
    expect(clash.json().error.details.field).toBe('body.1.barcodes.0');
    const line = { sku: 'S', barcode: 'DUP', name: 'n', qty: 1, unit_grams: 1 };
    const twice = await importOrders([wireOrder('O1', { lines: [line, { ...line, sku: 'T' }] })]);
    expect(twice.statusCode).toBe(400);
    expect(twice.json().error.details.field).toBe('body.0.lines.1.barcode');
    expectUnchanged();
  });

  it('answers malformed JSON with PKL_PAYLOAD_NOT_JSON', async () => {
    for (const payload of ['[{"order_id":', '', 'not json']) {
      const res = await h.app.inject({
        method: 'POST',
        url: '/api/v1/orders',
        headers: { ...asAdmin, 'content-type': 'application/json' },
        payload,
      });
      expect(res.statusCode).toBe(400);
      expect(res.json().error.code).toBe('PKL_PAYLOAD_NOT_JSON');
    }
    expectUnchanged();
  });

  it('refuses a non-JSON media type', async () => {
    const res = await h.app.inject({
      method: 'POST',
      url: '/api/v1/orders',
      headers: { ...asAdmin, 'content-type': 'text/plain' },
      payload: 'O1',
    });
    expect(res.statusCode).toBe(400);
    expect(res.json().error).toMatchObject({ code: 'PKL_PAYLOAD_INVALID' });
    expect(res.json().error.message).toContain('application/json');
  });

  it('accepts a large batch under 5 MB and refuses one over it with PKL_PAYLOAD_TOO_LARGE', async () => {
    const many = Array.from({ length: 2000 }, (_, i) => wireOrder(`B${i}`));
    const ok = await importOrders(many);
    expect(ok.statusCode).toBe(200);
    expect(ok.json().imported).toBe(2000);
    const big = JSON.stringify([wireOrder('O1', { print_data: { receiver_name: 'x', receiver_phone: '', receiver_address: 'y'.repeat(500) } })]).padEnd(
      ORDER_IMPORT_BODY_LIMIT + 1,
      ' ',
    );
    const res = await h.app.inject({
      method: 'POST',
      url: '/api/v1/orders',
      headers: { ...asAdmin, 'content-type': 'application/json' },
      payload: big,
    });
    expect(res.statusCode).toBe(413);
    expect(res.json().error).toMatchObject({ code: 'PKL_PAYLOAD_TOO_LARGE', details: { limit: ORDER_IMPORT_BODY_LIMIT } });
    expect(h.store.getOrder('O1')).toBeNull();
  });

  it('refuses new orders with 507 PKL_DISK_FULL while the disk is low', async () => {
    // A store that wants more free space than any disk has: diskLow() is true from its start.
    const low = await makeHttpHarness({ minFreeMb: Number.MAX_SAFE_INTEGER });
    const res = await low.app.inject({
      method: 'POST',
      url: '/api/v1/orders',
      headers: { ...asAdmin, 'content-type': 'application/json' },
      payload: JSON.stringify([wireOrder('O1')]),
    });
    await low.close();
    expect(res.statusCode).toBe(507);
    expect(res.json().error.code).toBe('PKL_DISK_FULL');
    expectUnchanged();
  });

  it('needs the admin token', async () => {
    const res = await importOrders([wireOrder('O1')], asStation);
    expect(res.statusCode).toBe(403);
    expect(res.json().error.code).toBe('PKL_FORBIDDEN');
    expectUnchanged();
  });
});

describe('GET /api/v1/orders/:orderId', () => {
  it('returns the order in wire form with its latest shipment', async () => {
    const order = wireOrder('O1');
    await importOrders([order]);
    const before = await h.app.inject({ method: 'GET', url: '/api/v1/orders/O1', headers: asStation });
    expect(before.statusCode).toBe(200);
    const body = before.json();
    expect(body).toMatchObject({ ...order, flags: { refunded: false }, latest_shipment: null });
    expect(typeof body.updated_at).toBe('number');

    const scan = await h.app.inject({
      method: 'POST',
      url: '/api/v1/stations/st-1/scan',
      headers: asStation,
      payload: { code: 'PKO1' },
    });
    const after = await h.app.inject({ method: 'GET', url: '/api/v1/orders/O1', headers: asStation });
    expect(after.json().latest_shipment).toEqual({ shipment_id: scan.json().view.shipment_id, state: 'verifying' });
  });

  it('answers an unknown order with 404 PKL_NOT_FOUND and a bad id with 400', async () => {
    const missing = await h.app.inject({ method: 'GET', url: '/api/v1/orders/NOPE', headers: asStation });
    expect(missing.statusCode).toBe(404);
    expect(missing.json().error).toMatchObject({ code: 'PKL_NOT_FOUND', details: { what: 'order NOPE' } });
    const bad = await h.app.inject({ method: 'GET', url: '/api/v1/orders/a%20b', headers: asStation });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().error.details.field).toBe('params.orderId');
  });
});
