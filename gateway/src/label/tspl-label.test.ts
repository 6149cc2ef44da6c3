import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { PacklineError } from '../../../contracts/errors.js';
import { TsplStreamParser } from '../../../device-drivers/src/printer/tspl/stream.js';
import { line, makeOrder } from '../station/decide/testing/world.js';
import { type LabelData, labelDataFor } from './label-data.js';
import { escapeTsplString, renderTsplLabel } from './tspl-label.js';
import { renderZplLabel } from './zpl-label.js';

const DATA: LabelData = {
  waybill: 'SF1234567890123',
  carrier: 'SF 顺丰速运',
  receiverName: '张"三"',
  receiverPhone: '138****0000',
  receiverAddress: '浙江省杭州市余杭区文一西路 969 号 A_1 栋\\2 单元',
  routingCode: '571WA-01',
  sortCode: '杭州 余杭',
  grams: 1234,
  orderId: 'TB20231111000123',
  items: '白色T恤 x2; 棉袜 x1',
};

/** The whole label for DATA, one command line each (sent with CR LF after every line). */
const FIXTURE: Array<[command: string, why: string]> = [
  ['SIZE 76 mm,130 mm', 'label 76 × 130 mm (metric form)'],
  ['GAP 2 mm,0 mm', '2 mm gap between die-cut labels, no offset'],
  ['DIRECTION 1,0', 'print direction 1, not mirrored'],
  ['CODEPAGE UTF-8', 'strings are UTF-8'],
  ['CLS', 'clear the image buffer'],
  ['TEXT 24,20,"TSS24.BF2",0,1,1,"SF 顺丰速运"', 'carrier, ZPL 36 dots → 1 × 24-dot cell'],
  ['TEXT 24,64,"TSS24.BF2",0,3,3,"杭州 余杭"', 'sort code, ZPL 72 dots → 3 × 24'],
  ['BARCODE 24,150,"128",120,1,0,2,2,"SF1234567890123"', 'waybill: Code 128 auto, 120 dots, text below, 2-dot module'],
  ['BAR 24,320,560,2', 'rule'],
  ['TEXT 24,336,"TSS24.BF2",0,1,1,"收 张\\["]三\\["] 138****0000"', 'receiver; " written \\["]'],
  ['BLOCK 24,376,560,84,"TSS24.BF2",0,1,1,4,1,"浙江省杭州市余杭区文一西路 969 号 A_1 栋＼2 单元"', 'address: 3 lines of 24 + 4 dots, left; \\ → ＼'],
  ['BAR 24,480,560,2', 'rule'],
  ['TEXT 24,496,"TSS24.BF2",0,1,1,"571WA-01"', 'routing code'],
  ['TEXT 24,536,"TSS24.BF2",0,1,1,"重量 1.23 kg"', 'weight'],
  ['TEXT 24,576,"TSS24.BF2",0,1,1,"订单 TB20231111000123"', 'order id'],
  ['BLOCK 24,616,560,112,"TSS24.BF2",0,1,1,4,1,"白色T恤 x2; 棉袜 x1"', 'items: 4 lines'],
  ['PRINT 1', 'print one label'],
];

/** Command lines of a TSPL job, as the printer splits them (CR LF). */
function commandLines(tspl: string): string[] {
  expect(tspl.endsWith('\r\n')).toBe(true);
  return tspl.slice(0, -2).split('\r\n');
}

/** What a printer reads back from a string parameter: `\["]` is `"`. */
function unescapeTspl(s: string): string {
  return s.replaceAll('\\["]', '"');
}

describe('TSPL label', () => {
  it('matches the annotated fixture, CR LF after every command', () => {
    const tspl = renderTsplLabel(DATA);
    expect(commandLines(tspl)).toEqual(FIXTURE.map(([command]) => command));
    expect(tspl.match(/\r\n/g)).toHaveLength(FIXTURE.length);
    expect(tspl.replaceAll('\r\n', '')).not.toMatch(/[\r\n]/);
  });

  it('puts every field where the ZPL label puts it', () => {
    const tsplOrigins = commandLines(renderTsplLabel(DATA))
      .map((l) => /^(?:TEXT|BLOCK|BARCODE|BAR) (\d+),(\d+),/.exec(l))
      .filter((m) => m !== null)
      .map((m) => `${m[1]},${m[2]}`);
    const zplOrigins = [...renderZplLabel(DATA).matchAll(/\^FO(\d+),(\d+)/g)].map((m) => `${m[1]},${m[2]}`);
    expect(tsplOrigins).toEqual(zplOrigins);
    expect(tsplOrigins).toHaveLength(11);
  });

  it('keeps hostile text inside its string: quotes, CR/LF, backslash, ESC, Chinese', () => {
    const hostile = {
      ...DATA,
      receiverName: '李"四\r\nPRINT 5\r\nCLS',
      receiverAddress: '上海市\\["]浦东\n\x1b!R新区 "A" 座\t3楼',
      items: '袜子 x1\x00\x7f\x85; 帽子 x2',
    };
    const tspl = renderTsplLabel(hostile);
    const lines = commandLines(tspl);
    // Exactly the template's commands, none smuggled in by the data (one PRINT, at the end).
    expect(lines.map((l) => l.split(' ')[0])).toEqual(FIXTURE.map(([c]) => c.split(' ')[0]));
    expect(lines.filter((l) => l.startsWith('PRINT'))).toEqual(['PRINT 1']);
    expect(tspl).not.toMatch(/[\x00-\x09\x0b\x0c\x0e-\x1f\x7f\x85]/);
    expect(lines[9]).toBe('TEXT 24,336,"TSS24.BF2",0,1,1,"收 李\\["]四 PRINT 5 CLS 138****0000"');
    expect(lines[10]).toBe('BLOCK 24,376,560,84,"TSS24.BF2",0,1,1,4,1,"上海市＼[\\["]]浦东 !R新区 \\["]A\\["] 座 3楼"');
    expect(lines[15]).toBe('BLOCK 24,616,560,112,"TSS24.BF2",0,1,1,4,1,"袜子 x1 ; 帽子 x2"'); // NUL, DEL dropped; NEL a break
    // A TSPL printer's line reader sees one job ending with the template's PRINT 1.
    const inputs = new TsplStreamParser().push(Buffer.from(tspl, 'utf8'));
    expect(inputs.map((i) => i.type)).toEqual(['job']);
    expect(inputs[0]).toMatchObject({ labels: 1 });
  });

  it('escaping never leaves a line break, a control byte, a bare quote or a backslash', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 60 }), (s) => {
        const e = escapeTsplString(s, 1000);
        expect(e).not.toMatch(/[\x00-\x1f\x7f-\x9f]/);
        expect(e.replaceAll('\\["]', '')).not.toMatch(/["\\]/);
        // Quotes survive as quotes; nothing but breaks, controls and `\` is changed.
        expect(unescapeTspl(e).split('"').length).toBe(s.split('"').length);
        expect(() => Buffer.from(e, 'utf8').toString('utf8')).not.toThrow();
      }),
      { numRuns: 300 },
    );
    expect(escapeTsplString('a\r\n\r\nb')).toBe('a b');
    expect(escapeTsplString('收货 "人"')).toBe('收货 \\["]人\\["]');
  });

  it('truncates a too-long field by code point before escaping', () => {
    expect(escapeTsplString('收货人𠀀张三', 4)).toBe('收货人…');
    // The cut never splits an escape: the quote is either whole or gone.
    expect(escapeTsplString('ab"cd', 3)).toBe('ab…');
    expect(escapeTsplString('a"bcd', 3)).toBe('a\\["]…');
    const long = renderTsplLabel({ ...DATA, receiverAddress: '长'.repeat(500) });
    expect(long).toContain(`,4,1,"${'长'.repeat(119)}…"\r\n`);
  });

  it('refuses a waybill that the BARCODE string cannot carry safely', () => {
    for (const waybill of ['SF"1', 'SF!105', '', 'SF 1', '单号1', 'SF1\r\nPRINT 9', 'X'.repeat(41)]) {
      let code: string | undefined;
      try {
        renderTsplLabel({ ...DATA, waybill });
      } catch (err) {
        code = err instanceof PacklineError ? err.code : undefined;
      }
      expect(code, waybill).toBe('PKL_LABEL_TEMPLATE_ERROR');
    }
  });

  it('takes another CJK font; a TrueType one is sized in points', () => {
    expect(() => renderTsplLabel(DATA, { cjkFont: 'X.TTF",0,1,1,"' })).toThrow(PacklineError);
    expect(renderTsplLabel(DATA, { cjkFont: 'TST24.BF2' })).toContain('TEXT 24,64,"TST24.BF2",0,3,3,"杭州 余杭"\r\n');
    // 72 dots at 203 dpi = 25.5 pt; 28 dots ≈ 10 pt.
    const ttf = renderTsplLabel(DATA, { cjkFont: 'SIMSUN.TTF' });
    expect(ttf).toContain('TEXT 24,64,"SIMSUN.TTF",0,26,26,"杭州 余杭"\r\n');
    expect(ttf).toContain('BLOCK 24,376,560,96,"SIMSUN.TTF",0,10,10,4,1,');
  });

  it('renders the label of an order with no sort or routing code', () => {
    const order = makeOrder('O1', { lines: [line('A', 2, 100)] });
    const d = labelDataFor(order, {
      shipmentId: 'S-1',
      orderId: 'O1',
      stationId: 'st-1',
      state: 'weighing',
      reasonCode: null,
      scanned: {},
      expectedGrams: 230,
      actualGrams: 231,
      carrier: 'SF',
      waybill: 'SFO1',
      labelJobId: null,
      operator: null,
      openedAt: 0,
      updatedAt: 0,
      shippedAt: null,
    });
    const lines = commandLines(renderTsplLabel(d));
    expect(lines).toContain('BARCODE 24,150,"128",120,1,0,2,2,"SFO1"');
    expect(lines).toContain('TEXT 24,536,"TSS24.BF2",0,1,1,"重量 0.23 kg"');
    expect(lines.some((l) => l.startsWith('TEXT 24,64,') || l.startsWith('TEXT 24,496,'))).toBe(false);
    expect(lines).toHaveLength(FIXTURE.length - 2);
  });
});
