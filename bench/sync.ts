/**
 * `npm run bench -- sync`: how fast a day-long backlog drains into the cloud once the link
 * is back, and what the drain does to the stations still packing (docs/sync.md "Tests and
 * benchmark": a 720,000-event backlog drained in <= 3 min, live p99 scan-to-print <= 2x idle).
 *
 * Processes, all on this machine:
 * - the gateway: the real `packline start` from the compiled build, production memory
 *   settings, the fsync shim (LD_PRELOAD, as in bench core), on a data directory whose event
 *   log was filled before it started (sync-backlog.ts);
 * - the reference cloud (simulators/src/cloud/reference) in its own process (this file run
 *   with `cloud`), its fault modes driven over stdin so `down` can be lifted at an exact
 *   moment (its admin API is down with it);
 * - the load generator (bench/loadgen.ts `runLoad`, this file run with `load`), playing
 *   packing stations over MQTT open-loop at a fixed rate, stoppable when the drain is done.
 *
 * Phases: idle — the cloud is down (nothing can drain), the stations pack for `--seconds`:
 * the baseline p99. Drain — the cloud comes back and the stations go on packing at the same
 * rate until the cloud has acknowledged every event written before it came back (or a cap).
 * Afterwards both processes stop and the sync checker compares the two databases.
 *
 * Options (after `--`): --events N (720000), --stations N (20), --rate N shipments/s (20),
 * --seconds N idle phase (15), --batch-events N (sync.batch.maxEvents, default the config's
 * 1000), --cap-seconds N (600), --history-rows (also write the day's orders and shipments
 * rows, not only its events), --keep (keep the temporary directory). BENCH_SKIP_BUILD=1
 * skips `npm run build`; BENCH_GATEWAY_NODE_ARGS adds node flags to the gateway (e.g.
 * "--cpu-prof --cpu-prof-dir=/tmp/prof").
 */
import { type ChildProcess, type ChildProcessByStdio, execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { availableParallelism, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import type { Readable, Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import Database from 'better-sqlite3';
import type { LoadPlan, LoadResult, LoadStation } from './loadgen.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const self = fileURLToPath(import.meta.url);
const GATEWAY_ID = 'gw-bench';
/** Progress poll of the drain (a read of the gateway's database). */
const POLL_MS = 250;
/** config sync.backoff.maxMs default: the longest retry delay, so the longest the gateway takes to notice the cloud is back. */
const BACKOFF_MAX_MS = 60_000;
/** Out-of-orders is how a stopped load run ends (see loadChild); not an error. */
const OUT_OF_ORDERS = 'BENCH_OUT_OF_ORDERS';

// ---- small process helpers (as in core.ts) -----------------------------------------------

function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      s.close(() => (typeof a === 'object' && a ? res(a.port) : rej(new Error('no port'))));
    });
  });
}

function buildShim(): string {
  const out = join(root, 'bench/out/fsync-shim.so');
  mkdirSync(dirname(out), { recursive: true });
  execFileSync('cc', ['-O2', '-shared', '-fPIC', '-o', out, join(root, 'bench/fsync-shim/fsync-shim.c'), '-ldl']);
  return out;
}

/** The shim's live counters: sync calls, ns spent inside syncs, bytes written to regular files. */
function readCounter(file: string): { calls: number; ns: number; fileBytes: number } {
  if (!existsSync(file)) return { calls: 0, ns: 0, fileBytes: 0 };
  const b = readFileSync(file);
  return { calls: Number(b.readBigUInt64LE(0)), ns: Number(b.readBigUInt64LE(8)), fileBytes: b.length >= 24 ? Number(b.readBigUInt64LE(16)) : 0 };
}

function procCpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100; // utime + stime, clock ticks (proc(5))
}

/** Whole-machine CPU jiffies from /proc/stat: busy (all but idle and iowait) and steal (taken by the hypervisor). */
function machineCpu(): { busy: number; steal: number; total: number } {
  const f = (readFileSync('/proc/stat', 'utf8').split('\n')[0] ?? '').trim().split(/\s+/).slice(1, 9).map(Number);
  const [user = 0, nice = 0, system = 0, idle = 0, iowait = 0, irq = 0, softirq = 0, steal = 0] = f;
  return { busy: user + nice + system + irq + softirq, steal, total: user + nice + system + idle + iowait + irq + softirq + steal };
}

function procRss(pid: number): { rss: number; hwm: number } {
  const s = readFileSync(`/proc/${pid}/status`, 'utf8');
  return { rss: Number(/VmRSS:\s+(\d+)/.exec(s)?.[1] ?? 0) / 1024, hwm: Number(/VmHWM:\s+(\d+)/.exec(s)?.[1] ?? 0) / 1024 };
}

type Piped = ChildProcessByStdio<Writable, Readable, null>;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Reads a child's stdout as JSON lines, one awaited at a time. */
class JsonLines {
  private readonly queue: unknown[] = [];
  private readonly waiting: Array<(v: unknown) => void> = [];
  private closed = false;

  constructor(child: Piped, what: string) {
    const rl = createInterface({ input: child.stdout });
    rl.on('line', (line) => {
      let v: unknown;
      try {
        v = JSON.parse(line);
      } catch {
        process.stderr.write(`${what}: ${line}\n`);
        return;
      }
      const w = this.waiting.shift();
      if (w) w(v);
      else this.queue.push(v);
    });
    child.once('exit', (code) => {
      this.closed = true;
      for (const w of this.waiting.splice(0)) w({ exited: code });
    });
  }

  next<T>(): Promise<T> {
    if (this.queue.length > 0) return Promise.resolve(this.queue.shift() as T);
    if (this.closed) return Promise.resolve({ exited: true } as T);
    return new Promise((r) => this.waiting.push(r as (v: unknown) => void));
  }
}

function exited(child: ChildProcess): Promise<void> {
  return child.exitCode !== null || child.signalCode !== null ? Promise.resolve() : new Promise((r) => child.once('exit', () => r()));
}

// ---- the floor ------------------------------------------------------------------------

function floor(stations: number) {
  const devices: Array<Record<string, string>> = [];
  const list: Array<Record<string, unknown>> = [];
  for (let i = 1; i <= stations; i++) {
    const st = `st-${i}`;
    devices.push(
      { id: `${st}-scanner`, role: 'scanner', station: st },
      { id: `${st}-scale`, role: 'scale', station: st },
      { id: `${st}-printer`, role: 'printer', station: st },
    );
    list.push({ id: st, scanner: `${st}-scanner`, scale: `${st}-scale`, printer: `${st}-printer`, verifyItems: 'always' });
  }
  return { devices, stations: list };
}

// ---- children -----------------------------------------------------------------------------

/** A load generator child for one phase; `stop()` ends it early (every station runs out of orders). */
class LoadRun {
  private readonly child: Piped;
  private readonly lines: JsonLines;

  constructor(plan: LoadPlan, dir: string) {
    const file = join(dir, `plan-${plan.runTag}.json`);
    writeFileSync(file, JSON.stringify(plan));
    this.child = spawn(process.execPath, ['--import', 'tsx', self, 'load', file], { stdio: ['pipe', 'pipe', 'inherit'] });
    this.lines = new JsonLines(this.child, 'load');
  }

  async connected(): Promise<void> {
    const m = await this.lines.next<{ connected?: number; exited?: unknown }>();
    if (m.connected === undefined) throw new Error(`load generator failed before connecting (${JSON.stringify(m)})`);
  }

  go(): void {
    this.child.stdin.write('go\n');
  }

  stop(): void {
    this.child.stdin.write('stop\n');
  }

  async result(): Promise<LoadResult> {
    const r = await this.lines.next<LoadResult & { exited?: unknown }>();
    if (r.exited !== undefined) throw new Error('load generator exited without a result');
    await exited(this.child);
    return r;
  }
}

/** The reference cloud child: `faults(patch)` and `stats()` over its stdin/stdout. */
class CloudProc {
  readonly child: Piped;
  private readonly lines: JsonLines;
  url = '';

  constructor(opts: { port: number; dbPath: string; key: string; shim: string; counter: string }) {
    const arg = JSON.stringify({ port: opts.port, dbPath: opts.dbPath, gateways: { [GATEWAY_ID]: opts.key } });
    this.child = spawn(process.execPath, ['--import', 'tsx', self, 'cloud', arg], {
      env: { ...process.env, LD_PRELOAD: opts.shim, FSYNC_SHIM_COUNTER: opts.counter, FSYNC_SHIM_DELAY_MS: '0' },
      stdio: ['pipe', 'pipe', 'inherit'],
    });
    this.lines = new JsonLines(this.child, 'cloud');
  }

  async started(): Promise<void> {
    const m = await this.lines.next<{ url?: string }>();
    if (m.url === undefined) throw new Error(`reference cloud did not start (${JSON.stringify(m)})`);
    this.url = m.url;
  }

  private async call<T>(cmd: Record<string, unknown>): Promise<T> {
    this.child.stdin.write(`${JSON.stringify(cmd)}\n`);
    const r = await this.lines.next<T & { error?: string }>();
    if (r.error !== undefined) throw new Error(`reference cloud: ${r.error}`);
    return r;
  }

  faults(patch: Record<string, unknown>): Promise<unknown> {
    return this.call({ cmd: 'faults', faults: patch });
  }

  stats(): Promise<CloudStats> {
    return this.call({ cmd: 'stats' });
  }

  async stop(): Promise<void> {
    this.child.kill('SIGTERM');
    await exited(this.child);
  }
}

interface CloudStats {
  db: Record<string, unknown>;
  requests: Record<string, number>;
  faults: Record<string, number>;
}

// ---- figures ----------------------------------------------------------------------------

interface Sample {
  /** ms since the cloud came back. */
  t: number;
  acked: number;
  lastSeq: number;
  rssMb: number;
}

interface PhaseFigures {
  load: LoadResult;
  cpuSeconds: number;
  fsyncs: number;
  /** Time spent inside those syncs, ms (the disk's speed: this VM's disk is shared and varies). */
  fsyncMs: number;
  bytesWritten: number;
  seconds: number;
  /** The whole machine over the phase, % of all cores: busy, and stolen by the hypervisor (noise). */
  machine: { busyPct: number; stealPct: number };
}

interface DrainFigures extends PhaseFigures {
  /** Events the cloud had to catch up on: everything written before it came back. */
  target: number;
  drained: boolean;
  /** Cloud up → every one of `target` acknowledged, s. */
  upToDoneSeconds: number;
  /** Cloud up → first ack (the gateway's retry backoff), s. */
  upToFirstAckSeconds: number;
  peakRate5s: number;
  cloudCpuSeconds: number;
  cloudFsyncs: number;
  cloudFsyncMs: number;
  cloudBytesWritten: number;
  peakRssMb: number;
  outbox: Record<string, number | null>;
  cloud: CloudStats;
  samples: Sample[];
}

/** Highest drain rate over any window of `windowMs` (NaN when the drain was shorter). */
function peakRate(samples: readonly Sample[], windowMs: number): number {
  let best = Number.NaN;
  let j = 0;
  for (let i = 0; i < samples.length; i++) {
    const a = samples[i]!;
    while (j < samples.length && samples[j]!.t - a.t < windowMs) j++;
    if (j >= samples.length) break;
    const b = samples[j]!;
    const r = ((b.acked - a.acked) * 1000) / (b.t - a.t);
    if (!(r <= best)) best = r;
  }
  return best;
}

function percentileOf(values: readonly number[], p: number): number {
  const s = [...values].sort((a, b) => a - b);
  if (s.length === 0) return Number.NaN;
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))]!;
}

const fmt = (n: number, d = 0) => (Number.isFinite(n) ? n.toFixed(d) : '—');

function table(rows: Array<[string, string, string, string]>): string {
  const all: Array<[string, string, string, string]> = [['figure', 'target', 'measured', ''], ...rows];
  const w = [0, 1, 2, 3].map((i) => Math.max(...all.map((r) => r[i]!.length)));
  return all
    .map((r) =>
      r
        .map((c, i) => c.padEnd(w[i]!))
        .join(' | ')
        .trimEnd(),
    )
    .join('\n');
}

const verdict = (ok: boolean) => (ok ? 'PASS' : 'MISS');

// ---- the benchmark -------------------------------------------------------------------------

export async function benchSync(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      events: { type: 'string', default: '720000' },
      stations: { type: 'string', default: '20' },
      rate: { type: 'string', default: '20' },
      seconds: { type: 'string', default: '15' },
      'batch-events': { type: 'string' },
      'cap-seconds': { type: 'string', default: '600' },
      'history-rows': { type: 'boolean', default: false },
      keep: { type: 'boolean', default: false },
    },
  });
  const events = Number(values.events);
  const nStations = Number(values.stations);
  const rate = Number(values.rate);
  const seconds = Number(values.seconds);
  const capSeconds = Number(values['cap-seconds']);
  const batchEvents = values['batch-events'] === undefined ? undefined : Number(values['batch-events']);
  for (const [name, v] of Object.entries({ events, stations: nStations, rate, seconds, 'cap-seconds': capSeconds, 'batch-events': batchEvents ?? 1 })) {
    if (!Number.isFinite(v) || v <= 0) throw new Error(`--${name} must be a positive number`);
  }

  const shim = buildShim();
  if (process.env.BENCH_SKIP_BUILD !== '1') execFileSync('npm', ['run', 'build', '--silent'], { cwd: root, stdio: 'inherit' });
  process.env.PACKLINE_RUN_FROM = 'dist';

  const dir = mkdtempSync(join(tmpdir(), 'pkl-bench-sync-'));
  const dataDir = join(dir, 'data');
  const cloudDb = join(dir, 'cloud.db');
  const key = randomBytes(24).toString('hex');
  const keyFile = join(dir, 'sync.key');
  writeFileSync(keyFile, `${key}\n`, { mode: 0o600 });

  // Orders for the live stations: enough for the idle phase and the whole cap.
  const perIdle = Math.ceil((rate * seconds) / nStations) + 5;
  const perDrain = Math.ceil((rate * capSeconds) / nStations) + 5;
  const liveOrders = nStations * (perIdle + perDrain);

  process.stderr.write(`bench sync: writing a backlog of ${events} events into ${dataDir} …\n`);
  const { buildBacklog, liveItemBarcode, LIVE_GRAMS } = await import('./sync-backlog.js');
  const backlog = buildBacklog({ dataDir, gatewayId: GATEWAY_ID, events, stations: nStations, liveOrders, historyRows: values['history-rows'] });
  process.stderr.write(
    `bench sync: backlog written in ${backlog.seconds.toFixed(1)} s: ${backlog.events} events (${backlog.shipments} shipments), ` +
      `${(backlog.dbBytes / 1e6).toFixed(0)} MB database, ${backlog.meanWireEventBytes.toFixed(0)} B per event on the wire; ${liveOrders} live orders\n`,
  );

  const [httpPort, mqttPort, cloudPort] = [await freePort(), await freePort(), await freePort()];
  const gwCounter = join(dir, 'fsync-gateway.counter');
  const cloudCounter = join(dir, 'fsync-cloud.counter');
  const cloud = new CloudProc({ port: cloudPort, dbPath: cloudDb, key, shim, counter: cloudCounter });
  let gw: ChildProcess | null = null;
  const cleanupExtra: Array<() => void> = [];
  let cleanup = async () => {
    for (const f of cleanupExtra.splice(0)) f();
    if (gw !== null) {
      if (gw.exitCode === null) gw.kill('SIGTERM');
      await exited(gw);
    }
    await cloud.stop();
  };
  try {
    await cloud.started();
    // Down before the gateway starts: the backlog waits, as after a day-long outage.
    await cloud.faults({ down: true });

    const shape = floor(nStations);
    const config = {
      gatewayId: GATEWAY_ID,
      dataDir,
      log: { level: 'warn' },
      // The bench drives plaintext mqtt:// and http:// on loopback (the default is TLS, docs/security.md).
      tls: { mode: 'off' },
      http: { host: '127.0.0.1', port: httpPort },
      mqtt: { host: '127.0.0.1', port: mqttPort, limits: { publishRate: 1000, publishBurst: 2000, maxConnections: 5000 } },
      storage: { minFreeMb: 0 },
      sync: { url: cloud.url, keyFile, ...(batchEvents !== undefined ? { batch: { maxEvents: batchEvents } } : {}) },
      ...shape,
    };
    const configFile = join(dir, 'packline.json');
    writeFileSync(configFile, JSON.stringify(config));
    const nodeArgs = (process.env.BENCH_GATEWAY_NODE_ARGS ?? '').split(' ').filter((a) => a !== '');
    const gwLog = join(dir, 'gateway.log');
    const logFd = openSync(gwLog, 'w');
    const child = spawn(process.execPath, [...nodeArgs, join(root, 'bin/packline.js'), 'start', '--config', configFile], {
      env: {
        ...process.env,
        LD_PRELOAD: shim,
        // Production memory settings of docs/packline.service (as bench core).
        NODE_OPTIONS: '--max-semi-space-size=4',
        MALLOC_ARENA_MAX: '2',
        FSYNC_SHIM_COUNTER: gwCounter,
        FSYNC_SHIM_DELAY_MS: '0',
      },
      stdio: ['ignore', logFd, logFd],
    });
    gw = child;
    closeSync(logFd);
    const gwAlive = () => {
      if (child.exitCode !== null || child.signalCode !== null) {
        throw new Error(`gateway exited (${child.exitCode ?? child.signalCode}):\n${readFileSync(gwLog, 'utf8').slice(-3000)}`);
      }
    };
    const pid = child.pid as number;
    const cloudPid = cloud.child.pid as number;
    const httpUrl = `http://127.0.0.1:${httpPort}`;
    const readyBy = Date.now() + 120_000;
    for (;;) {
      gwAlive();
      if (Date.now() > readyBy) throw new Error('gateway not ready after 120 s');
      const ok = await fetch(`${httpUrl}/readyz`).then(
        (r) => r.ok,
        () => false,
      );
      if (ok) break;
      await sleep(200);
    }
    const prov = JSON.parse(readFileSync(join(dataDir, 'provisioning.json'), 'utf8')) as { devices: Record<string, { secret: string }> };
    const secrets = Object.fromEntries(Object.entries(prov.devices).map(([id, d]) => [id, d.secret]));
    const tokens = JSON.parse(readFileSync(join(dataDir, 'api-tokens.json'), 'utf8')) as { admin: string };
    const status = async () => {
      const t = performance.now();
      const res = await fetch(`${httpUrl}/api/v1/sync`, { headers: { authorization: `Bearer ${tokens.admin}` } });
      if (!res.ok) throw new Error(`GET /api/v1/sync: ${res.status}`);
      const body = (await res.json()) as { link: { state: string; backlog: number; acked_seq: number }; outbox: Record<string, number | null> };
      return { ...body, apiMs: performance.now() - t };
    };
    // Progress is read from the gateway's database (read-only, another connection, as the
    // CLI does), not from GET /api/v1/sync: that call costs the gateway's main thread ~15 ms
    // (200+ ms with --history-rows: it counts the open orders for the waybill coverage), and
    // polling it during the drain would load the drain with work the idle phase does not
    // have. The API's own latency is measured outside the load phases.
    const { DB_FILE } = await import('../gateway/src/storage/sqlite-store.js');
    const progressDb = new Database(join(dataDir, DB_FILE), { readonly: true, fileMustExist: true });
    const ackedStmt = progressDb.prepare("SELECT value FROM meta WHERE key = 'sync.acked_seq'").pluck();
    const lastStmt = progressDb.prepare('SELECT max(seq) FROM events').pluck();
    const progress = () => ({ acked: Number(ackedStmt.get() ?? 0), last: Number(lastStmt.get() ?? 0) });
    cleanupExtra.push(() => progressDb.close());
    const apiMs: Record<'before' | 'after', number[]> = { before: [], after: [] };
    for (let k = 0; k < 3; k++) apiMs.before.push((await status()).apiMs);
    const before = await status();
    process.stderr.write(`bench sync: gateway up, link ${before.link.state}, backlog ${before.link.backlog}\n`);

    const stations: LoadStation[] = Array.from({ length: nStations }, (_, k) => ({
      station: `st-${k + 1}`,
      scanner: `st-${k + 1}-scanner`,
      scale: `st-${k + 1}-scale`,
      printer: `st-${k + 1}-printer`,
      orders: [],
    }));
    let next = 0;
    const take = () => {
      const i = next++;
      return { orderId: `L${String(i).padStart(9, '0')}`, items: [liveItemBarcode(i)], grams: LIVE_GRAMS };
    };
    const mqttUrl = `mqtt://127.0.0.1:${mqttPort}`;
    const snapshot = () => ({
      cpu: procCpuSeconds(pid),
      cloudCpu: procCpuSeconds(cloudPid),
      machine: machineCpu(),
      gw: readCounter(gwCounter),
      cl: readCounter(cloudCounter),
      at: performance.now(),
    });
    type Snap = ReturnType<typeof snapshot>;
    const machineUse = (a: Snap, b: Snap) => {
      const total = Math.max(1, b.machine.total - a.machine.total);
      return { busyPct: (100 * (b.machine.busy - a.machine.busy)) / total, stealPct: (100 * (b.machine.steal - a.machine.steal)) / total };
    };

    // Phase 1: idle: the cloud is down, nothing drains.
    for (const s of stations) s.orders = Array.from({ length: perIdle }, take);
    const idleRun = new LoadRun({ mqttUrl, secrets, stations, rate, durationSeconds: seconds, runTag: 'sync-idle' }, dir);
    await idleRun.connected();
    const i0 = snapshot();
    idleRun.go();
    const idleLoad = await idleRun.result();
    const i1 = snapshot();
    const idle: PhaseFigures = {
      load: idleLoad,
      cpuSeconds: i1.cpu - i0.cpu,
      fsyncs: i1.gw.calls - i0.gw.calls,
      fsyncMs: (i1.gw.ns - i0.gw.ns) / 1e6,
      bytesWritten: i1.gw.fileBytes - i0.gw.fileBytes,
      seconds: (i1.at - i0.at) / 1000,
      machine: machineUse(i0, i1),
    };
    process.stderr.write(`bench sync: idle: ${idleLoad.shipments} shipments, p99 ${fmt(idleLoad.latencyMs.p99, 1)} ms\n`);

    // Phase 2: the cloud comes back. The gateway notices at its next retry (backoff with
    // jitter, sync.backoff); the stations start packing at the first ack, so the live
    // latency is measured exactly while the drain runs, and go on until the cloud has
    // acknowledged every event written before it came back.
    for (const s of stations) s.orders = Array.from({ length: perDrain }, take);
    const drainRun = new LoadRun({ mqttUrl, secrets, stations, rate, durationSeconds: capSeconds, runTag: 'sync-drain' }, dir);
    await drainRun.connected();
    const atUp = progress();
    const target = atUp.last;
    await cloud.faults({ down: false });
    const tUp = performance.now();
    process.stderr.write(`bench sync: cloud up, ${target - atUp.acked} events to drain …\n`);
    const capAt = tUp + capSeconds * 1000;
    while (progress().acked <= atUp.acked && performance.now() < capAt) {
      gwAlive();
      await sleep(10);
    }
    const firstAckT = performance.now() - tUp;
    const d0 = snapshot();
    drainRun.go();
    const samples: Sample[] = [];
    let doneT = Number.NaN;
    let peakRss = 0;
    let lastReport = 0;
    while (performance.now() < capAt) {
      gwAlive();
      const p = progress();
      const t = performance.now() - tUp;
      const { rss } = procRss(pid);
      peakRss = Math.max(peakRss, rss);
      samples.push({ t, acked: p.acked, lastSeq: p.last, rssMb: rss });
      if (p.acked >= target) {
        doneT = t;
        break;
      }
      if (t - lastReport > 10_000) {
        lastReport = t;
        process.stderr.write(`bench sync: ${(t / 1000).toFixed(0)} s after cloud up: acked ${p.acked} / ${target}\n`);
      }
      await sleep(Math.max(0, POLL_MS - (performance.now() - tUp - t)));
    }
    const d1 = snapshot();
    drainRun.stop();
    const drainLoad = await drainRun.result();
    delete drainLoad.errors[OUT_OF_ORDERS];
    const after = await status();
    for (let k = 0; k < 3; k++) apiMs.after.push((await status()).apiMs);
    const cloudStats = await cloud.stats();
    const { rss: endRss, hwm } = procRss(pid);
    const drain: DrainFigures = {
      load: drainLoad,
      cpuSeconds: d1.cpu - d0.cpu,
      fsyncs: d1.gw.calls - d0.gw.calls,
      fsyncMs: (d1.gw.ns - d0.gw.ns) / 1e6,
      bytesWritten: d1.gw.fileBytes - d0.gw.fileBytes,
      seconds: (d1.at - d0.at) / 1000,
      machine: machineUse(d0, d1),
      target: target - atUp.acked,
      drained: Number.isFinite(doneT),
      upToDoneSeconds: doneT / 1000,
      upToFirstAckSeconds: firstAckT / 1000,
      peakRate5s: peakRate(samples, 5_000),
      cloudCpuSeconds: d1.cloudCpu - d0.cloudCpu,
      cloudFsyncs: d1.cl.calls - d0.cl.calls,
      cloudFsyncMs: (d1.cl.ns - d0.cl.ns) / 1e6,
      cloudBytesWritten: d1.cl.fileBytes - d0.cl.fileBytes,
      peakRssMb: peakRss,
      outbox: after.outbox,
      cloud: cloudStats,
      samples,
    };

    await cleanup();
    cleanup = async () => undefined;
    const { checkSync } = await import('../simulators/src/cloud/reference/checker.js');
    const tc = performance.now();
    const check = checkSync({ gatewayDbPath: join(dataDir, DB_FILE), cloud: cloudDb, gatewayId: GATEWAY_ID });
    const checkSeconds = (performance.now() - tc) / 1000;

    // ---- report ----
    const ratio = drain.load.latencyMs.p99 / idle.load.latencyMs.p99;
    const fromUp = drain.target / drain.upToDoneSeconds;
    const pureSeconds = drain.upToDoneSeconds - drain.upToFirstAckSeconds;
    const o = drain.outbox;
    const batches = Number(o.batches ?? 0);
    const wire = Number(o.wire_bytes ?? 0);
    const sent = Number(o.events_sent ?? 0);
    const errs = (l: LoadResult) => `${Object.values(l.errors).reduce((a, b) => a + b, 0)} / ${l.timeouts} / ${l.late}`;
    const rows: Array<[string, string, string, string]> = [
      ['backlog: events (shipments)', '720000', `${backlog.events} (${backlog.shipments})`, ''],
      ['backlog: generated in s · DB MB', '', `${fmt(backlog.seconds, 1)} · ${fmt(backlog.dbBytes / 1e6)}`, ''],
      [
        'drain: cloud up → backlog acked, s',
        '≤ 180',
        drain.drained ? fmt(drain.upToDoneSeconds, 1) : `> ${capSeconds} (cap)`,
        verdict(drain.drained && drain.upToDoneSeconds <= 180),
      ],
      ['  of which: cloud up → first ack (retry backoff), s', '', fmt(drain.upToFirstAckSeconds, 1), ''],
      ['  of which: first ack → backlog acked (the drain itself), s', '', fmt(pureSeconds, 1), ''],
      // After a real day-long outage the retry delay is at its cap, so the gateway notices the
      // cloud is back up to sync.backoff.maxMs later (uniform jitter); this run's outage was short.
      [
        'worst case after a day-long outage: backoff cap 60 s + drain, s',
        '≤ 180',
        fmt(BACKOFF_MAX_MS / 1000 + pureSeconds, 1),
        verdict(drain.drained && BACKOFF_MAX_MS / 1000 + pureSeconds <= 180),
      ],
      [
        'drain rate, events/s: from cloud up · from first ack · peak 5 s',
        '≥ 4000',
        `${fmt(fromUp)} · ${fmt(drain.target / pureSeconds)} · ${fmt(drain.peakRate5s)}`,
        '',
      ],
      ['idle (cloud down): shipments/s', `${rate}`, fmt(idle.load.rate, 1), ''],
      [
        'idle: scan→print p50 / p90 / p99 ms',
        '',
        `${fmt(idle.load.latencyMs.p50, 1)} / ${fmt(idle.load.latencyMs.p90, 1)} / ${fmt(idle.load.latencyMs.p99, 1)}`,
        '',
      ],
      // Shipments over the drain itself (the load run ends up to one station interval later).
      ['drain: shipments/s', `${rate}`, fmt(drain.load.shipments / drain.seconds, 1), ''],
      [
        'drain: scan→print p50 / p90 / p99 ms',
        '',
        `${fmt(drain.load.latencyMs.p50, 1)} / ${fmt(drain.load.latencyMs.p90, 1)} / ${fmt(drain.load.latencyMs.p99, 1)}`,
        '',
      ],
      ['p99 drain / p99 idle', '≤ 2', fmt(ratio, 2), verdict(ratio <= 2)],
      ['  scan→print samples: idle · drain (p99 = the n/100-th worst)', '', `${idle.load.shipments} · ${drain.load.shipments}`, ''],
      ['drain: scan→print max ms', '', fmt(drain.load.latencyMs.max, 1), ''],
      ['errors / timeouts / late: idle · drain', '0', `${errs(idle.load)} · ${errs(drain.load)}`, ''],
      ['gateway CPU % of 1 core: idle · drain', '', `${fmt((100 * idle.cpuSeconds) / idle.seconds)} · ${fmt((100 * drain.cpuSeconds) / drain.seconds)}`, ''],
      ['cloud CPU % of 1 core: drain', '', fmt((100 * drain.cloudCpuSeconds) / drain.seconds), ''],
      [
        'machine CPU busy / stolen, % of all cores: idle · drain',
        '',
        `${fmt(idle.machine.busyPct)} / ${fmt(idle.machine.stealPct, 1)} · ${fmt(drain.machine.busyPct)} / ${fmt(drain.machine.stealPct, 1)}`,
        '',
      ],
      ['gateway RSS MB: end · peak during drain · peak (VmHWM)', '≤ 150', `${fmt(endRss)} · ${fmt(drain.peakRssMb)} · ${fmt(hwm)}`, ''],
      [
        'wire: batches · events/batch · MB · bytes/event',
        '',
        `${batches} · ${fmt(sent / Math.max(1, batches))} · ${fmt(wire / 1e6, 1)} · ${fmt(wire / Math.max(1, sent), 1)}`,
        '',
      ],
      ['fsyncs in the drain: gateway (per batch) · cloud', '', `${drain.fsyncs} (${fmt(drain.fsyncs / Math.max(1, batches), 2)}) · ${drain.cloudFsyncs}`, ''],
      [
        'mean fsync ms: gateway idle · gateway drain · cloud drain',
        '',
        `${fmt(idle.fsyncMs / Math.max(1, idle.fsyncs), 2)} · ${fmt(drain.fsyncMs / Math.max(1, drain.fsyncs), 2)} · ${fmt(drain.cloudFsyncMs / Math.max(1, drain.cloudFsyncs), 2)}`,
        '',
      ],
      ['MB written in the drain: gateway · cloud', '', `${fmt(drain.bytesWritten / 1e6, 1)} · ${fmt(drain.cloudBytesWritten / 1e6, 1)}`, ''],
      [
        'GET /api/v1/sync, median of 3, ms: before · after the load',
        '',
        `${fmt(percentileOf(apiMs.before, 50), 1)} · ${fmt(percentileOf(apiMs.after, 50), 1)}`,
        '',
      ],
      ['checker (both databases, after stop)', 'ok', check.ok ? `ok (${fmt(checkSeconds, 1)} s)` : `${check.problems.length} problem(s)`, verdict(check.ok)],
    ];
    process.stdout.write(
      `\nPackline sync benchmark (${backlog.events}-event backlog, ${nStations} stations at ${rate}/s, idle ${seconds} s, ` +
        `sync.batch.maxEvents ${batchEvents ?? 'default (1000)'}; gateway, reference cloud and load generator on the same ${availableParallelism()} cores)\n\n`,
    );
    process.stdout.write(`${table(rows)}\n`);
    if (!check.ok)
      process.stdout.write(
        `\nchecker problems:\n${check.problems
          .slice(0, 10)
          .map((p) => `  ${p}`)
          .join('\n')}\n`,
      );
    const out = join(root, 'bench/out/sync-latest.json');
    mkdirSync(dirname(out), { recursive: true });
    writeFileSync(out, JSON.stringify({ at: new Date().toISOString(), argv, backlog, idle, drain, apiMs, check }, null, 2));
    process.stdout.write(`\nraw figures: ${out}\n`);
  } finally {
    await cleanup();
    if (values.keep) process.stderr.write(`bench sync: kept ${dir}\n`);
    else rmSync(dir, { recursive: true, force: true });
  }
}

// ---- child roles: `node --import tsx bench/sync.ts cloud <json>` / `load <plan.json>` ------

/** The reference cloud, with its fault modes set over stdin (one JSON command per line). */
async function cloudChild(arg: string): Promise<void> {
  const { ReferenceCloud } = await import('../simulators/src/cloud/reference/reference-cloud.js');
  const { stderrLogger } = await import('../simulators/src/lib/cli.js');
  const o = JSON.parse(arg) as { port: number; dbPath: string; gateways: Record<string, string> };
  const cloud = new ReferenceCloud({ port: o.port, dbPath: o.dbPath, gateways: o.gateways, logger: stderrLogger('warn', 'reference-cloud') });
  await cloud.start();
  const say = (v: unknown) => process.stdout.write(`${JSON.stringify(v)}\n`);
  say({ url: cloud.url });
  const rl = createInterface({ input: process.stdin });
  rl.on('line', (line) => {
    void (async () => {
      try {
        const cmd = JSON.parse(line) as { cmd: string; faults?: Record<string, unknown> };
        if (cmd.cmd === 'faults') {
          await cloud.setFaults(cmd.faults ?? {});
          say({ faults: cloud.faults.current });
        } else if (cmd.cmd === 'stats') say(cloud.stats());
        else say({ error: `unknown command ${cmd.cmd}` });
      } catch (err) {
        say({ error: (err as Error).message });
      }
    })();
  });
  const stop = () =>
    void cloud.stop().then(
      () => process.exit(0),
      (err: unknown) => {
        process.stderr.write(`reference cloud: stop failed: ${(err as Error).message}\n`);
        process.exit(1);
      },
    );
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}

/**
 * One load phase (bench/loadgen.ts runLoad). "go" on stdin starts it; "stop" empties every
 * station's order list, so each station ends after its parcel in hand (runLoad stops a
 * station that is out of orders) and the result covers exactly the time the load ran.
 */
async function loadChild(planFile: string): Promise<void> {
  const { runLoad } = await import('./loadgen.js');
  const plan = JSON.parse(readFileSync(planFile, 'utf8')) as LoadPlan;
  const rl = createInterface({ input: process.stdin });
  let go: () => void = () => undefined;
  const started = new Promise<void>((r) => (go = r));
  rl.on('line', (line) => {
    if (line === 'go') go();
    else if (line === 'stop') for (const s of plan.stations) s.orders.length = 0;
  });
  const result = await runLoad(plan, async (devices) => {
    process.stdout.write(`${JSON.stringify({ connected: devices })}\n`);
    await started;
  });
  process.stdout.write(`${JSON.stringify(result)}\n`);
  process.exit(0);
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === self) {
  const [role, arg] = process.argv.slice(2);
  if (role === 'cloud' && arg !== undefined) await cloudChild(arg);
  else if (role === 'load' && arg !== undefined) await loadChild(arg);
  else {
    process.stderr.write('usage: sync.ts cloud <json> | load <plan.json> (the benchmark itself: npm run bench -- sync)\n');
    process.exit(2);
  }
}
