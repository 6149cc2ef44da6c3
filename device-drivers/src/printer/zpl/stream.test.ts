import { describe, expect, it } from 'vitest';
import { type ZplInput, ZplStreamParser } from './stream.js';

const enc = (s: string) => Buffer.from(s, 'latin1');

function byteByByte(text: string): ZplInput[] {
  const p = new ZplStreamParser();
  return [...enc(text)].flatMap((b) => p.push(Uint8Array.of(b)));
}

describe('ZplStreamParser (simulator side)', () => {
  it('splits formats and immediate commands, also byte by byte', () => {
    const text = 'junk^XA^FO50,50^FDSF123^FS^XZ~HS^XA^PQ3^FDx^FS^XZ~HQES';
    const expected: ZplInput[] = [
      { type: 'format', zpl: '^XA^FO50,50^FDSF123^FS^XZ', quantity: 1 },
      { type: 'immediate', command: 'HS' },
      { type: 'format', zpl: '^XA^PQ3^FDx^FS^XZ', quantity: 3 },
      { type: 'immediate', command: 'HQES' },
    ];
    expect(new ZplStreamParser().push(enc(text))).toEqual(expected);
    expect(byteByByte(text)).toEqual(expected);
  });

  it('acts on a ~ command inside a format without making it part of the label', () => {
    const p = new ZplStreamParser();
    expect(p.push(enc('^XA^FDab'))).toEqual([]);
    expect(p.inFormat).toBe(true);
    expect(p.push(enc('~HScd^FS^XZ'))).toEqual([
      { type: 'immediate', command: 'HS' },
      { type: 'format', zpl: '^XA^FDabcd^FS^XZ', quantity: 1 },
    ]);
  });

  it('leaves unknown ~ sequences in the label text', () => {
    expect(new ZplStreamParser().push(enc('^XA^FD~Q~^FS^XZ'))).toEqual([{ type: 'format', zpl: '^XA^FD~Q~^FS^XZ', quantity: 1 }]);
  });

  it('drops a format that exceeds the limit', () => {
    const p = new ZplStreamParser(16);
    const out = p.push(enc(`^XA${'x'.repeat(40)}^XZ^XA^XZ`));
    expect(out[0]).toMatchObject({ type: 'overflow' });
    expect(out.filter((i) => i.type === 'format')).toEqual([{ type: 'format', zpl: '^XA^XZ', quantity: 1 }]);
  });
});
