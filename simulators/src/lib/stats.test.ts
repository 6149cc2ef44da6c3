import { describe, expect, it } from 'vitest';
import { Counter, LatencyRecorder, percentile, summarize } from './stats.js';

describe('percentile (nearest rank)', () => {
  const sorted = [15, 20, 35, 40, 50];

  it('matches the textbook nearest-rank example', () => {
    // Wikipedia "Percentile", nearest-rank method: {15, 20, 35, 40, 50}.
    expect(percentile(sorted, 5)).toBe(15);
    expect(percentile(sorted, 30)).toBe(20);
    expect(percentile(sorted, 40)).toBe(20);
    expect(percentile(sorted, 50)).toBe(35);
    expect(percentile(sorted, 100)).toBe(50);
    expect(percentile(sorted, 0)).toBe(15);
  });

  it('over 1..100 the p-th percentile is p', () => {
    const xs = Array.from({ length: 100 }, (_, i) => i + 1);
    for (const p of [1, 50, 90, 99, 100]) expect(percentile(xs, p)).toBe(p);
  });

  it('is null for no samples and rejects p outside 0..100', () => {
    expect(percentile([], 50)).toBeNull();
    expect(() => percentile(sorted, 101)).toThrow(RangeError);
    expect(() => percentile(sorted, Number.NaN)).toThrow(RangeError);
  });
});

describe('summarize', () => {
  it('sorts its input and reports count, min, mean, percentiles and max', () => {
    const s = summarize([5, 1, 4, 2, 3, 10, 9, 8, 7, 6]);
    expect(s).toEqual({ count: 10, min: 1, mean: 5.5, p50: 5, p90: 9, p99: 10, max: 10 });
  });

  it('is all null for no samples', () => {
    expect(summarize([])).toEqual({ count: 0, min: null, mean: null, p50: null, p90: null, p99: null, max: null });
  });
});

describe('LatencyRecorder', () => {
  it('keeps every sample under capacity', () => {
    const r = new LatencyRecorder(10);
    for (const v of [3, 1, 2]) r.record(v);
    r.record(Number.NaN);
    expect(r.summary()).toEqual(summarize([1, 2, 3]));
  });

  it('samples beyond capacity but keeps the exact count and max', () => {
    let seed = 1;
    const rnd = () => (seed = (seed * 16807) % 2147483647) / 2147483647;
    const r = new LatencyRecorder(100, rnd);
    for (let i = 1; i <= 10_000; i++) r.record(i);
    const s = r.summary();
    expect(s.count).toBe(10_000);
    expect(s.max).toBe(10_000);
    // A uniform reservoir of 100 out of 1..10000: the median lands well inside the middle half.
    expect(s.p50).toBeGreaterThan(2500);
    expect(s.p50).toBeLessThan(7500);
  });
});

describe('Counter', () => {
  it('counts by key in sorted order', () => {
    const c = new Counter();
    c.add('PKL_B');
    c.add('PKL_A', 2);
    c.add('PKL_B');
    expect(c.toJSON()).toEqual({ PKL_A: 2, PKL_B: 2 });
    expect(Object.keys(c.toJSON())).toEqual(['PKL_A', 'PKL_B']);
    expect(c.get('none')).toBe(0);
  });
});
