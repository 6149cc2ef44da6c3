/**
 * Stability from a stream of readings, for scales whose frames carry no motion flag
 * (Yaohua XK3190-A9 `tF=0`, generic line profiles without a `stable` group).
 * Pure and count-based, no timers: the reading is stable once the last `samples` readings
 * (the current one included) lie within `toleranceGrams` of each other. At ~10 frames/s,
 * `samples: 5` means about half a second without movement.
 */
export interface StabilityOptions {
  /** Consecutive readings that must agree; >= 2. */
  readonly samples: number;
  /** Largest allowed spread (max − min) among them, in grams; >= 0. */
  readonly toleranceGrams: number;
}

export const DEFAULT_STABILITY: StabilityOptions = { samples: 5, toleranceGrams: 0 };

export class StabilityDetector {
  readonly #samples: number;
  readonly #tolerance: number;
  readonly #window: number[] = [];

  constructor(options: StabilityOptions = DEFAULT_STABILITY) {
    if (!Number.isInteger(options.samples) || options.samples < 2) {
      throw new TypeError('"samples" is not an integer >= 2');
    }
    if (!(options.toleranceGrams >= 0) || !Number.isFinite(options.toleranceGrams)) {
      throw new TypeError('"toleranceGrams" is not a finite number >= 0');
    }
    this.#samples = options.samples;
    this.#tolerance = options.toleranceGrams;
  }

  /** Record a reading; true when it completes a stable run. */
  push(grams: number): boolean {
    this.#window.push(grams);
    if (this.#window.length > this.#samples) this.#window.shift();
    if (this.#window.length < this.#samples) return false;
    return Math.max(...this.#window) - Math.min(...this.#window) <= this.#tolerance + 1e-9;
  }

  /** Forget the history (e.g. after an invalid frame or a reconnect). */
  reset(): void {
    this.#window.length = 0;
  }
}
