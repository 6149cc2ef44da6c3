import { describe, expect, it } from 'vitest';
import { cat, decoderContract, feed, thrownCode } from '../testing/decoder-contract.js';
import { ToledoContinuousDecoder, encodeToledoContinuousFrame, toledoChecksum, toledoContinuousProtocol } from './protocol.js';

/** docs/devices/scales.md worked example: 12.34 kg net, tare 0.50, stable, checksum 0x25. */
const EXAMPLE = Buffer.from([
  0x02, // STX
  0x2c, // SWA 0b0101100: bits0-2 = 100 → XXXX.XX, bits3-4 = 01 → ×1, bit5 = 1
  0x31, // SWB 0b0110001: bit0 net, bit4 kg, bit5 = 1
  0x20, // SWC: bits0-2 = 000 → unit from SWB
  0x30,
  0x30,
  0x31,
  0x32,
  0x33,
  0x34, // weight "001234"
  0x30,
  0x30,
  0x30,
  0x30,
  0x35,
  0x30, // tare "000050"
  0x0d, // CR
  0x25, // CKS
]);

const decode = (...parts: Array<Uint8Array | string>) => feed(new ToledoContinuousDecoder(), [cat(...parts)]);

describe('Toledo continuous decoder', () => {
  it('decodes the reference frame', () => {
    expect(toledoChecksum(EXAMPLE)).toBe(0x25);
    expect(decode(EXAMPLE)).toEqual([{ type: 'weight', grams: 12340, stable: true, net: true, tareGrams: 500, raw: '\\x02,1 001234000050\\x0d%' }]);
  });

  it('applies decimal position codes, sign, motion, out-of-range and unit bits', () => {
    const f = (swa: number, swb: number, swc: number, weight: number) => decode(encodeToledoContinuousFrame({ swa, swb, swc, weight, tare: 0 }))[0];
    expect(f(0x20 | 0b000, 0x30, 0x20, 1234)).toMatchObject({ grams: 123_400_000 }); // XXXX00 kg
    expect(f(0x20 | 0b010, 0x20, 0x20, 25)).toMatchObject({ grams: 11339.80925 }); // 25 lb
    expect(f(0x20 | 0b101, 0x30 | 0b10, 0x20, 1500)).toMatchObject({ grams: -1500, net: false }); // -1.500 kg
    expect(f(0x20 | 0b011, 0x30 | 0b1000, 0x20, 12)).toMatchObject({ grams: 1200, stable: false }); // 1.2 kg moving
    expect(f(0x20 | 0b010, 0x30 | 0b100, 0x20, 0)).toMatchObject({ outOfRange: true });
    expect(f(0x20 | 0b010, 0x20, 0x20 | 0b001, 250)).toMatchObject({ grams: 250 }); // SWC g
    expect(f(0x20 | 0b011, 0x20, 0x20 | 0b010, 15)).toMatchObject({ grams: 1_500_000 }); // 1.5 t
    expect(f(0x20 | 0b011, 0x20, 0x20 | 0b011, 10)).toMatchObject({ grams: 28.349523 }); // 1.0 oz (Ohaus)
    expect(f(0x20, 0x20, 0x20 | 0b111, 10)).toMatchObject({ type: 'error', code: 'PKL_FRAME_UNIT_UNKNOWN' });
  });

  it('accepts leading spaces instead of zeros', () => {
    const frame = encodeToledoContinuousFrame({ swa: 0x2c, swb: 0x30, swc: 0x20, weight: 0, tare: 0 });
    frame.set(Buffer.from('   500'), 4);
    frame[17] = toledoChecksum(frame);
    expect(decode(frame)[0]).toMatchObject({ grams: 5000 });
  });

  it('reports a checksum error with both values and decodes the next good frame', () => {
    const bad = Uint8Array.from(EXAMPLE);
    bad[17] = 0x26;
    expect(decode(bad, EXAMPLE)).toEqual([
      {
        type: 'error',
        code: 'PKL_FRAME_CHECKSUM',
        detail: { protocol: 'toledo-continuous', expected: '0x25', actual: '0x26' },
        raw: '\\x02,1 001234000050\\x0d&',
      },
      expect.objectContaining({ type: 'weight', grams: 12340 }),
    ]);
  });

  it('reports a truncated frame and resyncs on the STX inside it', () => {
    const frames = decode('\xff\xfe', EXAMPLE.subarray(0, 9), EXAMPLE, 'junk', EXAMPLE);
    expect(frames.map((f) => f.type)).toEqual(['error', 'weight', 'weight']);
    expect(frames[0]).toMatchObject({ code: 'PKL_FRAME_INVALID' });
  });

  it('works without the checksum byte when configured so', () => {
    const d = toledoContinuousProtocol.createDecoder({ checksum: false });
    expect(feed(d, [EXAMPLE.subarray(0, 17), EXAMPLE.subarray(0, 17)])).toHaveLength(2);
    expect(thrownCode(() => toledoContinuousProtocol.createDecoder({ checksum: 'yes' }))).toBe('PKL_CONFIG_INVALID');
  });

  it('has no commands', () => {
    expect(toledoContinuousProtocol.commands).toEqual([]);
    expect(thrownCode(() => toledoContinuousProtocol.encode('zero'))).toBe('PKL_SCALE_COMMAND_UNSUPPORTED');
  });

  const bad = Uint8Array.from(EXAMPLE);
  bad[17] = 0;
  decoderContract({
    create: () => toledoContinuousProtocol.createDecoder(),
    stream: cat(EXAMPLE, 'xx', bad, EXAMPLE.subarray(0, 5), EXAMPLE, encodeToledoContinuousFrame({ swa: 0x2b, swb: 0x38, swc: 0x20, weight: 77, tare: 0 })),
    maxBuffered: 18,
    frame: EXAMPLE,
  });
});
