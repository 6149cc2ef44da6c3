/**
 * Cloud sync end to end: the real gateway, stations driven over MQTT, the reference cloud
 * over HTTP with its fault modes, and after every scenario the checker against both
 * databases: every acknowledged event arrived exactly once, no gaps, no intercepted order
 * shipped.
 */
import type { MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parsePlaintextConfig } from '../support/plaintext.js';
import { Gateway, type GatewayInfo } from '../../src/gateway.js';
import { createLogger } from '../../src/lib/logger.js';
import { device, Inbox, replyTopics, stationDevices } from '../support/floor.js';
import { startStationDriver } from '../support/station-driver.js';
import { drained, type Rig, shippable, startRig, syncStatus, until } from '../support/sync-rig.js';

let rig: Rig;
let gateway: Gateway;
let info: GatewayInfo;
let secrets: Record<string, string>;
let run = 0;
const clients: MqttClient[] = [];

async function api(path: string, init: RequestInit = {}): Promise<any> {
  const res = await fetch(`${info.httpUrl}${path}`, {
    ...init,
    headers: { authorization: `Bearer ${info.tokens.admin}`, 'content-type': 'application/json', ...(init.headers ?? {}) },
  });
  return res.json();
}

/** Creates orders in the cloud and waits until the change feed brought them. */
async function pullOrders(ids: string[]): Promise<void> {
  await rig.addOrders(ids);
  await until('orders pulled from the cloud', async () => {
    const res = await fetch(`${info.httpUrl}/api/v1/orders/${ids.at(-1)}`, { headers: { authorization: `Bearer ${info.tokens.admin}` } });
    return res.status === 200;
  });
}

/** pullOrders, then ships them on station 1. */
async function shipThroughCloud(ids: string[]): Promise<void> {
  await pullOrders(ids);
  await ship(ids);
}

async function ship(ids: string[]): Promise<void> {
  const queue = ids.map(shippable);
  const driver = await startStationDriver({
    mqttUrl: info.mqttUrl!,
    secrets,
    station: 1,
    runTag: `r${run++}`,
    nextOrder: () => queue.shift() ?? null,
  });
  await driver.done;
  await driver.stop();
  expect(driver.acked.map((a) => a.orderId)).toEqual(ids);
}

function expectChecker(): void {
  const r = rig.check();
  expect(r.problems).toEqual([]);
  expect(r.ok).toBe(true);
}

beforeAll(async () => {
  rig = await startRig();
  gateway = new Gateway(parsePlaintextConfig(rig.config(2)), createLogger(process.env.SYNC_TEST_LOG ?? 'silent'));
  await gateway.start();
  info = gateway.info();
  secrets = Object.fromEntries(info.issued.map((i) => [i.deviceId, i.secret]));
});

afterAll(async () => {
  await Promise.all(clients.map((c) => c.endAsync(true).catch(() => undefined)));
  await gateway?.stop();
  await rig?.close();
});

describe('cloud sync against the reference cloud', () => {
  it('pulls orders from the change feed, ships them, and delivers every event once', async () => {
    await shipThroughCloud(['O-100', 'O-101', 'O-102', 'O-103', 'O-104']);
    const s = await drained(info.httpUrl, info.tokens.admin);
    expect(s.link).toMatchObject({ state: 'online', transport: 'http', failed: 0 });
    expect(s.outbox.batches).toBeGreaterThan(0);
    expect(s.inbound.applied).toBeGreaterThanOrEqual(5);
    // The cloud applied the shipments to its orders.
    const o = await rig.admin('GET', '/admin/orders/O-103');
    expect(o.status).toBe(200);
    expect(JSON.stringify(o.body)).toMatch(/shipped/);
    expectChecker();
  });

  it('keeps shipping through a cloud outage, shows the link offline, then drains', async () => {
    await pullOrders(['O-200', 'O-201', 'O-202', 'O-203']);
    await rig.cloud.setFaults({ down: true });
    await ship(['O-200', 'O-201', 'O-202', 'O-203']); // the operator sees nothing of the outage
    const down = await until('the link to go offline', async () => {
      const st = await syncStatus(info.httpUrl, info.tokens.admin);
      return st.link.state === 'offline' ? st : null;
    });
    expect(down.link.backlog).toBeGreaterThan(0);
    expect(down.link.last_error).toMatch(/refused|no answer/);
    await rig.cloud.clearFaults();
    await drained(info.httpUrl, info.tokens.admin);
    expectChecker();
  });

  it('stays exactly-once through 5xx, resets, lost and replayed acks, a hang and a slow drain', async () => {
    await rig.cloud.setFaults({ errorShare: 0.2, resetShare: 0.15, lostAckShare: 0.25, duplicateAckShare: 0.25, latencyMs: 2, jitterMs: 5 });
    await shipThroughCloud(['O-300', 'O-301', 'O-302', 'O-303', 'O-304', 'O-305', 'O-306', 'O-307']);
    // The faults are drawn per request, and a loaded machine packs more events into fewer
    // batches: ship on (bounded) until each random mode has fired at least once.
    const k = rig.cloud.faults.counters;
    for (let i = 0; i < 12 && (k.errors === 0 || k.resets === 0 || k.lostAcks === 0 || k.duplicateAcks === 0); i++) {
      await shipThroughCloud([`O-33${String(i).padStart(2, '0')}`]);
    }
    await pullOrders(['O-310', 'O-311']);
    await rig.cloud.setFaults({ hang: true }); // the station ships on while requests hang
    await ship(['O-310', 'O-311']);
    await until('a request to hang', () => rig.cloud.faults.counters.hangs > 0);
    await rig.cloud.setFaults({ hang: false, slowDrain: { maxEventsPerBatch: 2 } });
    await shipThroughCloud(['O-320', 'O-321', 'O-322']);
    await drained(info.httpUrl, info.tokens.admin);
    await rig.cloud.clearFaults();
    const c = rig.cloud.faults.counters;
    // Every mode actually fired, so the checker below saw its effect.
    expect(c.errors).toBeGreaterThan(0);
    expect(c.resets).toBeGreaterThan(0);
    expect(c.lostAcks).toBeGreaterThan(0);
    expect(c.duplicateAcks).toBeGreaterThan(0);
    expect(c.hangs).toBeGreaterThan(0);
    expect(c.slowDrained).toBeGreaterThan(0);
    const r = rig.check();
    expect(r.problems).toEqual([]);
    expect(r.stats.duplicatesReceived).toBeGreaterThan(0); // redeliveries happened and changed nothing
  });

  it('tags a rejected event "sync failed" without blocking the events behind it, and retries it after a fix', async () => {
    await rig.cloud.setFaults({ rejectSubjects: '^order:O-400$' });
    await shipThroughCloud(['O-400', 'O-401', 'O-402']);
    const s = await drained(info.httpUrl, info.tokens.admin);
    expect(s.link.failed).toBe(1);
    const failures = await api('/api/v1/sync/failures');
    expect(failures.failures).toHaveLength(1);
    expect(failures.failures[0]).toMatchObject({ code: 'TEST_REJECTED', state: 'failed', event: { subject: 'order:O-400' } });
    const failedSeq = failures.failures[0].seq as number;
    expect(s.link.acked_seq).toBeGreaterThan(failedSeq); // the events behind it flowed on
    const report = await api('/api/v1/sync/reconciliation');
    expect(report.conflicts.map((c: { kind: string }) => c.kind)).toContain('sync_failed');

    await rig.cloud.clearFaults();
    expect(await api('/api/v1/sync/failures/retry', { method: 'POST', body: JSON.stringify({ seqs: [failedSeq] }) })).toEqual({ requested: [failedSeq] });
    await until('the retry to be accepted', async () => (await api('/api/v1/sync/failures')).failures.length === 0);
    const resolved = await api('/api/v1/sync/failures?state=resolved');
    expect(resolved.failures).toMatchObject([{ seq: failedSeq, state: 'resolved', attempts: 1 }]);
    expectChecker();
  });

  it('applies the cancel rule: accepted while pending, refused once packing started; the answers reach the cloud', async () => {
    await pullOrders(['O-500', 'O-501']);
    // Station 2 starts packing O-500: the scan opens a shipment.
    const d = stationDevices(2);
    const scanner = await device(info.mqttUrl!, d.scanner, secrets[d.scanner]!);
    clients.push(scanner);
    const replies = await Inbox.open(scanner, replyTopics(d.scanner));
    await scanner.publishAsync(`dev/${d.scanner}/evt/scan`, JSON.stringify({ msg_id: 'c1', code: 'O-500' }), { qos: 1 });
    expect((await replies.next((m) => m.payload.msg_id === 'c1', 10_000)).topic).toMatch(/\/ack$/);

    expect((await rig.admin('POST', '/admin/orders/O-500/cancel-request', { request_id: 'CR-1' })).status).toBe(201);
    expect((await rig.admin('POST', '/admin/orders/O-501/cancel-request', { request_id: 'CR-2' })).status).toBe(201);
    const refused = await until('the refusal to reach the cloud', async () => {
      const r = await rig.admin('GET', '/admin/cancel-requests/CR-1');
      return r.body.state === 'refused' ? r.body : null;
    });
    expect(refused.answer).toMatchObject({ shipment_id: expect.any(String), code: 'PKL_CANCEL_TOO_LATE' });
    await until('the acceptance to reach the cloud', async () => (await rig.admin('GET', '/admin/cancel-requests/CR-2')).body.state === 'accepted');

    // The accepted cancel stops O-501 at the scanner; the refused one is on the exception queue.
    await scanner.publishAsync(`dev/${d.scanner}/evt/scan`, JSON.stringify({ msg_id: 'c2', code: 'O-501' }), { qos: 1 });
    const stop = await replies.next((m) => m.payload.msg_id === 'c2' || m.payload.code !== undefined, 10_000);
    expect(JSON.stringify(stop.payload)).toMatch(/CANCEL/);
    const report = await api('/api/v1/sync/reconciliation');
    expect(report.conflicts.filter((c: { kind: string }) => c.kind === 'cancel_refused')).toMatchObject([{ order_id: 'O-500' }]);
    await drained(info.httpUrl, info.tokens.admin);
    expectChecker();
  });

  it('serves the pull feed: every shipped shipment once per change, in seq order, all acknowledged', async () => {
    const seen = new Map<string, { seq: number; state: string; cloud_acked: boolean }>();
    let after = 0;
    let lastSeq = 0;
    for (;;) {
      const page = await api(`/api/v1/shipments?after=${after}&limit=7`);
      for (const r of page.records) {
        expect(r.seq).toBeGreaterThan(lastSeq);
        lastSeq = r.seq;
        seen.set(r.shipment_id, r);
      }
      if (page.next_cursor === after) break;
      after = page.next_cursor;
    }
    const shipped = [...seen.values()].filter((r) => r.state === 'shipped');
    expect(shipped.length).toBeGreaterThanOrEqual(22);
    expect(shipped.every((r) => r.cloud_acked)).toBe(true);
  });
});
