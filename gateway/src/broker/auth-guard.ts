/**
 * Login-flood defence, shared by the MQTT broker (CONNECT credentials) and the HTTP API
 * (bearer tokens, supervisor passwords): a flood of wrong passwords must not turn into CPU.
 *
 * Three parts, each bounded:
 * - {@link LoginGuard}: failures are counted per source address and per claimed identity.
 *   After `freeFailures` failures a key is in exponential backoff (attempts refused without
 *   any hashing until the window ends); a source that reaches `banAfter` strikes (failures,
 *   and attempts made while it should have waited) is banned for `banMs`, and its sockets are
 *   closed on accept. An identity is never banned, only slowed, and a source that has logged in as
 *   that identity before is not slowed by failures others caused for it, so an attacker who
 *   floods with a device's name cannot lock the device itself out. Success clears the source's
 *   and the identity's tallies. Tallies are kept in maps bounded by `maxTracked`.
 * - {@link VerifyPool}: password hashes (scrypt, RFC 7914, ~16 MiB and tens of ms each) are
 *   verified at most `concurrency` at a time, at most `maxQueued` wait; anything beyond is
 *   refused as busy. Node runs `crypto.scrypt` on the libuv thread pool (4 threads), so without
 *   this a flood of four parallel clients takes every core of a Pi.
 * - {@link RefusalLog}: at most `burst` refusal lines per interval; the rest are counted and
 *   written as one summary line per interval (top sources and reasons), with every field
 *   clipped first, so a flood of 64 KiB client ids cannot become gigabytes of log.
 *
 * No I/O of its own (the clock and the logger are handed in).
 */
import type { Logger } from '../lib/logger.js';

export interface LoginGuardSettings {
  /** Failures of one key (source or identity) before backoff starts. */
  freeFailures: number;
  /** First backoff window; it doubles with each further failure up to `backoffMaxMs`. */
  backoffBaseMs: number;
  backoffMaxMs: number;
  /** Strikes (failures and attempts refused during backoff) of one source that ban it for `banMs`. */
  banAfter: number;
  banMs: number;
  /** A tally with no failure for this long (and no ban running) is forgotten. */
  forgetAfterMs: number;
  /** Keys tracked at most per map (sources, identities, known-good pairs). */
  maxTracked: number;
  /** Password verifications running at once. */
  verifyConcurrency: number;
  /** Verifications waiting at most; beyond that a login is refused as busy. */
  verifyQueue: number;
}

export const DEFAULT_LOGIN_GUARD: LoginGuardSettings = {
  freeFailures: 10,
  backoffBaseMs: 1_000,
  backoffMaxMs: 60_000,
  banAfter: 30,
  banMs: 15 * 60_000,
  forgetAfterMs: 15 * 60_000,
  maxTracked: 10_000,
  verifyConcurrency: 1,
  verifyQueue: 32,
};

/** Longest username / client id / password that is ever hashed or logged (bytes or chars). */
export const MAX_LOGIN_FIELD = 256;

export type GateRefusal = 'banned' | 'backoff' | 'busy' | 'oversized';
export type Gate = { ok: true } | { ok: false; reason: GateRefusal; retryAfterMs: number };

export interface LoginGuardStats {
  /** Verifications actually run (each one a scrypt). */
  verifications: number;
  failures: number;
  successes: number;
  refused: Record<GateRefusal, number>;
  bansTotal: number;
  bansActive: number;
  /** Most verifications ever waiting or running at once. */
  pendingPeak: number;
  trackedSources: number;
  trackedIdentities: number;
}

interface Tally {
  failures: number;
  lastFailure: number;
  blockedUntil: number;
  banned: boolean;
}

/** Bounded concurrency for expensive verifications; excess is refused, never piled up. */
export class VerifyPool {
  private running = 0;
  private readonly waiting: Array<() => void> = [];
  peak = 0;
  runs = 0;

  constructor(
    private readonly concurrency: number,
    private readonly maxQueued: number,
  ) {}

  /** Runs `fn` within the pool, or returns `busy` at once when the queue is full. */
  async run<T>(fn: () => Promise<T>): Promise<{ busy: false; value: T } | { busy: true }> {
    if (this.running >= this.concurrency) {
      if (this.waiting.length >= this.maxQueued) return { busy: true };
      const turn = new Promise<void>((resolve) => this.waiting.push(resolve));
      this.peak = Math.max(this.peak, this.running + this.waiting.length);
      await turn;
    } else {
      this.running++;
      this.peak = Math.max(this.peak, this.running + this.waiting.length);
    }
    this.runs++;
    try {
      return { busy: false, value: await fn() };
    } finally {
      const next = this.waiting.shift();
      if (next)
        next(); // hands its slot over: `running` stays the same
      else this.running--;
    }
  }

  pending(): number {
    return this.running + this.waiting.length;
  }
}

/** Source address of a socket in one form (IPv4-mapped IPv6 → IPv4). */
export function normaliseSource(address: string | undefined): string {
  if (!address) return 'unknown';
  return address.startsWith('::ffff:') ? address.slice(7) : address;
}

/** A value fit for a log line: at most `max` characters, with the original length noted. */
export function clip(value: unknown, max = 64): string | undefined {
  if (value === undefined || value === null) return undefined;
  const s = typeof value === 'string' ? value : Buffer.isBuffer(value) ? `<${value.length} bytes>` : String(value);
  return s.length <= max ? s : `${s.slice(0, max)}…(${s.length} chars)`;
}

export class LoginGuard {
  private readonly sources = new Map<string, Tally>();
  private readonly identities = new Map<string, Tally>();
  /** `source identity` pairs that logged in: identity backoff does not apply to them. */
  private readonly knownGood = new Map<string, number>();
  readonly pool: VerifyPool;
  private readonly counts = {
    failures: 0,
    successes: 0,
    bansTotal: 0,
    refused: { banned: 0, backoff: 0, busy: 0, oversized: 0 } as Record<GateRefusal, number>,
  };

  constructor(
    readonly settings: LoginGuardSettings = DEFAULT_LOGIN_GUARD,
    private readonly now: () => number = Date.now,
  ) {
    this.pool = new VerifyPool(settings.verifyConcurrency, settings.verifyQueue);
  }

  /**
   * May `source` try to log in as `identity` now? Costs no hashing either way. An attempt
   * refused here is a strike against the source (as a failure is): a client that keeps
   * hammering through its backoff reaches `banAfter` quickly, while one that waits as told
   * (a device's reconnect back-off) does not.
   */
  gate(source: string, identity: string): Gate {
    const at = this.now();
    const s = this.live(this.sources, source, at);
    if (s && s.blockedUntil > at) {
      if (s.banned) return this.refuse('banned', s.blockedUntil - at);
      const t = this.strike(source, at);
      return this.refuse(t.banned ? 'banned' : 'backoff', t.blockedUntil - at);
    }
    const i = this.live(this.identities, identity, at);
    if (i && i.blockedUntil > at && !this.knownGood.has(pair(source, identity))) {
      this.strike(source, at);
      return this.refuse('backoff', i.blockedUntil - at);
    }
    return { ok: true };
  }

  /**
   * Is `source` banned right now? Listeners ask on accept and close the socket at once, so a
   * banned host costs an accept() and nothing else (no MQTT parser, no client, no log line).
   * Counted as `banned` refusals.
   */
  banned(source: string): boolean {
    const at = this.now();
    const s = this.live(this.sources, source, at);
    if (!s?.banned || s.blockedUntil <= at) return false;
    this.counts.refused.banned++;
    return true;
  }

  /** Counts a refusal decided elsewhere (an oversized field) in the same statistics. */
  refuse(reason: GateRefusal, retryAfterMs = 0): Gate {
    this.counts.refused[reason]++;
    return { ok: false, reason, retryAfterMs };
  }

  /**
   * Runs one password verification in the pool. Resolves `null` (and counts `busy`) when the
   * pool is full: the caller refuses the login without hashing.
   */
  async verify(run: () => Promise<boolean>): Promise<boolean | null> {
    const r = await this.pool.run(run);
    if (r.busy) {
      this.counts.refused.busy++;
      return null;
    }
    return r.value;
  }

  failed(source: string, identity: string): void {
    const at = this.now();
    this.counts.failures++;
    this.strike(source, at);
    this.bump(this.identities, identity, at);
  }

  /** One more strike against a source: a failure, or an attempt refused while it waited. */
  private strike(source: string, at: number): Tally {
    const s = this.bump(this.sources, source, at);
    if (s.failures >= this.settings.banAfter && !s.banned) {
      s.banned = true;
      s.blockedUntil = at + this.settings.banMs;
      this.counts.bansTotal++;
    }
    return s;
  }

  succeeded(source: string, identity: string): void {
    this.counts.successes++;
    this.sources.delete(source);
    this.identities.delete(identity);
    const key = pair(source, identity);
    this.knownGood.delete(key);
    this.knownGood.set(key, this.now());
    this.bound(this.knownGood);
  }

  stats(): LoginGuardStats {
    const at = this.now();
    let bansActive = 0;
    for (const t of this.sources.values()) if (t.banned && t.blockedUntil > at) bansActive++;
    return {
      verifications: this.pool.runs,
      failures: this.counts.failures,
      successes: this.counts.successes,
      refused: { ...this.counts.refused },
      bansTotal: this.counts.bansTotal,
      bansActive,
      pendingPeak: this.pool.peak,
      trackedSources: this.sources.size,
      trackedIdentities: this.identities.size,
    };
  }

  /** The tally of `key`, or undefined once it has expired (and is dropped). */
  private live(map: Map<string, Tally>, key: string, at: number): Tally | undefined {
    const t = map.get(key);
    if (!t) return undefined;
    if (t.blockedUntil <= at && at - t.lastFailure > this.settings.forgetAfterMs) {
      map.delete(key);
      return undefined;
    }
    if (t.banned && t.blockedUntil <= at) {
      // The ban ran out: start over, but one more failure is enough for the next window.
      t.banned = false;
      t.failures = this.settings.freeFailures;
    }
    return t;
  }

  private bump(map: Map<string, Tally>, key: string, at: number): Tally {
    const t = this.live(map, key, at) ?? { failures: 0, lastFailure: at, blockedUntil: 0, banned: false };
    t.failures++;
    t.lastFailure = at;
    const over = t.failures - this.settings.freeFailures;
    if (over > 0 && !t.banned) {
      const backoff = Math.min(this.settings.backoffMaxMs, this.settings.backoffBaseMs * 2 ** Math.min(over - 1, 30));
      t.blockedUntil = Math.max(t.blockedUntil, at + backoff);
    }
    map.delete(key); // re-insert: Map order = least recently failed first
    map.set(key, t);
    this.bound(map);
    return t;
  }

  /** Keeps a map within `maxTracked`: the least recently touched entries go first. */
  private bound(map: Map<string, unknown>): void {
    for (const key of map.keys()) {
      if (map.size <= this.settings.maxTracked) return;
      map.delete(key);
    }
  }
}

function pair(source: string, identity: string): string {
  return `${source}\u0000${identity}`;
}

/**
 * Refusal log lines, rate-limited: the first `burst` of each interval are written; the rest
 * are counted and summarised in one line when the interval ends (on the next refusal or on
 * {@link flush}). Fields are clipped to 64 characters before they reach the logger.
 */
export class RefusalLog {
  private windowStart = -Infinity;
  private written = 0;
  private suppressed = 0;
  private bySource = new Map<string, number>();
  private byReason = new Map<string, number>();

  constructor(
    private readonly log: Logger,
    private readonly msg: string,
    private readonly intervalMs = 10_000,
    private readonly burst = 20,
    private readonly now: () => number = Date.now,
  ) {}

  note(fields: { source: string; reason: string } & Record<string, unknown>): void {
    const at = this.now();
    if (at - this.windowStart >= this.intervalMs) {
      this.flush();
      this.windowStart = at;
    }
    if (this.written < this.burst) {
      this.written++;
      const clipped: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(fields)) clipped[k] = typeof v === 'number' || typeof v === 'boolean' ? v : clip(v);
      this.log.info(clipped, this.msg);
      return;
    }
    this.suppressed++;
    const src = clip(fields.source) ?? 'unknown';
    if (this.bySource.has(src) || this.bySource.size < 1000) this.bySource.set(src, (this.bySource.get(src) ?? 0) + 1);
    const reason = clip(fields.reason) ?? 'unknown';
    if (this.byReason.has(reason) || this.byReason.size < 100) this.byReason.set(reason, (this.byReason.get(reason) ?? 0) + 1);
  }

  /** Writes the summary of the lines held back in the current interval, if any. */
  flush(): void {
    if (this.suppressed > 0) {
      const top = (m: Map<string, number>) => Object.fromEntries([...m.entries()].sort((a, b) => b[1] - a[1]).slice(0, 5));
      this.log.warn(
        { suppressed: this.suppressed, intervalMs: this.intervalMs, topSources: top(this.bySource), reasons: top(this.byReason) },
        `${this.msg}: ${this.suppressed} more not logged`,
      );
    }
    this.written = 0;
    this.suppressed = 0;
    this.bySource = new Map();
    this.byReason = new Map();
  }
}
