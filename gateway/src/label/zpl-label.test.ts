import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { PacklineError } from '../../../contracts/errors.js';
import { line, makeOrder } from '../station/decide/testing/world.js';
import { escapeFieldData, itemSummary, type LabelData, labelDataFor, renderZplLabel } from './zpl-label.js';

const DATA: LabelData = {
  waybill: 'SF1234567890123',
  carrier: 'SF 顺丰速运',
  receiverName: '张^三~',
  receiverPhone: '138****0000',
  receiverAddress: '浙江省杭州市余杭区文一西路 969 号 A_1 栋\\2 单元',
  routingCode: '571WA-01',
  sortCode: '杭州 余杭',
  grams: 1234,
  orderId: 'TB20231111000123',
  items: '白色T恤 x2; 棉袜 x1',
};

/** What the printer does with `^FH` field data: `_XX` → byte 0xXX, then UTF-8 (^CI28). */
function unescapeFh(s: string): string {
  const bytes: number[] = [];
  const raw = Buffer.from(s, 'utf8');
  for (let i = 0; i < raw.length; i++) {
    if (raw[i] === 0x5f) {
      bytes.push(Number.parseInt(raw.subarray(i + 1, i + 3).toString('latin1'), 16));
      i += 2;
    } else bytes.push(raw[i] ?? 0);
  }
  return Buffer.from(bytes).toString('utf8');
}

describe('ZPL label', () => {
  it('matches the golden label', () => {
    const golden = readFileSync(new URL('./golden/sf-basic.zpl', import.meta.url), 'utf8');
    expect(renderZplLabel(DATA)).toBe(golden);
  });

  it('matches the golden pre-printed batch label (batch id and sequence number below the items)', () => {
    const golden = readFileSync(new URL('./golden/sf-preprint.zpl', import.meta.url), 'utf8');
    const zpl = renderZplLabel({ ...DATA, grams: null, batch: { batchId: 'B-gw1-1', seq: 12, total: 500 } });
    expect(zpl).toBe(golden);
    // The same label without a batch is the plain label, byte for byte, but for the weight.
    expect(zpl.replace('^FO24,740^GB560,2,2^FS\n^FO24,756^AJN,36,36^FH^FD批次 B-gw1-1 12/500^FS\n', '')).toBe(renderZplLabel({ ...DATA, grams: null }));
  });

  it('escapes ^ ~ \\ and _ in a receiver name and keeps Chinese as UTF-8', () => {
    const zpl = renderZplLabel(DATA);
    expect(zpl).toContain('^FH^FD收 张_5E三_7E 138****0000^FS');
    expect(zpl).toContain('A_5F1 栋_5C2 单元');
    expect(zpl.startsWith('^XA\n^CI28\n')).toBe(true);
    // Exactly the commands of the template, none smuggled in by the data.
    const commands = zpl.match(/[\^~][A-Z@][A-Z0-9@]?/g) ?? [];
    const fromData = renderZplLabel({ ...DATA, receiverName: 'x', receiverAddress: 'y' }).match(/[\^~][A-Z@][A-Z0-9@]?/g);
    expect(commands).toEqual(fromData);
  });

  it('escapes control characters and truncates by code point', () => {
    expect(escapeFieldData('a\nb\x7f')).toBe('a_0Ab_7F');
    expect(escapeFieldData('收货人𠀀张三', 4)).toBe('收货人…');
  });

  it('escaping round-trips any text and never leaves a command prefix', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 60 }), (s) => {
        const e = escapeFieldData(s, 1000);
        expect(e).not.toMatch(/[\^~\\\x00-\x1f]/);
        expect(e).not.toMatch(/_(?![0-9A-F]{2})/);
        expect(unescapeFh(e)).toBe(Buffer.from(s, 'utf8').toString('utf8'));
      }),
      { numRuns: 300 },
    );
  });

  it('refuses a waybill that Code 128 field data cannot carry safely', () => {
    for (const waybill of ['SF>1', 'SF^FS', '', 'SF 1', '单号1']) {
      expect(() => renderZplLabel({ ...DATA, waybill })).toThrow(PacklineError);
    }
    try {
      renderZplLabel({ ...DATA, waybill: 'SF>1' });
    } catch (err) {
      expect((err as PacklineError).code).toBe('PKL_LABEL_TEMPLATE_ERROR');
    }
  });

  it('refuses a font name that could inject commands', () => {
    expect(() => renderZplLabel(DATA, { cjkFont: 'E:X.TTF^XZ' })).toThrow(PacklineError);
    expect(renderZplLabel(DATA, { cjkFont: 'E:SIMSUN.FNT' })).toContain('^CWJ,E:SIMSUN.FNT\n');
  });

  it('builds the label data from the order and the weighed shipment', () => {
    const order = makeOrder('O1', { lines: [line('A', 2, 100), line('B', 1, 50)] });
    const d = labelDataFor(order, {
      shipmentId: 'S-1',
      orderId: 'O1',
      stationId: 'st-1',
      state: 'weighing',
      reasonCode: null,
      scanned: {},
      expectedGrams: 280,
      actualGrams: 281,
      carrier: 'SF',
      waybill: 'SFO1',
      labelJobId: null,
      operator: null,
      openedAt: 0,
      updatedAt: 0,
      shippedAt: null,
    });
    expect(d).toMatchObject({ waybill: 'SFO1', grams: 281, items: '商品A x2; 商品B x1', sortCode: null });
    expect(renderZplLabel(d)).not.toContain('^FO24,64'); // no sort code line
    expect(itemSummary(makeOrder('O2', { lines: Array.from({ length: 20 }, (_, i) => line(`S${i}`, 1, 1)) }))).toHaveLength(80);
  });
});

describe('privacy: the receiver phone on built-in labels', () => {
  it('is masked (3 + 4 digits) on the ZPL and the TSPL label, in every written form of a mobile number', async () => {
    const { renderTsplLabel } = await import('./tspl-label.js');
    for (const phone of ['13987651234', '+86 139-8765-1234', '8613987651234']) {
      const d = { ...DATA, receiverPhone: phone };
      for (const out of [unescapeFh(renderZplLabel(d)), renderTsplLabel(d)]) {
        expect(out).toContain('139****1234');
        expect(out).not.toContain('8765');
      }
    }
    // Not a mainland mobile (a landline with area code): printed as given.
    expect(unescapeFh(renderZplLabel({ ...DATA, receiverPhone: '0571-88886666' }))).toContain('0571-88886666');
  });
});
