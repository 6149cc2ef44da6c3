/**
 * The sync service on a real store against the reference cloud, with the gateway's clock
 * under the test's control: a clock jumped a day forward or back (a Pi without RTC after a
 * power cut, then NTP) makes the cloud refuse the signature window; nothing is lost or
 * duplicated, the link says why, and sync resumes once the clock is right. Also the alarms:
 * a long outage and its end, and sync failures, reach the alert sink.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
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
let offsetMs = 0;
const alerts: Alert[] = [];

async function record(n: number, tag: string): Promise<void> {
  for (let i = 0; i < n; i++) await store.write([{ op: 'event', type: 'test.recorded', subject: `thing:${tag}-${i}`, data: { i, tag } }]);
}

beforeAll(async () => {
  rig = await startRig();
  const dataDir = join(rig.dir, 'gw');
  mkdirSync(dataDir, { recursive: true });
  store = openStore({ dataDir, logger: createLogger('silent') });
  await store.start();
  const config = parseConfig({
    gatewayId: GATEWAY_ID,
    dataDir,
    sync: fastSync(rig.cloud.url, rig.keyFile, { outageAlertAfterMs: 1_000 }),
  });
  sync = new SyncService({
    config,
    store,
    link: null,
    logger: createLogger(process.env['SYNC_TEST_LOG'] ?? 'silent'),
    alerts: { notify: (a) => alerts.push(a) },
    now: () => Date.now() + offsetMs,
    watchEveryMs: 50,
  });
  await sync.start();
});

afterAll(async () => {
  await sync?.stop();
  await store?.stop();
  await rig?.close();
});

const backlogZero = () => until('the backlog to drain', () => sync.linkState().backlog === 0 && sync.linkState().acked_seq > 0);

describe('clock jumps', () => {
  for (const [name, jump] of [
    ['forward a day', 86_400_000],
    ['back a day', -86_400_000],
  ] as const) {
    it(`a clock jumped ${name} is refused by the cloud, loses nothing, and syncs once corrected`, async () => {
      await record(3, `before-${jump}`);
      await backlogZero();
      offsetMs = jump;
      await record(5, `during-${jump}`);
      const refused = await until('the cloud to refuse the stale signature', () => {
        const l = sync.linkState();
        // The outbox itself was refused (not only the change feed).
        return l.state === 'degraded' && /SYNC_STALE_REQUEST/.test(sync.status().outbox?.lastError ?? '') ? l : null;
      });
      expect(refused.backlog).toBe(5);
      offsetMs = 0;
      await backlogZero();
      expect(rig.check().problems).toEqual([]);
    });
  }
});

describe('alarms', () => {
  it('raises a long outage once it lasts, and resolves it when the cloud is back', async () => {
    alerts.length = 0;
    await rig.cloud.setFaults({ down: true });
    await record(2, 'outage');
    const outage = await until('the outage alert', () => alerts.find((a) => a.key === 'sync.outage' && a.status !== 'resolved'));
    expect(outage).toMatchObject({ severity: 'critical' });
    expect(outage.details).toMatchObject({ backlog: 2 });
    await rig.cloud.clearFaults();
    await until('the resolved alert', () => alerts.find((a) => a.key === 'sync.outage' && a.status === 'resolved'));
    await backlogZero();
  });

  it('tells someone when the cloud rejects events', async () => {
    alerts.length = 0;
    await rig.cloud.setFaults({ rejectSubjects: '^thing:reject-' });
    await record(1, 'reject');
    const a = await until('the sync.failed alert', () => alerts.find((x) => x.key === 'sync.failed'));
    expect(a.text).toMatch(/packline sync retry/);
    await rig.cloud.clearFaults();
    expect(store.openSyncFailureCount()).toBe(1);
  });
});
