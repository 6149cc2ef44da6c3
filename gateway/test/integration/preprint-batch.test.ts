/**
 * Batch pre-print on the simulated floor, over real MQTT with the devices' own identities
 * (`packline start` in a child process, plaintext via support/plaintext.ts): a pre-print batch
 * of 40 orders printed ahead over HTTP in two runs (each label a print job with the batch line),
 * two orders refunded after their labels printed — on the recall list at once, and a recall task
 * on the PDA — the parcels scanned at the station by their label's waybill, a SIGKILL of the
 * gateway mid-scan, the PDA pulling both labels (`recall_scan`, one by waybill, one by order
 * barcode) after the restart. Checked at the end: every order shipped exactly once or recalled
 * and pulled, no refunded order shipped, one label job per order, the log gap-free.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import type { MqttClient } from 'mqtt';
import { afterAll, describe, expect, it } from 'vitest';
import { adminGet, allSeqs, type ChildGateway, startChildGateway } from '../support/child-gateway.js';
import { device, floorConfig, Inbox, importOrders, replyTopics, stationDevices, wireOrder } from '../support/floor.js';

const ORDERS = 40;
const dir = mkdtempSync(join(tmpdir(), 'pkl-preprint-'));
const configFile = join(dir, 'packline.json');
const dataDir = join(dir, 'data');
let child: ChildGateway | null = null;
const clients: MqttClient[] = [];

afterAll(async () => {
  await Promise.all(clients.map((c) => c.endAsync(true).catch(() => undefined)));
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

const d = stationDevices(1);
const PDA = 'pda-1';

/** The station's printer (prints every label it gets), its scanner and a PDA without a station. */
async function floorDevices(g: ChildGateway) {
  const secret = (id: string) => g.secrets[id] ?? '';
  const printer = await device(g.mqttUrl, d.printer, secret(d.printer));
  const scanner = await device(g.mqttUrl, d.scanner, secret(d.scanner));
  const pda = await device(g.mqttUrl, PDA, secret(PDA));
  clients.push(printer, scanner, pda);
  for (const c of [printer, scanner, pda]) c.on('error', () => undefined);
  const labels = await Inbox.open(printer, [`dev/${d.printer}/cmd/print`]);
  let n = 0;
  printer.on('message', (topic, buf) => {
    if (!topic.endsWith('/cmd/print')) return;
    const job = JSON.parse(buf.toString()) as { job_id: string };
    void printer
      .publishAsync(`dev/${d.printer}/evt/print_result`, JSON.stringify({ msg_id: `p-${job.job_id}-${n++}`, job_id: job.job_id, status: 'printed' }), {
        qos: 1,
      })
      .catch(() => undefined);
  });
  await printer.publishAsync(`dev/${d.printer}/state`, JSON.stringify({ state: 'online' }), { qos: 1, retain: true });
  const scans = await Inbox.open(scanner, replyTopics(d.scanner));
  const pdaIn = await Inbox.open(pda, [`dev/${PDA}/cmd/task`, `dev/${PDA}/cmd/display`, ...replyTopics(PDA)]);
  await pda.publishAsync(`dev/${PDA}/state`, JSON.stringify({ state: 'online' }), { qos: 1, retain: true });
  let s = 0;
  const scan = async (code: string, tag: string) => {
    const msgId = `s-${tag}-${s++}`;
    await scanner.publishAsync(`dev/${d.scanner}/evt/scan`, JSON.stringify({ msg_id: msgId, code }), { qos: 1 });
    const r = await scans.next((m) => m.payload.msg_id === msgId);
    return r.topic.endsWith('/ack') ? 'ok' : String((r.payload.error as { code?: string } | undefined)?.code ?? r.payload.code);
  };
  const end = () => Promise.all([printer, scanner, pda].map((c) => c.endAsync(true).catch(() => undefined)));
  return { labels, pda, pdaIn, scan, end };
}

type Recalls = { open: number; recalls: Array<{ kind: string; waybill: string; order_id: string; code: string; seq: number; pulled_at: number | null }> };

describe('batch pre-print on the floor', () => {
  it('prints ahead, recalls the labels of orders refunded after the print, ships the rest once, through a kill -9', async () => {
    const config = floorConfig(dataDir, { stations: 1, lines: 0 });
    (config.devices as Array<Record<string, string>>).push({ id: PDA, role: 'pda' });
    writeFileSync(configFile, JSON.stringify(config));
    const orders = Array.from({ length: ORDERS }, (_, i) => wireOrder(`PRE-${String(i + 1).padStart(4, '0')}`));
    const waybillOf = (o: Record<string, unknown>) => String(o.waybill);

    child = await startChildGateway(configFile, dataDir);
    const g1 = child;
    expect((await importOrders(g1.httpUrl, g1.tokens.admin, orders)).status).toBe(200);
    const built = await post(g1, '/api/v1/batches', { order_ids: orders.map((o) => o.order_id), mode: 'preprint' });
    expect(built.status).toBe(200);
    const batch =
      (built.body.batches as Array<{ batch_id: string; order_ids: string[] }> | undefined)?.[0] ??
      (built.body.batch as { batch_id: string; order_ids: string[] });
    const batchId = batch.batch_id;
    expect((await post(g1, `/api/v1/batches/${batchId}/start`, { station_id: 'st-1', mode: 'preprint' }, g1.tokens.station)).status).toBe(200);
    let floor = await floorDevices(g1);

    // Two runs of labels ahead, in sequence, each with the batch line.
    const run1 = await post(g1, `/api/v1/batches/${batchId}/preprint`, { limit: 25 }, g1.tokens.station);
    expect(run1.status, JSON.stringify(run1.body)).toBe(200);
    expect((run1.body.printed as unknown[]).length).toBe(25);
    const run2 = await post(g1, `/api/v1/batches/${batchId}/preprint`, {}, g1.tokens.station);
    expect((run2.body.printed as Array<{ seq: number }>).map((p) => p.seq)).toEqual(Array.from({ length: 15 }, (_, i) => 26 + i));
    expect((await post(g1, `/api/v1/batches/${batchId}/preprint`, {}, g1.tokens.station)).body.printed).toEqual([]);
    // The site's ZTO template (gateway/templates/zto-76x130.json) draws the batch line as a graphic
    // field at y 740, present only on labels printed ahead for a batch.
    await floor.labels.next((m) => m.payload.shipment_id === (run2.body.printed as Array<{ shipment_id: string }>)[14]!.shipment_id);
    expect(floor.labels.messages).toHaveLength(ORDERS);
    expect(floor.labels.messages.every((m) => String(m.payload.data).includes('^FO24,740^GF'))).toBe(true);
    // Every label answered printed (the batch's labels are out, none shipped yet).
    for (let i = 0; i < 100; i++) {
      const b = await adminGet<{ batch: { progress: { taken: number } } }>(g1, `/api/v1/batches/${batchId}`);
      const shipments = await adminGet<{ shipments: Array<{ state: string }> }>(g1, '/api/v1/shipments?state=printed&limit=100');
      if (b.batch.progress.taken === ORDERS && shipments.shipments.length === ORDERS) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    expect((await adminGet<{ shipments: unknown[] }>(g1, '/api/v1/shipments?state=printed&limit=100')).shipments).toHaveLength(ORDERS);

    // Two orders refunded after their labels printed: on the recall list at once, a task on the PDA.
    const refunded = [orders[2]!, orders[9]!];
    const updates = refunded.map((o) => ({ ...o, flags: { ...(o.flags as object), refunded: true }, revision: 2 }));
    expect((await importOrders(g1.httpUrl, g1.tokens.admin, updates)).status).toBe(200);
    const listed = await adminGet<Recalls>(g1, '/api/v1/recalls');
    expect(listed.open).toBe(2);
    expect(listed.recalls.map((r) => [r.kind, r.waybill, r.code, r.seq])).toEqual([
      ['preprint', waybillOf(refunded[0]!), 'PKL_INTERCEPT_REFUNDED', 3],
      ['preprint', waybillOf(refunded[1]!), 'PKL_INTERCEPT_REFUNDED', 10],
    ]);
    const task = await floor.pdaIn.next((m) => m.topic.endsWith('/cmd/task') && m.payload.waybill === waybillOf(refunded[0]!));
    expect(task.payload).toMatchObject({ v: 1, type: 'recall', task_id: `recall:${waybillOf(refunded[0]!)}`, kind: 'preprint', batch_id: batchId, seq: 3 });

    // The packer scans parcels by their label; the refunded one is refused with its code.
    const outcome = new Map<string, string>();
    for (const o of orders.slice(0, 20)) outcome.set(String(o.order_id), await floor.scan(waybillOf(o), 'a'));
    expect(outcome.get(String(refunded[0]!.order_id))).toBe('PKL_INTERCEPT_REFUNDED');
    expect([...outcome.values()].filter((v) => v === 'ok')).toHaveLength(18);
    // The station screen lists the labels to pull.
    const view = await adminGet<{ recalls?: { open: number } }>(g1, '/api/v1/stations/st-1');
    expect(view.recalls?.open).toBe(2);

    // kill -9 right after a scan goes out (its ack may never come).
    const inFlight = orders[20]!;
    void floor.scan(waybillOf(inFlight), 'k').catch(() => undefined);
    await new Promise((r) => setTimeout(r, 20));
    g1.proc.kill('SIGKILL');
    expect((await g1.exited).signal).toBe('SIGKILL');
    await floor.end();

    child = await startChildGateway(configFile, dataDir);
    const g2 = child;
    floor = await floorDevices(g2);
    // The list survived; the PDA gets its open recall tasks again.
    expect((await adminGet<Recalls>(g2, '/api/v1/recalls')).open).toBe(2);
    await floor.pdaIn.next((m) => m.topic.endsWith('/cmd/task') && m.payload.waybill === waybillOf(refunded[1]!));

    // The PDA pulls both labels: one by its waybill, one by the order barcode.
    const pull = async (code: string, msgId: string) => {
      await floor.pda.publishAsync(`dev/${PDA}/evt/recall_scan`, JSON.stringify({ msg_id: msgId, code }), { qos: 1 });
      return floor.pdaIn.next((m) => (m.topic.endsWith('/ack') || m.topic.endsWith('/err')) && m.payload.msg_id === msgId);
    };
    expect((await pull(waybillOf(refunded[0]!), 'r1')).topic).toBe(`dev/${PDA}/ack`);
    expect((await pull(`PS-${refunded[1]!.order_id}`, 'r2')).topic).toBe(`dev/${PDA}/ack`);
    expect((await pull('NOT-A-LABEL', 'r3')).payload).toMatchObject({ code: 'PKL_RECALL_UNKNOWN' });
    await floor.pdaIn.next((m) => m.payload.type === 'closed' && m.payload.task_id === `recall:${waybillOf(refunded[1]!)}`);
    const after = await adminGet<Recalls>(g2, '/api/v1/recalls?all=true');
    expect(after.open).toBe(0);
    expect(after.recalls.every((r) => r.pulled_at !== null)).toBe(true);

    // The rest of the parcels (the one in flight at the kill again: shipped once either way).
    for (const o of orders.slice(20)) outcome.set(String(o.order_id), await floor.scan(waybillOf(o), 'b'));
    const inFlightOutcome = outcome.get(String(inFlight.order_id));
    expect(['ok', 'PKL_INTERCEPT_ALREADY_SHIPPED']).toContain(inFlightOutcome);
    expect(outcome.get(String(refunded[1]!.order_id))).toBe('PKL_INTERCEPT_REFUNDED');
    // A label scanned again is never a second shipment.
    expect(await floor.scan(waybillOf(orders[0]!), 'c')).toBe('PKL_INTERCEPT_ALREADY_SHIPPED');
    await floor.end();

    let done = await adminGet<{ batch: { state: string; progress: { taken: number; removed: number } } }>(g2, `/api/v1/batches/${batchId}`);
    for (let i = 0; i < 100 && done.batch.state !== 'done'; i++) {
      await new Promise((r) => setTimeout(r, 50));
      done = await adminGet(g2, `/api/v1/batches/${batchId}`);
    }
    expect(done.batch).toMatchObject({ state: 'done', progress: { taken: ORDERS - 2, removed: 2 } });
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
    const refundedIds = refunded.map((o) => String(o.order_id));
    expect(
      orders
        .map((o) => String(o.order_id))
        .filter((id) => !shipped.some((r) => r.order_id === id))
        .sort(),
    ).toEqual([...refundedIds].sort());
    const jobs = db
      .prepare('SELECT s.order_id, COUNT(*) n FROM print_jobs j JOIN shipments s ON s.shipment_id = j.shipment_id GROUP BY s.order_id')
      .all() as Array<{ order_id: string; n: number }>;
    expect(jobs).toHaveLength(ORDERS);
    expect(jobs.filter((j) => j.n !== 1)).toEqual([]);
    const pulls = db.prepare("SELECT COUNT(*) n FROM events WHERE type = 'order.label_recall_pulled'").get() as { n: number };
    expect(pulls.n).toBe(2);
    db.close();
  }, 180_000);

  it('a shipped parcel switched to another carrier: its old label is recalled, its next scan prints the new label on the same shipment', async () => {
    const dir2 = mkdtempSync(join(tmpdir(), 'pkl-relabel-'));
    const data2 = join(dir2, 'data');
    const file2 = join(dir2, 'packline.json');
    const config = floorConfig(data2, { stations: 1, lines: 0 }, { handover: { waybillPool: { SF: ['SF00000001'] } } });
    (config.devices as Array<Record<string, string>>).push({ id: PDA, role: 'pda' });
    writeFileSync(file2, JSON.stringify(config));
    const order = wireOrder('RL-0001', { waybill: '7312990001' });
    const g = await startChildGateway(file2, data2);
    try {
      expect((await importOrders(g.httpUrl, g.tokens.admin, [order])).status).toBe(200);
      const built = await post(g, '/api/v1/batches', { order_ids: ['RL-0001'], mode: 'preprint' });
      const batchId = (built.body.batches as Array<{ batch_id: string }>)[0]!.batch_id;
      expect((await post(g, `/api/v1/batches/${batchId}/start`, { station_id: 'st-1', mode: 'preprint' })).status).toBe(200);
      const floor = await floorDevices(g);
      expect((await post(g, `/api/v1/batches/${batchId}/preprint`, {})).status).toBe(200);
      await floor.labels.next();
      // Printed, then scanned: shipped with ZTO.
      for (let i = 0; i < 50 && (await adminGet<{ shipments: unknown[] }>(g, '/api/v1/shipments?state=printed')).shipments.length === 0; i++) {
        await new Promise((r) => setTimeout(r, 50));
      }
      expect(await floor.scan('7312990001', 'z')).toBe('ok');
      // ZTO's depot is full: held, and the shipped (not handed over) parcel is switched to SF.
      expect((await post(g, '/api/v1/carriers/ZTO/hold', { supervisor: 'lee', reason: 'depot full' })).status).toBe(200);
      const sw = await post(g, '/api/v1/carriers/ZTO/switch', { supervisor: 'lee', to: 'SF', request_id: 'r1', order_ids: ['RL-0001'] });
      expect(sw.body.switched).toMatchObject([{ order_id: 'RL-0001', old_waybill: '7312990001', new_waybill: 'SF00000001', recalled: true }]);
      const listed = await adminGet<Recalls>(g, '/api/v1/recalls');
      expect(listed.recalls).toMatchObject([{ kind: 'carrier_switch', waybill: '7312990001', order_id: 'RL-0001' }]);
      await floor.pdaIn.next((m) => m.payload.type === 'recall' && m.payload.waybill === '7312990001');
      // The packer scans the old label: the new carrier's label prints for the same shipment.
      const seen = floor.labels.messages.length;
      expect(await floor.scan('7312990001', 'z')).toBe('ok');
      const label = await floor.labels.next((m) => floor.labels.messages.indexOf(m) >= seen);
      const shipments = await adminGet<{ shipments: Array<{ shipment_id: string; state: string; waybill: string; carrier: string }> }>(
        g,
        '/api/v1/shipments?order=RL-0001',
      );
      expect(shipments.shipments).toMatchObject([{ state: 'shipped', waybill: 'SF00000001', carrier: 'SF' }]);
      expect(label.payload.shipment_id).toBe(shipments.shipments[0]!.shipment_id);
      // The old label was taken off there: the recall is closed; the same old label again changes nothing.
      for (let i = 0; i < 50 && (await adminGet<Recalls>(g, '/api/v1/recalls')).open > 0; i++) await new Promise((r) => setTimeout(r, 50));
      expect((await adminGet<Recalls>(g, '/api/v1/recalls')).open).toBe(0);
      expect(await floor.scan('7312990001', 'z')).toBe('PKL_ORDER_NOT_FOUND');
      expect(floor.labels.messages).toHaveLength(seen + 1);
      await floor.end();
      const events = await adminGet<{ events: Array<{ type: string; data: Record<string, unknown> }> }>(g, '/api/v1/events?after=0&limit=1000');
      expect(events.events.filter((e) => e.type === 'shipment.relabelled').map((e) => e.data)).toMatchObject([
        { order_id: 'RL-0001', old_waybill: '7312990001', new_waybill: 'SF00000001', carrier: 'SF' },
      ]);
      expect(events.events.filter((e) => e.type === 'shipment.shipped')).toHaveLength(1);
    } finally {
      g.proc.kill('SIGKILL');
      await g.exited;
      rmSync(dir2, { recursive: true, force: true });
    }
  }, 120_000);
});
