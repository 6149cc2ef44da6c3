/**
 * No cloud answer can stall the gateway: the sync service on a real store against the
 * reference cloud over HTTP on 127.0.0.1, one fault mode at a time —
 * - answers with fields the contract does not name: read, counted, nothing stalls;
 * - a change the gateway cannot apply (a poison change): quarantined, alerted, reported
 *   upstream as a rejected change with its code, and the feed moves on;
 * - answers that do not match the contract: link "contract error", alert, the cause on the
 *   dashboard's data, recovery when the cloud is fixed;
 * - a cloud slower than sync.timeoutMs: the batch shrinks and the timeout adapts, it drains;
 * - a rejection whose ack is lost: the cloud repeats it for the redelivered seq, the event
 *   is tagged.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CHANGE_REJECT_CODES, SYNC_EVENT } from '../../../contracts/sync.js';
import type { Alert } from '../../../cloud-sync/src/notify/alert.js';
import { parseConfig } from '../../src/config/load.js';
import { createLogger } from '../../src/lib/logger.js';
import { openStore } from '../../src/storage/sqlite-store.js';
import type { Store } from '../../src/storage/types.js';
import { SyncService } from '../../src/sync/sync-service.js';
import { fastSync, GATEWAY_ID, type Rig, startRig, until } from '../support/sync-rig.js';

let rig: Rig;
let store: Store;
let sync: SyncService;
const alerts: Alert[] = [];

async function record(n: number, tag: string): Promise<void> {
  for (let i = 0; i < n; i++) await store.write([{ op: 'event', type: 'test.recorded', subject: `thing:${tag}-${i}`, data: { i, tag } }]);
}

const drained = () =>
  until('the backlog to drain', () => {
    const l = sync.linkState();
    return l.backlog === 0 && l.acked_seq > 0 && l.state === 'online';
  });

beforeAll(async () => {
  rig = await startRig();
  const dataDir = join(rig.dir, 'gw');
  mkdirSync(dataDir, { recursive: true });
  store = openStore({ dataDir, logger: createLogger('silent') });
  await store.start();
  const config = parseConfig({
    gatewayId: GATEWAY_ID,
    dataDir,
    sync: fastSync(rig.cloud.url, rig.keyFile, { timeoutMs: 400 }),
  });
  sync = new SyncService({
    config,
    store,
    link: null,
    logger: createLogger(process.env['SYNC_TEST_LOG'] ?? 'silent'),
    alerts: { notify: (a) => alerts.push(a) },
    watchEveryMs: 50,
  });
  await sync.start();
});

afterAll(async () => {
  await sync?.stop();
  await store?.stop();
  await rig?.close();
});

describe('tolerant reading', () => {
  it('reads answers with fields it does not know, counts them, and drains', async () => {
    await rig.cloud.setFaults({ extraAnswerFields: true });
    await rig.addOrders(['EXTRA-1']);
    await record(5, 'extra');
    await drained();
    await until('the order through the feed', () => store.getOrder('EXTRA-1'));
    expect(sync.totals().unknownFields).toBeGreaterThan(0);
    expect(sync.status().outbox?.contractErrors).toBe(0);
    await rig.cloud.clearFaults();
  });
});

describe('poison changes', () => {
  it('quarantines a change it cannot apply, alerts, reports it upstream, and applies the changes behind it', async () => {
    alerts.length = 0;
    const poison = await rig.admin('POST', '/admin/changes/raw', { kind: 'order.status', order_id: 'POISON-1', status: 'lost_in_space', revision: 2, at: 1 });
    const unknownKind = await rig.admin('POST', '/admin/changes/raw', { kind: 'order.teleport', order_id: 'POISON-2' });
    // A cancel request carrying a revision (an optional field) is applied, not quarantined.
    await rig.addOrders(['AFTER-1']);
    const cancel = await rig.admin('POST', '/admin/orders/AFTER-1/cancel-request', { request_id: 'CR-AFTER-1' });
    expect(cancel.status).toBe(201);
    await until('the order behind the poison change', () => store.getOrder('AFTER-1')?.flags.cancelled);

    const rejected = await until('the quarantine events', () => {
      const a = store.lastEvent('order:POISON-1', SYNC_EVENT.changeRejected);
      const b = store.lastEvent('order:POISON-2', SYNC_EVENT.changeRejected);
      return a && b ? [a, b] : null;
    });
    expect(rejected[0]!.data).toMatchObject({ cursor: poison.body.cursor, kind: 'order.status', code: CHANGE_REJECT_CODES.malformed });
    expect(rejected[1]!.data).toMatchObject({ cursor: unknownKind.body.cursor, kind: 'order.teleport', code: CHANGE_REJECT_CODES.unknownKind });
    const alert = await until('the quarantine alert', () => alerts.find((a) => a.key === 'sync.change_rejected'));
    expect(alert.title).toMatch(/CHANGE_/);
    expect(sync.status().inbound?.quarantined).toBe(2);
    // Reported upstream: the cloud holds the rejected-change events.
    await drained();
    const upstream = await rig.admin('GET', `/admin/gateways/${GATEWAY_ID}/events?limit=10000`);
    expect(JSON.stringify(upstream.body)).toContain(CHANGE_REJECT_CODES.unknownKind);
  });
});

describe('unreadable answers', () => {
  it('says "contract error" with the cause, alerts, and resumes once the cloud answers by the contract', async () => {
    alerts.length = 0;
    await rig.cloud.setFaults({ unreadableAnswers: true });
    await record(3, 'unreadable');
    const l = await until('the contract error state', () => (sync.linkState().state === 'contract_error' ? sync.linkState() : null));
    expect(l.last_error).toMatch(/does not match the sync contract/);
    expect(l.backlog).toBeGreaterThan(0);
    await until('the contract alert', () => alerts.find((a) => a.key === 'sync.contract' && a.status !== 'resolved'));
    await until('a few contract errors', () => (sync.status().outbox?.contractErrors ?? 0) >= 2);
    // Every request that went out is counted, with the events it carried, though none was answered usably.
    const o = sync.status().outbox!;
    expect(o.requests).toBeGreaterThan(o.batches);
    expect(o.eventsSent).toBeGreaterThanOrEqual(3 * o.contractErrors);
    await rig.cloud.clearFaults();
    await drained();
    await until('the resolved alert', () => alerts.find((a) => a.key === 'sync.contract' && a.status === 'resolved'));
  });
});

describe('a slow cloud', () => {
  it('drains a cloud slower than sync.timeoutMs: the batch shrinks and the timeout adapts', async () => {
    await rig.cloud.setFaults({ latencyMs: 700 });
    await record(30, 'slow');
    await until('the slow cloud to be drained', () => sync.linkState().backlog === 0, 60_000);
    const o = sync.status().outbox!;
    expect(o.timeouts).toBeGreaterThan(0);
    expect(o.timeoutMs).toBeGreaterThan(400);
    expect(o.timeoutMs).toBeLessThanOrEqual(1_600); // bounded: 4 × sync.timeoutMs
    expect(rig.check().problems).toEqual([]);
    await rig.cloud.clearFaults();
  });
});

describe('rejections and lost acks', () => {
  it('tags an event whose rejection was in an ack that was lost (the cloud repeats it for the redelivery)', async () => {
    await drained();
    const failedBefore = store.openSyncFailureCount();
    await rig.cloud.setFaults({ rejectSubjects: '^thing:lostrej-', lostAckShare: 1 });
    await record(1, 'lostrej');
    await until('the cloud to store the rejected event and lose the ack', () => rig.cloud.stats().faults.lostAcks > 0);
    await rig.cloud.setFaults({ lostAckShare: 0, rejectSubjects: null });
    await drained();
    expect(store.openSyncFailureCount()).toBe(failedBefore + 1);
    expect(store.syncFailures({ state: 'failed', limit: 10 }).some((f) => f.code === 'TEST_REJECTED')).toBe(true);
  });
});
