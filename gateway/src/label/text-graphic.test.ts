import { describe, expect, it } from 'vitest';
import { toGraphicField } from './text-graphic.js';

describe('toGraphicField (ZPL II ^GF, ASCII hex with the alternative compression scheme)', () => {
  it('packs bits MSB first, repeats a row with ":", ends a row of trailing zero bytes with ","', () => {
    const width = 10;
    const rows = [
      [0, 9], // 1000 0000 | 01.. → 80 40
      [0, 9], // same row → :
      [0], // 80 00 → "80,"
      [], // 00 00 → ","
    ];
    const bits = new Uint8Array(width * rows.length);
    rows.forEach((xs, y) => {
      for (const x of xs) bits[y * width + x] = 1;
    });
    // b = c = 2 bytes per row × 4 rows; d = 2 bytes per row.
    expect(toGraphicField({ width, height: rows.length, bits })).toBe('^GFA,8,8,2,8040:80,,');
  });

  it('a first row of zeros is "," (not a repeat of nothing)', () => {
    expect(toGraphicField({ width: 3, height: 2, bits: new Uint8Array(6) })).toBe('^GFA,2,2,1,,:');
  });
});
