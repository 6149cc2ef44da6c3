/**
 * The fuzz harness in small (`npm run fuzz` runs the same targets with 1,000,000 inputs each):
 * every target with a few thousand seeded inputs, 0 failures. A failure message names the
 * target, seed and input index; `npm run fuzz -- --target <name> --seed <seed> --runs <n>`
 * reproduces it.
 */
import { describe, expect, it } from 'vitest';
import { formatResult, runTarget } from './harness.js';
import { TARGETS } from './targets.js';

const SEED = 20_261_207;
/** Targets that start a gateway run fewer inputs (each one is a network round trip). */
const RUNS: Record<string, number> = { 'mqtt-packets': 600, 'http-api': 1_000 };

describe('fuzz smoke (seeded)', () => {
  for (const target of TARGETS) {
    const runs = RUNS[target.name] ?? 2_000;
    it(`${target.name}: ${runs} inputs, 0 failures, every rejection coded`, { timeout: 240_000 }, async () => {
      const r = await runTarget(target, { runs, seed: SEED });
      const report = formatResult(r);
      expect(r.inputs, report).toBeGreaterThanOrEqual(runs);
      expect(r.failures, `seed ${SEED}\n${report}`).toBe(0);
      expect(r.accepted + r.rejected, report).toBe(r.inputs);
    });
  }
});
