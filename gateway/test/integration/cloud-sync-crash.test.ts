/**
 * SIGKILL of the gateway mid-batch: the real `packline start` child ships parcels while its
 * outbox talks to a slow reference cloud (every batch in flight for a while), is killed with
 * SIGKILL, restarted on the same data directory, and drains. The checker must pass: every
 * event the cloud acknowledged is there once, the rest arrived after the restart, no gaps.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { type ChildGateway, startChildGateway } from '../support/child-gateway.js';
import { type AckedShipment, type StationDriver, startStationDriver } from '../support/station-driver.js';
import { drained, fastSync, type Rig, shippable, startRig, until } from '../support/sync-rig.js';

let rig: Rig;
let child: ChildGateway | null = null;
let configFile: string;
let dataDir: string;

beforeAll(async () => {
  rig = await startRig();
  dataDir = join(rig.dir, 'gw');
  configFile = join(rig.dir, 'packline.json');
  const raw = rig.config(1, { sync: fastSync(rig.cloud.url, rig.keyFile, { batch: { maxEvents: 8, lingerMs: 5 } }) });
  writeFileSync(configFile, JSON.stringify(raw));
});

afterAll(async () => {
  child?.proc.kill('SIGKILL');
  await rig?.close();
});

async function shipUntil(g: ChildGateway, ids: string[], stopWhen: (acked: AckedShipment[]) => boolean): Promise<AckedShipment[]> {
  const queue = ids.map(shippable);
  let driver: StationDriver | undefined;
  driver = await startStationDriver({
    mqttUrl: g.mqttUrl,
    secrets: g.secrets,
    station: 1,
    runTag: `k${ids[0]}`,
    timeoutMs: 3_000,
    nextOrder: () => (driver !== undefined && stopWhen(driver.acked) ? null : (queue.shift() ?? null)),
  });
  const d = driver;
  await d.done;
  await d.stop();
  return d.acked;
}

it('loses and duplicates nothing when the gateway is killed with batches in flight', async () => {
  const ids = Array.from({ length: 60 }, (_, i) => `K-${String(i).padStart(3, '0')}`);
  await rig.addOrders(ids);
  child = await startChildGateway(configFile, dataDir);
  const g1 = child;
  await until(
    'orders pulled',
    async () => (await fetch(`${g1.httpUrl}/api/v1/orders/${ids.at(-1)}`, { headers: { authorization: `Bearer ${g1.tokens.admin}` } })).status === 200,
  );
  // A slow cloud: each batch is in flight for 150-200 ms, so the kill lands mid-batch.
  await rig.cloud.setFaults({ latencyMs: 150, jitterMs: 50 });
  const before = await shipUntil(g1, ids.slice(0, 40), (acked) => acked.length >= 15);
  expect(before.length).toBeGreaterThanOrEqual(15);
  const hwmAtKill = rig.check().stats.cloudHwm;
  g1.proc.kill('SIGKILL');
  await g1.exited;

  child = await startChildGateway(configFile, dataDir);
  const g2 = child;
  const after = await shipUntil(g2, ids.slice(40), (acked) => acked.length >= 5);
  expect(after.length).toBe(5);
  await rig.cloud.clearFaults();
  const s = await drained(g2.httpUrl, g2.tokens.admin);
  const r = rig.check();
  expect(r.problems).toEqual([]);
  expect(r.stats.cloudHwm).toBe(s.link.acked_seq);
  expect(r.stats.cloudHwm).toBeGreaterThan(hwmAtKill);
  // Every shipment the operator saw acknowledged, before and after the kill, is in the cloud.
  for (const a of [...before, ...after]) expect(a.seq).toBeLessThanOrEqual(r.stats.cloudHwm);
});
