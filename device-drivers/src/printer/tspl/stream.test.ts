import { describe, expect, it } from 'vitest';
import { type TsplInput, TsplStreamParser } from './stream.js';

const JOB = 'SIZE 100 mm,150 mm\r\nGAP 2 mm,0 mm\r\nCLS\r\nTEXT 40,40,"3",0,1,1,"WH-01"\r\nPRINT 2,3\r\n';

describe('TsplStreamParser (simulator side)', () => {
  it('emits a job at PRINT m,n with m×n labels, and <ESC>!? wherever it appears, also byte by byte', () => {
    const text = `\x1b!?${JOB.slice(0, 30)}\x1b!?${JOB.slice(30)}`;
    const expected: TsplInput[] = [{ type: 'status-query' }, { type: 'status-query' }, { type: 'job', tspl: JOB, labels: 6 }];
    expect(new TsplStreamParser().push(Buffer.from(text, 'latin1'))).toEqual(expected);
    const p = new TsplStreamParser();
    const oneByOne = [...Buffer.from(text, 'latin1')].flatMap((b) => p.push(Uint8Array.of(b)));
    expect(oneByOne).toEqual(expected);
  });

  it('answers a query written after a job after that job (stream order)', () => {
    const out = new TsplStreamParser().push(Buffer.from(`CLS\r\nPRINT 1\r\n\x1b!?`, 'latin1'));
    expect(out.map((i) => i.type)).toEqual(['job', 'status-query']);
  });

  it('PRINT 1 prints one label; LF-only lines are accepted', () => {
    expect(new TsplStreamParser().push(Buffer.from('CLS\nPRINT 1\n'))).toEqual([{ type: 'job', tspl: 'CLS\r\nPRINT 1\r\n', labels: 1 }]);
  });

  it('drops an endless line', () => {
    const p = new TsplStreamParser(64);
    expect(p.push(Buffer.alloc(100, 0x41))).toEqual([{ type: 'overflow', bytes: 100 }]);
    expect(p.push(Buffer.from('PRINT 1\r\n'))).toEqual([{ type: 'job', tspl: 'PRINT 1\r\n', labels: 1 }]);
  });
});
