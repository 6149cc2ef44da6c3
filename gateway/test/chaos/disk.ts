/**
 * Disk full (docs/reliability.md): the gateway's data directory on a small tmpfs (we run as root in CI;
 * elsewhere the scenario is reported as skipped), filled up while stations pack.
 *
 *   A. nearly full (free < storage.minFreeMb): new work is refused with PKL_DISK_FULL, /readyz
 *      says not ready ("disk almost full"), and shipments already open still finish;
 *      Space returns: ready again (the store checks every 10 s);
 *   B. completely full at once (0 bytes free, before the periodic check noticed): the commits
 *      fail with SQLITE_FULL, devices get PKL_DISK_FULL, the process stays up;
 *   C. SIGKILL while full, and a restart attempt while still full;
 *   D. space returns: work is accepted again (time measured), the outbox drains;
 * then the usual checks: everything acknowledged is there, gap-free log, integrity ok,
 * exactly once in the cloud.
 */
import { execFileSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, rmSync, statfsSync, unlinkSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ChildGateway } from '../support/child-gateway.js';
import { startChildGateway } from '../support/child-gateway.js';
import { drainAndCheck, type ScenarioFigures } from './scenario.js';
import { wireOrder } from '../support/floor.js';
import { AckLedger, OrderPool } from './floor-load.js';
import { startPacedStations } from './paced-stations.js';
import { type Progress, round } from './report.js';
import { api, ChaosRig, killHard, sleep, until, waitReady } from './rig.js';

export interface DiskFullOptions {
  diskMb: number;
  /** storage.minFreeMb of the gateway under test. */
  minFreeMb?: number;
  stations?: number;
  /** Run phase A (nearly full, then space back); default true. The smoke test skips it (it waits for two 10 s disk checks). */
  nearlyFull?: boolean;
  keep?: boolean;
  progress?: Progress;
}

function freeBytes(dir: string): number {
  const s = statfsSync(dir);
  return s.bavail * s.bsize;
}

/** Appends to `file` until the filesystem has at most `leaveBytes` free (0: until ENOSPC). */
function fill(dir: string, file: string, leaveBytes: number): void {
  const fd = openSync(file, 'a');
  const chunk = Buffer.alloc(256 * 1024, 0x5a);
  try {
    for (;;) {
      const free = freeBytes(dir);
      if (leaveBytes > 0 && free <= leaveBytes) return;
      const n = leaveBytes > 0 ? Math.min(chunk.length, free - leaveBytes) : chunk.length;
      try {
        writeSync(fd, chunk, 0, Math.max(4096, n));
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOSPC') {
          if (leaveBytes > 0) return;
          // The last few blocks: fill them one at a time.
          try {
            for (;;) writeSync(fd, chunk, 0, 4096);
          } catch {
            return;
          }
        }
        throw err;
      }
    }
  } finally {
    closeSync(fd);
  }
}

export async function runDiskFull(o: DiskFullOptions): Promise<ScenarioFigures> {
  const mnt = mkdtempSync(join(tmpdir(), 'pkl-disk-'));
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${o.diskMb}m,mode=0700`, 'tmpfs', mnt], { stdio: 'pipe' });
  } catch (err) {
    rmSync(mnt, { recursive: true, force: true });
    return { skipped: `cannot mount a tmpfs (${String((err as Error).message).split('\n')[0]}); run as root`, violations: 0, violationList: [] };
  }
  const minFreeMb = o.minFreeMb ?? 4;
  const stations = o.stations ?? 2;
  const dataDir = join(mnt, 'gw');
  const filler = join(mnt, 'filler');
  const rig = await ChaosRig.create({ stations, lines: 0, dataDir, extra: { storage: { minFreeMb } }, ...(o.keep ? { keep: true } : {}) });
  const ledger = new AckLedger();
  const v: string[] = [];
  const fig: Record<string, unknown> = { diskMb: o.diskMb, minFreeMb };
  let child: ChildGateway | null = null;
  try {
    child = (await rig.startGateway()).g;
    let g: ChildGateway = child;
    const pool = new OrderPool(rig, 'df');
    await pool.ensure(g, 2_000);
    // A. Nearly full: below minFreeMb, still some room for the shipments already open.
    const nearlyFull = async (): Promise<void> => {
      const load = await startPacedStations(g, ledger, { stations, ratePerSecond: 10, runTag: 'dfA', next: () => pool.next(), timeoutMs: 3_000 });
      await sleep(2_000);
      const shippedBeforeFull = load.figures.shipments;

      fill(mnt, filler, Math.floor((minFreeMb / 2) * 1024 * 1024));
      const lowAt = performance.now();
      o.progress?.(`disk: ${round(freeBytes(mnt) / 2 ** 20)} MB free (min ${minFreeMb} MB); waiting for the refusal`);
      const refusedA = await until('new work refused with PKL_DISK_FULL', () => (load.figures.refused['PKL_DISK_FULL'] ?? 0) > 0, 60_000, 50).then(
        () => true,
        () => false,
      );
      if (!refusedA) v.push('nearly full: no scan was refused with PKL_DISK_FULL within 60 s');
      fig.nearlyFullRefusedAfterS = round((performance.now() - lowAt) / 1000);
      const ready = await fetch(`${g.httpUrl}/readyz`);
      const readyBody = (await ready.json()) as { ready: boolean; checks: Record<string, { ok: boolean; detail?: string }> };
      fig.nearlyFullReadyz = { status: ready.status, store: readyBody.checks.store };
      if (ready.status !== 503) v.push(`nearly full: /readyz answered ${ready.status}, not 503`);
      const probe = await api<{ code?: string; error?: { code?: string } }>(g, '/api/v1/orders', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify([wireOrder('O-df-probe')]),
      });
      fig.nearlyFullOrderImport = { status: probe.status, code: probe.body?.code ?? probe.body?.error?.code ?? null };
      if (probe.status !== 507) v.push(`nearly full: an order import answered ${probe.status}, not 507 PKL_DISK_FULL`);
      await sleep(1_000);
      const a = await load.stop();
      fig.loadNearlyFull = { shippedBeforeLow: shippedBeforeFull, shipments: a.shipments, refused: a.refused, timeouts: a.timeouts };

      // Space returns (the store notices at its next periodic check, every 10 s).
      unlinkSync(filler);
      const freedA = performance.now();
      await waitReady(g, 60_000).catch((err: unknown) => v.push(`nearly full, space back: ${String((err as Error).message)}`));
      fig.nearlyFullRecoveredS = round((performance.now() - freedA) / 1000);
    };
    if (o.nearlyFull !== false) await nearlyFull();

    // B. Completely full at once, before the periodic check can notice: the commits
    // themselves fail (SQLITE_FULL) and must come back as PKL_DISK_FULL, the process up.
    let load = await startPacedStations(g, ledger, { stations, ratePerSecond: 10, runTag: 'dfB', next: () => pool.next(), timeoutMs: 3_000 });
    await sleep(1_500);
    fill(mnt, filler, 0);
    const fullAt = performance.now();
    o.progress?.(`disk: full (${freeBytes(mnt)} bytes free)`);
    await until('PKL_DISK_FULL while full', () => (load.figures.refused['PKL_DISK_FULL'] ?? 0) > 0, 30_000, 20).catch(() =>
      v.push('full: no PKL_DISK_FULL within 30 s'),
    );
    fig.fullRefusedAfterS = round((performance.now() - fullAt) / 1000, 2);
    await sleep(4_000);
    const alive = g.proc.exitCode === null && g.proc.signalCode === null;
    fig.fullGatewayAlive = alive;
    if (!alive) v.push(`full: the gateway exited (${g.proc.exitCode ?? g.proc.signalCode}):\n${g.output().slice(-2_000)}`);
    else fig.fullReadyz = (await fetch(`${g.httpUrl}/readyz`)).status;
    const b = await load.stop();
    fig.loadFull = { shipments: b.shipments, refused: b.refused, timeouts: b.timeouts };

    // C. SIGKILL while full, then try to start while still full.
    await killHard(g);
    child = null;
    const t = performance.now();
    try {
      const g2 = await startChildGateway(rig.configFile, rig.dataDir);
      child = g2;
      const r = await fetch(`${g2.httpUrl}/readyz`);
      fig.restartWhileFull = { started: true, readyz: r.status, seconds: round((performance.now() - t) / 1000) };
    } catch (err) {
      const msg = String((err as Error).message);
      fig.restartWhileFull = { started: false, coded: /PKL_DISK_FULL/.test(msg), message: msg.split('\n').slice(1, 3).join(' ').slice(0, 300) };
      if (!/PKL_[A-Z_]+/.test(msg)) v.push(`restart while full failed without a coded error: ${msg.slice(0, 500)}`);
    }

    // D. Space returns.
    unlinkSync(filler);
    const freedAt = performance.now();
    if (child === null) child = (await rig.startGateway()).g;
    g = child;
    await waitReady(g, 60_000).catch((err: unknown) => v.push(`after space returned: ${String((err as Error).message)}`));
    fig.readyAfterSpaceS = round((performance.now() - freedAt) / 1000);
    load = await startPacedStations(g, ledger, { stations, ratePerSecond: 10, runTag: 'dfD', next: () => pool.next(), timeoutMs: 3_000 });
    await until('a shipment after space returned', () => load.figures.shipments > 0, 60_000, 50).catch(() =>
      v.push('no shipment within 60 s after space returned'),
    );
    fig.firstShipmentAfterSpaceS = round((performance.now() - freedAt) / 1000);
    await sleep(2_000);
    const d = await load.stop();
    fig.loadAfterSpace = { shipments: d.shipments, refused: d.refused, timeouts: d.timeouts };

    const c = await drainAndCheck(rig, g, ledger);
    child = null;
    v.push(...c.violations);
    return {
      ...fig,
      events: c.events,
      cloudEvents: c.cloud.cloudEvents,
      ackedShipments: ledger.shipments.length,
      ackedEventsChecked: ledger.count,
      violations: v.length,
      violationList: v,
    };
  } finally {
    if (child !== null) await killHard(child).catch(() => undefined);
    await rig.close();
    try {
      execFileSync('umount', [mnt], { stdio: 'pipe' });
      rmSync(mnt, { recursive: true, force: true });
    } catch {
      // left mounted for a post-mortem; the report names it
    }
  }
}
