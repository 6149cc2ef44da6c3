/**
 * Input generators shared by the fuzz targets. Byte-level mutation runs on a small seeded
 * PRNG (fast: millions of inputs); structured values (JSON payloads, bodies, configs) come
 * from fast-check arbitraries sampled with the batch seed.
 */
import fc from 'fast-check';

/** mulberry32: a tiny seeded PRNG, so every generated input is reproducible from its seed. */
export class Rng {
  private a: number;
  constructor(seed: number) {
    this.a = seed >>> 0;
  }
  next(): number {
    this.a = (this.a + 0x6d2b79f5) >>> 0;
    let t = this.a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  int(n: number): number {
    return Math.floor(this.next() * n);
  }
  range(lo: number, hi: number): number {
    return lo + this.int(hi - lo + 1);
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
  pick<T>(xs: readonly T[]): T {
    return xs[this.int(xs.length)] as T;
  }
  bytes(n: number): Uint8Array {
    const out = new Uint8Array(n);
    for (let i = 0; i < n; i++) out[i] = this.int(256);
    return out;
  }
}

/** Bytes that mean something to framers: STX, ETX, CR, LF, ENQ, ACK, NUL, 0xFF, digits, signs. */
const INTERESTING = [0x00, 0x02, 0x03, 0x05, 0x06, 0x0a, 0x0d, 0x1d, 0x20, 0x2b, 0x2d, 0x2e, 0x30, 0x39, 0x3b, 0x7f, 0x80, 0xff];

function interestingByte(rng: Rng): number {
  return rng.chance(0.5) ? rng.pick(INTERESTING) : rng.int(256);
}

/** Applies 1..4 random mutations: bit flip, byte set, insert, delete, duplicate, truncate. */
export function mutate(rng: Rng, input: Uint8Array): Uint8Array {
  let b = Array.from(input);
  const n = rng.range(1, 4);
  for (let k = 0; k < n; k++) {
    const at = b.length === 0 ? 0 : rng.int(b.length);
    switch (rng.int(7)) {
      case 0:
        if (b.length > 0) b[at] = (b[at] as number) ^ (1 << rng.int(8));
        break;
      case 1:
        if (b.length > 0) b[at] = interestingByte(rng);
        break;
      case 2: {
        const ins = Array.from({ length: rng.range(1, 8) }, () => interestingByte(rng));
        b.splice(at, 0, ...ins);
        break;
      }
      case 3:
        b.splice(at, rng.range(1, 6));
        break;
      case 4: {
        const len = rng.range(1, Math.max(1, Math.min(16, b.length - at)));
        b.splice(at, 0, ...b.slice(at, at + len));
        break;
      }
      case 5:
        b = b.slice(0, at);
        break;
      default:
        if (b.length > 0) b[at] = ((b[at] as number) + rng.range(-3, 3)) & 0xff;
    }
  }
  return Uint8Array.from(b);
}

/** Splits bytes into chunks at random points (1..maxChunk bytes, sometimes whole). */
export function split(rng: Rng, bytes: Uint8Array, maxChunk = 9): Uint8Array[] {
  if (rng.chance(0.2)) return [bytes];
  const out: Uint8Array[] = [];
  for (let i = 0; i < bytes.length; ) {
    const n = 1 + rng.int(maxChunk);
    out.push(bytes.subarray(i, i + n));
    i += n;
  }
  if (out.length === 0) out.push(new Uint8Array(0));
  return out;
}

export function concat(parts: readonly Uint8Array[]): Uint8Array {
  return Uint8Array.from(Buffer.concat(parts));
}

/**
 * One stream for a byte-protocol decoder: random bytes, valid frames, or valid frames
 * mutated, with garbage around them, then split at random points.
 */
export function byteStream(rng: Rng, valid: () => Uint8Array): Uint8Array[] {
  const kind = rng.int(10);
  let bytes: Uint8Array;
  if (kind < 2) {
    bytes = rng.bytes(rng.range(0, 96));
  } else {
    const frames: Uint8Array[] = [];
    const count = rng.range(1, 4);
    for (let i = 0; i < count; i++) {
      const f = valid();
      frames.push(kind < 5 ? f : rng.chance(0.7) ? mutate(rng, f) : f);
      if (rng.chance(0.15)) frames.push(rng.bytes(rng.range(1, 12)));
    }
    bytes = concat(frames);
    if (kind >= 8) bytes = mutate(rng, bytes);
  }
  return split(rng, bytes);
}

/** Strings that tend to break parsers. */
export const NASTY_STRINGS = [
  '',
  ' ',
  '\u0000',
  '\n',
  '+',
  '#',
  '/',
  '../../etc/passwd',
  '%00',
  '%',
  '%zz',
  '__proto__',
  'constructor',
  'toString',
  'NaN',
  'Infinity',
  '-0',
  '1e309',
  '9007199254740993',
  '0x10',
  '𝌆',
  '\ud800',
  'A'.repeat(300),
  '"',
  "'",
  '\\',
  '{}',
  '[]',
  'null',
  'true',
];

export const nastyString = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom(...NASTY_STRINGS) },
  { weight: 3, arbitrary: fc.string({ maxLength: 24 }) },
  { weight: 1, arbitrary: fc.string({ unit: 'grapheme', maxLength: 16 }) },
  { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 16 }) },
);

export const nastyNumber = fc.oneof(
  fc.integer(),
  fc.double(),
  fc.constantFrom(0, -0, -1, 1, 2 ** 31, 2 ** 32, 2 ** 53, -(2 ** 53), 1e308, Number.MAX_SAFE_INTEGER + 2, 4_294_967_296, 500_001, -500_001, 10_001),
);

/** Any JSON value, with nasty strings and numbers at the leaves. */
export const jsonish: fc.Arbitrary<unknown> = fc.letrec<{ value: unknown }>((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    nastyString,
    nastyNumber,
    fc.boolean(),
    fc.constant(null),
    fc.array(tie('value'), { maxLength: 4 }),
    fc.dictionary(nastyString, tie('value'), { maxKeys: 4 }),
  ),
})).value;

/**
 * A valid object with a few fields changed: each field may be dropped, replaced by any JSON
 * value, or joined by an unknown field.
 */
export function mutatedObject(rng: Rng, base: Record<string, unknown>, values: readonly unknown[]): Record<string, unknown> {
  const out: Record<string, unknown> = { ...base };
  const keys = Object.keys(out);
  const n = rng.range(1, 3);
  for (let i = 0; i < n; i++) {
    const choice = rng.int(4);
    if (choice === 0 && keys.length > 0) delete out[rng.pick(keys)];
    else if (choice <= 2 && keys.length > 0) out[rng.pick(keys)] = rng.pick(values);
    else out[rng.pick(['x', 'extra', '__proto__', 'constructor', 'msg_id', 'ts'])] = rng.pick(values);
  }
  return out;
}
