// The arm64 smoke run proper (called by smoke.sh once the arm64 install exists): starts the real
// gateway, `packline start --sim`, under the arm64 Node in qemu user-mode emulation, waits until
// one parcel of the simulated floor has gone scan → weight → label → shipped, checks it through
// the HTTP API, the event log and the label file the printer wrote, checks that every native
// addon the arm64 processes loaded is an arm64 ELF, then stops the gateway with SIGINT and
// expects a clean exit. Runs on the host's Node (it is only the test driver).
//
//   node .ci/arm64/drive.mjs --app <dir> --node <arm64 node> --sysroot <dir> [--cpu cortex-a72]
//
// Timeouts here are safety nets for a hung emulator, not measurements.
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import { elfMachine } from './elf.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const { values: opt } = parseArgs({
  options: {
    app: { type: 'string' },
    node: { type: 'string' },
    sysroot: { type: 'string' },
    qemu: { type: 'string', default: 'qemu-aarch64-static' },
    cpu: { type: 'string', default: 'cortex-a72' },
    'keep-data': { type: 'boolean', default: false },
  },
});
for (const k of ['app', 'node', 'sysroot']) if (!opt[k]) fail(`--${k} is required`);

const t0 = Date.now();
const secs = () => ((Date.now() - t0) / 1000).toFixed(1).padStart(6);
function step(msg) {
  console.log(`arm64: [${secs()} s] ${msg}`);
}
function fail(msg) {
  console.error(`\narm64: FAILED: ${msg}`);
  process.exit(1);
}

function freePort() {
  return new Promise((ok, bad) => {
    const s = createServer();
    s.once('error', bad);
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      s.close(() => ok(a.port));
    });
  });
}

async function until(what, fn, timeoutMs, everyMs = 1000) {
  const deadline = Date.now() + timeoutMs;
  let lastErr;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v;
    } catch (err) {
      if (err instanceof Error && err.message.startsWith('start-up failed')) throw err;
      lastErr = err;
    }
    if (exitInfo !== null) throw new Error(`the gateway exited (${JSON.stringify(exitInfo)}) while waiting for ${what}`);
    if (Date.now() > deadline)
      throw new Error(`timed out after ${timeoutMs / 1000} s waiting for ${what}${lastErr ? ` (last error: ${lastErr.message})` : ''}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/** The pid and every descendant (qemu-user runs each guest process as one host process). */
function processTree(pid) {
  const out = [pid];
  for (let i = 0; i < out.length; i++) {
    let tasks = [];
    try {
      tasks = readdirSync(`/proc/${out[i]}/task`);
    } catch {
      continue;
    }
    for (const t of tasks) {
      try {
        for (const c of readFileSync(`/proc/${out[i]}/task/${t}/children`, 'utf8').trim().split(/\s+/)) if (c) out.push(Number(c));
      } catch {
        // gone meanwhile
      }
    }
  }
  return out;
}

/** Native addons mapped into a process, from the host's view of its memory map. */
function mappedAddons(pid) {
  try {
    const files = new Set();
    for (const line of readFileSync(`/proc/${pid}/maps`, 'utf8').split('\n')) {
      const m = /\s(\/\S+\.node)(?: \(deleted\))?$/.exec(line);
      if (m) files.add(m[1]);
    }
    return [...files];
  } catch {
    return [];
  }
}

const dir = mkdtempSync(join(tmpdir(), 'packline-arm64-'));
const dataDir = join(dir, 'data');
const dlopenLog = join(dir, 'dlopen.log');
const gatewayLog = join(dir, 'gateway.log');
writeFileSync(dlopenLog, '');
let output = '';
let exitInfo = null;
let proc = null;

function tailOfLog() {
  writeFileSync(gatewayLog, output);
  const lines = output.trimEnd().split('\n');
  return `--- last ${Math.min(40, lines.length)} lines of the gateway's output (all of it: ${gatewayLog}) ---\n${lines.slice(-40).join('\n')}`;
}

async function main() {
  const [http, mqtt] = [await freePort(), await freePort()];
  // PACKLINE_* variables are configuration overrides to the gateway: none leak in from CI
  // (ARM64_SMOKE_* are this script's settings), only the ones set here.
  const env = {
    ...Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('PACKLINE_'))),
    // Read by qemu-user itself, so the arm64 children the gateway spawns through binfmt_misc
    // (the floor, the cloud, tsx's esbuild) get the same sysroot and the same Pi 4 CPU.
    QEMU_LD_PREFIX: opt.sysroot,
    QEMU_CPU: opt.cpu,
    NODE_OPTIONS: `--require ${join(here, 'dlopen-log.cjs')}`,
    ARM64_SMOKE_DLOPEN_LOG: dlopenLog,
    PACKLINE_HTTP__PORT: String(http),
    PACKLINE_MQTT__PORT: String(mqtt),
    PACKLINE_MQTT__TLS__PORT: '0',
    // Plaintext: the smoke drives http:// (the default is TLS with a local CA, docs/security.md).
    PACKLINE_TLS__MODE: 'off',
    PACKLINE_LOG__LEVEL: 'info',
  };
  const args = [
    '-L',
    opt.sysroot,
    '-cpu',
    opt.cpu,
    opt.node,
    'bin/packline.js',
    '--data-dir',
    dataDir,
    'start',
    '--sim',
    '--sim-stations',
    '1',
    '--sim-every',
    '2',
  ];
  step(`starting the gateway under emulation: ${opt.qemu} ${args.join(' ')}  (cwd ${opt.app}, HTTP ${http}, MQTT ${mqtt})`);
  proc = spawn(opt.qemu, args, { cwd: opt.app, env, stdio: ['ignore', 'pipe', 'pipe'] });
  proc.stdout.on('data', (b) => (output += b.toString()));
  proc.stderr.on('data', (b) => (output += b.toString()));
  const exited = new Promise((ok) =>
    proc.once('exit', (code, signal) => {
      exitInfo = { code, signal };
      ok(exitInfo);
    }),
  );

  await until(
    'the start-up banner',
    () => {
      // `packline` prints "error <code>: …" / "error: …" when start-up fails; it may not exit.
      const startError = /^error\b.*$/m.exec(output);
      if (startError) throw new Error(`start-up failed: ${startError[0]}`);
      return /Cloud \(sim\)\s+http:\/\/127\.0\.0\.1:\d+/.test(output);
    },
    300_000,
  );
  const wireStation = /Wire station\s+st-wire-1/.test(output);
  step(
    `gateway, floor and cloud are up${wireStation ? ' (with the wire-protocol station: serial scale on a node-pty pseudo-terminal pair, ZPL printer on TCP)' : ' (no wire-protocol station: switched off?)'}`,
  );
  const api = `http://127.0.0.1:${http}`;
  const token = JSON.parse(readFileSync(join(dataDir, 'api-tokens.json'), 'utf8')).admin;
  const get = async (path) => {
    const res = await fetch(`${api}${path}`, { headers: { authorization: `Bearer ${token}` } });
    if (!res.ok) throw new Error(`GET ${path}: HTTP ${res.status} ${await res.text()}`);
    return res.json();
  };

  const shipped = await until('a shipped parcel', async () => (await get('/api/v1/shipments?state=shipped&limit=1')).shipments[0] ?? null, 300_000);
  step(`parcel shipped: ${shipped.shipment_id} (order ${shipped.order_id}, station ${shipped.station_id})`);
  const s = await get(`/api/v1/shipments/${encodeURIComponent(shipped.shipment_id)}`);
  const problems = [];
  if (Object.keys(s.scanned ?? {}).length === 0) problems.push('no scanned items');
  if (typeof s.actual_grams !== 'number') problems.push(`no weight (actual_grams ${s.actual_grams})`);
  if (!s.label_job_id) problems.push('no label job');
  if (!s.waybill) problems.push('no waybill');
  if (problems.length > 0) throw new Error(`shipment ${s.shipment_id} is "shipped" but: ${problems.join(', ')}: ${JSON.stringify(s)}`);
  step(
    `  scanned ${JSON.stringify(s.scanned)}, weighed ${s.actual_grams} g (expected ${s.expected_grams} g), waybill ${s.carrier} ${s.waybill}, label job ${s.label_job_id}`,
  );

  // The event log: the durable record of each step, in order.
  const types = [];
  for (let after = 0; ; ) {
    const page = await get(`/api/v1/events?after=${after}&limit=1000`);
    for (const e of page.events) if (e.subject === `shipment:${s.shipment_id}`) types.push(e.type);
    if (page.events.length === 0 || page.next_after >= page.high_water) break;
    after = page.next_after;
  }
  const need = ['shipment.opened', 'shipment.weighed', 'shipment.label_queued', 'shipment.shipped'];
  const missing = need.filter((t) => !types.includes(t));
  if (missing.length > 0) throw new Error(`event log of ${s.shipment_id} lacks ${missing.join(', ')}; has ${types.join(', ')}`);
  step(`  event log: ${types.join(' → ')}`);

  // The label as the (simulated) printer received it over the wire: MQTT printers write
  // <job_id>.zpl, the wire station's TCP printer label-NNNN.zpl under its station id.
  const labelsDir = join(dataDir, 'labels');
  const zplFiles = (d) =>
    readdirSync(d, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? zplFiles(join(d, e.name)) : e.name.endsWith('.zpl') ? [join(d, e.name)] : []));
  const label = await until(
    `the label of job ${s.label_job_id} (ZPL with waybill ${s.waybill}) in ${labelsDir}`,
    () => zplFiles(labelsDir).find((f) => statSync(f).size > 0 && readFileSync(f, 'utf8').includes(s.waybill)),
    60_000,
  );
  const zpl = readFileSync(label, 'utf8');
  if (!zpl.includes('^XA') || !zpl.includes('^XZ')) throw new Error(`${label} is not a ZPL label (no ^XA … ^XZ)`);
  step(`  label printed: ${label} (${zpl.length} bytes of ZPL, waybill ${s.waybill} on it)`);

  // If the wire station is on, wait for its first shipment too: that is what loads serialport.
  if (wireStation) {
    await until(
      'a shipment from the wire-protocol station st-wire-1',
      async () => (await get('/api/v1/shipments?station=st-wire-1&limit=1')).shipments[0] ?? null,
      180_000,
    );
    step('  the wire-protocol station (serialport on a pty) has handled a parcel too');
  }

  // Native addons: what each arm64 process has mapped, plus what went through process.dlopen.
  const loaded = new Map();
  const note = (file, what) => loaded.set(file, [...(loaded.get(file) ?? []), what]);
  for (const pid of processTree(proc.pid)) for (const f of mappedAddons(pid)) note(f, `mapped in pid ${pid}${pid === proc.pid ? ' (gateway)' : ''}`);
  for (const line of readFileSync(dlopenLog, 'utf8').split('\n')) {
    const [pid, arch, file] = line.split('\t');
    if (!file) continue;
    if (arch !== 'arm64') throw new Error(`process ${pid} that loaded ${file} reports process.arch = ${arch}, not arm64`);
    note(file, `dlopen in pid ${pid}${Number(pid) === proc.pid ? ' (gateway)' : ''}`);
  }
  step(`native addons loaded by the arm64 processes (${loaded.size}):`);
  let bad = 0;
  for (const [file, hows] of loaded) {
    const how = [...new Set(hows)].join(', ');
    const r = elfMachine(file);
    if (!r.arm64) bad++;
    console.log(`         ${r.arm64 ? 'arm64    ' : 'NOT ARM64'}  ${r.machine.padEnd(16)} ${file.replace(`${opt.app}/`, '')}  (${how})`);
  }
  if (bad > 0) throw new Error(`${bad} loaded native addon(s) are not arm64 ELF files (list above)`);
  const names = [...loaded.keys()];
  if (!names.some((f) => f.endsWith('/better_sqlite3.node')))
    throw new Error('better-sqlite3 was not among the loaded addons: the store did not run on the arm64 build, or the addon check saw nothing');
  if (wireStation && !names.some((f) => f.includes('bindings-cpp')))
    throw new Error('serialport (@serialport/bindings-cpp) was not loaded although the wire-protocol station ran');

  step('stopping with SIGINT (graceful)');
  proc.kill('SIGINT');
  const timer = setTimeout(() => {
    console.error('arm64: the gateway did not stop within 120 s: SIGKILL');
    for (const pid of processTree(proc.pid).reverse()) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
  }, 120_000);
  const { code, signal } = await exited;
  clearTimeout(timer);
  if (code !== 0) throw new Error(`the gateway exited with code ${code} signal ${signal}, expected a clean exit 0`);
  step('gateway exited cleanly (code 0)');
}

main().then(
  () => {
    if (!opt['keep-data']) rmSync(dir, { recursive: true, force: true });
    else console.log(`arm64: data kept in ${dir}`);
    step('smoke run PASSED');
  },
  (err) => {
    console.error(tailOfLog());
    if (proc !== null && exitInfo === null) {
      for (const pid of processTree(proc.pid).reverse()) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          // already gone
        }
      }
    }
    fail(err instanceof Error ? err.message : String(err));
  },
);
