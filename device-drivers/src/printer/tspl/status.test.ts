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

  it('a reply of exactly one byte is a status, decided when the line went quiet', () => {
    const d = new TsplStatusDecoder();
    expect(d.push(Uint8Array.of(0x04))).toEqual([
      { type: 'error', code: 'PKL_FRAME_INVALID', details: { protocol: 'tspl-status', reason: 'byte received with no <ESC>!? outstanding' }, raw: '\\x04' },
    ]);
    d.expectAnswer();
    expect(d.push(Uint8Array.of(0x20))).toEqual([]); // not yet: a second byte may follow
    expect(d.endOfReply()).toMatchObject([{ type: 'status', byte: 0x20, status: { printing: true } }]);
    expect(d.outstanding).toBe(0);
    expect(d.endOfReply()).toEqual([]); // nothing left to judge
  });

  // Fixtures of replies that are not one byte: a TSPL2 printer answering <ESC>!S (8 bytes,
  // "@" + status chars + CR) style text, an answer with line noise behind it, two answers glued.
  it.each([
    ['status byte + trailing garbage', [0x00, 0xff]],
    ['text reply of another command set', [...Buffer.from('@0000000\r')]],
    ['two status bytes glued', [0x04, 0x00]],
  ])('a reply of several bytes (%s) yields no status, one coded error, however split', (_name, bytes) => {
    const whole = new TsplStatusDecoder();
    whole.expectAnswer();
    const a = [...whole.push(Uint8Array.from(bytes)), ...whole.endOfReply()];
    const bytewise = new TsplStatusDecoder();
    bytewise.expectAnswer();
    const b = [...bytes.flatMap((x) => bytewise.push(Uint8Array.of(x))), ...bytewise.endOfReply()];
    expect(a).toEqual(b);
    expect(a).toEqual([
      expect.objectContaining({
        type: 'error',
        code: 'PKL_FRAME_INVALID',
        details: expect.objectContaining({ reason: `<ESC>!? reply of ${bytes.length} bytes, a status is exactly one byte` }),
      }),
    ]);
    expect(a.some((r) => r.type === 'status')).toBe(false);
  });

  it('a new query closes the previous reply (judged, then handed out with the next push)', () => {
    const d = new TsplStatusDecoder();
    d.expectAnswer();
    d.push(Uint8Array.of(0x04));
    d.expectAnswer();
    expect(d.push(Uint8Array.of(0x00))).toMatchObject([{ type: 'status', status: { paperOut: true } }]);
    expect(d.endOfReply()).toMatchObject([{ type: 'status', status: TSPL_READY }]);
  });

  it('counts a runaway reply without keeping it (bounded)', () => {
    const d = new TsplStatusDecoder();
    d.expectAnswer();
    d.push(new Uint8Array(10_000));
    expect(d.replyBytes).toBe(10_000);
    const [r] = d.endOfReply();
    expect(r).toMatchObject({ type: 'error', raw: expect.stringMatching(/…\(10000 bytes\)$/) });
  });
});
