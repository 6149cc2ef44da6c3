import { describe, expect, it } from 'vitest';
import { cat, decoderContract, feed, thrownCode } from '../testing/decoder-contract.js';
import { HidPosScaleDecoder, hidPosProtocol } from './protocol.js';

const report = (status: number, unit: number, exponent: number, weight: number) =>
  Uint8Array.of(0x03, status, unit, exponent & 0xff, weight & 0xff, weight >> 8);
const decode = (...parts: Uint8Array[]) => feed(new HidPosScaleDecoder(), [cat(...parts)]);

describe('HID POS scale decoder', () => {
  it('decodes a stable gram reading', () => {
    const bytes = Uint8Array.of(
      0x03, // report id
      0x04, // status 4: stable
      0x02, // unit 2: g
      0x00, // exponent 0
      0xe8,
      0x03, // weight 0x03e8 = 1000 (little endian)
    );
    expect(decode(bytes)).toEqual([{ type: 'weight', grams: 1000, stable: true, raw: '\\x03\\x04\\x02\\x00\\xe8\\x03' }]);
  });

  it('applies the signed exponent and the unit', () => {
    expect(decode(report(4, 12, -1, 25))[0]).toMatchObject({ grams: 1133.980925 }); // 2.5 lb
    expect(decode(report(3, 11, -1, 105))[0]).toMatchObject({ grams: 297.669993, stable: false }); // 10.5 oz moving
    expect(decode(report(4, 3, -3, 1234))[0]).toMatchObject({ grams: 1234 }); // kg
    expect(decode(report(2, 2, 0, 0))[0]).toMatchObject({ grams: 0, stable: true }); // stable at zero
  });

  it('reports fault, under zero and overweight as status frames', () => {
    expect(decode(report(1, 2, 0, 0), report(5, 2, 0, 0), report(6, 2, 0, 0), report(7, 2, 0, 0))).toEqual([
      expect.objectContaining({ type: 'status', fault: 'fault' }),
      expect.objectContaining({ type: 'status', underload: true }),
      expect.objectContaining({ type: 'status', overload: true }),
      expect.objectContaining({ type: 'status', fault: 'calibrationNeeded' }),
    ]);
  });

  it('refuses the tael unit rather than guessing', () => {
    expect(decode(report(4, 5, 0, 10))[0]).toMatchObject({ code: 'PKL_FRAME_UNIT_UNKNOWN' });
  });

  it('resyncs after an undefined status/unit and garbage', () => {
    const frames = decode(Uint8Array.of(0x03, 0x09, 0x02, 0, 0), report(4, 2, 0, 5), Uint8Array.of(0xff, 0x00), report(4, 2, 0, 6));
    expect(frames.map((f) => f.type)).toEqual(['error', 'weight', 'weight']);
  });

  it('zero is the Scale Control Report with Zero Scale set; there is no tare usage', () => {
    expect(hidPosProtocol.commands).toEqual(['zero']);
    // Default layout: report id 2, bit 0 Enforced Zero Return, bit 1 Zero Scale.
    expect(hidPosProtocol.encode('zero')).toEqual(Uint8Array.of(0x02, 0b0000_0010));
    expect(hidPosProtocol.encode('zero', { controlReport: { reportId: 5, zeroBit: 9, reportBytes: 2 } })).toEqual(Uint8Array.of(0x05, 0x00, 0x02));
    // A scale whose descriptor has no Zero Scale output: no zero command.
    expect(thrownCode(() => hidPosProtocol.encode('zero', { controlReport: null }))).toBe('PKL_SCALE_COMMAND_UNSUPPORTED');
    expect(thrownCode(() => hidPosProtocol.encode('tare'))).toBe('PKL_SCALE_COMMAND_UNSUPPORTED');
    expect(thrownCode(() => hidPosProtocol.createDecoder({ controlReport: { reportId: 2 } }))).toBe('PKL_CONFIG_INVALID');
  });

  decoderContract({
    create: () => hidPosProtocol.createDecoder(),
    stream: cat(report(4, 2, 0, 1000), report(3, 12, -1, 25), Uint8Array.of(0xff), report(6, 2, 0, 0), report(4, 3, -3, 1234)),
    maxBuffered: 6,
    frame: report(4, 2, 0, 1000),
    unsynced: true,
  });
});
