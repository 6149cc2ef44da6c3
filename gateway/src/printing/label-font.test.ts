/**
 * The label font that comes with `npm install` (gateway/fonts/wqy-microhei.ttc, read by the
 * repo's own TrueType reader): it must hold every character of GB 2312 levels 1 and 2 (the
 * 6,763 hanzi every Chinese address system can produce) and the rarer characters real district
 * names use, and a template that cannot draw its text is found before a label is printed.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { TrueTypeFont } from '../label/truetype.js';
import { BUNDLED_TEMPLATE_FONT, LabelTemplates, SAMPLE_LABEL, templateFix } from './label-templates.js';

/** GB 2312 (GB/T 2312-1980) hanzi by row: level 1 rows 16–55 (row 55 ends at cell 89), level 2 rows 56–87. */
function gb2312Hanzi(level: 1 | 2): string[] {
  const gbk = new TextDecoder('gbk', { fatal: true });
  const [first, last] = level === 1 ? [16, 55] : [56, 87];
  const out: string[] = [];
  for (let row = first; row <= last; row++) {
    for (let cell = 1; cell <= 94; cell++) {
      if (row === 55 && cell > 89) continue;
      out.push(gbk.decode(Uint8Array.of(0xa0 + row, 0xa0 + cell)));
    }
  }
  return out;
}

/** District and street names outside GB 2312 that real addresses carry (民政部 administrative division names). */
const ADDRESS_CHARS = [...'埇浉鄠硚垟栟洺磡'];

describe('the bundled label font', () => {
  const font = TrueTypeFont.load(BUNDLED_TEMPLATE_FONT);

  it('covers GB 2312 level 1 (3,755) and level 2 (3,008) through its cmap', () => {
    const l1 = gb2312Hanzi(1);
    const l2 = gb2312Hanzi(2);
    expect([l1.length, l2.length]).toEqual([3755, 3008]);
    expect(l1.filter((c) => !font.hasGlyph(c.codePointAt(0) as number))).toEqual([]);
    expect(l2.filter((c) => !font.hasGlyph(c.codePointAt(0) as number))).toEqual([]);
  });

  it('covers address characters outside GB 2312, ASCII and the full-width forms', () => {
    const gb = new Set([...gb2312Hanzi(1), ...gb2312Hanzi(2)]);
    expect(ADDRESS_CHARS.filter((c) => gb.has(c))).toEqual([]); // really outside GB 2312
    const more = [...ADDRESS_CHARS, ...'０１２３４５６７８９（）；：，。、—', ...Array.from({ length: 95 }, (_, i) => String.fromCharCode(0x20 + i))];
    expect(more.filter((c) => c !== ' ' && !font.hasGlyph(c.codePointAt(0) as number))).toEqual([]);
  });

  it('draws a character with ink (TrueType outlines, not an empty glyph)', () => {
    const g = font.glyph('鄠'.codePointAt(0) as number, 48);
    expect(g.bits.reduce((a, b) => a + b, 0)).toBeGreaterThan(100);
  });
});

describe('templates that cannot draw their text are found before a label is', () => {
  it('none by default, with the sample label of real address characters', () => {
    expect(new LabelTemplates({}).problems()).toEqual([]);
    expect(SAMPLE_LABEL.receiverAddress).toContain('埇桥区');
  });

  it('a configured font still overrides the bundled one, and a missing one is reported with its fix', () => {
    const t = new LabelTemplates({ font: '/nonexistent/font.ttf' });
    expect(t.fontPath).toBe('/nonexistent/font.ttf');
    const problems = t.problems();
    expect(problems.map((e) => e.code)).toEqual(['PKL_TEMPLATE_FONT_INVALID']);
    expect(templateFix(problems[0]!)).toContain('printing.templates.font');
  });

  it('a site template with a character the font lacks, and an unknown template id', () => {
    const dir = mkdtempSync(join(tmpdir(), 'pkl-tpl-'));
    writeFileSync(
      join(dir, 'odd.json'),
      JSON.stringify({
        id: 'odd',
        widthMm: 76,
        heightMm: 130,
        elements: [
          { type: 'barcode', x: 24, y: 150, height: 120 },
          { type: 'text', x: 24, y: 10, size: 28, text: '𠀀 {carrier}' },
        ],
      }),
    );
    const problems = new LabelTemplates({ dir, carriers: { ZTO: 'odd', YTO: 'no-such' } }).problems();
    expect(problems.map((e) => e.code).sort()).toEqual(['PKL_TEMPLATE_GLYPH_MISSING', 'PKL_TEMPLATE_NOT_FOUND']);
  });
});
