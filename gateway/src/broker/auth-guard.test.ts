import { describe, expect, it } from 'vitest';
import { clip, LoginGuard, RefusalLog, VerifyPool, type LoginGuardSettings } from './auth-guard.js';
import type { Logger } from '../lib/logger.js';

const settings: LoginGuardSettings = {
  freeFailures: 3,
  backoffBaseMs: 1000,
  backoffMaxMs: 8000,
  banAfter: 6,
  banMs: 60_000,
  forgetAfterMs: 120_000,
  maxTracked: 4,
  verifyConcurrency: 1,
  verifyQueue: 2,
};

function clock() {
  const c = { t: 1_000_000, now: () => c.t };
  return c;
}

describe('LoginGuard', () => {
  it('lets free failures through, then backs off exponentially, then bans a source that keeps hammering', () => {
    const c = clock();
    const g = new LoginGuard(settings, c.now);
    for (let i = 0; i < 3; i++) {
      expect(g.gate('10.0.0.9', `dev-${i}`)).toEqual({ ok: true });
      g.failed('10.0.0.9', `dev-${i}`);
    }
    expect(g.gate('10.0.0.9', 'dev-x')).toEqual({ ok: true }); // 3 failures: still free
    g.failed('10.0.0.9', 'dev-x'); // 4th: backoff 1 s
    c.t += 1000; // it waited as told
    expect(g.gate('10.0.0.9', 'dev-y').ok).toBe(true);
    g.failed('10.0.0.9', 'dev-y'); // 5th: backoff 2 s
    c.t += 1999;
    // Trying during the backoff is a strike: the 6th, which bans.
    expect(g.gate('10.0.0.9', 'dev-z')).toEqual({ ok: false, reason: 'banned', retryAfterMs: 60_000 });
    expect(g.gate('10.0.0.9', 'dev-w')).toMatchObject({ ok: false, reason: 'banned' });
    expect(g.banned('10.0.0.9')).toBe(true);
    expect(g.stats()).toMatchObject({ failures: 5, bansTotal: 1, bansActive: 1, refused: { banned: 3 } });
    // Another source is not affected by this one's ban.
    expect(g.gate('10.0.0.10', 'dev-w')).toEqual({ ok: true });
    expect(g.banned('10.0.0.10')).toBe(false);
    c.t += 60_000;
    expect(g.banned('10.0.0.9')).toBe(false);
    expect(g.gate('10.0.0.9', 'dev-w').ok).toBe(true); // ban over
    g.failed('10.0.0.9', 'dev-w'); // one more failure after a ban: backoff again at once
    expect(g.gate('10.0.0.9', 'dev-w')).toMatchObject({ ok: false, reason: 'backoff' });
  });

  it('slows an identity under attack from many sources, but not a source that logged in as it before', () => {
    const c = clock();
    const g = new LoginGuard(settings, c.now);
    g.succeeded('10.0.0.5', 'scanner-1'); // the real scanner, earlier
    for (let i = 0; i < 4; i++) g.failed(`10.0.1.${i}`, 'scanner-1');
    expect(g.gate('10.0.1.99', 'scanner-1')).toMatchObject({ ok: false, reason: 'backoff' });
    expect(g.gate('10.0.0.5', 'scanner-1')).toEqual({ ok: true });
    // An identity is never banned (one failure from each of many sources bans none of them).
    for (let i = 0; i < 20; i++) g.failed(`10.0.2.${i}`, 'scanner-1');
    expect(g.stats().bansTotal).toBe(0);
    expect(g.gate('10.0.1.99', 'scanner-1')).toMatchObject({ reason: 'backoff', retryAfterMs: 8000 });
  });

  it('success clears the tallies; idle tallies are forgotten; maps stay bounded', () => {
    const c = clock();
    const g = new LoginGuard(settings, c.now);
    for (let i = 0; i < 4; i++) g.failed('10.0.0.1', 'a');
    expect(g.gate('10.0.0.1', 'a').ok).toBe(false);
    g.succeeded('10.0.0.1', 'a');
    expect(g.gate('10.0.0.1', 'a').ok).toBe(true);
    for (let i = 0; i < 3; i++) g.failed('10.0.0.2', 'b');
    c.t += 120_001;
    g.failed('10.0.0.2', 'b'); // the old three were forgotten: this is the first again
    expect(g.gate('10.0.0.2', 'b').ok).toBe(true);
    for (let i = 0; i < 50; i++) g.failed(`10.9.0.${i}`, `id-${i}`);
    expect(g.stats().trackedSources).toBeLessThanOrEqual(4);
    expect(g.stats().trackedIdentities).toBeLessThanOrEqual(4);
  });

  it('verifies through a bounded pool: one at a time, a short queue, the rest busy', async () => {
    const g = new LoginGuard(settings);
    let running = 0;
    let most = 0;
    const releases: Array<() => void> = [];
    const slow = () =>
      new Promise<boolean>((resolve) => {
        running++;
        most = Math.max(most, running);
        releases.push(() => {
          running--;
          resolve(false);
        });
      });
    const all = Array.from({ length: 6 }, () => g.verify(slow));
    await new Promise((r) => setImmediate(r));
    for (let i = 0; i < 6 && releases.length > 0; i++) {
      releases.shift()?.();
      await new Promise((r) => setImmediate(r));
    }
    const results = await Promise.all(all);
    expect(results.filter((r) => r === null)).toHaveLength(3); // 1 running + 2 queued; 3 busy
    expect(most).toBe(1);
    expect(g.stats()).toMatchObject({ verifications: 3, pendingPeak: 3, refused: { busy: 3 } });
  });

  it('the pool survives a verification that throws', async () => {
    const pool = new VerifyPool(1, 1);
    await expect(pool.run(() => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    expect(await pool.run(async () => 7)).toEqual({ busy: false, value: 7 });
    expect(pool.pending()).toBe(0);
  });
});

describe('RefusalLog', () => {
  it('writes a burst per interval, clips fields, and summarises the rest', () => {
    const c = clock();
    const lines: Array<{ level: string; obj: Record<string, unknown>; msg: string }> = [];
    const log = {
      info: (obj: Record<string, unknown>, msg: string) => lines.push({ level: 'info', obj, msg }),
      warn: (obj: Record<string, unknown>, msg: string) => lines.push({ level: 'warn', obj, msg }),
    } as unknown as Logger;
    const r = new RefusalLog(log, 'mqtt connect refused', 10_000, 3, c.now);
    const huge = 'x'.repeat(65_536);
    for (let i = 0; i < 1000; i++) r.note({ source: `127.0.0.${(i % 4) + 1}`, reason: 'wrong secret', clientId: huge, username: huge });
    c.t += 10_000;
    r.note({ source: '127.0.0.1', reason: 'wrong secret' });
    expect(lines.filter((l) => l.level === 'info')).toHaveLength(4);
    const summary = lines.find((l) => l.level === 'warn');
    expect(summary?.obj).toMatchObject({ suppressed: 997, reasons: { 'wrong secret': 997 } });
    expect(Object.keys(summary?.obj.topSources as object)).toHaveLength(4);
    expect(JSON.stringify(lines).length).toBeLessThan(3000);
    expect(clip(huge)).toMatch(/…\(65536 chars\)$/);
  });
});
