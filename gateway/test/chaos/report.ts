/** Figures: small statistics, progress lines, and the JSON written to test-artifacts/chaos/. */
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export type Progress = (line: string) => void;

export const ARTIFACTS_DIR = join(resolve(dirname(fileURLToPath(import.meta.url)), '../../..'), 'test-artifacts/chaos');

export function mean(xs: readonly number[]): number {
  return xs.length === 0 ? Number.NaN : xs.reduce((a, b) => a + b, 0) / xs.length;
}

/** Least-squares slope of y over x (e.g. MB per minute). */
export function slope(points: ReadonlyArray<{ x: number; y: number }>): number {
  const n = points.length;
  if (n < 2) return 0;
  const mx = mean(points.map((p) => p.x));
  const my = mean(points.map((p) => p.y));
  let num = 0;
  let den = 0;
  for (const p of points) {
    num += (p.x - mx) * (p.y - my);
    den += (p.x - mx) ** 2;
  }
  return den === 0 ? 0 : num / den;
}

export function machine(): Record<string, unknown> {
  const c = cpus();
  return { cpus: c.length, cpu: c[0]?.model ?? 'unknown', memGb: Math.round(totalmem() / 2 ** 30), node: process.version, shared: true };
}

/** Writes `<name>.json` (this run) into test-artifacts/chaos/ and returns its path. */
export function writeArtifact(name: string, figures: unknown): string {
  mkdirSync(ARTIFACTS_DIR, { recursive: true });
  const file = join(ARTIFACTS_DIR, `${name}.json`);
  writeFileSync(file, `${JSON.stringify({ at: new Date().toISOString(), machine: machine(), figures }, null, 2)}\n`);
  return file;
}

export function round(n: number, digits = 1): number {
  const f = 10 ** digits;
  return Math.round(n * f) / f;
}
