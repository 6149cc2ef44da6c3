import { describe, expect, it } from 'vitest';
import { decodeTsplStatus, encodeTsplStatus, TSPL_READY, TSPL_STATUS_QUERY, TsplStatusDecoder } from './status.js';

describe('TSPL <ESC>!? status byte (TSC TSPL manual)', () => {
  it('the query is ESC ! ?', () => {
    expect([...TSPL_STATUS_QUERY]).toEqual([0x1b, 0x21, 0x3f]);
  });

  it.each([
    [0x00, {}], //                                   ready
    [0x01, { headOpen: true }], //                   bit0 head opened
    [0x02, { paperJam: true }], //                   bit1 paper jam
    [0x04, { paperOut: true }], //                   bit2 out of paper
    [0x08, { ribbonOut: true }], //                  bit3 out of ribbon
    [0x10, { paused: true }], //                     bit4 pause
    [0x20, { printing: true }], //                   bit5 printing
    [0x40, { coverOpen: true }], //                  bit6 cover opened
    [0x80, { temperatureOutOfRange: true }], //      bit7 temperature
    [0x25, { headOpen: true, paperOut: true, printing: true }],
  ])('byte 0x%s decodes and encodes back', (byte, set) => {
    expect(decodeTsplStatus(byte)).toEqual({ ...TSPL_READY, ...set });
    expect(encodeTsplStatus(decodeTsplStatus(byte))).toBe(byte);
  });

  it('pairs bytes with outstanding queries; extra bytes are coded errors, not statuses', () => {
    const d = new TsplStatusDecoder();
    expect(d.push(Uint8Array.of(0x04))).toEqual([
      { type: 'error', code: 'PKL_FRAME_INVALID', details: { protocol: 'tspl-status', reason: 'byte received with no <ESC>!? outstanding' }, raw: '\\x04' },
    ]);
    d.expectAnswer();
    d.expectAnswer();
    const out = d.push(Uint8Array.of(0x20, 0x00, 0xff)); // two answers, then garbage
    expect(out.map((r) => r.type)).toEqual(['status', 'status', 'error']);
    expect(out[0]).toMatchObject({ status: { printing: true } });
    expect(d.outstanding).toBe(0);
  });

  it('answers split over chunks pair one by one', () => {
    const d = new TsplStatusDecoder();
    d.expectAnswer();
    d.expectAnswer();
    expect(d.push(Uint8Array.of(0x04))).toMatchObject([{ type: 'status', status: { paperOut: true } }]);
    expect(d.push(Uint8Array.of(0x00))).toMatchObject([{ type: 'status', status: TSPL_READY }]);
  });

  it('remembers at most maxOutstanding unanswered queries (a silent printer cannot grow it)', () => {
    const d = new TsplStatusDecoder(3);
    for (let i = 0; i < 50; i++) d.expectAnswer();
    expect(d.outstanding).toBe(3);
    expect(d.push(new Uint8Array(5)).map((r) => r.type)).toEqual(['status', 'status', 'status', 'error', 'error']);
  });
});
