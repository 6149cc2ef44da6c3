import { concatBytes, indexOfSeq, partialSuffix } from './bytes.js';

export interface LineFramerOptions {
  /** Line terminator, e.g. CR LF (MT-SICS manual: "commands and responses end with CR LF"). */
  readonly delimiter: Uint8Array;
  /** Longest line accepted, terminator excluded; longer input is cut off and reported. */
  readonly maxLength: number;
}

export type LineChunk =
  /** A complete line without its terminator. */
  | { readonly kind: 'line'; readonly bytes: Uint8Array }
  /** `maxLength` bytes without a terminator: dropped, reported so the decoder can flag it. */
  | { readonly kind: 'overflow'; readonly bytes: Uint8Array };

/**
 * Incremental delimiter framer (the serialport `DelimiterParser` idea without the stream):
 * push bytes, get complete lines. The buffer never holds more than `maxLength` bytes plus a
 * partial terminator. Runs in O(n) per pushed byte count.
 */
export class LineFramer {
  readonly #delimiter: Uint8Array;
  readonly #maxLength: number;
  #buf: Uint8Array = new Uint8Array(0);

  constructor(options: LineFramerOptions) {
    if (options.delimiter.length === 0) throw new TypeError('"delimiter" has a 0 length');
    if (!Number.isInteger(options.maxLength) || options.maxLength < 1) {
      throw new TypeError('"maxLength" is not a positive integer');
    }
    this.#delimiter = options.delimiter;
    this.#maxLength = options.maxLength;
  }

  get bufferedBytes(): number {
    return this.#buf.length;
  }

  reset(): void {
    this.#buf = new Uint8Array(0);
  }

  /** Hands out and forgets a line still waiting for its delimiter (idle / end of stream). */
  takeBuffered(): Uint8Array {
    const held = this.#buf;
    this.#buf = new Uint8Array(0);
    return held;
  }

  push(chunk: Uint8Array): LineChunk[] {
    const out: LineChunk[] = [];
    let buf = concatBytes(this.#buf, chunk);
    let start = 0;
    for (;;) {
      const at = indexOfSeq(buf, this.#delimiter, start);
      if (at === -1 || at - start > this.#maxLength) {
        // No terminator within reach: cut off every full maxLength run, keep the rest.
        const pending = buf.length - start;
        const keep = at === -1 ? partialSuffix(buf.subarray(start), this.#delimiter) : 0;
        if (pending - keep > this.#maxLength) {
          out.push({ kind: 'overflow', bytes: buf.slice(start, start + this.#maxLength) });
          start += this.#maxLength;
          continue;
        }
        break;
      }
      out.push({ kind: 'line', bytes: buf.slice(start, at) });
      start = at + this.#delimiter.length;
    }
    buf = buf.slice(start);
    this.#buf = buf;
    return out;
  }
}
