/**
 * Fault scenarios (docs/reliability.md), each on its own gateway child and data directory, each ending
 * with the same checks as the crash loop (invariants.ts + the sync checker after a drain):
 *
 * - cloud: the reference cloud's fault modes one after the other under a steady station
 *   load — 5xx, hung requests (the gateway's own timeout fires), connection resets, a slow
 *   cloud, duplicate (stale) acks, lost acks, an ack covering only part of a batch;
 * - storm: ~500 devices connected; every connection drops at once with a scan in flight
 *   from every scanner, and every device reconnects at once; time until all are back, and
 *   every scan answered exactly once (devices resend unanswered messages with the same id,
 *   as the firmware does);
 * - disk: the data directory on a small tmpfs, filled up under load — new work refused with
 *   PKL_DISK_FULL and /readyz not ready, acknowledged work kept, a SIGKILL while full, and
 *   work accepted again once space returns (disk.ts);
 * - clock: the gateway's wall clock jumped a day forward, then a day back, under load
 *   (clock-shim.mjs) — seq order and HLC stay monotonic, nothing is lost or duplicated.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { connectAsync, type MqttClient } from 'mqtt';
import type { ChildGateway } from '../support/child-gateway.js';
import { stationDevices, wireOrder } from '../support/floor.js';
import { runDiskFull } from './disk.js';
import { drainAndCheck, type ScenarioFigures } from './scenario.js';
import { AckLedger, OrderPool } from './floor-load.js';
import { startPacedStations } from './paced-stations.js';
import { type Progress, round } from './report.js';
import { api, ChaosRig, killHard, sleep, until } from './rig.js';

export const FAULT_NAMES = ['cloud', 'storm', 'disk', 'clock'] as const;
export type FaultName = (typeof FAULT_NAMES)[number];

export interface FaultsOptions {
  only: readonly FaultName[];
  /** Devices in the disconnect storm (4 per station). */
  devices: number;
  /** Size of the tmpfs the disk-full gateway runs on, MB. */
  diskMb: number;
  /** Seconds of load per cloud fault mode. */
  secondsPerMode?: number;
  keep?: boolean;
  progress?: Progress;
}

export async function runFaults(o: FaultsOptions): Promise<Record<string, unknown>> {
  const out: Record<string, unknown> = {};
  let violations = 0;
  const list: string[] = [];
  const run = async (name: FaultName, fn: () => Promise<ScenarioFigures>) => {
    if (!o.only.includes(name)) return;
    o.progress?.(`fault scenario: ${name}`);
    let f: ScenarioFigures;
    try {
      f = await fn();
    } catch (err) {
      f = { violations: 1, violationList: [`scenario failed: ${(err as Error).stack ?? String(err)}`] };
    }
    out[name] = f;
    violations += f.violations;
    list.push(...f.violationList.map((v) => `${name}: ${v}`));
  };
  await run('cloud', () => cloudFaults(o));
  await run('storm', () => disconnectStorm(o));
  await run('disk', () => runDiskFull({ diskMb: o.diskMb, ...(o.keep ? { keep: true } : {}), ...(o.progress ? { progress: o.progress } : {}) }));
  await run('clock', () => clockJumps(o));
  return { ...out, violations, violationList: list };
}

// ---- cloud faults under load -----------------------------------------------------------

const CLOUD_MODES: Array<{ name: string; faults: Record<string, unknown> }> = [
  { name: '5xx (30 %)', faults: { errorShare: 0.3 } },
  { name: 'timeouts (hung requests)', faults: { hang: true } },
  { name: 'connection resets (30 %)', faults: { resetShare: 0.3 } },
  { name: 'slow (300–700 ms)', faults: { latencyMs: 300, jitterMs: 400 } },
  { name: 'duplicate acks (30 %)', faults: { duplicateAckShare: 0.3 } },
  { name: 'lost acks (30 %)', faults: { lostAckShare: 0.3 } },
  { name: 'partial acks (5 per batch)', faults: { slowDrain: { maxEventsPerBatch: 5 } } },
  { name: 'everything at once', faults: { errorShare: 0.1, resetShare: 0.1, lostAckShare: 0.1, duplicateAckShare: 0.1, latencyMs: 50, jitterMs: 200 } },
];

async function cloudFaults(o: FaultsOptions): Promise<ScenarioFigures> {
  const stations = 8;
  const seconds = o.secondsPerMode ?? 8;
  // A short request timeout so hung requests cost the test seconds, not minutes.
  const rig = await ChaosRig.create({
    stations,
    lines: 0,
    sync: { timeoutMs: 1_000, batch: { maxEvents: 50, lingerMs: 20 } },
    ...(o.keep ? { keep: true } : {}),
  });
  const ledger = new AckLedger();
  let child: ChildGateway | null = null;
  try {
    child = (await rig.startGateway()).g;
    const g = child;
    const pool = new OrderPool(rig, 'cf');
    await pool.ensure(g, Math.ceil(20 * seconds * (CLOUD_MODES.length + 1) * 1.3));
    const load = await startPacedStations(g, ledger, { stations, ratePerSecond: 20, runTag: 'cf', next: () => pool.next() });
    const modes: Array<Record<string, unknown>> = [];
    for (const m of CLOUD_MODES) {
      const before = { ...rig.cloud.faults.counters };
      const shippedBefore = load.figures.shipments;
      await rig.cloud.setFaults(m.faults as never);
      await sleep(seconds * 1000);
      await rig.cloud.clearFaults();
      const after = rig.cloud.faults.counters;
      const hit: Record<string, number> = {};
      for (const k of Object.keys(after) as Array<keyof typeof after>) if (after[k] !== before[k]) hit[k] = after[k] - before[k];
      const st = (await api(g, '/api/v1/sync')).body as { link?: { backlog?: number; state?: string } };
      modes.push({ mode: m.name, shipments: load.figures.shipments - shippedBefore, faultsInjected: hit, backlogAtEnd: st.link?.backlog ?? null });
      o.progress?.(`cloud ${m.name}: ${JSON.stringify(hit)}, backlog ${st.link?.backlog}`);
    }
    const live = await load.stop();
    const c = await drainAndCheck(rig, g, ledger);
    child = null;
    return {
      modes,
      secondsPerMode: seconds,
      liveShipments: live.shipments,
      liveTimeouts: live.timeouts,
      refused: live.refused,
      events: c.events,
      cloudEvents: c.cloud.cloudEvents,
      duplicatesAbsorbedByCloud: c.cloud.duplicatesReceived,
      ackedEventsChecked: ledger.count,
      violations: c.violations.length,
      violationList: c.violations,
    };
  } finally {
    if (child !== null) await killHard(child).catch(() => undefined);
    await rig.close();
  }
}

// ---- device disconnect storm -----------------------------------------------------------

interface StormDevice {
  id: string;
  secret: string;
  client: MqttClient | null;
}

async function connectDevice(g: ChildGateway, d: StormDevice, deadline: number): Promise<MqttClient> {
  for (;;) {
    try {
      const c = await connectAsync(g.mqttUrl, {
        clientId: d.id,
        username: d.id,
        password: d.secret,
        reconnectPeriod: 0,
        connectTimeout: 30_000,
        keepalive: 60,
      });
      c.on('error', () => undefined);
      return c;
    } catch (err) {
      if (Date.now() > deadline) throw err;
      await sleep(100 + Math.random() * 200);
    }
  }
}

async function disconnectStorm(o: FaultsOptions): Promise<ScenarioFigures> {
  const stations = Math.max(1, Math.round(o.devices / 4));
  const rig = await ChaosRig.create({ stations, lines: 0, ...(o.keep ? { keep: true } : {}) });
  const ledger = new AckLedger();
  const v: string[] = [];
  let child: ChildGateway | null = null;
  const devices: StormDevice[] = [];
  try {
    const p0 = performance.now();
    await rig.preProvision();
    o.progress?.(`storm: ${stations * 4} devices provisioned in ${((performance.now() - p0) / 1000).toFixed(1)} s`);
    const started = await rig.startGateway();
    child = started.g;
    const g = child;
    const orders = Array.from({ length: stations }, (_, i) => `O-storm-${String(i).padStart(4, '0')}`);
    await rig.addOrders(orders.map((id) => wireOrder(id)));
    await until('storm orders on the gateway', async () => (await api(g, `/api/v1/orders/${orders.at(-1)}`)).status === 200, 60_000, 100);
    for (let i = 1; i <= stations; i++) {
      const d = stationDevices(i);
      for (const id of [d.scanner, d.scale, d.printer, d.display]) devices.push({ id, secret: g.secrets[id] ?? '', client: null });
    }
    // Connect everyone in modest batches first (each CONNECT costs the gateway a scrypt check).
    const c0 = performance.now();
    for (let k = 0; k < devices.length; k += 25) {
      await Promise.all(devices.slice(k, k + 25).map(async (d) => (d.client = await connectDevice(g, d, Date.now() + 120_000))));
    }
    const initialConnectS = (performance.now() - c0) / 1000;
    o.progress?.(`storm: ${devices.length} devices connected in ${initialConnectS.toFixed(1)} s`);

    // Every scanner sends an order scan and the network drops at once, before any answer.
    const scanners = devices.filter((d) => d.id.endsWith('-scanner'));
    const replies = new Map<string, Array<Record<string, unknown>>>();
    const listen = async (d: StormDevice) => {
      d.client?.on('message', (_t, buf) => {
        const p = JSON.parse(buf.toString()) as Record<string, unknown>;
        const id = String(p.msg_id);
        if (!id.startsWith('storm-')) return;
        const l = replies.get(id) ?? [];
        l.push(p);
        replies.set(id, l);
      });
      await d.client?.subscribeAsync([`dev/${d.id}/ack`, `dev/${d.id}/err`], { qos: 1 });
    };
    await Promise.all(scanners.map(listen));
    const scans = scanners.map((d, i) => ({ d, msgId: `storm-${i}`, code: orders[i] as string }));
    const dropAt = performance.now();
    for (const s of scans) s.d.client?.publish(`dev/${s.d.id}/evt/scan`, JSON.stringify({ msg_id: s.msgId, code: s.code }), { qos: 1 });
    // A few ms: some scans reach the gateway and are applied, their answers are lost with the
    // connection; others never leave the device. Both kinds must end up applied exactly once.
    await sleep(15);
    for (const d of devices) (d.client?.stream as { destroy?: () => void } | undefined)?.destroy?.();
    for (const d of devices) d.client?.end(true);
    // Everyone reconnects at once (an access point came back).
    let back = 0;
    await Promise.all(
      devices.map(async (d) => {
        d.client = await connectDevice(g, d, Date.now() + 300_000);
        back += 1;
      }),
    );
    const allBackS = (performance.now() - dropAt) / 1000;
    o.progress?.(`storm: all ${back} devices back ${allBackS.toFixed(1)} s after the drop`);
    // Devices resend what was not answered, with the same message id (deduplicated).
    await Promise.all(scanners.map(listen));
    const resent = scans.filter((s) => !replies.has(s.msgId));
    for (const s of resent) s.d.client?.publish(`dev/${s.d.id}/evt/scan`, JSON.stringify({ msg_id: s.msgId, code: s.code }), { qos: 1 });
    await until('an answer to every scan', () => scans.every((s) => replies.has(s.msgId)), 60_000, 100).catch(() => undefined);
    const unanswered = scans.filter((s) => !replies.has(s.msgId));
    for (const s of unanswered) v.push(`scan ${s.msgId} of ${s.d.id} never answered`);
    const answeredAtS = (performance.now() - dropAt) / 1000;
    for (const s of scans) {
      const r = replies.get(s.msgId)?.find((p) => typeof p.seq === 'number');
      if (r) ledger.seqs.push(Number(r.seq));
    }
    const refused = scans.filter((s) => replies.get(s.msgId)?.every((p) => p.code !== undefined)).length;
    await Promise.all(devices.map((d) => d.client?.endAsync(true).catch(() => undefined)));
    // Each station opened its order exactly once, however often the scan arrived.
    const c = await drainAndCheck(rig, g, ledger);
    child = null;
    v.push(...c.violations);
    const { default: Database } = await import('better-sqlite3');
    const db = new Database(rig.dbPath, { readonly: true });
    const opened = db
      .prepare("SELECT json_extract(data, '$.order_id') AS o, COUNT(*) AS n FROM events WHERE type = 'shipment.opened' GROUP BY o")
      .all() as Array<{ o: string; n: number }>;
    db.close();
    for (const x of opened) if (x.n !== 1) v.push(`order ${x.o} opened ${x.n} times`);
    if (opened.length !== scans.length - refused) v.push(`${opened.length} shipments opened for ${scans.length - refused} accepted scans`);
    return {
      devices: devices.length,
      initialConnectSeconds: round(initialConnectS),
      allBackSeconds: round(allBackS),
      everyScanAnsweredSeconds: round(answeredAtS),
      scansInFlight: scans.length,
      answeredBeforeDrop: scans.length - resent.length,
      resentAfterReconnect: resent.length,
      answeredAsDuplicate: [...replies.values()].filter((l) => l.some((p) => p.duplicate === true)).length,
      refused,
      lost: unanswered.length,
      violations: v.length,
      violationList: v,
    };
  } finally {
    for (const d of devices) d.client?.end(true);
    if (child !== null) await killHard(child).catch(() => undefined);
    await rig.close();
  }
}

// ---- clock jumps -------------------------------------------------------------------------

const DAY_MS = 86_400_000;

async function clockJumps(o: FaultsOptions): Promise<ScenarioFigures> {
  const stations = 4;
  const rig = await ChaosRig.create({ stations, lines: 0, ...(o.keep ? { keep: true } : {}) });
  const ledger = new AckLedger();
  const clockFile = join(rig.dir, 'clock-offset-ms');
  writeFileSync(clockFile, '0');
  const shim = fileURLToPath(new URL('./clock-shim.mjs', import.meta.url));
  const env = { CHAOS_CLOCK_OFFSET_FILE: clockFile, NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ''} --import ${shim}`.trim() };
  let child: ChildGateway | null = null;
  try {
    child = (await rig.startGateway(env)).g;
    const g = child;
    const pool = new OrderPool(rig, 'ck');
    await pool.ensure(g, 600);
    const load = await startPacedStations(g, ledger, { stations, ratePerSecond: 10, runTag: 'ck', next: () => pool.next() });
    const phases: Array<Record<string, unknown>> = [];
    for (const [name, offset] of [
      ['normal', 0],
      ['a day forward', DAY_MS],
      ['a day back', -DAY_MS],
      ['corrected', 0],
    ] as const) {
      writeFileSync(clockFile, String(offset));
      const shipped = load.figures.shipments;
      await sleep(5_000);
      const st = (await api(g, '/api/v1/sync')).body as { link?: { state?: string; backlog?: number } };
      phases.push({
        phase: name,
        offsetMs: offset,
        shipments: load.figures.shipments - shipped,
        link: st.link?.state ?? null,
        backlog: st.link?.backlog ?? null,
      });
      o.progress?.(`clock ${name}: link ${st.link?.state}, backlog ${st.link?.backlog}`);
    }
    const live = await load.stop();
    const c = await drainAndCheck(rig, g, ledger);
    child = null;
    // Whether the writer thread saw the jump too: its HLC stamps ran a day ahead and, after
    // the jump back, kept counting from there (checkStore: HLC strictly increasing by seq).
    const { default: Database } = await import('better-sqlite3');
    const db = new Database(rig.dbPath, { readonly: true });
    const maxHlc = String(db.prepare('SELECT MAX(hlc) FROM events').pluck().get() ?? '0.0');
    const unsynced = Number(db.prepare('SELECT COUNT(*) FROM events WHERE clock_unsynced = 1').pluck().get());
    db.close();
    return {
      hlcAheadOfRealClockHours: round((Number(maxHlc.split('.')[0]) - Date.now()) / 3_600_000, 2),
      eventsStampedClockUnsynced: unsynced,
      phases,
      secondsPerPhase: 5,
      liveShipments: live.shipments,
      refused: live.refused,
      events: c.events,
      cloudEvents: c.cloud.cloudEvents,
      ackedEventsChecked: ledger.count,
      violations: c.violations.length,
      violationList: c.violations,
    };
  } finally {
    if (child !== null) await killHard(child).catch(() => undefined);
    await rig.close();
  }
}
