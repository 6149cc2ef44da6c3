import { describe, expect, it } from 'vitest';
import { SerialScannerDecoder } from './serial-scanner.js';
import { codes, feed, scannerDecoderContract } from './testing.js';

const b = (s: string) => Buffer.from(s, 'latin1');

describe('serial scanner lines', () => {
  it('accepts CR, LF and CR LF in `any` mode, including a CR LF split across reads', () => {
    const d = new SerialScannerDecoder();
    expect(codes([...d.push(b('A1\r')), ...d.push(b('\nB2\nC3\r\n\r\n'))])).toEqual(['A1', 'B2', 'C3']);
    expect(d.bufferedBytes).toBe(0);
  });

  it('keeps a CR inside the line when the terminator is LF only', () => {
    expect(codes(feed(new SerialScannerDecoder({ terminator: 'lf' }), [b('A\rB\n')]))).toEqual(['A\rB']);
    expect(codes(feed(new SerialScannerDecoder({ terminator: 'crlf' }), [b('A\nB\r\n')]))).toEqual(['A\nB']);
    expect(codes(feed(new SerialScannerDecoder({ terminator: 'cr' }), [b('9300\r')]))).toEqual(['9300']);
  });

  it('reports an overlong line; on flush() drops a line cut off before its terminator', () => {
    const cut = new SerialScannerDecoder({ terminator: 'cr' });
    cut.push(b('SF1234'));
    expect(cut.flush()).toEqual([
      { type: 'error', code: 'PKL_SCAN_INCOMPLETE', detail: { protocol: 'serial-scanner', length: 6, suffix: 'line end' }, raw: 'SF1234' },
    ]);
    expect(codes(cut.push(b('SF1234567890\r')))).toEqual(['SF1234567890']); // not glued to the cut-off one
    const d = new SerialScannerDecoder({ terminator: 'none', maxLength: 4 });
    expect(codes(d.push(b('123456789\r')))).toEqual(['!PKL_FRAME_INVALID', '!PKL_FRAME_INVALID', '9']);
    d.push(b('AB'));
    expect(d.flush()).toEqual([{ type: 'scan', code: 'AB', end: 'flush' }]);
    expect(d.flush()).toEqual([]);
  });

  it('refuses bad options', () => {
    expect(() => new SerialScannerDecoder({ terminator: 'x' as 'cr' })).toThrow(expect.objectContaining({ code: 'PKL_CONFIG_INVALID' }));
  });

  scannerDecoderContract(() => new SerialScannerDecoder({ terminator: 'crlf', maxLength: 32 }), b('0123456789012\r\n]C1ABC\r\nxx\r\n'), 33);
});
