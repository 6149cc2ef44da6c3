/**
 * The one token bucket: `rate` tokens per second refill a bucket of `burst`; each message
 * (a Cainiao frame, an MQTT publish) takes one. Pure: the caller passes the time (ms), so
 * tests drive it with their own clock.
 */
export class TokenBucket {
  private tokens: number;
  private last: number;

  constructor(
    private readonly rate: number,
    private readonly burst: number,
    now: number,
  ) {
    if (!(rate > 0) || !(burst >= 1)) throw new RangeError('rate must be > 0 and burst >= 1');
    this.tokens = burst;
    this.last = now;
  }

  /** Refills up to `now` and returns the tokens available (`burst` = the bucket is full). */
  level(now: number): number {
    const elapsed = Math.max(0, now - this.last) / 1000;
    this.last = Math.max(this.last, now);
    this.tokens = Math.min(this.burst, this.tokens + elapsed * this.rate);
    return this.tokens;
  }

  /** Takes a token if there is one. */
  take(now: number): boolean {
    if (this.level(now) < 1) return false;
    this.tokens -= 1;
    return true;
  }
}
