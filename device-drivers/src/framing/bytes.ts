/** Small byte helpers shared by the framers and the protocol decoders (pure, no I/O). */

export function concatBytes(a: Uint8Array, b: Uint8Array): Uint8Array {
  if (a.length === 0) return b;
  if (b.length === 0) return a;
  const out = new Uint8Array(a.length + b.length);
  out.set(a, 0);
  out.set(b, a.length);
  return out;
}

/** ASCII/Latin-1 text of a byte range (device frames are 7/8-bit ASCII, never UTF-8). */
export function latin1(bytes: Uint8Array, start = 0, end = bytes.length): string {
  let s = '';
  for (let i = start; i < end; i++) s += String.fromCharCode(bytes[i] ?? 0);
  return s;
}

/** Bytes of an ASCII string; throws on characters above 0xFF (callers validate first). */
export function asciiBytes(text: string): Uint8Array {
  const out = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c > 0xff) throw new RangeError(`"text" has a non-Latin-1 character at ${i}`);
    out[i] = c;
  }
  return out;
}

/**
 * Human-readable rendering of raw frame bytes for logs and the `raw` field of decoded
 * frames: printable ASCII as is, everything else as `\xNN` (so `\x02001.23\x0d`).
 */
export function describeBytes(bytes: Uint8Array, start = 0, end = bytes.length): string {
  let s = '';
  for (let i = start; i < end; i++) {
    const c = bytes[i] ?? 0;
    s += c >= 0x20 && c <= 0x7e && c !== 0x5c ? String.fromCharCode(c) : `\\x${c.toString(16).padStart(2, '0')}`;
  }
  return s;
}

/** Index of `needle` in `hay` at or after `from`, or -1. */
export function indexOfSeq(hay: Uint8Array, needle: Uint8Array, from = 0): number {
  const first = needle[0];
  if (first === undefined) return from <= hay.length ? from : -1;
  outer: for (let i = Math.max(0, from); i + needle.length <= hay.length; i++) {
    if (hay[i] !== first) continue;
    for (let j = 1; j < needle.length; j++) if (hay[i + j] !== needle[j]) continue outer;
    return i;
  }
  return -1;
}

/**
 * Length of the longest suffix of `hay` that is a proper prefix of `needle`: the bytes that
 * must be kept because the next chunk may complete a delimiter or header.
 */
export function partialSuffix(hay: Uint8Array, needle: Uint8Array): number {
  for (let n = Math.min(needle.length - 1, hay.length); n > 0; n--) {
    let ok = true;
    for (let j = 0; j < n; j++) {
      if (hay[hay.length - n + j] !== needle[j]) {
        ok = false;
        break;
      }
    }
    if (ok) return n;
  }
  return 0;
}
