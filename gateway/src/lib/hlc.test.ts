import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { HybridClock, HlcDriftError, compareHlc, decodeHlc, encodeHlc, type Hlc } from './hlc.js';

function manualClock(start: number): { now: () => number; set: (v: number) => void } {
  let t = start;
  return { now: () => t, set: (v) => (t = v) };
}

describe('HybridClock', () => {
  it('follows the wall clock and counts within one millisecond', () => {
    const wall = manualClock(1_000);
    const c = new HybridClock({ now: wall.now });
    expect(c.now()).toEqual({ wallMs: 1_000, counter: 0 });
    expect(c.now()).toEqual({ wallMs: 1_000, counter: 1 });
    wall.set(1_005);
    expect(c.send()).toEqual({ wallMs: 1_005, counter: 0 });
  });

  it('never goes backwards when the wall clock jumps back, and catches up when it jumps forward', () => {
    const wall = manualClock(50_000);
    const c = new HybridClock({ now: wall.now });
    const a = c.now();
    wall.set(10_000); // NTP stepped the clock back 40 s
    const b = c.now();
    const d = c.now();
    expect(b).toEqual({ wallMs: 50_000, counter: 1 });
    expect(compareHlc(d, b)).toBeGreaterThan(0);
    expect(c.wallBehind(1_000)).toBe(true);
    wall.set(9_000_000); // and then far forward
    const e = c.now();
    expect(e).toEqual({ wallMs: 9_000_000, counter: 0 });
    expect(compareHlc(e, a)).toBeGreaterThan(0);
    expect(c.wallBehind()).toBe(false);
  });

  it('starts after its seed (the last timestamp from before a restart)', () => {
    const c = new HybridClock({ now: () => 5, seed: { wallMs: 1_000, counter: 7 } });
    expect(c.now()).toEqual({ wallMs: 1_000, counter: 8 });
  });

  it('receive() lands after both the local and the remote timestamp', () => {
    const wall = manualClock(100);
    const c = new HybridClock({ now: wall.now });
    c.now();
    expect(c.receive({ wallMs: 500, counter: 3 })).toEqual({ wallMs: 500, counter: 4 });
    expect(c.receive({ wallMs: 500, counter: 1 })).toEqual({ wallMs: 500, counter: 5 });
    expect(c.receive({ wallMs: 20, counter: 9 })).toEqual({ wallMs: 500, counter: 6 });
    wall.set(900);
    expect(c.receive({ wallMs: 20, counter: 9 })).toEqual({ wallMs: 900, counter: 0 });
  });

  it('receive() rejects a remote timestamp beyond maxDriftMs and bad input, leaving the clock unchanged', () => {
    const c = new HybridClock({ now: () => 1_000, maxDriftMs: 5_000 });
    const before = c.now();
    expect(() => c.receive({ wallMs: 7_000, counter: 0 })).toThrow(HlcDriftError);
    expect(() => c.receive({ wallMs: -1, counter: 0 })).toThrow(RangeError);
    expect(() => c.receive({ wallMs: 1, counter: 1.5 })).toThrow(RangeError);
    expect(c.peek()).toEqual(before);
  });

  it('carries a counter overflow into the wall time instead of breaking the encoding', () => {
    const c = new HybridClock({ now: () => 10, seed: { wallMs: 10, counter: 999_999 } });
    const t = c.now();
    expect(t).toEqual({ wallMs: 11, counter: 0 });
    expect(encodeHlc(t) > encodeHlc({ wallMs: 10, counter: 999_999 })).toBe(true);
  });

  it('treats a broken wall clock (NaN) as time zero and keeps counting', () => {
    const c = new HybridClock({ now: () => Number.NaN, seed: { wallMs: 42, counter: 0 } });
    expect(c.now()).toEqual({ wallMs: 42, counter: 1 });
  });

  it('observe() raises the clock without issuing', () => {
    const c = new HybridClock({ now: () => 1 });
    c.observe({ wallMs: 77, counter: 2 });
    c.observe({ wallMs: 5, counter: 0 });
    expect(c.now()).toEqual({ wallMs: 77, counter: 3 });
  });

  it('is strictly increasing under any sequence of wall-clock jumps, sends and receives (property)', () => {
    const step = fc.oneof(
      fc.record({ kind: fc.constant('wall' as const), to: fc.integer({ min: 0, max: 2_000_000_000_000 }) }),
      fc.record({ kind: fc.constant('send' as const) }),
      fc.record({
        kind: fc.constant('recv' as const),
        wallMs: fc.integer({ min: 0, max: 2_000_000_000_000 }),
        counter: fc.integer({ min: 0, max: 999_999 }),
      }),
    );
    fc.assert(
      fc.property(fc.array(step, { maxLength: 60 }), (steps) => {
        const wall = manualClock(1_700_000_000_000);
        const c = new HybridClock({ now: wall.now });
        let prev: Hlc = c.now();
        for (const s of steps) {
          if (s.kind === 'wall') {
            wall.set(s.to);
            continue;
          }
          const next = s.kind === 'send' ? c.now() : c.receive({ wallMs: s.wallMs, counter: s.counter });
          if (compareHlc(next, prev) <= 0) return false;
          if (s.kind === 'recv' && compareHlc(next, { wallMs: s.wallMs, counter: s.counter }) <= 0) return false;
          // string order must agree with numeric order
          if (!(encodeHlc(next) > encodeHlc(prev))) return false;
          prev = next;
        }
        return true;
      }),
    );
  });
});

describe('encodeHlc / decodeHlc', () => {
  it('round-trips and sorts as text', () => {
    const a = { wallMs: 1_732_640_000_000, counter: 3 };
    expect(encodeHlc(a)).toBe('1732640000000.000003');
    expect(decodeHlc(encodeHlc(a))).toEqual(a);
    expect(encodeHlc({ wallMs: 999, counter: 0 }) < encodeHlc({ wallMs: 1_000, counter: 0 })).toBe(true);
  });

  it('rejects malformed text', () => {
    for (const bad of ['', '1.2', 'abc', '1732640000000.00000x', '1732640000000-000001']) {
      expect(() => decodeHlc(bad)).toThrow(RangeError);
    }
  });
});
