import { describe, expect, it } from 'vitest';
import { encodeHidPosReports, HID_POS_REPORT, HidPosScannerDecoder } from './hid-pos.js';
import { cat, codes, feed, scannerDecoderContract } from './testing.js';

const decode = (...parts: Array<Uint8Array | string>) => feed(new HidPosScannerDecoder(), [cat(...parts)]);

describe('HID POS barcode scanner reports (usage page 0x8C)', () => {
  it('decodes an annotated single report with an AIM id', () => {
    const r = new Uint8Array(64);
    r.set([
      0x02, // report id: scanned data report
      0x0d, // 13 data bytes
      0x5d,
      0x45,
      0x30, // AIM "]E0" = EAN-13
      ...Buffer.from('4006381333931'), // data
    ]);
    r[61] = 0x64; // Honeywell code id 'd' (EAN-13), ignored
    r[63] = 0x00; // bit0 clear: last report of this code
    expect(decode(r)).toEqual([{ type: 'scan', code: '4006381333931', symbology: ']E0', end: 'report' }]);
    expect(encodeHidPosReports('4006381333931', ']E0').subarray(0, 61)).toEqual(r.subarray(0, 61));
  });

  it('concatenates reports until the more-data flag clears', () => {
    const long = Array.from({ length: 130 }, (_, i) => String.fromCharCode(0x21 + (i % 90))).join('');
    const reports = encodeHidPosReports(long, ']Q1');
    expect(reports.length).toBe(3 * 64);
    expect(reports[63]! & HID_POS_REPORT.moreData).toBe(1);
    expect(decode(reports)).toEqual([{ type: 'scan', code: long, symbology: ']Q1', end: 'report' }]);
  });

  it('drops a code that spans too many reports, and one cut off by flush()', () => {
    const d = new HidPosScannerDecoder({ maxReports: 2 });
    expect(codes(d.push(encodeHidPosReports('x'.repeat(150))))).toEqual(['!PKL_FRAME_INVALID']);
    expect(d.push(encodeHidPosReports('y'.repeat(60)).subarray(0, 64))).toEqual([]);
    expect(d.flush()).toEqual([
      expect.objectContaining({ code: 'PKL_FRAME_INVALID', detail: expect.objectContaining({ reason: expect.stringMatching(/more-data/) }) }),
    ]);
  });

  it('reports a length over 56 and noise, and resyncs on the next report', () => {
    const bad = new Uint8Array(64);
    bad.set([0x02, 0x39 /* 57 > 56 */]);
    const out = decode('noise', bad, encodeHidPosReports('ABC'));
    expect(out).toEqual([expect.objectContaining({ type: 'error', code: 'PKL_FRAME_INVALID' }), { type: 'scan', code: 'ABC', end: 'report' }]);
    expect(codes(decode(Uint8Array.of(0x02, 0, ...new Uint8Array(62))))).toEqual(['!PKL_FRAME_INVALID']); // empty code
  });

  it('refuses bad options', () => {
    expect(() => new HidPosScannerDecoder({ reportId: 0 })).toThrow(expect.objectContaining({ code: 'PKL_CONFIG_INVALID' }));
    expect(() => new HidPosScannerDecoder({ maxReports: 0 })).toThrow(expect.objectContaining({ code: 'PKL_CONFIG_INVALID' }));
  });

  scannerDecoderContract(() => new HidPosScannerDecoder(), cat(encodeHidPosReports('A'.repeat(70), ']C1'), 'zz', encodeHidPosReports('0123')), 64 * 2);
});
