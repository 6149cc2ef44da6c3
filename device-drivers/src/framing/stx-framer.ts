import { concatBytes, indexOfSeq, partialSuffix } from './bytes.js';

/** What a framer hands to a protocol decoder. */
export type FrameChunk =
  /** A structurally complete frame (header and trailer in place); meaning not yet checked. */
  | { readonly kind: 'frame'; readonly bytes: Uint8Array }
  /** A frame that started but broke off (a new header came first, or the trailer is wrong). */
  | { readonly kind: 'broken'; readonly bytes: Uint8Array };

interface FramerCore {
  readonly bufferedBytes: number;
  /** Bytes thrown away outside any frame (line noise), for diagnostics. */
  readonly discardedBytes: number;
  reset(): void;
  push(chunk: Uint8Array): FrameChunk[];
}

function earliest(buf: Uint8Array, headers: readonly Uint8Array[], from: number): number {
  let best = -1;
  for (const h of headers) {
    const at = indexOfSeq(buf, h, from);
    if (at !== -1 && (best === -1 || at < best)) best = at;
  }
  return best;
}

function longestPartial(buf: Uint8Array, headers: readonly Uint8Array[]): number {
  let keep = 0;
  for (const h of headers) keep = Math.max(keep, partialSuffix(buf, h));
  return keep;
}

export interface FixedFramerOptions {
  /** Start-of-frame byte sequences (any of them), e.g. `[[0x02]]` for STX. */
  readonly headers: readonly Uint8Array[];
  /** Total frame length in bytes, header and trailer included. */
  readonly length: number;
  /** Structural check of a full-length candidate (trailer bytes); false ⇒ broken, resync. */
  readonly isFrame: (candidate: Uint8Array) => boolean;
}

/**
 * Framer for fixed-length frames that begin with a known header (Toledo continuous, Aclas,
 * Yaohua, HID POS reports). Syncs on the header; a candidate whose trailer is wrong is reported
 * as `broken` and scanning restarts at the next header *inside* it, so a truncated frame never
 * swallows the good frame that follows. Buffer stays below `length + header length`.
 */
export class FixedFramer implements FramerCore {
  readonly #o: FixedFramerOptions;
  #buf: Uint8Array = new Uint8Array(0);
  #discarded = 0;

  constructor(options: FixedFramerOptions) {
    if (options.headers.length === 0 || options.headers.some((h) => h.length === 0)) {
      throw new TypeError('"headers" is empty or holds an empty header');
    }
    if (!Number.isInteger(options.length) || options.length < 2) {
      throw new TypeError('"length" is not an integer >= 2');
    }
    this.#o = options;
  }

  get bufferedBytes(): number {
    return this.#buf.length;
  }

  get discardedBytes(): number {
    return this.#discarded;
  }

  reset(): void {
    this.#buf = new Uint8Array(0);
  }

  /** Hands out and forgets the bytes of a frame still waiting for its rest (idle / end of stream). */
  takeBuffered(): Uint8Array {
    const held = this.#buf;
    this.#buf = new Uint8Array(0);
    return held;
  }

  push(chunk: Uint8Array): FrameChunk[] {
    const { headers, length, isFrame } = this.#o;
    const out: FrameChunk[] = [];
    const buf = concatBytes(this.#buf, chunk);
    let pos = 0;
    for (;;) {
      const h = earliest(buf, headers, pos);
      if (h === -1) {
        const keep = longestPartial(buf.subarray(pos), headers);
        this.#discarded += buf.length - pos - keep;
        pos = buf.length - keep;
        break;
      }
      this.#discarded += h - pos;
      pos = h;
      if (buf.length - h < length) break; // wait for the rest
      const candidate = buf.subarray(h, h + length);
      if (isFrame(candidate)) {
        out.push({ kind: 'frame', bytes: candidate.slice() });
        pos = h + length;
        continue;
      }
      const next = earliest(buf, headers, h + 1);
      const end = next === -1 || next > h + length ? h + length : next;
      out.push({ kind: 'broken', bytes: buf.slice(h, end) });
      pos = end;
    }
    this.#buf = buf.slice(pos);
    return out;
  }
}

export interface DelimitedFramerOptions {
  /** Start-of-frame byte (e.g. STX 0x02). */
  readonly start: number;
  /** End-of-frame byte (e.g. CR 0x0D), included in the frame. */
  readonly end: number;
  /** Longest frame accepted, start and end included. */
  readonly maxLength: number;
}

/**
 * Framer for variable-length `start … end` frames (Toledo 8217: `STX … CR`). A second start
 * byte before the end, or `maxLength` bytes without an end, makes the frame `broken`.
 */
export class DelimitedFramer implements FramerCore {
  readonly #o: DelimitedFramerOptions;
  #buf: Uint8Array = new Uint8Array(0);
  #discarded = 0;

  constructor(options: DelimitedFramerOptions) {
    if (!Number.isInteger(options.maxLength) || options.maxLength < 2) {
      throw new TypeError('"maxLength" is not an integer >= 2');
    }
    this.#o = options;
  }

  get bufferedBytes(): number {
    return this.#buf.length;
  }

  get discardedBytes(): number {
    return this.#discarded;
  }

  reset(): void {
    this.#buf = new Uint8Array(0);
  }

  push(chunk: Uint8Array): FrameChunk[] {
    const { start, end, maxLength } = this.#o;
    const out: FrameChunk[] = [];
    const buf = concatBytes(this.#buf, chunk);
    let pos = 0;
    for (;;) {
      const s = buf.indexOf(start, pos);
      if (s === -1) {
        this.#discarded += buf.length - pos;
        pos = buf.length;
        break;
      }
      this.#discarded += s - pos;
      pos = s;
      let i = s + 1;
      const limit = Math.min(buf.length, s + maxLength);
      while (i < limit && buf[i] !== end && buf[i] !== start) i++;
      if (i < limit && buf[i] === end) {
        out.push({ kind: 'frame', bytes: buf.slice(s, i + 1) });
        pos = i + 1;
      } else if (i < limit || i - s >= maxLength) {
        // A new start byte came first, or the frame is too long: report and resync there.
        out.push({ kind: 'broken', bytes: buf.slice(s, i) });
        pos = i;
      } else {
        break; // incomplete, wait for more
      }
    }
    this.#buf = buf.slice(pos);
    return out;
  }
}
