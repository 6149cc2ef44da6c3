/**
 * The reprint guard (docs/printing.md): printing a waybill again needs a supervisor's
 * name and password, checked against the scrypt hash kept in the store (`packline supervisor
 * add`), with wrong passwords rate-limited per supervisor name.
 *
 * - A wrong password and an unknown name cost the same (an unknown name is checked against a
 *   dummy hash) and reach the client as the same error (see {@link clientError}), so names
 *   cannot be probed; the outcome keeps the real code for the audit log.
 * - `maxFailures` wrong attempts within `windowMs` lock the name for `windowMs`
 *   (PKL_REPRINT_LOCKED, even with the right password); a success clears its count. Unknown
 *   names are limited like known ones, so the lock tells nothing either.
 * - Attempts for one name are checked one after another, so a burst of parallel guesses
 *   cannot slip past the limit while their hashes are being computed.
 *
 * No I/O of its own: the hash lookup and the clock are handed in.
 */
import { randomBytes } from 'node:crypto';
import { PacklineError } from '../../../contracts/errors.js';
import type { LoginGuard } from '../broker/auth-guard.js';
import { hashSecret, verifySecret } from '../broker/secrets.js';

export type GuardRefusal = 'PKL_SUPERVISOR_UNKNOWN' | 'PKL_SUPERVISOR_PASSWORD_WRONG' | 'PKL_REPRINT_LOCKED' | 'PKL_LOGIN_THROTTLED';

export type GuardOutcome =
  | { ok: true; supervisor: string }
  | {
      ok: false;
      /** The real reason, for the audit log; the client gets {@link clientError}. */
      code: GuardRefusal;
      supervisor: string;
      /** Wrong attempts counted in the current window (after this one). */
      failures: number;
      /** While locked: how long until the lock ends. */
      retryAfterMs: number | null;
    };

export interface ReprintGuardOptions {
  /** config `printing.reprint.maxFailures`. */
  maxFailures: number;
  /** config `printing.reprint.windowMs`: the counting window and the lock time. */
  windowMs: number;
  /** The stored password hash of a supervisor, or null for an unknown name. */
  passwordHash(name: string): string | null;
  now?: () => number;
  /** Names the limiter tracks at most (bounded memory against floods of made-up names). */
  maxTracked?: number;
  /**
   * The login-flood guard (broker/auth-guard.ts): verifications run through its bounded pool
   * (a full pool refuses the attempt with PKL_LOGIN_THROTTLED, without hashing and without
   * counting a wrong password), and the HTTP check keys it per source. Default: none.
   */
  login?: LoginGuard;
  /**
   * Where lockouts outlive a restart (the store's meta table): `load` gives the end of a
   * persisted lock (ms) or null, `save` records one (null: cleared). Keys are per supervisor
   * and station. Default: locks in memory only.
   */
  locks?: { load(key: string): number | null; save(key: string, until: number | null): void };
}

/** The tally key: a lockout binds one supervisor at one station, not everywhere. */
function tallyKey(supervisor: string, scope: string | undefined): string {
  return scope === undefined ? supervisor : `${supervisor}@${scope}`;
}

interface Tally {
  /** Times of wrong attempts within the window, oldest first. */
  failures: number[];
  lockedUntil: number | null;
}

const DEFAULT_MAX_TRACKED = 10_000;

export class ReprintGuard {
  private readonly tallies = new Map<string, Tally>();
  private readonly queues = new Map<string, Promise<unknown>>();
  private readonly now: () => number;
  private dummyHash: Promise<string> | null = null;

  constructor(private readonly opts: ReprintGuardOptions) {
    this.now = opts.now ?? Date.now;
  }

  /** The login-flood guard this check reports to, if any. */
  get login(): LoginGuard | undefined {
    return this.opts.login;
  }

  /**
   * Checks a name and password; never throws for a refusal (see {@link clientError}). `scope`
   * (the station the action is for) keeps failures and lockouts per supervisor and station, so
   * guesses at one station cannot lock the supervisor out at every other.
   */
  check(supervisor: string, password: string, scope?: string): Promise<GuardOutcome> {
    const key = tallyKey(supervisor, scope);
    const previous = this.queues.get(key) ?? Promise.resolve();
    const run = previous.then(
      () => this.checkNow(supervisor, password, key),
      () => this.checkNow(supervisor, password, key),
    );
    this.queues.set(key, run);
    const forget = () => {
      if (this.queues.get(key) === run) this.queues.delete(key);
    };
    run.then(forget, forget); // the caller sees the rejection, if any
    return run;
  }

  /** Milliseconds until the name's lock (at `scope`) ends; 0 when it is not locked. */
  lockedFor(supervisor: string, scope?: string): number {
    const key = tallyKey(supervisor, scope);
    const until = this.tallies.get(key)?.lockedUntil ?? this.opts.locks?.load(key) ?? null;
    return until === null ? 0 : Math.max(0, until - this.now());
  }

  private async checkNow(supervisor: string, password: string, key: string): Promise<GuardOutcome> {
    if (!this.tallies.has(key)) {
      // A lock from before a restart still holds.
      const until = this.opts.locks?.load(key) ?? null;
      if (until !== null && until > this.now())
        this.tallies.set(key, { failures: Array(this.opts.maxFailures).fill(until - this.opts.windowMs), lockedUntil: until });
    }
    const before = this.tallies.get(key);
    if (before?.lockedUntil != null) {
      const left = before.lockedUntil - this.now();
      if (left > 0) {
        return { ok: false, code: 'PKL_REPRINT_LOCKED', supervisor, failures: before.failures.length, retryAfterMs: left };
      }
      this.tallies.delete(key); // the lock ran out: a clean slate
      this.opts.locks?.save(key, null);
    }
    const hash = this.opts.passwordHash(supervisor);
    // An unknown name pays for one scrypt too, so timing does not tell it from a wrong password.
    const against = hash ?? (await this.dummy());
    const run = () => verifySecret(password, against);
    const verdict = this.opts.login ? await this.opts.login.verify(run) : await run();
    if (verdict === null) {
      return { ok: false, code: 'PKL_LOGIN_THROTTLED', supervisor, failures: before?.failures.length ?? 0, retryAfterMs: 1000 };
    }
    const ok = hash !== null && verdict;
    if (ok) {
      this.tallies.delete(key);
      return { ok: true, supervisor };
    }
    const at = this.now();
    const tally = this.tallies.get(key) ?? { failures: [], lockedUntil: null };
    tally.failures = tally.failures.filter((t) => t > at - this.opts.windowMs);
    tally.failures.push(at);
    if (tally.failures.length >= this.opts.maxFailures) {
      tally.lockedUntil = at + this.opts.windowMs;
      // Persisted for real supervisors only: made-up names must not grow the store.
      if (hash !== null) this.opts.locks?.save(key, tally.lockedUntil);
    }
    this.tallies.delete(key); // re-insert: Map order = least recently failed first
    this.tallies.set(key, tally);
    this.bound(at);
    return {
      ok: false,
      code: hash === null ? 'PKL_SUPERVISOR_UNKNOWN' : 'PKL_SUPERVISOR_PASSWORD_WRONG',
      supervisor,
      failures: tally.failures.length,
      retryAfterMs: null,
    };
  }

  private dummy(): Promise<string> {
    this.dummyHash ??= hashSecret(randomBytes(16).toString('base64url'));
    return this.dummyHash;
  }

  /** Keeps the tally map bounded: expired entries go first, then the least recently failed. */
  private bound(at: number): void {
    const max = this.opts.maxTracked ?? DEFAULT_MAX_TRACKED;
    if (this.tallies.size <= max) return;
    for (const [name, t] of this.tallies) {
      const locked = t.lockedUntil !== null && t.lockedUntil > at;
      if (!locked && t.failures.every((f) => f <= at - this.opts.windowMs)) this.tallies.delete(name);
    }
    for (const name of this.tallies.keys()) {
      if (this.tallies.size <= max) break;
      this.tallies.delete(name);
    }
  }
}

/**
 * The error the client sees. An unknown name answers exactly like a wrong password (code,
 * status and message), so the API cannot be used to find out who the supervisors are.
 */
export function clientError(outcome: Extract<GuardOutcome, { ok: false }>, source = 'unknown'): PacklineError {
  if (outcome.code === 'PKL_LOGIN_THROTTLED') {
    return new PacklineError('PKL_LOGIN_THROTTLED', { source, retryAfterS: Math.ceil((outcome.retryAfterMs ?? 1000) / 1000) });
  }
  if (outcome.code === 'PKL_REPRINT_LOCKED') {
    return new PacklineError('PKL_REPRINT_LOCKED', {
      supervisor: outcome.supervisor,
      retryAfterS: Math.ceil((outcome.retryAfterMs ?? 0) / 1000),
    });
  }
  return new PacklineError('PKL_SUPERVISOR_PASSWORD_WRONG', { supervisor: outcome.supervisor });
}
