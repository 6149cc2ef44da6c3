/**
 * `npm run chaos -- <scenario> [options]`: the reliability harness (docs/reliability.md). Each scenario
 * prints progress to stderr, a summary of figures at the end, and writes the figures as JSON
 * to test-artifacts/chaos/<scenario>.json. The exit code is 1 if any promise was broken
 * (violations > 0), so the harness can gate a release.
 *
 *   crash    SIGKILL loop under load         --runs N (200) --stations N (4) --lines N (1)
 *                                            --min-load-ms N (200) --max-load-ms N (2500) --seed N
 *                                            --minutes N (time budget: stop starting runs after N min)
 *   soak     cloud down for a simulated day  --events N (720000) --seconds N (live load while
 *                                            offline, 60) --stations N (8) --rate N (20/s)
 *   faults   cloud faults under load, device disconnect storm, disk full, clock jumps
 *                                            --only cloud,storm,disk,clock --devices N (500)
 *                                            --disk-mb N (24)
 *   all      crash, soak and faults in turn (options apply to each)
 *
 * Common: --keep (keep the temporary directories), --quiet (no progress lines).
 */
import { parseArgs } from 'node:util';
import { CRASH_DEFAULTS, runCrashLoop } from './crash-loop.js';
import { FAULT_NAMES, type FaultName, runFaults } from './faults.js';
import { runOutageSoak, SOAK_DEFAULTS } from './outage-soak.js';
import { writeArtifact } from './report.js';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    runs: { type: 'string' },
    stations: { type: 'string' },
    lines: { type: 'string' },
    'min-load-ms': { type: 'string' },
    'max-load-ms': { type: 'string' },
    seed: { type: 'string' },
    minutes: { type: 'string' },
    events: { type: 'string' },
    seconds: { type: 'string' },
    rate: { type: 'string' },
    only: { type: 'string' },
    devices: { type: 'string' },
    'disk-mb': { type: 'string' },
    keep: { type: 'boolean', default: false },
    quiet: { type: 'boolean', default: false },
    help: { type: 'boolean', short: 'h', default: false },
  },
});

const scenario = positionals[0] ?? 'all';
if (values.help || !['crash', 'soak', 'faults', 'all'].includes(scenario)) {
  process.stderr.write('usage: npm run chaos -- crash|soak|faults|all [--runs N] [--events N] [--only cloud,storm,disk,clock] …\n');
  process.exit(values.help ? 0 : 2);
}

function int(name: keyof typeof values, dflt: number): number {
  const v = values[name];
  if (v === undefined || typeof v !== 'string') return dflt;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) {
    process.stderr.write(`--${name} takes a whole number, not ${v}\n`);
    process.exit(2);
  }
  return n;
}

const progress = values.quiet ? undefined : (line: string) => process.stderr.write(`[chaos ${new Date().toISOString().slice(11, 19)}] ${line}\n`);
const summary: Record<string, unknown> = {};
let violations = 0;

function print(name: string, figures: Record<string, unknown>): void {
  const file = writeArtifact(name, figures);
  summary[name] = figures;
  violations += Number(figures.violations ?? 0);
  process.stdout.write(`\n== ${name} ==\n`);
  for (const [k, v] of Object.entries(figures)) {
    if (k === 'violationList' || k === 'rssSamples') continue;
    process.stdout.write(`  ${k.padEnd(28)} ${typeof v === 'object' ? JSON.stringify(v) : String(v)}\n`);
  }
  const list = figures.violationList;
  if (Array.isArray(list) && list.length > 0) for (const l of list.slice(0, 20)) process.stdout.write(`  ! ${String(l)}\n`);
  process.stdout.write(`  (figures: ${file})\n`);
}

if (scenario === 'crash' || scenario === 'all') {
  const f = await runCrashLoop({
    runs: int('runs', CRASH_DEFAULTS.runs),
    stations: int('stations', CRASH_DEFAULTS.stations),
    lines: int('lines', CRASH_DEFAULTS.lines),
    minLoadMs: int('min-load-ms', CRASH_DEFAULTS.minLoadMs),
    maxLoadMs: int('max-load-ms', CRASH_DEFAULTS.maxLoadMs),
    integrityEveryRun: CRASH_DEFAULTS.integrityEveryRun,
    seed: int('seed', CRASH_DEFAULTS.seed),
    ...(values.minutes !== undefined ? { maxMinutes: int('minutes', 0) } : {}),
    keep: values.keep,
    ...(progress ? { progress } : {}),
  });
  print('crash', f as unknown as Record<string, unknown>);
}

if (scenario === 'soak' || scenario === 'all') {
  const f = await runOutageSoak({
    events: int('events', SOAK_DEFAULTS.events),
    liveSeconds: int('seconds', SOAK_DEFAULTS.liveSeconds),
    stations: int('stations', SOAK_DEFAULTS.stations),
    rate: int('rate', SOAK_DEFAULTS.rate),
    keep: values.keep,
    ...(progress ? { progress } : {}),
  });
  print('soak', f as unknown as Record<string, unknown>);
}

if (scenario === 'faults' || scenario === 'all') {
  const only = (values.only?.split(',').map((s) => s.trim()) ?? [...FAULT_NAMES]) as FaultName[];
  const bad = only.filter((n) => !FAULT_NAMES.includes(n));
  if (bad.length > 0) {
    process.stderr.write(`--only takes ${FAULT_NAMES.join(',')}; not ${bad.join(',')}\n`);
    process.exit(2);
  }
  const f = await runFaults({ only, devices: int('devices', 500), diskMb: int('disk-mb', 24), keep: values.keep, ...(progress ? { progress } : {}) });
  print('faults', f as unknown as Record<string, unknown>);
}

process.stdout.write(`\nviolations in total: ${violations}\n`);
process.exit(violations === 0 ? 0 : 1);
