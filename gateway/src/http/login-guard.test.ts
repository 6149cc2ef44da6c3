/**
 * The HTTP side of the login-flood guard (broker/auth-guard.ts): wrong API tokens and wrong
 * supervisor passwords are counted per source; a throttled source gets 429
 * PKL_LOGIN_THROTTLED with Retry-After, other sources are not affected; supervisor passwords
 * are verified through the guard's bounded pool, and a full pool refuses without hashing.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { DEFAULT_LOGIN_GUARD, LoginGuard } from '../broker/auth-guard.js';
import { hashSecret } from '../broker/secrets.js';
import { ADMIN_TOKEN, type HttpHarness, makeHttpHarness } from '../../test/support/http-harness.js';

let h: HttpHarness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

const tight = { ...DEFAULT_LOGIN_GUARD, freeFailures: 3, banAfter: 6, backoffBaseMs: 60_000 };

describe('HTTP login guard', () => {
  it('throttles a source that keeps sending wrong tokens, and only that source', async () => {
    const guard = new LoginGuard(tight);
    h = await makeHttpHarness({ loginGuard: guard });
    const get = (token: string, remoteAddress: string) =>
      h!.app.inject({ method: 'GET', url: '/api/v1/stations', headers: { authorization: `Bearer ${token}` }, remoteAddress });
    for (let i = 0; i < 4; i++) expect((await get(`wrong-token-${i}-xxxxxxxx`, '10.0.0.66')).statusCode).toBe(401);
    const refused = await get(ADMIN_TOKEN, '10.0.0.66'); // in backoff: even the right token waits
    expect(refused.statusCode).toBe(429);
    expect(refused.json()).toMatchObject({ error: { code: 'PKL_LOGIN_THROTTLED' } });
    expect(Number(refused.headers['retry-after'])).toBeGreaterThan(0);
    expect((await get(ADMIN_TOKEN, '10.0.0.7')).statusCode).toBe(200);
    // Hammering through the backoff bans the source.
    for (let i = 0; i < 3; i++) await get(`wrong-${i}-yyyyyyyyyyyyyy`, '10.0.0.66');
    expect(guard.stats()).toMatchObject({ failures: 4, bansTotal: 1 });
    const metrics = await h.app.inject({ method: 'GET', url: '/metrics' });
    expect(metrics.body).toContain('packline_login_guard_total{scope="http",outcome="failed"} 4');
    expect(metrics.body).toContain('packline_login_guard_total{scope="http",outcome="bans"} 1');
  });

  it('verifies supervisor passwords through the bounded pool and throttles a guessing source', async () => {
    const guard = new LoginGuard({ ...tight, verifyConcurrency: 1, verifyQueue: 0 });
    h = await makeHttpHarness({ loginGuard: guard });
    const hash = await hashSecret('correct horse battery');
    await h.store.write([{ op: 'supervisor.put', supervisor: { name: 'li', secretHash: hash, createdAt: 1, rotatedAt: 1 } }]);
    const release = (supervisor: string, password: string, remoteAddress = '10.0.0.66') =>
      h!.app.inject({
        method: 'POST',
        url: '/api/v1/stations/st-1/release',
        headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
        payload: { supervisor, password },
        remoteAddress,
      });
    // The unknown-name dummy hash is made once, first (it is not a verification).
    expect((await release('nobody', 'x', '10.0.0.99')).statusCode).toBe(403);
    // Two guesses at once for two names: one is verified, the other finds the pool full.
    const [a, b] = await Promise.all([release('li', 'guess-1'), release('wang', 'guess-2')]);
    const codes = [a.json().error.code, b.json().error.code].sort();
    expect(codes).toEqual(['PKL_LOGIN_THROTTLED', 'PKL_SUPERVISOR_PASSWORD_WRONG']);
    expect(guard.stats()).toMatchObject({ verifications: 2, refused: { busy: 1 } });
    // More wrong guesses from that source: throttled before any hashing.
    for (let i = 0; i < 3; i++) await release('zhao', `guess-${i}`);
    const throttled = await release('li', 'correct horse battery');
    expect(throttled.statusCode).toBe(429);
    expect(throttled.json()).toMatchObject({ error: { code: 'PKL_LOGIN_THROTTLED' } });
    const before = guard.stats().verifications;
    await release('li', 'guess-x');
    expect(guard.stats().verifications).toBe(before);
  });
});
