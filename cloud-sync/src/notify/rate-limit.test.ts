import { describe, expect, it } from 'vitest';
import { type Alert, resolvedAlert } from './alert.js';
import { AlertRateLimiter } from './rate-limit.js';

const MIN = 60_000;
const fire = (key: string, severity: Alert['severity'] = 'warning'): Alert => ({ key, severity, title: key, text: '', at: 0 });
const resolve = (key: string): Alert => resolvedAlert(key, { title: `${key} over`, text: '', at: 0 });

describe('AlertRateLimiter', () => {
  it('sends a key once per interval and reports how many were held back with the next one', () => {
    const rl = new AlertRateLimiter({ perKeyIntervalMs: 10 * MIN, maxPerHour: 30 });
    expect(rl.decide(fire('sync.outage'), 0)).toEqual({ deliver: true, suppressed: 0 });
    expect(rl.decide(fire('sync.outage'), 1 * MIN)).toEqual({ deliver: false, reason: 'interval' });
    expect(rl.decide(fire('sync.outage'), 9 * MIN)).toEqual({ deliver: false, reason: 'interval' });
    expect(rl.decide(fire('sync.outage'), 10 * MIN - 1)).toEqual({ deliver: false, reason: 'interval' });
    expect(rl.pending()).toEqual({ 'sync.outage': 3 });
    expect(rl.decide(fire('sync.outage'), 10 * MIN)).toEqual({ deliver: true, suppressed: 3 });
    expect(rl.pending()).toEqual({});
    expect(rl.decide(fire('sync.outage'), 11 * MIN)).toEqual({ deliver: false, reason: 'interval' });
  });

  it('keeps keys apart', () => {
    const rl = new AlertRateLimiter({ perKeyIntervalMs: 10 * MIN, maxPerHour: 30 });
    expect(rl.decide(fire('sync.outage'), 0).deliver).toBe(true);
    expect(rl.decide(fire('sync.failed'), 1).deliver).toBe(true);
    expect(rl.decide(fire('sync.outage'), 2).deliver).toBe(false);
  });

  it('lets an escalation through at once, but not a repeat at the same severity', () => {
    const rl = new AlertRateLimiter({ perKeyIntervalMs: 10 * MIN, maxPerHour: 30 });
    expect(rl.decide(fire('sync.outage', 'warning'), 0).deliver).toBe(true);
    expect(rl.decide(fire('sync.outage', 'warning'), MIN)).toEqual({ deliver: false, reason: 'interval' });
    expect(rl.decide(fire('sync.outage', 'critical'), 2 * MIN)).toEqual({ deliver: true, suppressed: 1 });
    expect(rl.decide(fire('sync.outage', 'critical'), 3 * MIN).deliver).toBe(false);
    expect(rl.decide(fire('sync.outage', 'warning'), 4 * MIN).deliver).toBe(false);
  });

  it('caps all keys together per sliding hour', () => {
    const rl = new AlertRateLimiter({ perKeyIntervalMs: 0, maxPerHour: 3 });
    expect(rl.decide(fire('a'), 0).deliver).toBe(true);
    expect(rl.decide(fire('b'), 10 * MIN).deliver).toBe(true);
    expect(rl.decide(fire('c'), 20 * MIN).deliver).toBe(true);
    expect(rl.decide(fire('d'), 30 * MIN)).toEqual({ deliver: false, reason: 'hourly-cap' });
    expect(rl.decide(fire('a'), 59 * MIN)).toEqual({ deliver: false, reason: 'hourly-cap' });
    // The first send leaves the window at 60 min: one slot frees up; 'd' reports its held-back alert.
    expect(rl.decide(fire('d'), 60 * MIN)).toEqual({ deliver: true, suppressed: 1 });
    expect(rl.decide(fire('a'), 60 * MIN + 1)).toEqual({ deliver: false, reason: 'hourly-cap' });
    expect(rl.decide(fire('a'), 70 * MIN)).toEqual({ deliver: true, suppressed: 2 });
  });

  it('sends a resolution once per sent firing alert, past both limits, carrying the held-back count', () => {
    const rl = new AlertRateLimiter({ perKeyIntervalMs: 10 * MIN, maxPerHour: 1 });
    expect(rl.decide(resolve('sync.outage'), 0)).toEqual({ deliver: false, reason: 'not-firing' });
    expect(rl.decide(fire('sync.outage'), 0).deliver).toBe(true);
    expect(rl.decide(fire('sync.outage'), MIN).deliver).toBe(false);
    // Within the interval and over the hourly cap, yet the end of the outage goes out.
    expect(rl.decide(resolve('sync.outage'), 2 * MIN)).toEqual({ deliver: true, suppressed: 1 });
    expect(rl.decide(resolve('sync.outage'), 3 * MIN)).toEqual({ deliver: false, reason: 'not-firing' });
  });

  it('holds back flapping: a new firing within the interval after a resolution waits', () => {
    const rl = new AlertRateLimiter({ perKeyIntervalMs: 10 * MIN, maxPerHour: 30 });
    expect(rl.decide(fire('sync.outage'), 0).deliver).toBe(true);
    expect(rl.decide(resolve('sync.outage'), MIN).deliver).toBe(true);
    expect(rl.decide(fire('sync.outage'), 2 * MIN)).toEqual({ deliver: false, reason: 'interval' });
    // Its resolution has nothing to resolve: nobody was told about the second outage.
    expect(rl.decide(resolve('sync.outage'), 3 * MIN)).toEqual({ deliver: false, reason: 'not-firing' });
    expect(rl.decide(fire('sync.outage'), 10 * MIN)).toEqual({ deliver: true, suppressed: 1 });
  });
});
