import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { BUNDLED_TEMPLATE_FONT } from '../printing/label-templates.js';
import { drawLine, graphicLine, toGraphicField } from './text-graphic.js';
import { TrueTypeFont } from './truetype.js';

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

describe('graphicLine (packed rasterising) draws exactly what drawLine + toGraphicField draw', () => {
  const font = TrueTypeFont.load(BUNDLED_TEMPLATE_FONT);
  /** The per-pixel reference: the line drawn a byte per pixel, cut at the box, then encoded. */
  function reference(text: string, px: number, clipWidth?: number): string {
    const bmp = drawLine(font, text, px, 't');
    if (clipWidth === undefined || bmp.width <= clipWidth) return toGraphicField(bmp);
    const bits = new Uint8Array(clipWidth * bmp.height);
    for (let y = 0; y < bmp.height; y++) bits.set(bmp.bits.subarray(y * bmp.width, y * bmp.width + clipWidth), y * clipWidth);
    return toGraphicField({ width: clipWidth, height: bmp.height, bits });
  }
  // Label text as it comes: CJK (common and rare address characters), Latin, digits, full-width
  // punctuation, the spaces drawLine treats as blank, the masked phone's stars.
  const pool = Array.from('收件人张三丰李四埇桥区浉河鄠邑硚口上海市浦东新区路号（）；，。ABCxyz0123456789-*#  　…重量店铺订单');

  it('on random lines, sizes and boxes', () => {
    fc.assert(
      fc.property(
        fc.array(fc.constantFrom(...pool), { minLength: 1, maxLength: 40 }),
        fc.integer({ min: 8, max: 96 }),
        fc.option(fc.integer({ min: 1, max: 700 }), { nil: undefined }),
        (chars, px, clip) => {
          const text = chars.join('');
          const g = graphicLine(font, text, px, 't', clip);
          expect(g.field).toBe(reference(text, px, clip));
          expect(g.height).toBe(font.lineHeight(px));
        },
      ),
      { numRuns: 400 },
    );
  });

  it('on boxes cut at every bit of a byte', () => {
    for (let clip = 1; clip <= 64; clip++) expect(graphicLine(font, '中通快递 ZTO', 28, 't', clip).field).toBe(reference('中通快递 ZTO', 28, clip));
  });

  it('names a character the font lacks', () => {
    expect(() => graphicLine(font, 'a\u{1F4E6}', 28, 't')).toThrow(expect.objectContaining({ code: 'PKL_TEMPLATE_GLYPH_MISSING' }));
  });
});

describe('TrueTypeFont.load reads glyph outlines from the file on first use', () => {
  it('draws every glyph exactly as the font read whole does', () => {
    const whole = new TrueTypeFont(readFileSync(BUNDLED_TEMPLATE_FONT), 'whole');
    const lazy = TrueTypeFont.load(BUNDLED_TEMPLATE_FONT);
    // CJK unified ideographs sampled across the block,
    // the rare address characters, ASCII, full-width forms.
    const cps = [...'埇桥浉鄠硚（）；，。０９', ...Array.from({ length: 95 }, (_, i) => String.fromCharCode(0x20 + i))].map((c) => c.codePointAt(0) as number);
    for (let cp = 0x4e00; cp < 0x9fa5; cp += 1201) cps.push(cp);
    for (const px of [28, 72]) {
      for (const cp of cps) {
        expect(lazy.hasGlyph(cp)).toBe(whole.hasGlyph(cp));
        expect(lazy.packedGlyph(cp, px)).toEqual(whole.packedGlyph(cp, px));
      }
    }
  });

  it('names a font file it cannot read', () => {
    expect(() => TrueTypeFont.load('/nonexistent/font.ttf')).toThrow(expect.objectContaining({ code: 'PKL_TEMPLATE_FONT_INVALID' }));
  });
});
