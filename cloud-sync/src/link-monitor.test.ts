import { describe, expect, it } from 'vitest';
import { LinkMonitor } from './link-monitor.js';

function monitor(random = () => 0.999) {
  let t = 1_000;
  const changes: string[] = [];
  const m = new LinkMonitor({
    failureThreshold: 3,
    baseDelayMs: 100,
    maxDelayMs: 1_000,
    now: () => t,
    monotonic: () => t,
    random,
    onChange: (s) => changes.push(s.state),
  });
  return { m, changes, advance: (ms: number) => (t += ms) };
}

describe('LinkMonitor', () => {
  it('starts degraded (not connected yet) and goes online on the first success', () => {
    const { m } = monitor();
    expect(m.snapshot().state).toBe('degraded');
    m.success();
    expect(m.snapshot()).toMatchObject({ state: 'online', consecutiveFailures: 0, lastError: null });
  });

  it('opens the breaker (offline) only after the threshold of unanswered calls', () => {
    const { m } = monitor();
    m.success();
    m.failure('ECONNREFUSED', false);
    m.failure('ECONNREFUSED', false);
    expect(m.snapshot().state).toBe('degraded');
    m.failure('ECONNREFUSED', false);
    expect(m.snapshot().state).toBe('offline');
    m.success();
    expect(m.snapshot().state).toBe('online');
  });

  it('an answering but refusing cloud is degraded, never offline', () => {
    const { m } = monitor();
    for (let i = 0; i < 10; i++) m.failure('HTTP 503', true);
    expect(m.snapshot().state).toBe('degraded');
  });

  it('backs off exponentially up to the cap, with full jitter', () => {
    const { m } = monitor(() => 0.999);
    const delays = Array.from({ length: 8 }, () => m.failure('x', false));
    expect(delays.slice(0, 5)).toEqual([99, 199, 399, 799, 999]);
    expect(Math.max(...delays)).toBeLessThan(1_000);
    const low = monitor(() => 0).m;
    expect(low.failure('x', false)).toBe(0);
  });

  it('says how long until the next attempt, and zero after a success', () => {
    const { m, advance } = monitor(() => 0.5);
    m.failure('x', false);
    m.failure('x', false);
    expect(m.waitMs()).toBe(100);
    advance(60);
    expect(m.waitMs()).toBe(40);
    m.success();
    expect(m.waitMs()).toBe(0);
  });

  it('measures delays on the monotonic clock, so a wall-clock jump does not stall retries', () => {
    let wall = 1_000_000;
    let mono = 0;
    const m = new LinkMonitor({ baseDelayMs: 100, now: () => wall, monotonic: () => mono, random: () => 0.5 });
    m.failure('x', false);
    expect(m.waitMs()).toBe(50);
    wall -= 86_400_000; // NTP steps the wall clock back a day
    expect(m.waitMs()).toBe(50);
    mono += 50;
    expect(m.waitMs()).toBe(0);
  });

  it('reports each change of state', () => {
    const { m, changes } = monitor();
    m.success();
    m.failure('a', false);
    m.failure('a', false);
    m.failure('a', false);
    m.success();
    expect(changes).toEqual(['online', 'degraded', 'degraded', 'offline', 'online']);
  });
});

describe('contract errors', () => {
  it('waits a backoff that never jitters to zero, and stays "contract error" until that flow reads an answer again', () => {
    const m = new LinkMonitor({ baseDelayMs: 100, maxDelayMs: 1_000, random: () => 0, monotonic: () => 0, now: () => 0 });
    expect(m.contractError('batch ack does not match', 'outbox')).toBe(50);
    expect(m.snapshot().state).toBe('contract_error');
    expect(m.waitMs()).toBe(50);
    // The change feed reads fine: the link still says why the outbox is stuck.
    m.success('inbound');
    expect(m.snapshot()).toMatchObject({ state: 'contract_error', lastError: 'batch ack does not match' });
    m.success('outbox');
    expect(m.snapshot()).toMatchObject({ state: 'online', lastError: null });
  });
});
