/** The batch and pre-pack routes (docs/http.md "Batches and pre-pack jobs"), one test per row, over the real store. */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { asAdmin, asStation, type HttpHarness, makeHttpHarness, wireOrder } from '../../test/support/http-harness.js';

let h: HttpHarness;
const item = { sku: 'SKU-T', barcode: '6901000000017', name: 'T', qty: 1, unit_grams: 200 };

beforeEach(async () => {
  h = await makeHttpHarness({ batches: true });
  const orders = [
    ...['A1', 'A2', 'A3'].map((id) => wireOrder(id, { lines: [item] })),
    wireOrder('M1'),
    wireOrder('R1', { lines: [item], flags: { refund_requested: true } }),
  ];
  const res = await h.app.inject({ method: 'POST', url: '/api/v1/orders', headers: asAdmin, payload: orders });
  expect(res.statusCode).toBe(200);
});
afterEach(async () => h.close());

const post = (url: string, payload?: object, headers = asAdmin) =>
  payload === undefined ? h.app.inject({ method: 'POST', url, headers }) : h.app.inject({ method: 'POST', url, headers, payload });
const get = (url: string, headers = asStation) => h.app.inject({ method: 'GET', url, headers });

describe('batch routes', () => {
  it('preview builds nothing; build by rule holds the orders; a refunded order is not pending', async () => {
    const preview = await post('/api/v1/batches/preview', { rules: [{ max_size: 10 }] }, asStation);
    expect(preview.statusCode).toBe(200);
    expect(preview.json().batches.map((b: { order_ids: string[] }) => b.order_ids)).toEqual([['A1', 'A2', 'A3']]);
    expect((await get('/api/v1/batches')).json().batches).toEqual([]);
    const built = await post('/api/v1/batches', { rules: [{ structures: ['single_same_sku'], max_size: 2 }] });
    expect(built.statusCode).toBe(200);
    expect(built.json().batches.map((b: { order_ids: string[]; state: string }) => [b.state, b.order_ids])).toEqual([
      ['open', ['A1', 'A2']],
      ['open', ['A3']],
    ]);
    expect((await post('/api/v1/batches', { rules: [{ max_size: 10 }] })).json().error.code).toBe('PKL_BATCH_EMPTY');
    expect((await post('/api/v1/batches', { order_ids: ['A1'] })).json().error.code).toBe('PKL_BATCH_ORDER_TAKEN');
    expect((await post('/api/v1/batches', { rules: [{ max_size: 1 }], order_ids: ['M1'] })).statusCode).toBe(400);
    expect((await post('/api/v1/batches', { rules: [{ max_size: 1 }] }, asStation)).statusCode).toBe(403);
  });

  it('by hand, start at a station, pause, cancel; one batch per station', async () => {
    const a = (await post('/api/v1/batches', { order_ids: ['A2', 'A1'], weigh: false })).json().batches[0];
    expect(a).toMatchObject({ structure: 'manual', composition: '6901000000017*1', mode: 'postprint', weigh: false, order_ids: ['A2', 'A1'] });
    const b = (await post('/api/v1/batches', { order_ids: ['A3'] })).json().batches[0];
    const started = await post(`/api/v1/batches/${a.batch_id}/start`, { station_id: 'st-1' }, asStation);
    expect(started.json().batch).toMatchObject({
      state: 'working',
      station_id: 'st-1',
      progress: { total: 2, remaining: 2, next_order_id: 'A2', next_seq: 1 },
    });
    expect((await post(`/api/v1/batches/${b.batch_id}/start`, { station_id: 'st-1' }, asStation)).json().error.code).toBe('PKL_BATCH_STATION_BUSY');
    expect((await post(`/api/v1/batches/${b.batch_id}/start`, { station_id: 'st-9' }, asStation)).json().error.code).toBe('PKL_STATION_UNKNOWN');
    expect((await post(`/api/v1/batches/${a.batch_id}/pause`, undefined, asStation)).json().batch.state).toBe('open');
    expect((await post(`/api/v1/batches/${a.batch_id}/cancel`)).json().batch.state).toBe('cancelled');
    expect((await post(`/api/v1/batches/${a.batch_id}/cancel`)).json().error.code).toBe('PKL_BATCH_STATE');
    // Cancelled: its orders are free again.
    expect((await post('/api/v1/batches', { order_ids: ['A1'] })).statusCode).toBe(200);
    expect((await get(`/api/v1/batches/${b.batch_id}`)).json().batch.order_ids).toEqual(['A3']);
    expect((await get('/api/v1/batches/B-nope')).statusCode).toBe(404);
    const mixed = (await post('/api/v1/batches', { order_ids: ['M1', 'A2'] })).json().batches[0];
    expect(mixed).toMatchObject({ composition: null, mode: 'preprint' });
    expect((await post(`/api/v1/batches/${mixed.batch_id}/start`, { station_id: 'st-2', mode: 'postprint' }, asStation)).json().error.code).toBe(
      'PKL_BATCH_NOT_SAME_COMPOSITION',
    );
  });

  it('pre-pack jobs: barcodes per unit, stock listed, bad compositions refused', async () => {
    const job = await post('/api/v1/prepacks', { composition: '6901000000017*1', units: 3 });
    expect(job.statusCode).toBe(200);
    const p = job.json().prepack;
    expect(p.barcodes).toEqual([1, 2, 3].map((n) => `${p.job_id}-${n}`));
    expect((await get('/api/v1/prepacks')).json().prepacks).toEqual([
      { job_id: p.job_id, composition: '6901000000017*1', units: 3, left: 3, created_at: p.created_at },
    ]);
    expect((await post('/api/v1/prepacks', { composition: 'no-qty', units: 3 })).json().error.code).toBe('PKL_PAYLOAD_INVALID');
    // Orders covered by pre-pack stock classify as pre-packed.
    const preview = await post('/api/v1/batches/preview', { rules: [{ structures: ['prepacked'], max_size: 10 }] });
    expect(preview.json().batches[0]).toMatchObject({ structure: 'prepacked', order_ids: ['A1', 'A2', 'A3'] });
  });
});
