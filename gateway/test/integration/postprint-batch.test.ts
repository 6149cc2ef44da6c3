/**
 * Post-print on the simulated floor, over real MQTT with the station's own device identities:
 * a same-SKU batch of 500 orders built by rule and started over HTTP, shipped one scan one
 * parcel, with refunds arriving mid-batch (for orders still waiting for their turn) and a
 * SIGKILL of the gateway mid-batch (restarted on the same data directory, the packer carries
 * on). Checked at the end: every order either shipped exactly once or (refunded) never
 * labelled, no order has two label jobs, the batch is done with taken + removed = 500, and
 * the event log is gap-free.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { adminGet, allSeqs, type ChildGateway, startChildGateway } from '../support/child-gateway.js';
import { floorConfig, importOrders, wireOrder, wireOrderGrams } from '../support/floor.js';
import { startPostprintDriver } from '../support/postprint-driver.js';

const ORDERS = 500;
const ITEM = '6901234500017';
const dir = mkdtempSync(join(tmpdir(), 'pkl-postprint-'));
const configFile = join(dir, 'packline.json');
const dataDir = join(dir, 'data');
let child: ChildGateway | null = null;

afterAll(async () => {
  child?.proc.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

async function post(g: ChildGateway, path: string, body: unknown, token = g.tokens.admin): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(`${g.httpUrl}${path}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

type BatchWire = { batch_id: string; state: string; order_ids: string[]; progress: { total: number; taken: number; removed: number; remaining: number } };

describe('post-print batch on the floor', () => {
  it(`ships a same-SKU batch of ${ORDERS} one scan one parcel through refunds and a kill -9`, async () => {
    writeFileSync(configFile, JSON.stringify(floorConfig(dataDir, { stations: 1, lines: 0 })));
    const item = { sku: 'SKU-TEE', barcode: ITEM, qty: 1, unit_grams: 180 };
    const orders = Array.from({ length: ORDERS }, (_, i) => wireOrder(`PP-${String(i).padStart(4, '0')}`, { items: [item] }));
    // Noise that must stay out of the batch: another SKU, and a two-unit composition.
    const others = [wireOrder('OTHER-1'), wireOrder('OTHER-2', { items: [{ ...item, qty: 2 }] })];
    const grams = wireOrderGrams(orders[0]!);

    child = await startChildGateway(configFile, dataDir);
    expect((await importOrders(child.httpUrl, child.tokens.admin, [...orders, ...others])).status).toBe(200);

    const built = await post(child, '/api/v1/batches', { rules: [{ structures: ['single_same_sku'], max_size: 1000 }] });
    expect(built.status).toBe(200);
    const batches = built.body.batches as BatchWire[];
    expect(batches).toHaveLength(1);
    const batch = batches[0]!;
    expect(batch.order_ids).toHaveLength(ORDERS);
    // A second build finds nothing: the orders are held by the open batch.
    expect((await post(child, '/api/v1/batches', { rules: [{ max_size: 1000 }] })).body).toMatchObject({ error: { code: 'PKL_BATCH_EMPTY' } });
    const started = await post(child, `/api/v1/batches/${batch.batch_id}/start`, { station_id: 'st-1' }, child.tokens.station);
    expect(started.status).toBe(200);

    // Refunds for orders late in the sequence, sent while the batch is being worked.
    const refunded = batch.order_ids.filter((_, i) => i >= 350 && i % 7 === 0);
    const refundAt = 120;
    const killAt = 240;
    let driver = await startPostprintDriver({ mqttUrl: child.mqttUrl, secrets: child.secrets, station: 1, runTag: 'a' });
    const g1 = child;
    await driver.run({
      item: ITEM,
      grams,
      max: killAt,
      onParcel: async (n) => {
        if (n !== refundAt) return;
        const updates = refunded.map((id) => ({ ...orders.find((o) => o.order_id === id)!, flags: { refund_requested: true }, revision: 2 }));
        expect((await importOrders(g1.httpUrl, g1.tokens.admin, updates)).status).toBe(200);
      },
    });
    const before = driver.parcels.length;
    // Mid-batch: the next parcel's pick is committed, then the plug is pulled.
    const d0 = driver;
    void d0.run({ item: ITEM, grams, max: before + 3 }).catch(() => undefined);
    await new Promise((r) => setTimeout(r, 30));
    child.proc.kill('SIGKILL');
    expect((await child.exited).signal).toBe('SIGKILL');
    await driver.stop();
    const shippedBeforeKill = driver.parcels.map((p) => p.shipmentId);

    child = await startChildGateway(configFile, dataDir);
    const g2 = child;
    // The batch survived the kill, still worked by the station.
    const afterKill = await adminGet<{ batch: BatchWire }>(g2, `/api/v1/batches/${batch.batch_id}`);
    expect(afterKill.batch.state).toBe('working');
    driver = await startPostprintDriver({ mqttUrl: g2.mqttUrl, secrets: g2.secrets, station: 1, runTag: 'b' });
    await driver.run({ item: ITEM, grams });
    await driver.stop();
    // The run ends at the first scan after the last parcel: no order left, or the batch already closed.
    expect((driver.refusals.PKL_BATCH_NO_ORDER ?? 0) + (driver.refusals.PKL_ORDER_NOT_FOUND ?? 0)).toBe(1);

    // The batch closes in its own queue right after its last parcel shipped.
    let done = await adminGet<{ batch: BatchWire }>(g2, `/api/v1/batches/${batch.batch_id}`);
    for (let i = 0; i < 100 && done.batch.state !== 'done'; i++) {
      await new Promise((r) => setTimeout(r, 50));
      done = await adminGet<{ batch: BatchWire }>(g2, `/api/v1/batches/${batch.batch_id}`);
    }
    expect(done.batch.state, JSON.stringify({ ...done.batch, order_ids: undefined })).toBe('done');
    expect(done.batch.progress.taken + done.batch.progress.removed).toBe(ORDERS);
    expect(done.batch.progress.removed).toBe(refunded.length);
    for (const id of shippedBeforeKill) expect((await adminGet<{ state: string }>(g2, `/api/v1/shipments/${id}`)).state).toBe('shipped');
    const seqs = await allSeqs(g2);
    expect(seqs).toEqual(seqs.map((_, i) => i + 1));

    g2.proc.kill('SIGTERM');
    expect((await g2.exited).code).toBe(0);
    child = null;
    const db = new Database(join(dataDir, 'packline.db'), { readonly: true });
    const shipped = db.prepare("SELECT order_id, COUNT(*) n FROM shipments WHERE state = 'shipped' GROUP BY order_id").all() as Array<{
      order_id: string;
      n: number;
    }>;
    expect(shipped.filter((r) => r.n > 1)).toEqual([]);
    const shippedIds = new Set(shipped.map((r) => r.order_id));
    expect(batch.order_ids.filter((id) => !shippedIds.has(id)).sort()).toEqual([...refunded].sort());
    expect([...shippedIds].filter((id) => id.startsWith('OTHER'))).toEqual([]);
    // One label per order: never a second job for an order whose first was not a failure.
    const labels = db
      .prepare(
        "SELECT s.order_id, COUNT(*) n FROM print_jobs j JOIN shipments s ON s.shipment_id = j.shipment_id WHERE j.state != 'failed' GROUP BY s.order_id HAVING n > 1",
      )
      .all();
    expect(labels).toEqual([]);
    const refundedLabelled = db
      .prepare(`SELECT COUNT(*) n FROM shipments WHERE order_id IN (${refunded.map(() => '?').join(',')}) AND label_job_id IS NOT NULL`)
      .get(...refunded) as { n: number };
    expect(refundedLabelled.n).toBe(0);
    db.close();
  }, 240_000);
});
