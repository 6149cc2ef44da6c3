/**
 * Decides which readings become `dev/{id}/evt/weight` messages. A streaming indicator sends
 * 7–10 frames/s (docs/devices/scales.md) and a polled one as often as we ask; the gateway only needs
 * to hear when something changed, plus a heartbeat so it knows the reading is current.
 *
 * - the first reading after (re)connecting is published;
 * - a change of the stable flag, or a new stable value, is published at once (the pack
 *   station decides on the stable reading: it must not wait);
 * - unstable readings that change are published at most every `minIntervalMs`;
 * - an unchanged reading is re-published every `heartbeatMs`.
 * Pure (the clock is passed in).
 */
export interface WeightReading {
  readonly grams: number;
  readonly stable: boolean;
}

export interface WeightGateOptions {
  readonly heartbeatMs: number;
  readonly minIntervalMs: number;
}

export const DEFAULT_WEIGHT_GATE: WeightGateOptions = { heartbeatMs: 5_000, minIntervalMs: 200 };

export class WeightGate {
  readonly #options: WeightGateOptions;
  #last: WeightReading | undefined;
  #lastAt = 0;

  constructor(options: WeightGateOptions = DEFAULT_WEIGHT_GATE) {
    if (!(options.heartbeatMs > 0) || !(options.minIntervalMs >= 0)) throw new RangeError('heartbeatMs > 0 and minIntervalMs >= 0 required');
    this.#options = options;
  }

  /** True when `reading` should be published now; the gate then remembers it as published. */
  offer(reading: WeightReading, now: number): boolean {
    const last = this.#last;
    const since = now - this.#lastAt;
    let publish: boolean;
    if (last === undefined || last.stable !== reading.stable) publish = true;
    else if (last.grams !== reading.grams) publish = reading.stable || since >= this.#options.minIntervalMs;
    else publish = since >= this.#options.heartbeatMs;
    if (publish) {
      this.#last = { grams: reading.grams, stable: reading.stable };
      this.#lastAt = now;
    }
    return publish;
  }

  /** Forget the last published reading (after a reconnect the first reading goes out again). */
  reset(): void {
    this.#last = undefined;
    this.#lastAt = 0;
  }
}
