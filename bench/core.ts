/**
 * `npm run bench -- core`: the shipment core under load, end to end.
 *
 * The gateway runs as `packline start` in a child process (as on the Pi), with an
 * LD_PRELOAD shim that counts every fsync/fdatasync (and, in SD-card mode, slows each one
 * down). The load generator is another process playing packing stations over real MQTT.
 * The same load runs against the embedded broker (aedes) and against Debian's Mosquitto
 * with the gateway in external-broker mode; the table prints both side by side, with the
 * targets from bench/README.md.
 *
 * Options (after `--`): --seconds N (per phase, default 10), --stations N (default 168, i.e.
 * 504 connected devices), --only aedes|mosquitto, --fsync-delay-ms X (every sync that slow).
 *
 * `--sdcard` (Raspberry Pi, docs/deploy-raspberry-pi.md): the embedded broker only, at 100 shipments/s and at max,
 * twice in the same run: this machine's disk, then SD-card mode (every fsync/fdatasync of the
 * gateway process 8 ms, every 500th a spike of 35–180 ms: --sd-delay-ms, --sd-spike-every,
 * --sd-spike-ms), side by side with the issue's targets (p99 scan-to-print ≤ 50 ms at 100/s,
 * no event-loop stall > 20 ms) marked MET / NOT MET.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { DeviceProvisioner } from '../gateway/src/broker/provisioning.js';
import { writeMosquittoConfig } from '../gateway/src/broker/mosquitto-config.js';
import { openAdminDb } from '../gateway/src/storage/admin-db.js';
import type { LoadPlan, LoadResult, LoadStation } from './loadgen.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');

interface Phase {
  name: string;
  rate: number | 'max';
}

interface PhaseFigures {
  load: LoadResult;
  fsyncs: number;
  commits: number;
  bytesWritten: number;
  cpuSeconds: number;
  /** Longest event-loop delay of the gateway's main thread in the phase (prom-client's
   * monitorEventLoopDelay at 10 ms resolution, reset by each /metrics scrape). */
  eventLoopMaxMs: number;
  /** Milliseconds all threads spent inside syncs, including the shim's added delay. */
  syncMs: number;
  /** Syncs on the gateway's main thread, and the milliseconds they blocked its event loop. */
  mainThreadSyncs: number;
  mainThreadSyncMs: number;
}

/** How slow the shim makes each sync of the gateway process. */
interface SyncDelay {
  delayMs: number;
  spikeEvery: number;
  spikeMs: number;
  spikeMaxMs: number;
}

interface BrokerRun {
  broker: 'aedes' | 'mosquitto';
  phases: Record<string, PhaseFigures>;
  rssMb: number;
  peakRssMb: number;
  /** RSS once every device is connected, before the first phase. */
  connectedRssMb: number;
  devices: number;
  sync: SyncDelay;
}

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

interface ShimCounter {
  calls: number;
  /** ns inside the real syncs (without the added delay) */
  ns: number;
  fileBytes: number;
  /** syncs on the gateway's main thread: each one stalls its event loop */
  mainCalls: number;
  /** ns the main thread spent in syncs, and all threads, including the added delay */
  mainNs: number;
  totalNs: number;
}

/** The shim's live counters (fsync-shim.c). */
function readCounter(file: string): ShimCounter {
  if (!existsSync(file)) return { calls: 0, ns: 0, fileBytes: 0, mainCalls: 0, mainNs: 0, totalNs: 0 };
  const b = readFileSync(file);
  const at = (i: number) => (b.length >= (i + 1) * 8 ? Number(b.readBigUInt64LE(i * 8)) : 0);
  return { calls: at(0), ns: at(1), fileBytes: at(2), mainCalls: at(3), mainNs: at(4), totalNs: at(5) };
}

function procCpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const ticks = Number(fields[11]) + Number(fields[12]); // utime + stime (proc(5))
  return ticks / 100;
}

function procRss(pid: number): { rss: number; hwm: number } {
  const s = readFileSync(`/proc/${pid}/status`, 'utf8');
  return { rss: Number(/VmRSS:\s+(\d+)/.exec(s)?.[1] ?? 0) / 1024, hwm: Number(/VmHWM:\s+(\d+)/.exec(s)?.[1] ?? 0) / 1024 };
}

/** One scrape of /metrics (it also restarts prom-client's event-loop delay histogram). */
async function scrape(httpUrl: string): Promise<string> {
  return (await fetch(`${httpUrl}/metrics`)).text();
}

function metricValue(text: string, name: string): number {
  const m = new RegExp(`^${name}(?:\\{[^}]*\\})? ([0-9.e+-]+)$`, 'm').exec(text);
  return m ? Number(m[1]) : Number.NaN;
}

async function metric(httpUrl: string, name: string): Promise<number> {
  return metricValue(await scrape(httpUrl), name);
}

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

function makeOrders(count: number, offset: number) {
  return Array.from({ length: count }, (_, k) => {
    const i = offset + k;
    return {
      order_id: `B${String(i).padStart(7, '0')}`,
      shop: 'bench-shop',
      lines: [{ sku: `SKU-${i % 97}`, barcode: `69${String(i % 97).padStart(11, '0')}`, name: '商品', qty: 1, unit_grams: 350 }],
      packaging_grams: 40,
      carrier: 'ZTO',
      waybill: `7300${String(i).padStart(10, '0')}`,
      print_data: { receiver_name: '李四', receiver_phone: '139****1234', receiver_address: '上海市浦东新区张江路 1 号', routing_code: '200-B2', sort_code: '上海' },
      revision: 1,
    };
  });
}

async function waitFor(fn: () => Promise<boolean>, what: string, timeoutMs = 60_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    const ok = await fn().catch((err: Error) => {
      if (err.message.startsWith('gateway exited')) throw err;
      return false;
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`timed out waiting for ${what}`);
}

/** Runs the load generator; `onConnected` runs after all devices connected, before the load starts. */
async function runLoadgen(plan: LoadPlan, dir: string, onConnected: () => Promise<void>): Promise<LoadResult> {
  const file = join(dir, `plan-${plan.runTag}.json`);
  writeFileSync(file, JSON.stringify(plan));
  const child = spawn(process.execPath, ['--import', 'tsx', join(root, 'bench/loadgen.ts'), file], { stdio: ['pipe', 'pipe', 'inherit'] });
  let out = '';
  let started = false;
  child.stdout.on('data', (b: Buffer) => {
    out += b.toString();
    if (!started && out.includes('"connected"')) {
      started = true;
      void onConnected().then(() => child.stdin.write('go\n'));
    }
  });
  const code = await new Promise<number | null>((r) => child.once('exit', r));
  if (code !== 0) throw new Error(`load generator failed (${code})`);
  return JSON.parse(out.trim().split('\n').at(-1) ?? '{}') as LoadResult;
}

async function runBroker(
  broker: 'aedes' | 'mosquitto',
  opts: { stations: number; seconds: number; phases: Phase[]; shim: string; sync: SyncDelay; commitWindowMs: number },
): Promise<BrokerRun> {
  const dir = mkdtempSync(join(tmpdir(), `pkl-bench-${broker}-`));
  const dataDir = join(dir, 'data');
  const [httpPort, mqttPort] = [await freePort(), await freePort()];
  const shape = floor(opts.stations);
  const config: Record<string, unknown> = {
    gatewayId: 'gw-bench',
    dataDir,
    log: { level: 'warn' },
    http: { host: '127.0.0.1', port: httpPort },
    mqtt: { host: '127.0.0.1', port: mqttPort, limits: { publishRate: 1000, publishBurst: 2000, maxConnections: 5000 } },
    storage: { minFreeMb: 0, commitWindowMs: opts.commitWindowMs },
    ...shape,
  };
  let mosquitto: ChildProcess | null = null;
  let secrets: Record<string, string> = {};
  if (broker === 'mosquitto') {
    // Provision devices and a service user for the gateway, write Mosquitto's password and
    // ACL files from the same registry, and point the gateway at it.
    const db = openAdminDb(dataDir);
    const registry = {
      getDevice: (id: string) => db.getDevice(id),
      listDevices: () => db.listDevices(),
      putDevice: async (rec: Parameters<typeof db.putDevice>[0]) => void db.putDevice(rec),
      deleteDevice: async (id: string) => void db.removeDevice(id),
    };
    const provisioner = new DeviceProvisioner(registry, { dataDir });
    await provisioner.provisionConfigured([
      ...(shape.devices as Array<{ id: string; role: 'scanner' }>),
      { id: 'gateway-svc', role: 'service' as 'scanner' },
    ]);
    const files = await writeMosquittoConfig({ registry, provisioner, outDir: dir });
    db.close();
    secrets = files.secrets;
    const conf = join(dir, 'mosquitto.conf');
    writeFileSync(
      conf,
      [
        `listener ${mqttPort} 127.0.0.1`,
        'allow_anonymous false',
        `password_file ${files.passwordFile}`,
        `acl_file ${files.aclFile}`,
        'persistence false',
        'max_queued_messages 1000',
        ...(process.getuid?.() === 0 ? ['user root'] : []),
        '',
      ].join('\n'),
    );
    mosquitto = spawn('/usr/sbin/mosquitto', ['-c', conf], { stdio: 'ignore' });
    await new Promise((r) => setTimeout(r, 500));
    config.mqtt = {
      host: '127.0.0.1',
      port: await freePort(),
      external: { url: `mqtt://127.0.0.1:${mqttPort}`, username: 'gateway-svc', password: secrets['gateway-svc'] },
    };
  }
  const configFile = join(dir, 'packline.json');
  writeFileSync(configFile, JSON.stringify(config));
  const counter = join(dir, 'fsync.counter');
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    LD_PRELOAD: opts.shim,
    // The production memory settings of docs/packline.service: a smaller V8 young
    // generation and two malloc arenas instead of one per thread.
    NODE_OPTIONS: '--max-semi-space-size=4',
    MALLOC_ARENA_MAX: '2',
    FSYNC_SHIM_COUNTER: counter,
    FSYNC_SHIM_DELAY_MS: String(opts.sync.delayMs),
    FSYNC_SHIM_SPIKE_EVERY: String(opts.sync.spikeEvery),
    FSYNC_SHIM_SPIKE_MS: String(opts.sync.spikeMs),
    FSYNC_SHIM_SPIKE_MAX_MS: String(opts.sync.spikeMaxMs),
  };
  // BENCH_GATEWAY_NODE_ARGS, e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof", profiles the gateway.
  const nodeArgs = (process.env.BENCH_GATEWAY_NODE_ARGS ?? '').split(' ').filter((a) => a !== '');
  const gw = spawn(process.execPath, [...nodeArgs, join(root, 'bin/packline.js'), 'start', '--config', configFile], {
    env,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const httpUrl = `http://127.0.0.1:${httpPort}`;
  let exited = false;
  gw.once('exit', () => {
    exited = true;
  });
  await waitFor(async () => {
    if (exited) throw new Error('gateway exited during start-up (see its output above)');
    return (await fetch(`${httpUrl}/readyz`)).ok;
  }, 'gateway ready');
  const pid = gw.pid as number;
  if (broker === 'aedes') {
    const prov = JSON.parse(readFileSync(join(dataDir, 'provisioning.json'), 'utf8')) as { devices: Record<string, { secret: string }> };
    secrets = Object.fromEntries(Object.entries(prov.devices).map(([id, d]) => [id, d.secret]));
  }
  const tokens = JSON.parse(readFileSync(join(dataDir, 'api-tokens.json'), 'utf8')) as { admin: string };

  // Orders: enough for every phase at 3,000 shipments/s (above the 2,000/s target).
  const perStationPerPhase = Math.ceil((3000 * opts.seconds) / opts.stations) + 5;
  const total = perStationPerPhase * opts.stations * opts.phases.length;
  for (let off = 0; off < total; off += 4000) {
    const res = await fetch(`${httpUrl}/api/v1/orders`, {
      method: 'POST',
      headers: { authorization: `Bearer ${tokens.admin}`, 'content-type': 'application/json' },
      body: JSON.stringify(makeOrders(Math.min(4000, total - off), off)),
    });
    if (!res.ok) throw new Error(`order import failed: ${res.status} ${await res.text()}`);
  }
  const stations: LoadStation[] = Array.from({ length: opts.stations }, (_, k) => {
    const st = `st-${k + 1}`;
    return {
      station: st,
      scanner: `${st}-scanner`,
      scale: `${st}-scale`,
      printer: `${st}-printer`,
      orders: [] as LoadStation['orders'],
    };
  });
  let next = 0;
  const take = () => {
    const i = next++;
    return { orderId: `B${String(i).padStart(7, '0')}`, items: [`69${String(i % 97).padStart(11, '0')}`], grams: 390 };
  };

  const phases: Record<string, PhaseFigures> = {};
  let connectedRssMb = Number.NaN;
  for (const phase of opts.phases) {
    let before = { f: 0, c: 0, w: 0, cpu: 0, ns: 0, mainCalls: 0, mainNs: 0 };
    for (const s of stations) s.orders = Array.from({ length: perStationPerPhase }, take);
    const load = await runLoadgen({ mqttUrl: `mqtt://127.0.0.1:${mqttPort}`, secrets, stations, rate: phase.rate, durationSeconds: opts.seconds, runTag: `${broker}-${phase.name}` }, dir, async () => {
      // Snapshot once every device is connected, so CONNECT (scrypt) cost is not counted.
      const c = readCounter(counter);
      if (Number.isNaN(connectedRssMb)) connectedRssMb = procRss(pid).rss;
      // This scrape also starts the phase's event-loop delay window.
      before = { f: c.calls, c: metricValue(await scrape(httpUrl), 'packline_store_commits_total'), w: c.fileBytes, cpu: procCpuSeconds(pid), ns: c.totalNs, mainCalls: c.mainCalls, mainNs: c.mainNs };
    });
    const after = readCounter(counter);
    const cpuAfter = procCpuSeconds(pid);
    const text = await scrape(httpUrl);
    phases[phase.name] = {
      load,
      fsyncs: after.calls - before.f,
      commits: metricValue(text, 'packline_store_commits_total') - before.c,
      bytesWritten: after.fileBytes - before.w,
      cpuSeconds: cpuAfter - before.cpu,
      eventLoopMaxMs: metricValue(text, 'nodejs_eventloop_lag_max_seconds') * 1000,
      syncMs: (after.totalNs - before.ns) / 1e6,
      mainThreadSyncs: after.mainCalls - before.mainCalls,
      mainThreadSyncMs: (after.mainNs - before.mainNs) / 1e6,
    };
    process.stderr.write(`bench: ${broker} ${phase.name}: ${load.shipments} shipments, ${load.rate.toFixed(0)}/s, p99 ${load.latencyMs.p99.toFixed(1)} ms\n`);
  }
  const { rss, hwm } = procRss(pid);
  gw.kill('SIGTERM');
  await new Promise((r) => gw.once('exit', r));
  mosquitto?.kill('SIGTERM');
  rmSync(dir, { recursive: true, force: true });
  return { broker, phases, rssMb: rss, peakRssMb: hwm, connectedRssMb, devices: opts.stations * 3, sync: opts.sync };
}

function fmt(n: number, digits = 0): string {
  return Number.isFinite(n) ? n.toFixed(digits) : '—';
}

function table(runs: BrokerRun[], phases: Phase[]): string {
  const rows: Array<[string, string, ...string[]]> = [];
  const per = (r: BrokerRun, p: string) => r.phases[p];
  for (const p of phases) {
    rows.push([`${p.name}: shipments/s`, p.rate === 'max' ? '≥ 2000' : `${p.rate}`, ...runs.map((r) => fmt(per(r, p.name)?.load.rate ?? NaN))]);
    rows.push([`${p.name}: scan→print p50 ms`, '', ...runs.map((r) => fmt(per(r, p.name)?.load.latencyMs.p50 ?? NaN, 1))]);
    rows.push([`${p.name}: scan→print p99 ms`, p.name === 'rate-500' ? '≤ 25' : '', ...runs.map((r) => fmt(per(r, p.name)?.load.latencyMs.p99 ?? NaN, 1))]);
    rows.push([`${p.name}: fsyncs / shipment`, '≤ 0.02', ...runs.map((r) => { const f = per(r, p.name); return f ? fmt(f.fsyncs / Math.max(1, f.load.shipments), 3) : '—'; })]);
    rows.push([`${p.name}: commits / shipment`, '', ...runs.map((r) => { const f = per(r, p.name); return f ? fmt(f.commits / Math.max(1, f.load.shipments), 3) : '—'; })]);
    rows.push([`${p.name}: KB written / shipment`, '≤ 3', ...runs.map((r) => { const f = per(r, p.name); return f ? fmt(f.bytesWritten / 1024 / Math.max(1, f.load.shipments), 2) : '—'; })]);
    rows.push([`${p.name}: gateway CPU % (of 1 core)`, '', ...runs.map((r) => { const f = per(r, p.name); return f ? fmt((100 * f.cpuSeconds) / f.load.seconds) : '—'; })]);
    rows.push([`${p.name}: event-loop max stall ms`, '', ...runs.map((r) => fmt(per(r, p.name)?.eventLoopMaxMs ?? NaN, 1))]);
    rows.push([`${p.name}: errors / timeouts / late`, '0', ...runs.map((r) => { const f = per(r, p.name); return f ? `${Object.values(f.load.errors).reduce((a, b) => a + b, 0)} / ${f.load.timeouts} / ${f.load.late}` : '—'; })]);
  }
  rows.push(['gateway RSS MB (end / peak)', '≤ 150', ...runs.map((r) => `${fmt(r.rssMb)} / ${fmt(r.peakRssMb)}`)]);
  rows.push(['devices connected', '500', ...runs.map((r) => String(r.devices))]);
  const header: [string, string, ...string[]] = ['figure', 'target', ...runs.map((r) => (r.broker === 'aedes' ? 'embedded aedes' : 'external mosquitto'))];
  const all = [header, ...rows];
  const widths = header.map((_, i) => Math.max(...all.map((r) => (r[i] ?? '').length)));
  return all.map((r) => r.map((c, i) => c.padEnd(widths[i] ?? 0)).join(' | ')).join('\n');
}

/** "35-180" or "120" → [min, max] milliseconds. */
function msRange(text: string): [number, number] {
  const [a, b = a] = text.split('-').map(Number) as [number, number?];
  if (!Number.isFinite(a) || !Number.isFinite(b) || a < 0 || b < a) throw new Error(`expected milliseconds or a range like 35-180, got "${text}"`);
  return [a, b];
}

const NO_DELAY: SyncDelay = { delayMs: 0, spikeEvery: 0, spikeMs: 0, spikeMaxMs: 0 };

/** Issue 8's SD-card targets, at 100 shipments/s. */
const SD_TARGET_P99_MS = 50;
const SD_TARGET_STALL_MS = 20;

function describeSync(d: SyncDelay): string {
  if (d.delayMs === 0 && d.spikeEvery === 0) return "this machine's disk";
  const spikes = d.spikeEvery > 0 ? `, every ${d.spikeEvery}th ${d.spikeMaxMs > d.spikeMs ? `${d.spikeMs}–${d.spikeMaxMs}` : d.spikeMs} ms` : '';
  return `SD card: ${d.delayMs} ms/sync${spikes}`;
}

/** The `--sdcard` table: the same figures for this disk and for SD-card mode, side by side. */
function sdTable(runs: BrokerRun[]): string {
  const at100 = (r: BrokerRun) => r.phases['rate-100'];
  const atMax = (r: BrokerRun) => r.phases['max'];
  const met = (ok: boolean) => (ok ? 'MET' : 'NOT MET');
  const cpuPct = (f: PhaseFigures | undefined) => (f ? (100 * f.cpuSeconds) / f.load.seconds : Number.NaN);
  const rows: string[][] = [
    ['shipments/s achieved (max, closed loop)', '', ...runs.map((r) => fmt(atMax(r)?.load.rate ?? NaN))],
    ['100/s: achieved', '100', ...runs.map((r) => fmt(at100(r)?.load.rate ?? NaN))],
    ['100/s: scan→print p50 ms', '', ...runs.map((r) => fmt(at100(r)?.load.latencyMs.p50 ?? NaN, 1))],
    ['100/s: scan→print p99 ms', `≤ ${SD_TARGET_P99_MS}`, ...runs.map((r) => { const v = at100(r)?.load.latencyMs.p99 ?? NaN; return `${fmt(v, 1)} ${met(v <= SD_TARGET_P99_MS)}`; })],
    ['100/s: scan→print max ms', '', ...runs.map((r) => fmt(at100(r)?.load.latencyMs.max ?? NaN, 1))],
    ['100/s: event-loop max stall ms', `≤ ${SD_TARGET_STALL_MS}`, ...runs.map((r) => { const v = at100(r)?.eventLoopMaxMs ?? NaN; return `${fmt(v, 1)} ${met(v <= SD_TARGET_STALL_MS)}`; })],
    ['max: event-loop max stall ms', '', ...runs.map((r) => fmt(atMax(r)?.eventLoopMaxMs ?? NaN, 1))],
    ['100/s: fsyncs · commits / shipment', '', ...runs.map((r) => { const f = at100(r); return f ? `${fmt(f.fsyncs / Math.max(1, f.load.shipments), 2)} · ${fmt(f.commits / Math.max(1, f.load.shipments), 2)}` : '—'; })],
    ['100/s: fsyncs / s · % of time in syncs', '', ...runs.map((r) => { const f = at100(r); return f ? `${fmt(f.fsyncs / f.load.seconds)} · ${fmt((100 * f.syncMs) / 1000 / f.load.seconds)}` : '—'; })],
    ['100/s: syncs on the main thread · ms blocked', '0', ...runs.map((r) => { const f = at100(r); return f ? `${f.mainThreadSyncs} · ${fmt(f.mainThreadSyncMs)}` : '—'; })],
    ['max: fsyncs / s · % of time in syncs', '', ...runs.map((r) => { const f = atMax(r); return f ? `${fmt(f.fsyncs / f.load.seconds)} · ${fmt((100 * f.syncMs) / 1000 / f.load.seconds)}` : '—'; })],
    ['CPU per 100 shipments/s, % of one core (at 100/s)', '', ...runs.map((r) => fmt(cpuPct(at100(r))))],
    ['CPU per 100 shipments/s, % of one core (at max)', '', ...runs.map((r) => { const f = atMax(r); return f ? fmt(cpuPct(f) / (f.load.rate / 100), 1) : '—'; })],
    ['gateway RSS MB: devices connected / end / peak', '', ...runs.map((r) => `${fmt(r.connectedRssMb)} / ${fmt(r.rssMb)} / ${fmt(r.peakRssMb)}`)],
    ['errors / timeouts / late (100/s · max)', '0', ...runs.map((r) => [at100(r), atMax(r)].map((f) => (f ? `${Object.values(f.load.errors).reduce((a, b) => a + b, 0)}/${f.load.timeouts}/${f.load.late}` : '—')).join(' · '))],
  ];
  const header = ['figure', 'target (SD card)', ...runs.map((r) => describeSync(r.sync))];
  const all = [header, ...rows];
  const widths = header.map((_, i) => Math.max(...all.map((r) => (r[i] ?? '').length)));
  return all.map((r) => r.map((c, i) => c.padEnd(widths[i] ?? 0)).join(' | ')).join('\n');
}

export async function benchCore(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      seconds: { type: 'string', default: '10' },
      stations: { type: 'string', default: '168' },
      only: { type: 'string' },
      'fsync-delay-ms': { type: 'string', default: '0' },
      'commit-window-ms': { type: 'string', default: '0' },
      sdcard: { type: 'boolean', default: false },
      'sd-delay-ms': { type: 'string', default: '8' },
      'sd-spike-every': { type: 'string', default: '500' },
      'sd-spike-ms': { type: 'string', default: '35-180' },
    },
  });
  const shim = buildShim();
  // Measure what a Pi runs: the compiled build.
  if (process.env.BENCH_SKIP_BUILD !== '1') execFileSync('npm', ['run', 'build', '--silent'], { cwd: root, stdio: 'inherit' });
  process.env.PACKLINE_RUN_FROM = 'dist';
  const common = { stations: Number(values.stations), seconds: Number(values.seconds), shim, commitWindowMs: Number(values['commit-window-ms']) };

  if (values.sdcard) {
    // A Pi runs the embedded broker; the same load on this disk, then with SD-card syncs.
    const broker = (values.only ?? 'aedes') as 'aedes' | 'mosquitto';
    const phases: Phase[] = [
      { name: 'rate-100', rate: 100 },
      { name: 'max', rate: 'max' },
    ];
    const [spikeMs, spikeMaxMs] = msRange(values['sd-spike-ms']);
    const disk: SyncDelay = { ...NO_DELAY, delayMs: Number(values['fsync-delay-ms']) };
    const sd: SyncDelay = { delayMs: Number(values['sd-delay-ms']), spikeEvery: Number(values['sd-spike-every']), spikeMs, spikeMaxMs };
    const runs: BrokerRun[] = [];
    for (const sync of [disk, sd]) {
      process.stderr.write(`bench: ${broker}, ${describeSync(sync)}\n`);
      runs.push(await runBroker(broker, { ...common, phases, sync }));
    }
    process.stdout.write(
      `\nPackline core benchmark, SD-card mode (${broker} broker, ${values.seconds} s per phase, ${values.stations} stations = ${Number(values.stations) * 3} devices, commit window ${values['commit-window-ms']} ms; load generator on the same 2 cores)\n\n`,
    );
    process.stdout.write(`${sdTable(runs)}\n`);
    const out = join(root, 'bench/out/core-sdcard-latest.json');
    writeFileSync(out, JSON.stringify({ at: new Date().toISOString(), argv, runs }, null, 2));
    process.stdout.write(`\nraw figures: ${out}\n`);
    return;
  }

  const phases: Phase[] = [
    { name: 'rate-50', rate: 50 },
    { name: 'rate-500', rate: 500 },
    { name: 'max', rate: 'max' },
  ];
  const brokers = (values.only ? [values.only] : ['aedes', 'mosquitto']) as Array<'aedes' | 'mosquitto'>;
  const runs: BrokerRun[] = [];
  for (const b of brokers) {
    runs.push(await runBroker(b, { ...common, phases, sync: { ...NO_DELAY, delayMs: Number(values['fsync-delay-ms']) } }));
  }
  process.stdout.write(`\nPackline core benchmark (${values.seconds} s per phase, ${values.stations} stations, fsync delay ${values['fsync-delay-ms']} ms, commit window ${values['commit-window-ms']} ms; load generator on the same 2 cores)\n\n`);
  process.stdout.write(`${table(runs, phases)}\n`);
  const out = join(root, 'bench/out/core-latest.json');
  writeFileSync(out, JSON.stringify({ at: new Date().toISOString(), argv, runs }, null, 2));
  process.stdout.write(`\nraw figures: ${out}\n`);
}
