/**
 * The short version of the reliability harness (`npm run chaos`, gateway/test/chaos/) that
 * runs with `npm test`: a few SIGKILL runs of the crash loop under station and DWS load with
 * cloud sync on, a small cloud outage drained exactly once, and the disk-full scenario on a
 * tmpfs (root only). Each must report 0 violations. A negative control first shows the
 * checker does flag what it is meant to flag.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { buildBacklog } from '../../../bench/sync-backlog.js';
import { DB_FILE } from '../../src/storage/sqlite-store.js';
import { runCrashLoop } from '../chaos/crash-loop.js';
import { runDiskFull } from '../chaos/disk.js';
import { AckLedger } from '../chaos/floor-load.js';
import { checkStore } from '../chaos/invariants.js';
import { runOutageSoak } from '../chaos/outage-soak.js';
import { GATEWAY_ID } from '../support/sync-rig.js';

const scratch = mkdtempSync(join(tmpdir(), 'pkl-chaos-smoke-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

describe('chaos smoke', () => {
  it('the store checker flags an acknowledged seq or shipment that is not there', () => {
    const dataDir = join(scratch, 'neg');
    buildBacklog({ dataDir, gatewayId: GATEWAY_ID, events: 50, stations: 1, liveOrders: 0 });
    const ok = new AckLedger();
    ok.seqs.push(1, 50);
    expect(checkStore(join(dataDir, DB_FILE), ok).violations).toEqual([]);
    const bad = new AckLedger();
    bad.seqs.push(51);
    bad.shipments.push({ orderId: 'O-none', shipmentId: 'S-none', jobId: 'J-none', seq: 3 });
    const v = checkStore(join(dataDir, DB_FILE), bad).violations;
    expect(v.some((s) => /acknowledged seq 51 is not in the log/.test(s))).toBe(true);
    expect(v.some((s) => /acknowledged shipment S-none/.test(s))).toBe(true);
  });

  it('crash loop: nothing acknowledged is lost over 3 SIGKILL runs', { timeout: 300_000 }, async () => {
    const f = await runCrashLoop({ runs: 3, stations: 2, lines: 1, minLoadMs: 300, maxLoadMs: 1_500, integrityEveryRun: true, seed: 11 });
    expect(f.violationList).toEqual([]);
    expect(f.kills).toBe(3);
    expect(f.ackedEventsChecked).toBeGreaterThan(0);
    expect(f.cloudEvents).toBe(f.events);
  });

  it('outage: a backlog written while the cloud was down drains exactly once', { timeout: 300_000 }, async () => {
    const f = await runOutageSoak({ events: 3_000, liveSeconds: 4, stations: 2, rate: 10 });
    expect(f.violationList).toEqual([]);
    expect(f.liveShipmentsOffline).toBeGreaterThan(0);
    expect(f.cloudEvents).toBe(f.eventsAtCloudReturn);
  });

  it.skipIf(process.getuid?.() !== 0)('disk full: new work refused with PKL_DISK_FULL, nothing acknowledged lost, recovery', { timeout: 300_000 }, async () => {
    const f = await runDiskFull({ diskMb: 24, nearlyFull: false });
    expect(f.violationList).toEqual([]);
    expect(f.skipped).toBeUndefined();
    expect((f.loadFull as { refused: Record<string, number> }).refused['PKL_DISK_FULL']).toBeGreaterThan(0);
    expect(f.fullGatewayAlive).toBe(true);
    expect(f.ackedShipments).toBeGreaterThan(0);
  });
});
