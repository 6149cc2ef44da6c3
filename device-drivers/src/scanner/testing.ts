/** Test helpers shared by the scanner decoder tests (test-only; not used by drivers). */
import fc from 'fast-check';
import { expect, it } from 'vitest';
import type { ScannerDecoder, ScannerFrame } from './types.js';

export { bytewise, cat, randomSplits } from '../scale/testing/decoder-contract.js';
import { bytewise, randomSplits } from '../scale/testing/decoder-contract.js';

export function feed(decoder: ScannerDecoder, chunks: Iterable<Uint8Array>): ScannerFrame[] {
  const out: ScannerFrame[] = [];
  for (const c of chunks) out.push(...decoder.push(c));
  return out;
}

export const codes = (frames: ScannerFrame[]) => frames.map((f) => (f.type === 'scan' ? f.code : `!${f.code}`));

/** Same frames whole, byte by byte and in seeded random splits; random bytes never throw; bounded buffer. */
export function scannerDecoderContract(create: () => ScannerDecoder, stream: Uint8Array, maxBuffered: number): void {
  it('gives identical frames whole, byte by byte and in seeded random splits', () => {
    const whole = feed(create(), [stream]);
    expect(whole.length).toBeGreaterThan(0);
    expect(feed(create(), bytewise(stream))).toEqual(whole);
    for (const seed of [1, 2, 3]) expect(feed(create(), randomSplits(stream, seed, 13))).toEqual(whole);
  });
  it('never throws on random bytes and keeps its buffer bounded', () => {
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ maxLength: 80 }), { maxLength: 20 }), (chunks) => {
        const d = create();
        for (const c of chunks) {
          d.push(c);
          expect(d.bufferedBytes).toBeLessThanOrEqual(maxBuffered);
        }
        d.flush();
      }),
      { numRuns: 150, seed: 7 },
    );
  });
}
