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
import { createWriteStream, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { DeviceProvisioner } from '../gateway/src/broker/provisioning.js';
import { writeMosquittoConfig } from '../gateway/src/broker/mosquitto-config.js';
import { openAdminDb } from '../gateway/src/storage/admin-db.js';
import { type CpuBudget, createCpuBudget } from './cgroup.js';
import { describeWindow, latestProfile, type ProfileWindow, readProfile, summarise } from './cpu-profile.js';
import { type LoadPlan, type LoadResult, type LoadStation, percentile } from './loadgen.js';

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
  /** Gateway process CPU split into user and system, seconds. */
  cpuUser: number;
  cpuSystem: number;
  /** The same by thread (proc(5) /proc/<pid>/task/<tid>/stat), user + system seconds. */
  threads: ThreadCpu;
  /** The load generator's own CPU in the phase, seconds. */
  loadgenCpuSeconds: number;
  /** The longest periodic jobs and GC pauses of the phase (packline_loop_job_max_seconds), ms; empty for builds without it. */
  jobs: Array<{ job: string; maxMs: number; busyMs: number }>;
  /** CPU quota enforcement in the phase (Pi-budget mode): periods throttled, ms throttled. */
  throttled?: { periods: number; throttledPeriods: number; ms: number };
  /** Main-thread CPU profile of the phase (with --cpu-prof). */
  profile?: ProfileWindow;
  /** Monotonic µs of the phase (to cut a CPU profile). */
  windowUs: [number, number];
  rssEndMb: number;
}

interface ThreadCpu {
  main: number;
  writer: number;
  checkpoint: number;
  other: number;
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
  /** Which build ran: 'new' (this tree) or the baseline's label. */
  label: string;
  budget: string | null;
  phases: Record<string, PhaseFigures>;
  rssMb: number;
  peakRssMb: number;
  /** RSS once every device is connected, before the first phase. */
  connectedRssMb: number;
  /** RSS 2 s after start-up, before any device connected or order was imported. */
  noDevicesRssMb: number;
  devices: number;
  sync: SyncDelay;
  /** SIGTERM → process exit, ms. */
  stopMs: number;
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
  /** Thread ids of the store writer (writes the WAL) and of the WAL checkpointer (writes the database file). */
  writerTid: number;
  checkpointTid: number;
}

/** The shim's live counters (fsync-shim.c). */
function readCounter(file: string): ShimCounter {
  if (!existsSync(file)) return { calls: 0, ns: 0, fileBytes: 0, mainCalls: 0, mainNs: 0, totalNs: 0, writerTid: 0, checkpointTid: 0 };
  const b = readFileSync(file);
  const at = (i: number) => (b.length >= (i + 1) * 8 ? Number(b.readBigUInt64LE(i * 8)) : 0);
  return { calls: at(0), ns: at(1), fileBytes: at(2), mainCalls: at(3), mainNs: at(4), totalNs: at(5), writerTid: at(6), checkpointTid: at(7) };
}

/** user and system CPU seconds of a process or thread from its proc(5) stat line. */
function statCpu(path: string): { user: number; system: number } {
  const stat = readFileSync(path, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return { user: Number(fields[11]) / CLK_TCK, system: Number(fields[12]) / CLK_TCK };
}

/** sysconf(_SC_CLK_TCK): 100 on every Linux this runs on (proc(5) "clock ticks"). */
const CLK_TCK = 100;

/** Per-thread CPU (user + system seconds) of a process, by thread id. */
function threadCpu(pid: number): Map<number, number> {
  const out = new Map<number, number>();
  let tids: string[] = [];
  try {
    tids = readdirSync(`/proc/${pid}/task`);
  } catch {
    return out;
  }
  for (const tid of tids) {
    try {
      const c = statCpu(`/proc/${pid}/task/${tid}/stat`);
      out.set(Number(tid), c.user + c.system);
    } catch {
      // the thread ended between readdir and read
    }
  }
  return out;
}

/** Splits the CPU threads used between two readings into main, writer, checkpoint, other. */
function splitThreads(pid: number, before: Map<number, number>, after: Map<number, number>, c: ShimCounter): ThreadCpu {
  const t: ThreadCpu = { main: 0, writer: 0, checkpoint: 0, other: 0 };
  for (const [tid, cpu] of after) {
    const d = cpu - (before.get(tid) ?? 0);
    if (tid === pid) t.main += d;
    else if (tid === c.writerTid) t.writer += d;
    else if (tid === c.checkpointTid) t.checkpoint += d;
    else t.other += d;
  }
  return t;
}

/** packline_loop_job_{max,busy}_seconds{job} of one scrape, longest first. */
function jobFigures(text: string): Array<{ job: string; maxMs: number; busyMs: number }> {
  const busy = new Map<string, number>();
  for (const m of text.matchAll(/^packline_loop_job_busy_seconds\{job="([^"]+)"\} ([0-9.e+-]+)$/gm)) busy.set(m[1] as string, Number(m[2]) * 1000);
  const out: Array<{ job: string; maxMs: number; busyMs: number }> = [];
  for (const m of text.matchAll(/^packline_loop_job_max_seconds\{job="([^"]+)"\} ([0-9.e+-]+)$/gm)) {
    out.push({ job: m[1] as string, maxMs: Number(m[2]) * 1000, busyMs: busy.get(m[1] as string) ?? 0 });
  }
  return out.sort((a, b) => b.maxMs - a.maxMs);
}

function monotonicUs(): number {
  return Number(process.hrtime.bigint() / 1000n);
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

async function _metric(httpUrl: string, name: string): Promise<number> {
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

/**
 * Print data varied as a real day's is, so label rendering costs what it would (a cache of
 * rendered text lines must not look better than it is): every receiver's name, phone and
 * address differ; sort and routing codes repeat per destination (a few dozen), item names per
 * SKU (97), the shop per merchant (4). Deterministic in the order's index.
 */
const SURNAMES = Array.from(
  '王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦',
);
const GIVEN = Array.from('伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超兰霞平刚桂英华建国文辉玲红梅鹏飞宇浩然欣怡子涵梓萱雨轩');
const PLACES: Array<[string, string, string[]]> = [
  ['浙江省杭州市', '杭州', ['余杭区', '西湖区', '滨江区', '萧山区', '拱墅区']],
  ['上海市', '上海', ['浦东新区', '闵行区', '徐汇区', '宝山区', '嘉定区']],
  ['广东省深圳市', '深圳', ['南山区', '福田区', '宝安区', '龙岗区', '罗湖区']],
  ['北京市', '北京', ['朝阳区', '海淀区', '丰台区', '通州区', '大兴区']],
  ['江苏省苏州市', '苏州', ['工业园区', '姑苏区', '吴中区', '相城区', '虎丘区']],
  ['四川省成都市', '成都', ['武侯区', '锦江区', '青羊区', '金牛区', '成华区']],
  ['湖北省武汉市', '武汉', ['硚口区', '江汉区', '洪山区', '武昌区', '汉阳区']],
  ['安徽省宿州市', '宿州', ['埇桥区', '砀山县', '萧县', '灵璧县', '泗县']],
];
const ROADS = [
  '文一西路',
  '建国路',
  '人民路',
  '解放路',
  '中山路',
  '科技园路',
  '长江路',
  '黄河路',
  '和平路',
  '学院路',
  '世纪大道',
  '工业大道',
  '淮海中路',
  '东关大街',
];
const GOODS = ['白色T恤', '纯棉袜子', '保温杯', '手机壳', '数据线', '洗面奶', '护手霜', '帆布包', '笔记本', '牙刷套装', '蓝牙耳机', '零食礼包'];
const SHOPS = ['bench-shop', '旗舰店', '专营店', '官方店'];

function printDataFor(i: number) {
  const h = (i * 2654435761) >>> 0; // Knuth's multiplicative hash: varied but repeatable
  const [province, city, districts] = PLACES[h % PLACES.length] as [string, string, string[]];
  const district = districts[(h >>> 8) % districts.length] as string;
  const road = ROADS[(h >>> 4) % ROADS.length] as string;
  return {
    receiver_name: `${SURNAMES[h % SURNAMES.length]}${GIVEN[(h >>> 6) % GIVEN.length]}${i % 3 === 0 ? '' : GIVEN[(h >>> 11) % GIVEN.length]}`,
    receiver_phone: `13${(h >>> 3) % 10}****${String(h % 10_000).padStart(4, '0')}`,
    receiver_address: `${province}${district}${road} ${1 + ((h >>> 5) % 999)} 号 ${1 + ((h >>> 15) % 30)} 幢 ${1 + ((h >>> 20) % 28)}0${1 + (i % 4)} 室`,
    routing_code: `${200 + (h % PLACES.length) * 11}-${String.fromCharCode(65 + ((h >>> 8) % 5))}${(h >>> 8) % 5}`,
    sort_code: `${city}${district.slice(0, 2)}`,
  };
}

function makeOrders(count: number, offset: number) {
  return Array.from({ length: count }, (_, k) => {
    const i = offset + k;
    return {
      order_id: `B${String(i).padStart(7, '0')}`,
      shop: SHOPS[i % SHOPS.length],
      lines: [
        {
          sku: `SKU-${i % 97}`,
          barcode: `69${String(i % 97).padStart(11, '0')}`,
          name: `${GOODS[(i % 97) % GOODS.length]}-${i % 97}`,
          qty: 1,
          unit_grams: 350,
        },
      ],
      packaging_grams: 40,
      carrier: 'ZTO',
      waybill: `7300${String(i).padStart(10, '0')}`,
      print_data: printDataFor(i),
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

/** One load-generator process: resolves 'connected' once its devices are up, then runs on `go()`. */
function spawnLoadgen(plan: LoadPlan, dir: string, tag: string): { connected: Promise<void>; go(): void; result: Promise<LoadResult>; close(): Promise<void> } {
  const file = join(dir, `plan-${tag}.json`);
  writeFileSync(file, JSON.stringify(plan));
  const child = spawn(process.execPath, ['--import', 'tsx', join(root, 'bench/loadgen.ts'), file], { stdio: ['pipe', 'pipe', 'inherit'] });
  let out = '';
  let onConnected: () => void = () => undefined;
  const connected = new Promise<void>((r) => (onConnected = r));
  child.stdout.on('data', (b: Buffer) => {
    out += b.toString();
    if (out.includes('"connected"')) onConnected();
  });
  // The result line comes before the devices disconnect; the process exits after "close".
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  const result = new Promise<LoadResult>((resolveResult, rejectResult) => {
    const onData = () => {
      // Complete lines only: the result (with every latency) spans many chunks at high rates.
      const line = out
        .split('\n')
        .slice(0, -1)
        .find((l) => l.includes('"shipments"'));
      if (line === undefined) return;
      child.stdout.off('data', onData);
      resolveResult(JSON.parse(line) as LoadResult);
    };
    child.stdout.on('data', onData);
    void exited.then((code) => rejectResult(new Error(`load generator exited (${code}) without a result`)));
  });
  return {
    connected,
    go: () => child.stdin.write('go\n'),
    result,
    close: async () => {
      child.stdin.write('close\n');
      const code = await exited;
      if (code !== 0) throw new Error(`load generator failed (${code})`);
    },
  };
}

/**
 * Runs the load generator, in `procs` processes sharing the stations (and the rate) when one
 * process would be the limit; `onConnected` runs after every device connected, before the
 * load starts. Results are merged from every latency.
 */
async function runLoadgen(
  plan: LoadPlan,
  dir: string,
  onConnected: () => Promise<void>,
  procs = 1,
  onFinished: () => Promise<void> = async () => {},
): Promise<LoadResult> {
  const n = Math.max(1, Math.min(procs, plan.stations.length));
  const parts = Array.from({ length: n }, (_, i) => plan.stations.filter((_, k) => k % n === i));
  const children = parts.map((stations, i) =>
    spawnLoadgen({ ...plan, stations, rate: plan.rate === 'max' ? 'max' : (plan.rate * stations.length) / plan.stations.length }, dir, `${plan.runTag}-${i}`),
  );
  await Promise.all(children.map((c) => c.connected));
  await onConnected();
  for (const c of children) c.go();
  const results = await Promise.all(children.map((c) => c.result));
  // The phase's figures are read while every device is still connected.
  await onFinished();
  await Promise.all(children.map((c) => c.close()));
  if (results.length === 1) return results[0] as LoadResult;
  const latencies = results.flatMap((r) => r.latencies ?? []).sort((a, b) => a - b);
  const seconds = Math.max(...results.map((r) => r.seconds));
  const errors: Record<string, number> = {};
  for (const r of results) for (const [k, v] of Object.entries(r.errors)) errors[k] = (errors[k] ?? 0) + v;
  return {
    shipments: latencies.length,
    seconds,
    rate: latencies.length / seconds,
    latencyMs: {
      p50: percentile(latencies, 50),
      p90: percentile(latencies, 90),
      p99: percentile(latencies, 99),
      max: latencies.at(-1) ?? Number.NaN,
      mean: latencies.reduce((a, b) => a + b, 0) / Math.max(1, latencies.length),
    },
    late: results.reduce((a, r) => a + r.late, 0),
    errors,
    timeouts: results.reduce((a, r) => a + r.timeouts, 0),
    cpu: { user: results.reduce((a, r) => a + r.cpu.user, 0), system: results.reduce((a, r) => a + r.cpu.system, 0) },
  };
}

/**
 * The NODE_OPTIONS and MALLOC_* settings of a build's systemd unit (`Environment=K=V` lines
 * of docs/packline.service), so a baseline runs with the settings it shipped with.
 */
function serviceEnvironment(buildRoot: string): Record<string, string> {
  const unit = join(buildRoot, 'docs/packline.service');
  const out: Record<string, string> = {};
  if (!existsSync(unit)) return out;
  for (const m of readFileSync(unit, 'utf8').matchAll(/^Environment=((?:NODE_OPTIONS|MALLOC_[A-Z_]+))=(.*)$/gm)) out[m[1] as string] = (m[2] as string).trim();
  return out;
}

/** Which build of the gateway runs: this tree, or a baseline checkout (built, with its own dist/). */
interface Target {
  label: string;
  root: string;
}

interface RunOptions {
  stations: number;
  seconds: number;
  phases: Phase[];
  shim: string;
  sync: SyncDelay;
  commitWindowMs: number;
  target: Target;
  /** Pi-budget mode: quota and period of the gateway's CPU group (µs). */
  budget?: { quotaUs: number; periodUs: number };
  /** Record a main-thread CPU profile of the gateway into this directory. */
  profileDir?: string;
  /** Load-generator processes sharing the stations. */
  loadgenProcs: number;
}

/** Whether the build at `root` has the `tls` config section (builds before it serve plaintext only). */
function knowsTlsSection(root: string): boolean {
  const schema = join(root, 'gateway/src/config/schema.ts');
  return !existsSync(schema) || /\btls: Type\.Object\(\s*\{\s*mode:/.test(readFileSync(schema, 'utf8'));
}

async function runBroker(broker: 'aedes' | 'mosquitto', opts: RunOptions): Promise<BrokerRun> {
  const dir = mkdtempSync(join(tmpdir(), `pkl-bench-${broker}-`));
  const dataDir = join(dir, 'data');
  const [httpPort, mqttPort] = [await freePort(), await freePort()];
  const shape = floor(opts.stations);
  const config: Record<string, unknown> = {
    gatewayId: 'gw-bench',
    dataDir,
    log: { level: 'warn' },
    // The bench drives plaintext mqtt:// and http:// on loopback (the default is TLS, docs/security.md).
    // A baseline build older than the `tls` section (plaintext only) rejects the key: leave it out.
    ...(knowsTlsSection(opts.target.root) ? { tls: { mode: 'off' } } : {}),
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
    await provisioner.provisionConfigured([...(shape.devices as Array<{ id: string; role: 'scanner' }>), { id: 'gateway-svc', role: 'service' as 'scanner' }]);
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
    // The production runtime settings of the build's own docs/packline.service (V8 young
    // generation, malloc arenas, mmap threshold): each build runs as it would be deployed.
    ...serviceEnvironment(opts.target.root),
    FSYNC_SHIM_COUNTER: counter,
    FSYNC_SHIM_DELAY_MS: String(opts.sync.delayMs),
    FSYNC_SHIM_SPIKE_EVERY: String(opts.sync.spikeEvery),
    FSYNC_SHIM_SPIKE_MS: String(opts.sync.spikeMs),
    FSYNC_SHIM_SPIKE_MAX_MS: String(opts.sync.spikeMaxMs),
  };
  // BENCH_GATEWAY_NODE_ARGS, e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof", profiles the gateway.
  const nodeArgs = (process.env.BENCH_GATEWAY_NODE_ARGS ?? '').split(' ').filter((a) => a !== '');
  if (opts.profileDir !== undefined) {
    mkdirSync(opts.profileDir, { recursive: true });
    nodeArgs.push('--cpu-prof', `--cpu-prof-dir=${opts.profileDir}`);
  }
  const argv = [...nodeArgs, join(opts.target.root, 'bin/packline.js'), 'start', '--config', configFile];
  let budget: CpuBudget | null = null;
  let gw: ChildProcess;
  if (opts.budget !== undefined) {
    budget = createCpuBudget(opts.budget.quotaUs, opts.budget.periodUs);
    // Into the group at exec, so every thread the gateway starts is inside it.
    gw = spawn('/bin/sh', ['-c', 'echo $$ > "$0" && exec "$@"', budget.procsFile, process.execPath, ...argv], { env, stdio: ['ignore', 'pipe', 'inherit'] });
  } else {
    gw = spawn(process.execPath, argv, { env, stdio: ['ignore', 'pipe', 'inherit'] });
  }
  // The gateway's stdout (banner; `--trace-gc` lines with BENCH_GATEWAY_NODE_ARGS) is drained,
  // into BENCH_GATEWAY_STDOUT when set: an unread pipe would block the gateway once full.
  gw.stdout?.pipe(createWriteStream(process.env.BENCH_GATEWAY_STDOUT ?? '/dev/null', { flags: 'a' }));
  const httpUrl = `http://127.0.0.1:${httpPort}`;
  let exited = false;
  gw.once('exit', () => {
    exited = true;
  });
  await waitFor(
    async () => {
      if (exited) throw new Error('gateway exited during start-up (see its output above)');
      return (await fetch(`${httpUrl}/readyz`)).ok;
    },
    'gateway ready',
    600_000,
  ); // start-up (provisioning 504 devices' secrets with scrypt) is not measured and slow on a busy machine
  const pid = gw.pid as number;
  // Idle with no devices: started, nothing connected, no orders yet (2 s for start-up's
  // garbage to be collected).
  await new Promise((r) => setTimeout(r, 2000));
  const noDevicesRssMb = procRss(pid).rss;
  if (broker === 'aedes') {
    const prov = JSON.parse(readFileSync(join(dataDir, 'provisioning.json'), 'utf8')) as { devices: Record<string, { secret: string }> };
    secrets = Object.fromEntries(Object.entries(prov.devices).map(([id, d]) => [id, d.secret]));
  }
  const tokens = JSON.parse(readFileSync(join(dataDir, 'api-tokens.json'), 'utf8')) as { admin: string };

  // Orders: enough for every phase at 3,000 shipments/s (above the 2,000/s target).
  // (In Pi-budget mode the max phase cannot get near that: 600/s is plenty and the import,
  // inside the quota too, stays short.)
  const maxRate = opts.budget === undefined ? 3000 : 600;
  const fastest = Math.max(...opts.phases.map((p) => (p.rate === 'max' ? maxRate : p.rate)));
  const perStationPerPhase = Math.ceil((fastest * opts.seconds) / opts.stations) + 5;
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
    let before = {
      f: 0,
      c: 0,
      w: 0,
      cpu: 0,
      ns: 0,
      mainCalls: 0,
      mainNs: 0,
      user: 0,
      system: 0,
      threads: new Map<number, number>(),
      at: 0,
      throttle: budget?.stat(),
    };
    for (const s of stations) s.orders = Array.from({ length: perStationPerPhase }, take);
    let endUs = 0;
    let after = readCounter(counter);
    let cpuAfter = 0;
    let cpuSplit = { user: 0, system: 0 };
    let threadsAfter = new Map<number, number>();
    let throttle = budget?.stat();
    let text = '';
    let rssEndMb = 0;
    const load = await runLoadgen(
      { mqttUrl: `mqtt://127.0.0.1:${mqttPort}`, secrets, stations, rate: phase.rate, durationSeconds: opts.seconds, runTag: `${broker}-${phase.name}` },
      dir,
      async () => {
        // Snapshot once every device is connected, so CONNECT (scrypt) cost is not counted.
        const c = readCounter(counter);
        if (Number.isNaN(connectedRssMb)) connectedRssMb = procRss(pid).rss;
        // This scrape also starts the phase's event-loop delay window.
        const commits = metricValue(await scrape(httpUrl), 'packline_store_commits_total');
        const cpu = statCpu(`/proc/${pid}/stat`);
        before = {
          f: c.calls,
          c: commits,
          w: c.fileBytes,
          cpu: procCpuSeconds(pid),
          ns: c.totalNs,
          mainCalls: c.mainCalls,
          mainNs: c.mainNs,
          user: cpu.user,
          system: cpu.system,
          threads: threadCpu(pid),
          at: monotonicUs(),
          throttle: budget?.stat(),
        };
      },
      opts.loadgenProcs,
      // Read before the devices disconnect: 504 disconnects at the end of every phase are not
      // what a floor does, and were ~2 % of a core in a 10 s idle phase.
      async () => {
        endUs = monotonicUs();
        after = readCounter(counter);
        cpuAfter = procCpuSeconds(pid);
        cpuSplit = statCpu(`/proc/${pid}/stat`);
        threadsAfter = threadCpu(pid);
        throttle = budget?.stat();
        text = await scrape(httpUrl);
        rssEndMb = procRss(pid).rss;
      },
    );
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
      cpuUser: cpuSplit.user - before.user,
      cpuSystem: cpuSplit.system - before.system,
      threads: splitThreads(pid, before.threads, threadsAfter, after),
      loadgenCpuSeconds: (load.cpu?.user ?? Number.NaN) + (load.cpu?.system ?? Number.NaN),
      jobs: jobFigures(text),
      windowUs: [before.at, endUs],
      rssEndMb,
    };
    if (throttle && before.throttle) {
      phases[phase.name]!.throttled = {
        periods: throttle.periods - before.throttle.periods,
        throttledPeriods: throttle.throttledPeriods - before.throttle.throttledPeriods,
        ms: throttle.throttledMs - before.throttle.throttledMs,
      };
    }
    process.stderr.write(
      `bench: ${broker} ${phase.name}: ${load.shipments} shipments, ${load.rate.toFixed(0)}/s, p99 ${fmt(load.latencyMs.p99 ?? Number.NaN, 1)} ms\n`,
    );
  }
  const { rss, hwm } = procRss(pid);
  const stopAt = performance.now();
  gw.kill('SIGTERM');
  // A gateway that does not exit is a bug (it once hung for minutes in external-broker
  // mode): say so, and end it, rather than wait forever.
  const stopped = await Promise.race([
    new Promise<'exited'>((r) => gw.once('exit', () => r('exited'))),
    new Promise<'late'>((r) => setTimeout(() => r('late'), 60_000).unref()),
  ]);
  if (stopped === 'late') {
    process.stderr.write(`bench: ${opts.target.label} gateway (${broker}) did not exit 60 s after SIGTERM; killing it\n`);
    gw.kill('SIGKILL');
    await new Promise((r) => gw.once('exit', r));
  }
  const stopMs = performance.now() - stopAt;
  mosquitto?.kill('SIGTERM');
  budget?.remove();
  if (opts.profileDir !== undefined) {
    const file = latestProfile(opts.profileDir, pid);
    if (file !== null) {
      const prof = readProfile(file);
      for (const f of Object.values(phases)) f.profile = summarise(prof, f.windowUs[0], f.windowUs[1]);
    }
  }
  rmSync(dir, { recursive: true, force: true });
  return {
    broker,
    label: opts.target.label,
    budget: budget?.describe ?? null,
    phases,
    rssMb: rss,
    peakRssMb: hwm,
    connectedRssMb,
    noDevicesRssMb,
    devices: opts.stations * 3,
    sync: opts.sync,
    stopMs,
  };
}

function fmt(n: number, digits = 0): string {
  return Number.isFinite(n) ? n.toFixed(digits) : '—';
}

/** The issue's targets, per figure (printed beside the figures, not asserted). */
const TARGETS = {
  cpuPerShipmentMs: 1.0,
  idleCpuPct: 1,
  stallMs: 20,
  peakRssMb: 150,
  kbPerShipment: 8,
  maxRate: 2000,
  p99At500Ms: 25,
  piP99Ms: 50,
};

function columnName(r: BrokerRun): string {
  const sync = r.sync.delayMs > 0 || r.sync.spikeEvery > 0 ? ', SD card' : '';
  return `${r.label} · ${r.broker === 'aedes' ? 'aedes' : 'mosquitto'}${sync}`;
}

function renderTable(header: string[], rows: string[][]): string {
  const all = [header, ...rows];
  const widths = header.map((_, i) => Math.max(...all.map((r) => (r[i] ?? '').length)));
  return all.map((r) => r.map((c, i) => c.padEnd(widths[i] ?? 0)).join(' | ')).join('\n');
}

const pct = (seconds: number, over: number) => (100 * seconds) / over;

/** Per phase: rate, latency, CPU split (user/system, by thread, per shipment), load generator CPU, writes, stalls and what held the loop. */
function table(runs: BrokerRun[], phases: Phase[], pi: boolean): string {
  const rows: string[][] = [];
  const each = (label: string, target: string, cell: (f: PhaseFigures, r: BrokerRun) => string, p: Phase) =>
    rows.push([
      `${p.name}: ${label}`,
      target,
      ...runs.map((r) => {
        const f = r.phases[p.name];
        return f ? cell(f, r) : '—';
      }),
    ]);
  for (const p of phases) {
    each('shipments/s', p.rate === 'max' ? (pi ? '' : `≥ ${TARGETS.maxRate}`) : String(p.rate), (f) => fmt(f.load.rate), p);
    each(
      'scan→print p50 / p99 / max ms',
      pi && p.rate === 100 ? `p99 ≤ ${TARGETS.piP99Ms}` : p.rate === 500 ? `p99 ≤ ${TARGETS.p99At500Ms}` : '',
      (f) => `${fmt(f.load.latencyMs.p50, 1)} / ${fmt(f.load.latencyMs.p99, 1)} / ${fmt(f.load.latencyMs.max, 0)}`,
      p,
    );
    each(
      'gateway CPU % of a core (user + sys)',
      p.rate === 2 ? `≤ ${TARGETS.idleCpuPct}` : '',
      (f) => `${fmt(pct(f.cpuSeconds, f.load.seconds), 1)} (${fmt(pct(f.cpuUser, f.load.seconds), 1)} + ${fmt(pct(f.cpuSystem, f.load.seconds), 1)})`,
      p,
    );
    each(
      '  by thread %: main · writer · checkpoint · other',
      '',
      (f) => [f.threads.main, f.threads.writer, f.threads.checkpoint, f.threads.other].map((x) => fmt(pct(x, f.load.seconds), 1)).join(' · '),
      p,
    );
    each(
      'CPU ms per shipment (all threads)',
      typeof p.rate === 'number' && p.rate >= 20 && p.rate <= 100 ? `≤ ${TARGETS.cpuPerShipmentMs}` : '',
      (f) => fmt((1000 * f.cpuSeconds) / Math.max(1, f.load.shipments), 2),
      p,
    );
    each('load generator CPU % of a core', '', (f) => fmt(pct(f.loadgenCpuSeconds, f.load.seconds), 1), p);
    each(
      'commits · fsyncs · KB written per shipment',
      p.rate === 20 ? `· · ≤ ${TARGETS.kbPerShipment}` : '',
      (f) => {
        const n = Math.max(1, f.load.shipments);
        return `${fmt(f.commits / n, 2)} · ${fmt(f.fsyncs / n, 2)} · ${fmt(f.bytesWritten / 1024 / n, 1)}`;
      },
      p,
    );
    each('event-loop max stall ms', `≤ ${TARGETS.stallMs}`, (f) => fmt(f.eventLoopMaxMs, 1), p);
    each(
      '  longest jobs / GC pauses (max ms)',
      '',
      (f) =>
        f.jobs.length === 0
          ? 'n/a'
          : f.jobs
              .slice(0, 3)
              .map((j) => `${j.job} ${j.maxMs.toFixed(1)}`)
              .join(', '),
      p,
    );
    if (pi)
      each(
        'CPU quota: periods throttled %',
        '',
        (f) => (f.throttled ? fmt((100 * f.throttled.throttledPeriods) / Math.max(1, f.throttled.periods), 1) : '—'),
        p,
      );
    each('errors / timeouts / late', '0', (f) => `${Object.values(f.load.errors).reduce((a, b) => a + b, 0)} / ${f.load.timeouts} / ${f.load.late}`, p);
  }
  rows.push(['gateway RSS MB: no devices (idle after start)', '≤ 80', ...runs.map((r) => fmt(r.noDevicesRssMb))]);
  rows.push([
    'gateway RSS MB: devices connected / end / peak',
    `peak ≤ ${TARGETS.peakRssMb}`,
    ...runs.map((r) => `${fmt(r.connectedRssMb)} / ${fmt(r.rssMb)} / ${fmt(r.peakRssMb)}`),
  ]);
  rows.push(['devices connected', '', ...runs.map((r) => String(r.devices))]);
  rows.push(['SIGTERM → exit ms', '', ...runs.map((r) => fmt(r.stopMs))]);
  return renderTable(['figure', 'target', ...runs.map(columnName)], rows);
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
    [
      '100/s: scan→print p99 ms',
      `≤ ${SD_TARGET_P99_MS}`,
      ...runs.map((r) => {
        const v = at100(r)?.load.latencyMs.p99 ?? NaN;
        return `${fmt(v, 1)} ${met(v <= SD_TARGET_P99_MS)}`;
      }),
    ],
    ['100/s: scan→print max ms', '', ...runs.map((r) => fmt(at100(r)?.load.latencyMs.max ?? NaN, 1))],
    [
      '100/s: event-loop max stall ms',
      `≤ ${SD_TARGET_STALL_MS}`,
      ...runs.map((r) => {
        const v = at100(r)?.eventLoopMaxMs ?? NaN;
        return `${fmt(v, 1)} ${met(v <= SD_TARGET_STALL_MS)}`;
      }),
    ],
    ['max: event-loop max stall ms', '', ...runs.map((r) => fmt(atMax(r)?.eventLoopMaxMs ?? NaN, 1))],
    [
      '100/s: fsyncs · commits / shipment',
      '',
      ...runs.map((r) => {
        const f = at100(r);
        return f ? `${fmt(f.fsyncs / Math.max(1, f.load.shipments), 2)} · ${fmt(f.commits / Math.max(1, f.load.shipments), 2)}` : '—';
      }),
    ],
    [
      '100/s: fsyncs / s · % of time in syncs',
      '',
      ...runs.map((r) => {
        const f = at100(r);
        return f ? `${fmt(f.fsyncs / f.load.seconds)} · ${fmt((100 * f.syncMs) / 1000 / f.load.seconds)}` : '—';
      }),
    ],
    [
      '100/s: syncs on the main thread · ms blocked',
      '0',
      ...runs.map((r) => {
        const f = at100(r);
        return f ? `${f.mainThreadSyncs} · ${fmt(f.mainThreadSyncMs)}` : '—';
      }),
    ],
    [
      'max: fsyncs / s · % of time in syncs',
      '',
      ...runs.map((r) => {
        const f = atMax(r);
        return f ? `${fmt(f.fsyncs / f.load.seconds)} · ${fmt((100 * f.syncMs) / 1000 / f.load.seconds)}` : '—';
      }),
    ],
    ['CPU per 100 shipments/s, % of one core (at 100/s)', '', ...runs.map((r) => fmt(cpuPct(at100(r))))],
    [
      'CPU per 100 shipments/s, % of one core (at max)',
      '',
      ...runs.map((r) => {
        const f = atMax(r);
        return f ? fmt(cpuPct(f) / (f.load.rate / 100), 1) : '—';
      }),
    ],
    ['gateway RSS MB: no devices (idle after start)', '≤ 80', ...runs.map((r) => fmt(r.noDevicesRssMb))],
    ['gateway RSS MB: devices connected / end / peak', '', ...runs.map((r) => `${fmt(r.connectedRssMb)} / ${fmt(r.rssMb)} / ${fmt(r.peakRssMb)}`)],
    [
      'errors / timeouts / late (100/s · max)',
      '0',
      ...runs.map((r) =>
        [at100(r), atMax(r)].map((f) => (f ? `${Object.values(f.load.errors).reduce((a, b) => a + b, 0)}/${f.load.timeouts}/${f.load.late}` : '—')).join(' · '),
      ),
    ],
  ];
  const header = ['figure', 'target (SD card)', ...runs.map((r) => describeSync(r.sync))];
  const all = [header, ...rows];
  const widths = header.map((_, i) => Math.max(...all.map((r) => (r[i] ?? '').length)));
  return all.map((r) => r.map((c, i) => c.padEnd(widths[i] ?? 0)).join(' | ')).join('\n');
}

/** "2,20,100,500,max" → phases. */
function parsePhases(text: string): Phase[] {
  return text.split(',').map((t) => {
    const v = t.trim();
    if (v === 'max') return { name: 'max', rate: 'max' as const };
    const n = Number(v);
    if (!Number.isFinite(n) || n < 0) throw new Error(`--phases: expected shipments/s or "max", got "${v}"`);
    return { name: `rate-${n}`, rate: n };
  });
}

export async function benchCore(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      seconds: { type: 'string', default: '10' },
      stations: { type: 'string', default: '168' },
      only: { type: 'string' },
      phases: { type: 'string' },
      'fsync-delay-ms': { type: 'string', default: '0' },
      'commit-window-ms': { type: 'string', default: '0' },
      sdcard: { type: 'boolean', default: false },
      'pi-budget': { type: 'boolean', default: false },
      'budget-quota-us': { type: 'string', default: '5000' },
      'budget-period-us': { type: 'string', default: '10000' },
      'no-sd': { type: 'boolean', default: false },
      baseline: { type: 'string' },
      'baseline-label': { type: 'string' },
      'baseline-first': { type: 'boolean', default: false },
      'cpu-prof': { type: 'string' },
      'loadgen-procs': { type: 'string', default: '1' },
      'sd-delay-ms': { type: 'string', default: '8' },
      'sd-spike-every': { type: 'string', default: '500' },
      'sd-spike-ms': { type: 'string', default: '35-180' },
    },
  });
  const shim = buildShim();
  // Measure what a Pi runs: the compiled build.
  if (process.env.BENCH_SKIP_BUILD !== '1') execFileSync('npm', ['run', 'build', '--silent'], { cwd: root, stdio: 'inherit' });
  process.env.PACKLINE_RUN_FROM = 'dist';
  const here: Target = { label: 'new', root };
  // The code before, on the same machine in the same run: a checkout of another commit with
  // its own node_modules and compiled build (`git worktree add ../base <commit> && npm run build`).
  const targets: Target[] = [here];
  if (values.baseline !== undefined) {
    const broot = resolve(values.baseline);
    if (!existsSync(join(broot, 'dist')) || !existsSync(join(broot, 'bin/packline.js'))) {
      throw new Error(`--baseline ${broot}: expected a built checkout (bin/packline.js and dist/; run npm run build there)`);
    }
    let label = values['baseline-label'];
    if (label === undefined) {
      try {
        label = `old ${execFileSync('git', ['-C', broot, 'rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).trim()}`;
      } catch {
        label = 'old';
      }
    }
    // Run order matters on a shared machine: --baseline-first swaps it, to see the bias.
    if (values['baseline-first']) targets.unshift({ label, root: broot });
    else targets.push({ label, root: broot });
  }
  const common = {
    stations: Number(values.stations),
    seconds: Number(values.seconds),
    shim,
    commitWindowMs: Number(values['commit-window-ms']),
    loadgenProcs: Number(values['loadgen-procs']),
  };
  const [spikeMs, spikeMaxMs] = msRange(values['sd-spike-ms']);
  const sd: SyncDelay = { delayMs: Number(values['sd-delay-ms']), spikeEvery: Number(values['sd-spike-every']), spikeMs, spikeMaxMs };
  const disk: SyncDelay = { ...NO_DELAY, delayMs: Number(values['fsync-delay-ms']) };
  const profileDir = values['cpu-prof'] === undefined ? undefined : resolve(values['cpu-prof']);

  if (values['pi-budget']) {
    // The gateway in a CPU quota (half a core, 10 ms period by default), embedded broker, with
    // and without SD-card syncs; the load generator outside the quota.
    const budget = { quotaUs: Number(values['budget-quota-us']), periodUs: Number(values['budget-period-us']) };
    // Fail early and clearly when no cgroup can be made.
    createCpuBudget(budget.quotaUs, budget.periodUs).remove();
    const broker = (values.only ?? 'aedes') as 'aedes' | 'mosquitto';
    const phases = parsePhases(values.phases ?? '25,50,100,max');
    const runs: BrokerRun[] = [];
    for (const sync of values['no-sd'] ? [disk] : [disk, sd]) {
      for (const target of targets) {
        process.stderr.write(`bench: pi-budget ${target.label}, ${broker}, ${describeSync(sync)}\n`);
        runs.push(await runBroker(broker, { ...common, phases, sync, target, budget, ...(profileDir && target === here ? { profileDir } : {}) }));
      }
    }
    const cores = budget.quotaUs / budget.periodUs;
    process.stdout.write(
      `\nPackline core benchmark, Pi budget: gateway limited to ${cores} of a core (quota ${budget.quotaUs} µs per ${budget.periodUs} µs; ${runs[0]?.budget ?? ''}), ${broker} broker, ${values.seconds} s per phase, ${values.stations} stations = ${Number(values.stations) * 3} devices; SD card = ${describeSync(sd)}; load generator outside the quota on the same machine\n\n`,
    );
    process.stdout.write(`${table(runs, phases, true)}\n`);
    printProfiles(runs);
    const out = join(root, 'bench/out/core-pi-budget-latest.json');
    writeFileSync(out, JSON.stringify({ at: new Date().toISOString(), argv, budget, runs }, null, 2));
    process.stdout.write(`\nraw figures: ${out}\n`);
    return;
  }

  if (values.sdcard) {
    // A Pi runs the embedded broker; the same load on this disk, then with SD-card syncs.
    const broker = (values.only ?? 'aedes') as 'aedes' | 'mosquitto';
    const phases = parsePhases(values.phases ?? '100,max');
    const runs: BrokerRun[] = [];
    for (const sync of [disk, sd]) {
      process.stderr.write(`bench: ${broker}, ${describeSync(sync)}\n`);
      runs.push(await runBroker(broker, { ...common, phases, sync, target: here }));
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

  const phases = parsePhases(values.phases ?? '2,20,100,500,max');
  const brokers = (values.only ? [values.only] : ['aedes', 'mosquitto']) as Array<'aedes' | 'mosquitto'>;
  const runs: BrokerRun[] = [];
  for (const b of brokers) {
    for (const target of targets) {
      process.stderr.write(`bench: ${target.label}, ${b}\n`);
      runs.push(await runBroker(b, { ...common, phases, sync: disk, target, ...(profileDir && target === here ? { profileDir } : {}) }));
    }
  }
  process.stdout.write(
    `\nPackline core benchmark (${values.seconds} s per phase, ${values.stations} stations = ${Number(values.stations) * 3} devices, fsync delay ${values['fsync-delay-ms']} ms, commit window ${values['commit-window-ms']} ms; load generator on the same 2 cores)\n\n`,
  );
  process.stdout.write(`${table(runs, phases, false)}\n`);
  printProfiles(runs);
  const out = join(root, 'bench/out/core-latest.json');
  writeFileSync(out, JSON.stringify({ at: new Date().toISOString(), argv, runs }, null, 2));
  process.stdout.write(`\nraw figures: ${out}\n`);
}

/** With --cpu-prof: what the main thread did in each phase, and what held the loop longest. */
function printProfiles(runs: BrokerRun[]): void {
  for (const r of runs) {
    for (const [name, f] of Object.entries(r.phases)) {
      if (f.profile) process.stdout.write(`\n${describeWindow(f.profile, `CPU profile, ${columnName(r)}, ${name}`)}\n`);
    }
  }
}
