/**
 * What held the event loop: the longest run of each periodic job and each kind of GC pause
 * since the last look, so a stall seen by the event-loop delay monitor can be attributed
 * (`packline_loop_job_max_seconds{job}` on /metrics; `npm run bench -- core` prints the top
 * ones per phase). Periodic jobs wrap their synchronous part in `timeJob(name, fn)`; GC
 * pauses come from a PerformanceObserver on `gc` entries (Node.js perf_hooks, "Garbage
 * Collection (gc) Details"). Costs two `performance.now()` calls per job run and nothing on
 * the per-message path.
 */
import { constants, type PerformanceEntry, PerformanceObserver } from 'node:perf_hooks';

export interface JobFigure {
  /** Longest single run since the last take(), ms. */
  maxMs: number;
  /** Sum of all runs since the last take(), ms. */
  totalMs: number;
  runs: number;
}

const figures = new Map<string, JobFigure>();

function record(name: string, ms: number): void {
  const f = figures.get(name);
  if (f === undefined) figures.set(name, { maxMs: ms, totalMs: ms, runs: 1 });
  else {
    if (ms > f.maxMs) f.maxMs = ms;
    f.totalMs += ms;
    f.runs += 1;
  }
}

/** Runs `fn` and records how long its synchronous part held the loop. */
export function timeJob<T>(name: string, fn: () => T): T {
  const t0 = performance.now();
  try {
    return fn();
  } finally {
    record(name, performance.now() - t0);
  }
}

const GC_KINDS: Record<number, string> = {
  [constants.NODE_PERFORMANCE_GC_MINOR]: 'gc:minor',
  [constants.NODE_PERFORMANCE_GC_MAJOR]: 'gc:major',
  [constants.NODE_PERFORMANCE_GC_INCREMENTAL]: 'gc:incremental',
  [constants.NODE_PERFORMANCE_GC_WEAKCB]: 'gc:weakcb',
};

let gcObserver: PerformanceObserver | null = null;

/** Starts recording GC pauses (idempotent; one observer per process). */
export function observeGc(): void {
  if (gcObserver !== null) return;
  gcObserver = new PerformanceObserver((list) => {
    for (const e of list.getEntries()) {
      const kind = (e as PerformanceEntry & { detail?: { kind?: number } }).detail?.kind ?? -1;
      record(GC_KINDS[kind] ?? 'gc:other', e.duration);
    }
  });
  gcObserver.observe({ entryTypes: ['gc'] });
}

/** The figures since the last call, and a fresh window. */
export function takeJobFigures(): Map<string, JobFigure> {
  const out = new Map(figures);
  figures.clear();
  return out;
}
