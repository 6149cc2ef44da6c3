/**
 * Shared checks every scale decoder must pass (used by each protocol.test.ts): the same bytes
 * give the same frames whole, one byte at a time and in seeded random splits; arbitrary bytes
 * never throw and the buffer stays bounded. Test-only; not exported from the package index.
 */
import fc from 'fast-check';
import { expect, it } from 'vitest';
import type { ScaleDecoder, ScaleFrame } from '../types.js';

/** mulberry32: tiny seeded PRNG so random splits are reproducible. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function feed(decoder: ScaleDecoder, chunks: Iterable<Uint8Array>): ScaleFrame[] {
  const out: ScaleFrame[] = [];
  for (const c of chunks) out.push(...decoder.push(c));
  return out;
}

export function bytewise(bytes: Uint8Array): Uint8Array[] {
  return Array.from(bytes, (b) => Uint8Array.of(b));
}

export function randomSplits(bytes: Uint8Array, seed: number, maxChunk = 7): Uint8Array[] {
  const rnd = seededRandom(seed);
  const out: Uint8Array[] = [];
  for (let i = 0; i < bytes.length; ) {
    const n = 1 + Math.floor(rnd() * maxChunk);
    out.push(bytes.subarray(i, i + n));
    i += n;
  }
  return out;
}

export function cat(...parts: Array<Uint8Array | string>): Uint8Array {
  return Buffer.concat(parts.map((p) => (typeof p === 'string' ? Buffer.from(p, 'latin1') : p)));
}

/**
 * Registers the generic tests. `stream` is a representative byte stream (frames, garbage,
 * errors); `maxBuffered` the bound the decoder promises.
 */
export function decoderContract(opts: {
  create: () => ScaleDecoder;
  stream: Uint8Array;
  maxBuffered: number;
  /**
   * One complete weight frame. Checks the classes of defect a decoder's own fixtures tend to
   * miss: a frame without its terminator, trailing garbage after a valid frame, and a second
   * frame glued onto a truncated first (every cut point), each whole and one byte at a time.
   */
  frame?: Uint8Array;
  /**
   * The format has no sync byte (HID reports): a truncated frame cannot be told from the start
   * of the next one in a byte stream, so the glued case is checked the way the link delivers
   * it — the truncated part, then `flush()` (a HID read boundary or an idle gap), then the frame.
   */
  unsynced?: boolean;
}): void {
  const { create, stream, maxBuffered, frame } = opts;
  if (frame !== undefined) truncationContract(create, frame, opts.unsynced ?? false);

  it('gives identical frames whole, byte by byte and in seeded random splits', () => {
    const whole = feed(create(), [stream]);
    expect(whole.length).toBeGreaterThan(0);
    expect(feed(create(), bytewise(stream))).toEqual(whole);
    for (const seed of [1, 2, 3, 42, 1234]) expect(feed(create(), randomSplits(stream, seed))).toEqual(whole);
  });

  it('never throws on arbitrary bytes and keeps its buffer bounded', () => {
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ maxLength: 80 }), { maxLength: 12 }), (chunks) => {
        const d = create();
        for (const c of chunks) {
          const frames = d.push(c);
          expect(Array.isArray(frames)).toBe(true);
          expect(d.bufferedBytes).toBeLessThanOrEqual(maxBuffered);
        }
      }),
      { numRuns: 150, seed: 20261126 },
    );
  });

  it('is back in sync after arbitrary garbage: garbage + stream + stream ends with the frames of stream', () => {
    const expected = feed(create(), [stream]);
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 60 }), (garbage) => {
        const frames = feed(create(), [garbage, stream, stream]);
        expect(frames.slice(-expected.length)).toEqual(expected);
      }),
      { numRuns: 100, seed: 7 },
    );
  });
}

const weights = (frames: ScaleFrame[]) => frames.filter((f) => f.type === 'weight' || f.type === 'status' || f.type === 'reply');
/** A reading without its raw text (which legitimately shows what was received). */
const meaning = (frames: ScaleFrame[]) => weights(frames).map(({ raw: _raw, ...rest }) => rest);

function truncationContract(create: () => ScaleDecoder, frame: Uint8Array, unsynced: boolean): void {
  const both = (bytes: Uint8Array) => {
    const whole = feed(create(), [bytes]);
    expect(feed(create(), bytewise(bytes))).toEqual(whole);
    return whole;
  };
  it('the frame alone decodes to exactly one reading', () => {
    expect(weights(both(frame))).toHaveLength(1);
  });
  it('a frame without its last byte (terminator) gives no reading', () => {
    for (let k = 1; k < frame.length; k++) expect(weights(both(frame.subarray(0, k)))).toEqual([]);
  });
  it('a second frame glued onto a truncated first never gives a wrong reading', () => {
    // Either the second frame's reading or none (a line protocol cannot tell where the glued
    // line started, so it drops both) — never a value made of the two.
    const expected = meaning(feed(create(), [frame]));
    for (let k = 1; k < frame.length; k++) {
      let got: ReturnType<typeof meaning>;
      if (unsynced) {
        const d = create();
        const out = [...d.push(frame.subarray(0, k)), ...(d.flush?.() ?? []), ...d.push(frame)];
        got = meaning(out);
        expect(got, `cut after ${k} bytes, then a read boundary`).toEqual(expected);
      } else {
        got = meaning(both(cat(frame.subarray(0, k), frame)));
        expect(got.length === 0 || JSON.stringify(got) === JSON.stringify(expected), `cut after ${k} bytes: ${JSON.stringify(got)}`).toBe(true);
      }
    }
  });
  it('trailing garbage after a valid frame does not change or add a reading', () => {
    const expected = weights(feed(create(), [frame]));
    for (const garbage of ['x', '\xff\x00', '??', '0000', frame.subarray(1)]) {
      const tail = typeof garbage === 'string' ? Buffer.from(garbage, 'latin1') : garbage;
      expect(weights(both(cat(frame, tail))), `garbage ${JSON.stringify(Buffer.from(tail).toString('latin1'))}`).toEqual(expected);
    }
  });
}

/** The PKL_* code a function throws, or 'no throw' (so a missing throw fails the assertion). */
export function thrownCode(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    return (err as { code?: string }).code ?? String(err);
  }
  return 'no throw';
}
