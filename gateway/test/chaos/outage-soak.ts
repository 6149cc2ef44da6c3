/**
 * Outage soak (docs/reliability.md): the cloud is down for a simulated day at peak rate, then returns.
 *
 * The day itself (720,000 events = 24 h at peak) is written into the gateway's event log
 * before it starts, by the sync benchmark's backlog writer (bench/sync-backlog.ts: the
 * gateway's own schema, event types and sizes): playing 24 h over MQTT would take hours, and
 * the drain reads only the event log. What must be live is the gateway running offline: it
 * starts on that backlog with the cloud down and stations keep packing at a steady rate while
 * its RSS is sampled every second — memory must stay flat while the backlog only grows. Then
 * the cloud comes back, everything drains, and the sync checker must find every event in the
 * cloud exactly once, nothing acknowledged lost, no gap, no intercepted order shipped.
 */
import Database from 'better-sqlite3';
import { buildBacklog, LIVE_GRAMS } from '../../../bench/sync-backlog.js';
import { GATEWAY_ACKED_KEY } from '../../../simulators/src/cloud/reference/checker.js';
import type { ChildGateway } from '../support/child-gateway.js';
import { GATEWAY_ID } from '../support/sync-rig.js';
import { AckLedger } from './floor-load.js';
import { checkStore, syncViolations } from './invariants.js';
import { startPacedStations } from './paced-stations.js';
import { mean, type Progress, round, slope } from './report.js';
import { ChaosRig, killHard, rssMb, sleep, stopGateway } from './rig.js';

export interface SoakOptions {
  events: number;
  /** How long the stations pack live while the cloud is down (RSS sampled meanwhile). */
  liveSeconds: number;
  stations: number;
  /** Shipments per second across the live stations. */
  rate: number;
  keep?: boolean;
  progress?: Progress;
}

export const SOAK_DEFAULTS = { events: 720_000, liveSeconds: 60, stations: 8, rate: 20 };

export interface SoakFigures {
  backlogEvents: number;
  backlogWriteSeconds: number;
  liveSecondsOffline: number;
  liveShipmentsOffline: number;
  liveRefusedOffline: Record<string, number>;
  eventsAtCloudReturn: number;
  rssOfflineMb: { first: number; last: number; max: number; mean: number; slopeMbPerMin: number; minFirstHalf: number; minSecondHalf: number; samples: number };
  drainSeconds: number;
  drainEventsPerSecond: number;
  rssDrainMaxMb: number;
  cloudEvents: number;
  cloudHwm: number;
  duplicatesAbsorbedByCloud: number;
  ackedEventsChecked: number;
  violations: number;
  violationList: string[];
  rssSamples: Array<{ s: number; mb: number }>;
  seconds: number;
}

/** The gateway's acknowledged cursor and last seq, read from its database (read-only). */
function progressOf(dbPath: string): { acked: number; last: number } {
  const db = new Database(dbPath, { readonly: true, fileMustExist: true });
  try {
    const acked = Number((db.prepare('SELECT value FROM meta WHERE key = ?').pluck().get(GATEWAY_ACKED_KEY) as string | undefined) ?? 0);
    const last = Number((db.prepare('SELECT MAX(seq) FROM events').pluck().get() as number | null) ?? 0);
    return { acked, last };
  } finally {
    db.close();
  }
}

export async function runOutageSoak(o: SoakOptions): Promise<SoakFigures> {
  const t0 = performance.now();
  const rig = await ChaosRig.create({ stations: o.stations, lines: 0, ...(o.keep ? { keep: true } : {}) });
  const ledger = new AckLedger();
  const violations: string[] = [];
  let child: ChildGateway | null = null;
  try {
    const liveOrders = Math.ceil(o.rate * o.liveSeconds * 1.5) + 100;
    o.progress?.(`writing a ${o.events}-event backlog (a day at peak) into the gateway's event log`);
    const backlog = buildBacklog({ dataDir: rig.dataDir, gatewayId: GATEWAY_ID, events: o.events, stations: o.stations, liveOrders });
    o.progress?.(`backlog written in ${backlog.seconds.toFixed(1)} s (${(backlog.dbBytes / 1e6).toFixed(0)} MB); cloud down, gateway starting`);

    await rig.setFaults({ down: true });
    const started = await rig.startGateway();
    child = started.g;
    const g: ChildGateway = child;
    const pid = g.proc.pid ?? 0;

    let nextLive = 0;
    const load = await startPacedStations(g, ledger, {
      stations: o.stations,
      ratePerSecond: o.rate,
      runTag: 'soak',
      next: () => (nextLive < liveOrders ? { orderId: `L${String(nextLive++).padStart(9, '0')}`, grams: LIVE_GRAMS } : null),
    });
    // Offline: sample the gateway's RSS every second while the stations pack.
    const samples: Array<{ s: number; mb: number }> = [];
    const offlineStart = performance.now();
    while (performance.now() - offlineStart < o.liveSeconds * 1000) {
      samples.push({ s: (performance.now() - offlineStart) / 1000, mb: await rssMb(pid) });
      if (samples.length % 15 === 0)
        o.progress?.(`offline ${samples.length} s: RSS ${samples.at(-1)?.mb.toFixed(1)} MB, ${load.figures.shipments} live shipments`);
      await sleep(1000);
    }
    const live = await load.stop();
    const atReturn = progressOf(rig.dbPath);
    if (atReturn.acked !== 0) violations.push(`the gateway counted ${atReturn.acked} events acknowledged while the cloud was down`);

    // The cloud returns: time until every event written so far is acknowledged.
    o.progress?.(`cloud back; draining ${atReturn.last} events`);
    const upAt = performance.now();
    await rig.cloud.clearFaults();
    let rssDrainMax = 0;
    for (;;) {
      const p = progressOf(rig.dbPath);
      rssDrainMax = Math.max(rssDrainMax, await rssMb(pid));
      if (p.acked >= atReturn.last) break;
      if (performance.now() - upAt > 900_000) {
        violations.push(`not drained after 15 min: acked ${p.acked} of ${atReturn.last}`);
        break;
      }
      await sleep(250);
    }
    const drainSeconds = (performance.now() - upAt) / 1000;
    o.progress?.(`drained in ${drainSeconds.toFixed(1)} s; checking`);

    const code = await stopGateway(g);
    child = null;
    if (code !== 0) violations.push(`gateway exited with ${code} on SIGTERM`);
    const s = checkStore(rig.dbPath, ledger, { integrity: true });
    const r = rig.check();
    violations.push(...s.violations, ...syncViolations(r));
    if (r.stats.cloudHwm !== s.maxSeq) violations.push(`cloud hwm ${r.stats.cloudHwm}, gateway log ends at ${s.maxSeq}`);
    if (r.stats.cloudEvents !== s.events) violations.push(`cloud holds ${r.stats.cloudEvents} events, gateway ${s.events}`);

    const mbs = samples.map((x) => x.mb);
    return {
      backlogEvents: backlog.events,
      backlogWriteSeconds: round(backlog.seconds),
      liveSecondsOffline: o.liveSeconds,
      liveShipmentsOffline: live.shipments,
      liveRefusedOffline: live.refused,
      eventsAtCloudReturn: atReturn.last,
      rssOfflineMb: {
        first: round(mbs[0] ?? 0),
        last: round(mbs.at(-1) ?? 0),
        max: round(Math.max(...mbs)),
        mean: round(mean(mbs)),
        // Least squares over the whole offline phase. V8's heap grows and is collected in a
        // sawtooth, so the troughs of each half say more than one slope over one or two teeth.
        slopeMbPerMin: round(slope(samples.map((x) => ({ x: x.s / 60, y: x.mb }))), 2),
        minFirstHalf: round(Math.min(...mbs.slice(0, Math.floor(mbs.length / 2)))),
        minSecondHalf: round(Math.min(...mbs.slice(Math.floor(mbs.length / 2)))),
        samples: samples.length,
      },
      drainSeconds: round(drainSeconds),
      drainEventsPerSecond: Math.round(atReturn.last / drainSeconds),
      rssDrainMaxMb: round(rssDrainMax),
      cloudEvents: r.stats.cloudEvents,
      cloudHwm: r.stats.cloudHwm,
      duplicatesAbsorbedByCloud: r.stats.duplicatesReceived,
      ackedEventsChecked: ledger.count,
      violations: violations.length,
      violationList: violations,
      rssSamples: samples.map((x) => ({ s: round(x.s), mb: round(x.mb) })),
      seconds: round((performance.now() - t0) / 1000),
    };
  } finally {
    if (child !== null) await killHard(child).catch(() => undefined);
    await rig.close();
  }
}
