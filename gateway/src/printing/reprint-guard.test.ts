import { beforeAll, describe, expect, it } from 'vitest';
import { hashSecret } from '../broker/secrets.js';
import { clientError, type GuardOutcome, ReprintGuard } from './reprint-guard.js';

let hashes: Record<string, string>;

beforeAll(async () => {
  hashes = { li: await hashSecret('correct horse'), wang: await hashSecret('battery staple') };
});

/** A guard on a clock the test moves by hand. */
function guard(maxFailures = 3, windowMs = 60_000) {
  const clock = { t: 1_000_000 };
  const g = new ReprintGuard({ maxFailures, windowMs, passwordHash: (n) => hashes[n] ?? null, now: () => clock.t });
  return { g, clock };
}

function refused(o: GuardOutcome): Extract<GuardOutcome, { ok: false }> {
  if (o.ok) throw new Error('expected a refusal');
  return o;
}

describe('ReprintGuard', () => {
  it('lets the right password through and tells unknown names from wrong passwords in the outcome only', async () => {
    const { g } = guard();
    expect(await g.check('li', 'correct horse')).toEqual({ ok: true, supervisor: 'li' });
    const wrong = refused(await g.check('li', 'correct horsE'));
    const unknown = refused(await g.check('zhao', 'correct horse'));
    expect(wrong.code).toBe('PKL_SUPERVISOR_PASSWORD_WRONG');
    expect(unknown.code).toBe('PKL_SUPERVISOR_UNKNOWN');
    // …but the client sees the same code, status and message for both.
    const a = clientError(wrong);
    const b = clientError({ ...unknown, supervisor: 'li' });
    expect(a.toWire()).toEqual(b.toWire());
    expect(a.code).toBe('PKL_SUPERVISOR_PASSWORD_WRONG');
    expect(a.statusCode).toBe(403);
    expect(a.message).not.toContain('unknown supervisor');
  });

  it('locks a name after maxFailures wrong passwords within the window, even for the right password', async () => {
    const { g, clock } = guard(3, 60_000);
    for (let i = 1; i <= 3; i++) {
      const o = refused(await g.check('li', `guess-${i}`));
      expect(o.code).toBe('PKL_SUPERVISOR_PASSWORD_WRONG');
      expect(o.failures).toBe(i);
      clock.t += 1_000;
    }
    const locked = refused(await g.check('li', 'correct horse'));
    expect(locked.code).toBe('PKL_REPRINT_LOCKED');
    expect(locked.retryAfterMs).toBe(60_000 - 1_000);
    const wire = clientError(locked);
    expect(wire.code).toBe('PKL_REPRINT_LOCKED');
    expect(wire.statusCode).toBe(429);
    expect(wire.details).toMatchObject({ supervisor: 'li', retryAfterS: 59 });
    // Other supervisors are not affected.
    expect((await g.check('wang', 'battery staple')).ok).toBe(true);
    // The lock ends when the window has passed; then the count starts again.
    clock.t += 59_000;
    expect(g.lockedFor('li')).toBe(0);
    expect(await g.check('li', 'correct horse')).toEqual({ ok: true, supervisor: 'li' });
    expect(refused(await g.check('li', 'nope')).failures).toBe(1);
  });

  it('forgets failures older than the window and clears the count on success', async () => {
    const { g, clock } = guard(3, 10_000);
    await g.check('li', 'x1');
    await g.check('li', 'x2');
    clock.t += 10_001; // both fall out of the window
    expect(refused(await g.check('li', 'x3')).failures).toBe(1);
    expect((await g.check('li', 'correct horse')).ok).toBe(true);
    expect(refused(await g.check('li', 'x4')).failures).toBe(1);
  });

  it('limits unknown names like known ones (the lock does not reveal who exists)', async () => {
    const { g } = guard(2, 60_000);
    await g.check('nobody', 'a');
    await g.check('nobody', 'b');
    expect(refused(await g.check('nobody', 'c')).code).toBe('PKL_REPRINT_LOCKED');
  });

  it('checks parallel attempts for one name in turn, so a burst cannot exceed the limit', async () => {
    const { g } = guard(3, 60_000);
    const outcomes = await Promise.all(Array.from({ length: 6 }, (_, i) => g.check('li', `burst-${i}`)));
    expect(outcomes.map((o) => refused(o).code)).toEqual([
      'PKL_SUPERVISOR_PASSWORD_WRONG',
      'PKL_SUPERVISOR_PASSWORD_WRONG',
      'PKL_SUPERVISOR_PASSWORD_WRONG',
      'PKL_REPRINT_LOCKED',
      'PKL_REPRINT_LOCKED',
      'PKL_REPRINT_LOCKED',
    ]);
  });

  it('keeps its memory bounded under a flood of made-up names', async () => {
    const clock = { t: 0 };
    const g = new ReprintGuard({ maxFailures: 5, windowMs: 1_000, passwordHash: () => null, now: () => clock.t, maxTracked: 3 });
    for (const n of ['a', 'b', 'c', 'd', 'e']) await g.check(n, 'pw');
    // Only the 3 most recently failed names are still counted.
    expect(refused(await g.check('a', 'pw')).failures).toBe(1);
    expect(refused(await g.check('e', 'pw')).failures).toBe(2);
  });

  it('passes a lookup failure (store down) to the caller and keeps serving the name', async () => {
    let down = true;
    const g = new ReprintGuard({
      maxFailures: 3,
      windowMs: 1_000,
      passwordHash: (n) => {
        if (down) throw new Error('store down');
        return hashes[n] ?? null;
      },
    });
    await expect(g.check('li', 'correct horse')).rejects.toThrow('store down');
    down = false;
    expect((await g.check('li', 'correct horse')).ok).toBe(true);
  });
});

describe('lockouts per supervisor and station, persisted', () => {
  it('guesses at one station lock the supervisor out there only, and the lock survives a restart', async () => {
    const clock = { t: 1_000_000 };
    const saved = new Map<string, number>();
    const locks = {
      load: (k: string) => saved.get(k) ?? null,
      save: (k: string, until: number | null) => void (until === null ? saved.delete(k) : saved.set(k, until)),
    };
    const make = () => new ReprintGuard({ maxFailures: 3, windowMs: 60_000, passwordHash: (n) => hashes[n] ?? null, now: () => clock.t, locks });
    const g = make();
    for (let i = 0; i < 3; i++) await g.check('li', 'wrong', 'st-1');
    expect(await g.check('li', 'correct horse', 'st-1')).toMatchObject({ ok: false, code: 'PKL_REPRINT_LOCKED' });
    // The same supervisor at another station is not locked out.
    expect(await g.check('li', 'correct horse', 'st-2')).toEqual({ ok: true, supervisor: 'li' });
    expect(saved.get('li@st-1')).toBe(1_000_000 + 60_000);
    // A restart (a new guard) still finds the lock, until it ends.
    const after = make();
    clock.t += 30_000;
    expect(after.lockedFor('li', 'st-1')).toBe(30_000);
    expect(await after.check('li', 'correct horse', 'st-1')).toMatchObject({ ok: false, code: 'PKL_REPRINT_LOCKED' });
    clock.t += 30_000;
    expect(await after.check('li', 'correct horse', 'st-1')).toEqual({ ok: true, supervisor: 'li' });
    expect(saved.has('li@st-1')).toBe(false);
  });
});
