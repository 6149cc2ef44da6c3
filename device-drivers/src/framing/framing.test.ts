import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { describeBytes, indexOfSeq, partialSuffix } from './bytes.js';
import { LineFramer } from './line-framer.js';
import { DelimitedFramer, FixedFramer } from './stx-framer.js';

const b = (s: string) => Buffer.from(s, 'latin1');
const text = (u: Uint8Array) => Buffer.from(u).toString('latin1');

describe('byte helpers', () => {
  it('find sequences and partial suffixes', () => {
    expect(indexOfSeq(b('ab\r\ncd'), b('\r\n'))).toBe(2);
    expect(indexOfSeq(b('ab\r'), b('\r\n'))).toBe(-1);
    expect(partialSuffix(b('ab\r'), b('\r\n'))).toBe(1);
    expect(partialSuffix(b('ab'), b('\r\n'))).toBe(0);
    expect(describeBytes(b('\x02A\\\r'))).toBe('\\x02A\\x5c\\x0d');
  });
});

describe('LineFramer', () => {
  it('keeps a split CR LF and emits lines', () => {
    const f = new LineFramer({ delimiter: b('\r\n'), maxLength: 8 });
    expect(f.push(b('ab\r'))).toEqual([]);
    expect(f.push(b('\ncd\r\n')).map((c) => [c.kind, text(c.bytes)])).toEqual([
      ['line', 'ab'],
      ['line', 'cd'],
    ]);
    expect(f.bufferedBytes).toBe(0);
  });

  it('stays bounded on arbitrary input', () => {
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ maxLength: 40 })), (chunks) => {
        const f = new LineFramer({ delimiter: b('\r\n'), maxLength: 8 });
        for (const c of chunks) {
          f.push(c);
          expect(f.bufferedBytes).toBeLessThanOrEqual(9);
        }
      }),
      { numRuns: 200, seed: 1 },
    );
  });

  it('rejects bad options', () => {
    expect(() => new LineFramer({ delimiter: new Uint8Array(0), maxLength: 8 })).toThrow(TypeError);
    expect(() => new LineFramer({ delimiter: b('\n'), maxLength: 0 })).toThrow(TypeError);
  });
});

describe('FixedFramer', () => {
  const make = () => new FixedFramer({ headers: [b('\x02')], length: 4, isFrame: (c) => c[3] === 0x03 });
  it('syncs on the header, reports broken candidates and resyncs inside them', () => {
    const out = make().push(b('zz\x02a\x02bc\x03\x02xy\x03'));
    expect(out.map((c) => [c.kind, text(c.bytes)])).toEqual([
      ['broken', '\x02a'],
      ['frame', '\x02bc\x03'],
      ['frame', '\x02xy\x03'],
    ]);
  });
  it('counts discarded noise and keeps a partial multi-byte header', () => {
    const f = new FixedFramer({ headers: [b('\x01\x02')], length: 4, isFrame: () => true });
    f.push(b('abc\x01'));
    expect(f.discardedBytes).toBe(3);
    expect(f.bufferedBytes).toBe(1);
    expect(f.push(b('\x02zz')).map((c) => text(c.bytes))).toEqual(['\x01\x02zz']);
  });
});

describe('DelimitedFramer', () => {
  it('emits STX … CR frames and breaks on a second STX or overlong frame', () => {
    const f = new DelimitedFramer({ start: 0x02, end: 0x0d, maxLength: 5 });
    expect(f.push(b('x\x02ab\x02cd\r\x02123456\r')).map((c) => [c.kind, text(c.bytes)])).toEqual([
      ['broken', '\x02ab'],
      ['frame', '\x02cd\r'],
      ['broken', '\x021234'],
    ]);
    expect(f.bufferedBytes).toBe(0);
  });
});
