/**
 * Collects bytes skipped while resynchronising a fixed-size record stream (boot reports,
 * input_events) into one error per run of garbage, however the stream was split: the run is
 * reported when the next good record arrives (or on flush), so splits never change the output.
 */
import { describeBytes } from '../framing/bytes.js';
import type { ScanErrorFrame } from './types.js';

/** Garbage kept for the error's `raw` text; longer runs are counted, not kept. */
const KEEP = 64;

export class SkippedBytes {
  #bytes: number[] = [];
  #count = 0;

  constructor(
    private readonly protocol: string,
    private readonly reason: string,
  ) {}

  /** Bytes held for the report (bounded). */
  get held(): number {
    return this.#bytes.length;
  }

  add(byte: number): void {
    if (this.#bytes.length < KEEP) this.#bytes.push(byte);
    this.#count++;
  }

  clear(): void {
    this.#bytes = [];
    this.#count = 0;
  }

  /** The error for the run so far, or nothing; starts a new run. */
  take(): ScanErrorFrame[] {
    if (this.#count === 0) return [];
    const raw = describeBytes(Uint8Array.from(this.#bytes)) + (this.#count > KEEP ? `…(${this.#count} bytes)` : '');
    this.clear();
    return [{ type: 'error', code: 'PKL_FRAME_INVALID', detail: { protocol: this.protocol, reason: this.reason }, raw }];
  }
}
