/**
 * Crash loop (docs/reliability.md): stations and a DWS line ship against a gateway child process that is
 * SIGKILLed at a random moment, N times over one data directory, with cloud sync draining to
 * the reference cloud the whole time (so kills land mid-batch too). After each restart the
 * invariants (invariants.ts) and the sync checker run on everything acknowledged so far. At
 * the end the gateway is left to drain and the checker must find every event in the cloud
 * exactly once.
 */
import type { ChildGateway } from '../support/child-gateway.js';
import { AckLedger, FloorLoad, OrderPool } from './floor-load.js';
import { checkStore, syncViolations } from './invariants.js';
import { api, ChaosRig, killHard, sleep, stopGateway, until } from './rig.js';
import { mean, type Progress } from './report.js';

export interface CrashLoopOptions {
  runs: number;
  stations: number;
  lines: number;
  /** The kill lands uniformly in [minLoadMs, maxLoadMs] after the load started. */
  minLoadMs: number;
  maxLoadMs: number;
  /** Run `PRAGMA integrity_check` after every restart (else only at the end). */
  integrityEveryRun: boolean;
  seed: number;
  /** Time budget: no new run starts after this many minutes (the loop then drains and reports). */
  maxMinutes?: number;
  keep?: boolean;
  progress?: Progress;
}

export interface CrashLoopFigures {
  runs: number;
  runsRequested: number;
  kills: number;
  ackedShipments: number;
  ackedParcels: number;
  ackedEventsChecked: number;
  events: number;
  cloudEvents: number;
  duplicatesAbsorbedByCloud: number;
  interceptedOrders: number;
  violations: number;
  violationList: string[];
  restartToReadyMs: { mean: number; min: number; max: number };
  seconds: number;
}

export const CRASH_DEFAULTS: Omit<CrashLoopOptions, 'progress'> = {
  runs: 200,
  stations: 4,
  lines: 1,
  minLoadMs: 200,
  maxLoadMs: 2_500,
  integrityEveryRun: true,
  seed: 7,
};

/** A small seeded PRNG (mulberry32) so a run's kill moments can be replayed. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Restarts the gateway. A start that fails is retried twice (10 s apart) before the loop
 * gives up: on a development tree a start can fail for reasons that are not the crash's
 * (a file being edited); the error is reported either way.
 */
async function startWithRetry(rig: ChaosRig, progress?: Progress): Promise<Awaited<ReturnType<ChaosRig['startGateway']>>> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await rig.startGateway();
    } catch (err) {
      if (attempt >= 3) throw err;
      progress?.(`restart failed (attempt ${attempt}), retrying in 10 s: ${String((err as Error).message).slice(0, 300)}`);
      await sleep(10_000);
    }
  }
}

export async function runCrashLoop(o: CrashLoopOptions): Promise<CrashLoopFigures> {
  const t0 = performance.now();
  const rnd = prng(o.seed);
  const rig = await ChaosRig.create({ stations: o.stations, lines: o.lines, ...(o.keep ? { keep: true } : {}) });
  const ledger = new AckLedger();
  const violations: string[] = [];
  const readyMs: number[] = [];
  let kills = 0;
  let runsDone = 0;
  let child: ChildGateway | null = null;
  const note = (run: number, v: string[]) => {
    for (const s of v) if (violations.length < 50) violations.push(`run ${run}: ${s}`);
  };
  try {
    child = (await rig.startGateway()).g;
    const stationOrders = new OrderPool(rig, 's');
    const lineOrders = new OrderPool(rig, 'l', 0);
    // Per run a station ships at most a few dozen parcels; orders are created ahead in bulk.
    const perRun = Math.ceil((o.maxLoadMs / 1000) * 40 * o.stations) + 50;
    for (let run = 1; run <= o.runs; run++) {
      if (o.maxMinutes !== undefined && performance.now() - t0 > o.maxMinutes * 60_000) {
        o.progress?.(`time budget of ${o.maxMinutes} min spent after ${runsDone} runs; stopping here`);
        break;
      }
      const g: ChildGateway = child;
      await stationOrders.ensure(g, perRun);
      if (o.lines > 0) await lineOrders.ensure(g, Math.ceil(perRun / 2));
      const load = await FloorLoad.start(g, {
        stations: o.stations,
        lines: o.lines,
        runTag: `r${run}`,
        stationOrders,
        lineOrders,
        timeoutMs: 3_000,
        lineGapMs: 20,
      });
      await sleep(o.minLoadMs + rnd() * (o.maxLoadMs - o.minLoadMs));
      await killHard(g);
      kills += 1;
      child = null;
      await load.stop(ledger);
      // The sync checker reads both databases while neither changes: the gateway is dead, so
      // nothing is in flight to the cloud either (a running gateway could write and deliver
      // events between the checker's two reads).
      const sync = syncViolations(rig.check());

      const started = await startWithRetry(rig, o.progress);
      child = started.g;
      readyMs.push(started.readyMs);
      const s = checkStore(rig.dbPath, ledger, { integrity: o.integrityEveryRun });
      note(run, [...s.violations, ...sync]);
      runsDone = run;
      o.progress?.(
        `run ${run}/${o.runs}: acked ${ledger.count} seqs, log ${s.maxSeq}, ready in ${started.readyMs.toFixed(0)} ms, violations ${violations.length}`,
      );
    }

    // Drain: every event the gateway wrote must reach the cloud exactly once.
    const g: ChildGateway = child;
    await until(
      'the outbox to drain',
      async () => {
        const st = (await api(g, '/api/v1/sync')).body;
        return st?.link?.backlog === 0 && st.link.acked_seq > 0;
      },
      300_000,
      200,
    );
    const code = await stopGateway(g);
    child = null;
    if (code !== 0) note(runsDone, [`gateway exited with ${code} on SIGTERM`]);
    const final = checkStore(rig.dbPath, ledger, { integrity: true });
    const r = rig.check();
    note(runsDone, [...final.violations, ...syncViolations(r)]);
    if (r.stats.cloudHwm !== final.maxSeq) note(runsDone, [`cloud hwm ${r.stats.cloudHwm} after the drain, gateway log ends at ${final.maxSeq}`]);
    if (r.stats.cloudEvents !== final.events) note(runsDone, [`cloud holds ${r.stats.cloudEvents} events, gateway ${final.events}`]);
    return {
      runs: runsDone,
      runsRequested: o.runs,
      kills,
      ackedShipments: ledger.shipments.length,
      ackedParcels: ledger.parcels.length,
      ackedEventsChecked: ledger.count,
      events: final.events,
      cloudEvents: r.stats.cloudEvents,
      duplicatesAbsorbedByCloud: r.stats.duplicatesReceived,
      interceptedOrders: stationOrders.intercepted.size,
      violations: violations.length,
      violationList: violations,
      restartToReadyMs: { mean: mean(readyMs), min: Math.min(...readyMs), max: Math.max(...readyMs) },
      seconds: (performance.now() - t0) / 1000,
    };
  } finally {
    if (child !== null) await killHard(child).catch(() => undefined);
    await rig.close();
  }
}
