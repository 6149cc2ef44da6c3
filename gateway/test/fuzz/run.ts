/**
 * `npm run fuzz [-- --runs N] [--target name[,name]] [--seed S] [--max-seconds T] [--json file]`
 *
 * Runs every fuzz target (or the named ones) for N inputs each (default 1,000,000) and prints
 * per target: inputs, accepted, rejected by code, failures and inputs/s. Exits 1 when any
 * target had a failure; each failure names the seed and input index that reproduce it.
 * `--max-seconds` caps a target's time (it then reports how many inputs it ran).
 */
import { writeFileSync } from 'node:fs';
import { formatResult, runTarget, type TargetResult } from './harness.js';
import { TARGETS } from './targets.js';

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i === -1 ? undefined : process.argv[i + 1];
}

const runs = Number(arg('runs') ?? 1_000_000);
const seed = Number(arg('seed') ?? 20_261_207);
const maxSeconds = arg('max-seconds') === undefined ? undefined : Number(arg('max-seconds'));
const wanted = arg('target')?.split(',');
const jsonOut = arg('json');

if (!Number.isInteger(runs) || runs < 1 || !Number.isInteger(seed)) {
  console.error('usage: npm run fuzz -- [--runs N] [--target name[,name]] [--seed S] [--max-seconds T] [--json file]');
  process.exit(2);
}
const unknown = wanted?.filter((w) => !TARGETS.some((t) => t.name === w)) ?? [];
if (unknown.length > 0) {
  console.error(`unknown target(s) ${unknown.join(', ')}; targets: ${TARGETS.map((t) => t.name).join(', ')}`);
  process.exit(2);
}

// An exception that escapes every handler is a crash: record it, never die of it silently.
const escaped: string[] = [];
process.on('uncaughtException', (err) => escaped.push(`uncaughtException: ${err.stack ?? String(err)}`));
process.on('unhandledRejection', (err) => escaped.push(`unhandledRejection: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`));

const results: TargetResult[] = [];
// A throw of the harness itself (a generator bug, not a gateway crash) must end the run loudly:
// with the handlers above it would otherwise be recorded and the process would just go quiet.
process.on('exit', (code) => {
  if (code === 0 && !finished) {
    console.error('fuzz: the harness stopped before its summary (a target threw outside its inputs):');
    for (const e of escaped.slice(0, 3)) console.error(e);
    process.exitCode = 1;
  }
});
let finished = false;
for (const target of TARGETS.filter((t) => wanted === undefined || wanted.includes(t.name))) {
  console.log(`== ${target.name}: ${target.description}`);
  const r = await runTarget(target, {
    runs,
    seed,
    ...(maxSeconds !== undefined && { maxSeconds }),
    progress: (t, s) => console.log(`   … ${t.inputs} inputs, ${t.failureCount} failures, ${Math.round(t.inputs / s)}/s`),
  });
  results.push(r);
  console.log(formatResult(r));
}
finished = true;
const crashes = escaped.length;
console.log('\n== summary');
for (const r of results) console.log(formatResult(r).split('\n')[0]);
console.log(`uncaught exceptions / unhandled rejections: ${crashes}`);
for (const e of escaped.slice(0, 5)) console.log(e);
if (jsonOut !== undefined) writeFileSync(jsonOut, `${JSON.stringify({ runs, seed, results, crashes: escaped }, null, 2)}\n`);
const failed = results.reduce((n, r) => n + r.failures, 0) + crashes;
// Handles of a target that failed to close must not keep the harness alive.
process.exit(failed > 0 ? 1 : 0);
