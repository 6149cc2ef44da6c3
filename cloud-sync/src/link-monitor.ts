/**
 * The cloud link's state, with exponential backoff and a circuit breaker. Pure: the clock
 * and the random source are injected.
 *
 * - online: the last call got a good answer.
 * - degraded: the cloud answers but refuses (5xx, 401, an unusable answer) or fewer than
 *   `failureThreshold` calls in a row failed.
 * - contract_error: the cloud answered 200 with something that does not match the sync
 *   contract (contracts/sync.ts). Resending would get the same answer, so calls go out only
 *   after a backoff delay that never jitters down to zero, until an answer is readable again.
 * - offline: `failureThreshold` calls in a row got no answer at all (refused, reset, timed
 *   out). The breaker is open: no call goes out until the backoff delay has passed, then one
 *   probe does (half-open); its success closes the breaker.
 *
 * Backoff is "full jitter" (AWS Architecture Blog, "Exponential Backoff And Jitter", 2015):
 * delay = random(0, min(cap, base·2^n)), so a fleet of gateways coming back after a cloud
 * outage does not retry in lockstep. Retries never stop (AWS Greengrass stream manager
 * retries "at intervals of up to five minutes… no maximum" — the default cap here is 60 s).
 */
export type LinkState = 'online' | 'degraded' | 'offline' | 'contract_error';

export interface LinkSnapshot {
  state: LinkState;
  /** When the state last changed (epoch ms). */
  since: number;
  consecutiveFailures: number;
  lastError: string | null;
  lastSuccessAt: number | null;
  /** Milliseconds until the next call may go out. */
  retryInMs: number;
}

export interface LinkMonitorOptions {
  failureThreshold?: number;
  baseDelayMs?: number;
  maxDelayMs?: number;
  /** Wall clock, for the timestamps it reports. */
  now?: () => number;
  /**
   * Monotonic clock (ms) for delays: the wall clock of a Pi without RTC jumps when NTP syncs,
   * and a retry must not wait a day because of it.
   */
  monotonic?: () => number;
  random?: () => number;
  onChange?: (s: LinkSnapshot) => void;
}

export class LinkMonitor {
  private state: LinkState = 'degraded';
  private since: number;
  private failures = 0;
  private lastError: string | null = 'not connected yet';
  private lastSuccessAt: number | null = null;
  private nextAttemptAt = 0;
  /** Flows whose last answer did not match the contract, with why. */
  private readonly broken = new Map<string, string>();
  private readonly threshold: number;
  private readonly base: number;
  private readonly cap: number;
  private readonly now: () => number;
  private readonly monotonic: () => number;
  private readonly random: () => number;

  constructor(private readonly opts: LinkMonitorOptions = {}) {
    this.threshold = opts.failureThreshold ?? 3;
    this.base = opts.baseDelayMs ?? 500;
    this.cap = opts.maxDelayMs ?? 60_000;
    this.now = opts.now ?? Date.now;
    this.monotonic = opts.monotonic ?? (() => performance.now());
    this.random = opts.random ?? Math.random;
    this.since = this.now();
  }

  snapshot(): LinkSnapshot {
    return {
      state: this.state,
      since: this.since,
      consecutiveFailures: this.failures,
      lastError: this.lastError,
      lastSuccessAt: this.lastSuccessAt,
      retryInMs: this.waitMs(),
    };
  }

  /** Milliseconds until a call may go out (0: now). */
  waitMs(): number {
    return Math.max(0, this.nextAttemptAt - this.monotonic());
  }

  /**
   * A call got a good answer. `flow` names the caller (outbox, inbound): a contract error of
   * one flow is cleared only by a good answer on that same flow, so the link keeps saying
   * "contract error" while the outbox is stuck even though the change feed reads fine.
   */
  success(flow = 'link'): void {
    this.broken.delete(flow);
    this.failures = 0;
    this.lastSuccessAt = this.now();
    this.nextAttemptAt = 0;
    const still = this.broken.values().next();
    this.lastError = still.done ? null : still.value;
    this.set(still.done ? 'online' : 'contract_error');
  }

  /**
   * A call failed. `answered` says whether the cloud answered at all (an HTTP error) or not
   * (transport failure); only unanswered calls open the breaker.
   */
  failure(reason: string, answered: boolean): number {
    this.failures += 1;
    this.lastError = reason;
    const exp = Math.min(this.cap, this.base * 2 ** Math.min(this.failures - 1, 30));
    const delay = Math.floor(this.random() * exp);
    this.nextAttemptAt = this.monotonic() + delay;
    this.set(!answered && this.failures >= this.threshold ? 'offline' : 'degraded');
    return delay;
  }

  /**
   * The cloud answered with something unreadable: a defect of the cloud (or of this
   * gateway's contract), not a hiccup. Backs off at least half the exponential delay
   * ("equal jitter"), so the outbox never spins resending.
   */
  contractError(reason: string, flow = 'link'): number {
    this.broken.set(flow, reason);
    this.failures += 1;
    this.lastError = reason;
    const exp = Math.min(this.cap, this.base * 2 ** Math.min(this.failures - 1, 30));
    const delay = Math.floor(exp / 2 + this.random() * (exp / 2));
    this.nextAttemptAt = this.monotonic() + delay;
    this.set('contract_error');
    return delay;
  }

  private set(next: LinkState): void {
    if (next === this.state) {
      this.opts.onChange?.(this.snapshot());
      return;
    }
    this.state = next;
    this.since = this.now();
    this.opts.onChange?.(this.snapshot());
  }
}
