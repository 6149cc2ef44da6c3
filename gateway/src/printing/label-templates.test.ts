/**
 * The shipped carrier templates (gateway/templates/*.json) rendered to ZPL and TSPL against
 * golden files (printing/golden/templates/; regenerate with UPDATE_GOLDEN=1 after a deliberate
 * layout change and look at the PNGs), template errors as codes, and the PNG preview showing the
 * Chinese text (drawn as ^GF with the configured TrueType font).
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { PacklineError } from '../../../contracts/errors.js';
import { renderZplPng } from '../../../device-drivers/src/printer/zpl/png.js';
import type { LabelData } from '../label/label-data.js';
import { renderLabel } from '../label/render.js';
import { DRAWN_TEXT_MAX, maskPhone, parseTemplate } from '../label/template.js';
import { toGraphicField } from '../label/text-graphic.js';
import { BUILTIN_ZPL_TEMPLATE, BUNDLED_TEMPLATE_FONT, DEFAULT_TEMPLATE_FONT, LabelTemplates } from './label-templates.js';

const GOLDEN = fileURLToPath(new URL('./golden/templates/', import.meta.url));
const UPDATE = process.env.UPDATE_GOLDEN === '1';

const DATA: LabelData = {
  waybill: '731200000001',
  carrier: 'ZTO',
  receiverName: '张三',
  receiverPhone: '13812345678',
  receiverAddress: '浙江省杭州市余杭区文一西路 969 号 淘宝城 3 号楼 5 单元 1201 室（请放门口）',
  routingCode: '310-A01',
  sortCode: '杭州 余杭',
  grams: 1234,
  orderId: 'TB20261111000123',
  items: '白色T恤 x2; 棉袜 x1; 帆布包 x1',
  shop: '旗舰店',
};

const codeOf = (fn: () => unknown): string => {
  try {
    fn();
  } catch (err) {
    return err instanceof PacklineError ? err.code : `not coded: ${String(err)}`;
  }
  return 'no error';
};

function golden(name: string, actual: string): void {
  const file = join(GOLDEN, name);
  if (UPDATE || !existsSync(file)) {
    mkdirSync(GOLDEN, { recursive: true });
    writeFileSync(file, actual);
  }
  expect(actual).toBe(readFileSync(file, 'utf8'));
}

const all = new LabelTemplates({ carriers: { ZTO: 'zto-76x130', YTO: 'yto-76x130', SF: 'sf-100x150' }, default: 'standard-76x130' });
/** The same templates with their own font instance (so an empty cache of drawn text). */
const fresh = () => new LabelTemplates({ carriers: { ZTO: 'zto-76x130', YTO: 'yto-76x130', SF: 'sf-100x150' }, default: 'standard-76x130' });

describe('shipped templates', () => {
  it('ships at least ZTO, YTO and SF plus a default, each valid', () => {
    expect(all.ids()).toEqual(expect.arrayContaining(['standard-76x130', 'zto-76x130', 'yto-76x130', 'sf-100x150']));
    for (const id of all.ids()) expect(all.get(id).id).toBe(id);
    expect(all.get('sf-100x150')).toMatchObject({ widthMm: 100, heightMm: 150, carriers: ['SF'] });
    expect(all.get('zto-76x130')).toMatchObject({ widthMm: 76, heightMm: 130 });
  });

  for (const [carrier, id] of [
    ['ZTO', 'zto-76x130'],
    ['YTO', 'yto-76x130'],
    ['SF', 'sf-100x150'],
    ['JT', 'standard-76x130'],
  ] as const) {
    it(`${carrier} → ${id}: ZPL and TSPL match their golden files`, () => {
      const d = { ...DATA, carrier };
      const zpl = renderLabel('zpl', d, { templates: all });
      const tspl = renderLabel('tspl', d, { templates: all });
      golden(`${id}.zpl`, zpl);
      golden(`${id}.tspl`, tspl);
      // ZPL: barcode with the waybill, Chinese as graphics only (no text that needs a printer font).
      expect(zpl).toContain(`^FD${DATA.waybill}^FS`);
      expect(zpl).toContain('^GFA,');
      expect(zpl).not.toMatch(/[\u4e00-\u9fff]/);
      // TSPL: every field as text in the printer's font, phone masked.
      expect(tspl).toContain(`"128",`);
      expect(tspl).toContain('138****5678');
      expect(tspl).not.toContain('13812345678');
      expect(tspl).toContain('张三');
    });
  }

  it('text drawn for one label is reused only for the same text in the same place: every label equals one drawn with an empty cache', () => {
    const first = renderLabel('zpl', DATA, { templates: all });
    // More distinct recipients than the cache keeps (DRAWN_TEXT_MAX), each checked against a
    // template set with its own font (its own, empty cache).
    for (let i = 0; i < DRAWN_TEXT_MAX + 40; i += 1) {
      const d = { ...DATA, receiverName: `收件人${i}`, receiverAddress: `${DATA.receiverAddress}${i}` };
      const zpl = renderLabel('zpl', d, { templates: all });
      if (i % 97 === 0) expect(zpl).toBe(renderLabel('zpl', d, { templates: fresh() }));
      expect(zpl).not.toBe(first);
    }
    // The first label's own texts were pushed out by then and are drawn again, the same.
    expect(renderLabel('zpl', DATA, { templates: all })).toBe(first);
    expect(renderLabel('zpl', DATA, { templates: fresh() })).toBe(first);
  });

  it('no templates configured: the built-in ZPL label draws its Chinese as graphics with the bundled font (no printer font assumed)', () => {
    const none = new LabelTemplates({});
    expect(none.enabled).toBe(false);
    expect(none.fontPath).toBe(BUNDLED_TEMPLATE_FONT);
    const zpl = renderLabel('zpl', DATA, { templates: none });
    expect(zpl).toBe(renderLabel('zpl', DATA, { templates: new LabelTemplates({ default: BUILTIN_ZPL_TEMPLATE }) }));
    expect(zpl).toContain('^GFA,');
    expect(zpl).not.toMatch(/\^CW|\^CI28|ANMDS/);
    expect(zpl).not.toContain('张三');
    // TSPL keeps its built-in label (text in the printer's font), the phone masked.
    const tspl = renderLabel('tspl', DATA, { templates: none });
    expect(tspl).toContain('138****5678');
    expect(tspl).not.toContain('13812345678');
  });

  it('the old ^CW printer-font label (still used by the Cainiao path) masks the phone too', () => {
    const zpl = renderLabel('zpl', DATA, {});
    expect(zpl).toContain('138****5678');
    expect(zpl).not.toContain('13812345678');
  });
});

describe('template errors are coded', () => {
  it('refuses unknown fields, missing barcode and bad geometry', () => {
    const base = { id: 'x', widthMm: 76, heightMm: 130, elements: [{ type: 'barcode', x: 10, y: 10, height: 100 }] };
    expect(parseTemplate(base, 'x').id).toBe('x');
    expect(codeOf(() => parseTemplate({ ...base, elements: [...base.elements, { type: 'text', x: 1, y: 1, size: 20, text: '{nope}' }] }, 'x'))).toBe(
      'PKL_TEMPLATE_INVALID',
    );
    expect(codeOf(() => parseTemplate({ ...base, elements: [{ type: 'text', x: 1, y: 1, size: 20, text: 'a' }] }, 'x'))).toBe('PKL_TEMPLATE_INVALID');
    expect(codeOf(() => parseTemplate({ ...base, elements: [{ type: 'barcode', x: 9999, y: 1, height: 100 }] }, 'x'))).toBe('PKL_TEMPLATE_INVALID');
  });

  it('an unknown template id, a missing font, a TSPL font name that is not one', () => {
    expect(codeOf(() => renderLabel('zpl', DATA, { templates: new LabelTemplates({ carriers: { ZTO: 'no-such' } }) }))).toBe('PKL_TEMPLATE_NOT_FOUND');
    expect(codeOf(() => renderLabel('zpl', DATA, { templates: new LabelTemplates({ default: 'zto-76x130', font: '/nonexistent/font.ttf' }) }))).toBe(
      'PKL_TEMPLATE_FONT_INVALID',
    );
    expect(codeOf(() => renderLabel('tspl', DATA, { templates: new LabelTemplates({ default: 'zto-76x130', tsplFont: 'A"B' }) }))).toBe(
      'PKL_TEMPLATE_FONT_INVALID',
    );
  });

  it('a character the font cannot draw', () => {
    expect(codeOf(() => renderLabel('zpl', { ...DATA, receiverName: '\u{1F4E6}' }, { templates: all }))).toBe('PKL_TEMPLATE_GLYPH_MISSING');
  });

  it('a waybill Code 128 cannot carry stays the order-data error (the shipment is held)', () => {
    expect(codeOf(() => renderLabel('zpl', { ...DATA, waybill: 'SF>1' }, { templates: all }))).toBe('PKL_LABEL_TEMPLATE_ERROR');
  });
});

describe('pieces', () => {
  it('masks 11-digit mobile numbers, leaves masked and other numbers', () => {
    expect(maskPhone('13812345678')).toBe('138****5678');
    expect(maskPhone('+86 138 1234 5678')).toBe('138****5678');
    expect(maskPhone('138****0000')).toBe('138****0000');
    expect(maskPhone('0571-88888888')).toBe('0571-88888888');
  });

  it('^GF rows use ZPL compression: "," ends a row with zeros, ":" repeats the previous row', () => {
    const bits = new Uint8Array(16 * 3);
    bits[0] = 1; // row 0: 80 00 → "80,"
    bits[16] = 1; // row 1 = row 0 → ":"
    bits.fill(1, 32, 48); // row 2: FF FF
    expect(toGraphicField({ width: 16, height: 3, bits })).toBe('^GFA,6,6,2,80,:FFFF');
  });
});

describe('PNG preview', () => {
  it('renders a templated label with its Chinese text drawn (ink where the text is)', async () => {
    expect(existsSync(DEFAULT_TEMPLATE_FONT)).toBe(true);
    const zpl = renderLabel('zpl', DATA, { templates: all });
    const png = await renderZplPng(zpl);
    expect(png.subarray(1, 4).toString('latin1')).toBe('PNG');
    if (UPDATE) writeFileSync(join(GOLDEN, 'zto-76x130.png'), png);
  }, 60_000);
});
