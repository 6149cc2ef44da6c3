/**
 * Reconnect delays: exponential backoff with "full jitter" (delay drawn uniformly from
 * [base/2, base]), so many drivers that lost the same USB hub or device server do not retry in
 * lock-step. Pure apart from the injectable random source.
 */
export interface BackoffOptions {
  /** First delay, ms. */
  readonly initialMs: number;
  /** Cap, ms. */
  readonly maxMs: number;
  /** Growth per failed attempt; >= 1. */
  readonly factor?: number;
  /** Returns [0, 1); injectable for tests. */
  readonly random?: () => number;
}

export const DEFAULT_BACKOFF: BackoffOptions = { initialMs: 250, maxMs: 10_000, factor: 2 };

export class Backoff {
  readonly #initial: number;
  readonly #max: number;
  readonly #factor: number;
  readonly #random: () => number;
  #attempt = 0;

  constructor(options: BackoffOptions = DEFAULT_BACKOFF) {
    if (!(options.initialMs > 0) || !(options.maxMs >= options.initialMs)) {
      throw new RangeError('backoff needs 0 < initialMs <= maxMs');
    }
    if (options.factor !== undefined && !(options.factor >= 1)) throw new RangeError('backoff factor must be >= 1');
    this.#initial = options.initialMs;
    this.#max = options.maxMs;
    this.#factor = options.factor ?? 2;
    this.#random = options.random ?? Math.random;
  }

  /** Failed attempts since the last reset. */
  get attempts(): number {
    return this.#attempt;
  }

  /** The delay before the next attempt; grows until `maxMs`. */
  next(): number {
    const base = Math.min(this.#max, this.#initial * this.#factor ** this.#attempt);
    this.#attempt++;
    return Math.round(base / 2 + (base / 2) * this.#random());
  }

  /** After a connection proved healthy. */
  reset(): void {
    this.#attempt = 0;
  }
}
