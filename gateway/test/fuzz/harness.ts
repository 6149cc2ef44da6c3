/**
 * The fuzz harness core: a target turns seeded batches of generated inputs into outcomes, and
 * a tally counts them. An input ends in exactly one of three ways:
 *
 *   accepted  the system took it (a frame decoded, an event acknowledged, a 2xx answer);
 *   rejected  refused with a code from the one catalogue (contracts/errors.ts): a thrown
 *             PacklineError, an error frame, a `dev/{id}/err` reply or an HTTP error body;
 *   failure   anything else: a TypeError or other uncoded throw, a code not in the catalogue,
 *             an error logged by the gateway, no answer, a broken invariant, a crash.
 *
 * Every batch is generated from `seed + batchIndex`, so a failure names the seed and index
 * that reproduce it (`npm run fuzz -- --target T --seed S --runs N`).
 */
import { isErrorCode, PacklineError } from '../../../contracts/errors.js';

export interface Failure {
  target: string;
  seed: number;
  index: number;
  /** The input, printable (JSON or hex), cut to a few hundred characters. */
  input: string;
  problem: string;
}

export class Tally {
  inputs = 0;
  accepted = 0;
  readonly rejected = new Map<string, number>();
  readonly failures: Failure[] = [];
  /** Failures beyond this many are counted but not kept. */
  private readonly keep = 50;
  failureCount = 0;

  constructor(readonly target: string) {}

  accept(): void {
    this.inputs++;
    this.accepted++;
  }

  reject(code: string): void {
    this.inputs++;
    this.rejected.set(code, (this.rejected.get(code) ?? 0) + 1);
  }

  /** Counts the input as failed (and, if `counted` is false, as an input as well). */
  fail(seed: number, index: number, input: unknown, problem: string, counted = false): void {
    if (!counted) this.inputs++;
    this.failureCount++;
    if (this.failures.length < this.keep) {
      this.failures.push({ target: this.target, seed, index, input: printable(input), problem });
    }
  }

  rejectedTotal(): number {
    let n = 0;
    for (const v of this.rejected.values()) n += v;
    return n;
  }

  topCodes(n = 6): Array<[string, number]> {
    return [...this.rejected.entries()].sort((a, b) => b[1] - a[1]).slice(0, n);
  }
}

/** A running target: it generates and applies `count` inputs from `seed`. */
export interface FuzzRunner {
  batch(seed: number, count: number, tally: Tally): Promise<void>;
  close(): Promise<void>;
}

export interface FuzzTarget {
  readonly name: string;
  /** One line: what is fed in and through which code. */
  readonly description: string;
  /** Inputs per batch (a target that talks to a server keeps its batches small). */
  readonly batchSize: number;
  open(): Promise<FuzzRunner>;
}

export interface TargetResult {
  target: string;
  inputs: number;
  accepted: number;
  rejected: number;
  topCodes: Array<[string, number]>;
  failures: number;
  failureSamples: Failure[];
  seconds: number;
  perSecond: number;
  seed: number;
}

export interface RunOptions {
  runs: number;
  seed: number;
  /** Stop early after this many seconds (the figures say how many inputs ran). */
  maxSeconds?: number;
  progress?: (tally: Tally, seconds: number) => void;
}

export async function runTarget(target: FuzzTarget, opts: RunOptions): Promise<TargetResult> {
  const tally = new Tally(target.name);
  const runner = await target.open();
  const t0 = performance.now();
  let lastReport = t0;
  try {
    for (let b = 0; tally.inputs < opts.runs; b++) {
      const count = Math.min(target.batchSize, opts.runs - tally.inputs);
      const before = tally.inputs;
      await runner.batch(opts.seed + b, count, tally);
      if (tally.inputs === before) throw new Error(`target ${target.name} made no progress`);
      const now = performance.now();
      if (opts.progress && now - lastReport > 10_000) {
        lastReport = now;
        opts.progress(tally, (now - t0) / 1000);
      }
      if (opts.maxSeconds !== undefined && (now - t0) / 1000 > opts.maxSeconds) break;
    }
  } finally {
    await runner.close();
  }
  const seconds = (performance.now() - t0) / 1000;
  return {
    target: target.name,
    inputs: tally.inputs,
    accepted: tally.accepted,
    rejected: tally.rejectedTotal(),
    topCodes: tally.topCodes(),
    failures: tally.failureCount,
    failureSamples: tally.failures,
    seconds,
    perSecond: tally.inputs / Math.max(seconds, 1e-9),
    seed: opts.seed,
  };
}

/** The catalogue code of a thrown value, or null when it is not a coded error (a failure). */
export function codeOfThrown(err: unknown): string | null {
  if (err instanceof PacklineError && isErrorCode(err.code)) return err.code;
  return null;
}

export function describeThrown(err: unknown): string {
  if (err instanceof Error) return `${err.name}: ${err.message}${err.stack ? `\n${err.stack.split('\n').slice(1, 4).join('\n')}` : ''}`;
  return `non-error thrown: ${String(err)}`;
}

export function hex(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString('hex');
}

export function printable(input: unknown): string {
  let s: string;
  if (input instanceof Uint8Array) s = `hex:${hex(input)}`;
  else if (Array.isArray(input) && input.every((c) => c instanceof Uint8Array)) s = `chunks:${(input as Uint8Array[]).map(hex).join('|')}`;
  else if (typeof input === 'string') s = JSON.stringify(input);
  else {
    try {
      s = JSON.stringify(input, (_k, v: unknown) => (v instanceof Uint8Array ? `hex:${hex(v)}` : typeof v === 'bigint' ? `${v}n` : v));
    } catch {
      s = String(input);
    }
  }
  return s.length > 600 ? `${s.slice(0, 600)}…(${s.length} chars)` : s;
}

export function formatResult(r: TargetResult): string {
  const codes = r.topCodes.map(([c, n]) => `${c} ${n}`).join(', ') || '-';
  const lines = [
    `${r.target.padEnd(16)} inputs ${r.inputs}  accepted ${r.accepted}  rejected ${r.rejected}  failures ${r.failures}  ${Math.round(r.perSecond)}/s  (${r.seconds.toFixed(1)} s, seed ${r.seed})`,
    `${''.padEnd(16)} rejected by code: ${codes}`,
  ];
  for (const f of r.failureSamples.slice(0, 5)) {
    lines.push(`${''.padEnd(16)} FAILURE seed ${f.seed} #${f.index}: ${f.problem}\n${''.padEnd(18)}input ${f.input}`);
  }
  return lines.join('\n');
}
