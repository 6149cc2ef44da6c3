/**
 * Latency samples and their percentiles for the floor stats and the load generator summary.
 *
 * Percentiles use the nearest-rank method (the smallest sample with at least p % of the
 * samples at or below it), so every reported figure is a latency that actually happened.
 */
export interface LatencySummary {
  count: number;
  min: number | null;
  mean: number | null;
  p50: number | null;
  p90: number | null;
  p99: number | null;
  max: number | null;
}

/** Nearest-rank percentile of ascending-sorted samples; `null` when there are none. */
export function percentile(sortedAsc: readonly number[], p: number): number | null {
  if (!(p >= 0 && p <= 100)) throw new RangeError(`percentile must be within 0..100, got ${p}`);
  const n = sortedAsc.length;
  if (n === 0) return null;
  const rank = Math.max(1, Math.ceil((p / 100) * n));
  return sortedAsc[rank - 1] as number;
}

function round(v: number, places: number): number {
  const f = 10 ** places;
  return Math.round(v * f) / f;
}

export function summarize(samples: readonly number[], places = 2): LatencySummary {
  if (samples.length === 0) return { count: 0, min: null, mean: null, p50: null, p90: null, p99: null, max: null };
  const sorted = [...samples].sort((a, b) => a - b);
  const total = sorted.reduce((s, v) => s + v, 0);
  const r = (v: number | null) => (v === null ? null : round(v, places));
  return {
    count: sorted.length,
    min: r(sorted[0] as number),
    mean: r(total / sorted.length),
    p50: r(percentile(sorted, 50)),
    p90: r(percentile(sorted, 90)),
    p99: r(percentile(sorted, 99)),
    max: r(sorted[sorted.length - 1] as number),
  };
}

/**
 * Keeps every sample up to `capacity`, then a uniform reservoir sample (Vitter's Algorithm R)
 * so a long demo floor does not grow without bound; `max` stays exact regardless.
 */
export class LatencyRecorder {
  private readonly samples: number[] = [];
  private seen = 0;
  private exactMax = -Infinity;

  constructor(
    private readonly capacity = 1_000_000,
    private readonly random: () => number = Math.random,
  ) {}

  record(ms: number): void {
    if (!Number.isFinite(ms)) return;
    this.seen++;
    if (ms > this.exactMax) this.exactMax = ms;
    if (this.samples.length < this.capacity) {
      this.samples.push(ms);
      return;
    }
    const j = Math.floor(this.random() * this.seen);
    if (j < this.capacity) this.samples[j] = ms;
  }

  get count(): number {
    return this.seen;
  }

  summary(places = 2): LatencySummary {
    const s = summarize(this.samples, places);
    if (this.seen > 0) {
      s.count = this.seen;
      s.max = round(this.exactMax, places);
    }
    return s;
  }
}

/** Counts by key (error codes, outcomes). */
export class Counter {
  private readonly counts = new Map<string, number>();

  add(key: string, n = 1): void {
    this.counts.set(key, (this.counts.get(key) ?? 0) + n);
  }

  get(key: string): number {
    return this.counts.get(key) ?? 0;
  }

  toJSON(): Record<string, number> {
    return Object.fromEntries([...this.counts.entries()].sort(([a], [b]) => a.localeCompare(b)));
  }
}
