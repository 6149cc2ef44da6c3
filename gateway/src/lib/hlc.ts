/**
 * Hybrid logical clock (Kulkarni, Demirbas et al., "Logical Physical Clocks and Consistent
 * Snapshots in Globally Distributed Databases", 2014): a timestamp is the largest wall time
 * seen so far plus a counter that orders events within (or after) that millisecond.
 *
 * Why: the Pi has no battery-backed RTC, so after a power cut its wall clock may be far
 * behind until NTP syncs, and NTP may then step it forward (or back). An HLC never goes
 * backwards whatever the wall clock does, stays close to physical time when the clock is
 * sane, and adopts a peer's (e.g. the cloud's) later time on receive.
 *
 * Pure: the wall clock is injected, nothing here reads globals except the default clock.
 */

export interface Hlc {
  /** Largest physical time seen (ms since epoch). */
  readonly wallMs: number;
  /** Logical counter within `wallMs`. */
  readonly counter: number;
}

/** Width of the zero-padded wall-time field: 13 digits hold epoch ms up to the year 2286. */
const WALL_DIGITS = 13;
/** Width of the counter field; on overflow the counter carries into `wallMs` (see tick). */
const COUNTER_DIGITS = 6;
const COUNTER_MAX = 10 ** COUNTER_DIGITS - 1;
const WALL_MAX = 10 ** WALL_DIGITS - 1;

export const HLC_ZERO: Hlc = Object.freeze({ wallMs: 0, counter: 0 });

const ENCODED = /^(\d{13})\.(\d{6})$/;

/**
 * `wallMs.counter`, both zero-padded, so plain string comparison orders timestamps
 * (`0001732640000000.000003` style; SQLite `ORDER BY hlc` works on the text).
 */
export function encodeHlc(t: Hlc): string {
  return `${String(t.wallMs).padStart(WALL_DIGITS, '0')}.${String(t.counter).padStart(COUNTER_DIGITS, '0')}`;
}

/** Parses {@link encodeHlc}'s output; throws RangeError on anything else. */
export function decodeHlc(s: string): Hlc {
  const m = ENCODED.exec(s);
  if (!m) throw new RangeError(`not an encoded HLC timestamp: ${JSON.stringify(s)}`);
  return { wallMs: Number(m[1]), counter: Number(m[2]) };
}

export function compareHlc(a: Hlc, b: Hlc): number {
  return a.wallMs !== b.wallMs ? a.wallMs - b.wallMs : a.counter - b.counter;
}

function isValid(t: Hlc): boolean {
  return (
    Number.isSafeInteger(t.wallMs) && t.wallMs >= 0 && t.wallMs <= WALL_MAX && Number.isSafeInteger(t.counter) && t.counter >= 0 && t.counter <= COUNTER_MAX
  );
}

/** Thrown by {@link HybridClock.receive} when a remote timestamp is further ahead than allowed. */
export class HlcDriftError extends RangeError {
  constructor(
    readonly remote: Hlc,
    readonly physicalMs: number,
    readonly maxDriftMs: number,
  ) {
    super(`remote HLC ${encodeHlc(remote)} is more than ${maxDriftMs} ms ahead of the wall clock (${physicalMs})`);
    this.name = 'HlcDriftError';
  }
}

export interface HybridClockOptions {
  /** Wall clock; defaults to Date.now. */
  now?: () => number;
  /** Last timestamp issued before a restart (e.g. read back from the store); never goes below it. */
  seed?: Hlc;
  /**
   * Refuse remote timestamps more than this far ahead of the wall clock (HLC papers bound
   * drift with ε). Default: no bound, because on a Pi with a stale clock the remote time is
   * usually the right one.
   */
  maxDriftMs?: number;
}

export class HybridClock {
  private readonly wall: () => number;
  private readonly maxDriftMs: number;
  private last: Hlc;

  constructor(opts: HybridClockOptions = {}) {
    this.wall = opts.now ?? Date.now;
    this.maxDriftMs = opts.maxDriftMs ?? Number.POSITIVE_INFINITY;
    this.last = opts.seed && isValid(opts.seed) ? { ...opts.seed } : HLC_ZERO;
  }

  /** The latest timestamp issued or received, without advancing. */
  peek(): Hlc {
    return this.last;
  }

  /** Timestamp for a local or send event (HLC paper, "send or local event"). */
  now(): Hlc {
    return this.advance(this.physical(), null);
  }

  /** Alias of {@link now} named after the paper's send rule. */
  send(): Hlc {
    return this.now();
  }

  /** Merges a timestamp received from a peer; the result is later than both. */
  receive(remote: Hlc): Hlc {
    if (!isValid(remote)) throw new RangeError(`invalid remote HLC ${JSON.stringify(remote)}`);
    const pt = this.physical();
    if (remote.wallMs - pt > this.maxDriftMs) throw new HlcDriftError(remote, pt, this.maxDriftMs);
    return this.advance(pt, remote);
  }

  /**
   * Raises the clock to at least `t` without issuing (e.g. another writer's last timestamp
   * read back from the database), so the next timestamp sorts after it.
   */
  observe(t: Hlc): void {
    if (isValid(t) && compareHlc(t, this.last) > 0) this.last = { ...t };
  }

  /** True when the wall clock is behind the clock's time by more than `toleranceMs`. */
  wallBehind(toleranceMs = 0): boolean {
    return this.physical() + toleranceMs < this.last.wallMs;
  }

  private physical(): number {
    const v = Math.floor(this.wall());
    // A broken clock (NaN, negative) counts as "earliest possible": the logical part takes over.
    return Number.isFinite(v) ? Math.min(Math.max(v, 0), WALL_MAX) : 0;
  }

  private advance(pt: number, remote: Hlc | null): Hlc {
    const l = this.last;
    let wallMs = Math.max(l.wallMs, pt, remote?.wallMs ?? 0);
    let counter: number;
    if (wallMs === l.wallMs && remote && wallMs === remote.wallMs) counter = Math.max(l.counter, remote.counter) + 1;
    else if (wallMs === l.wallMs) counter = l.counter + 1;
    else if (remote && wallMs === remote.wallMs) counter = remote.counter + 1;
    else counter = 0;
    if (counter > COUNTER_MAX) {
      // Counter overflow (the wall clock stood still or went back for a million events):
      // borrow one millisecond instead of breaking the fixed-width encoding. Still monotonic.
      wallMs += 1;
      counter = 0;
    }
    this.last = { wallMs, counter };
    return this.last;
  }
}
