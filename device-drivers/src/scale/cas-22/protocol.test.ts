import { describe, expect, it } from 'vitest';
import { cat, decoderContract, feed, thrownCode } from '../testing/decoder-contract.js';
import { Cas22Decoder, cas22Protocol } from './protocol.js';

/** `ST,NT,1<lamp>,0001.500 kg\r\n` — 22 bytes (docs/devices/scales.md). */
const FRAME = Buffer.from([
  0x53,
  0x54, // "ST" stable
  0x2c, // ,
  0x4e,
  0x54, // "NT" net
  0x2c, // ,
  0x31, // ID "1"
  0xc2, // LAMP: b7 = 1, b6 stable, b1 tare
  0x2c, // ,
  0x30,
  0x30,
  0x30,
  0x31,
  0x2e,
  0x35,
  0x30,
  0x30, // "0001.500"
  0x20, // SP
  0x6b,
  0x67, // "kg"
  0x0d,
  0x0a, // CR LF
]);

const line = (h1: string, h2: string, data: string, unit: string) => cat(`${h1},${h2},1`, Buffer.from([0x80]), `,${data} ${unit}\r\n`);
const decode = (...parts: Array<Uint8Array | string>) => feed(new Cas22Decoder(), [cat(...parts)]);

describe('CAS 22-byte decoder', () => {
  it('decodes the reference frame', () => {
    expect(FRAME.length).toBe(22);
    expect(decode(FRAME)).toEqual([{ type: 'weight', grams: 1500, stable: true, net: true, raw: 'ST,NT,1\\xc2,0001.500 kg' }]);
  });

  it('decodes unstable, gross, tonnes, negative and overload frames', () => {
    expect(decode(line('US', 'GS', '0012.345', 'kg'))[0]).toMatchObject({ grams: 12345, stable: false, net: false });
    expect(decode(line('ST', 'GS', '0001.250', ' t'))[0]).toMatchObject({ grams: 1_250_000 });
    expect(decode(line('ST', 'GS', '-001.250', 'kg'))[0]).toMatchObject({ grams: -1250 });
    expect(decode(line('OL', 'GS', '        ', 'kg'))[0]).toEqual({
      type: 'status',
      stable: false,
      overload: true,
      net: false,
      raw: 'OL,GS,1\\x80,         kg',
    });
    expect(decode(line('OL', 'GS', '0999.999', 'kg'))[0]).toMatchObject({ type: 'weight', overload: true, stable: false });
  });

  it('reports malformed frames with codes', () => {
    expect(decode(line('ST', 'GS', '0001.500', 'xx'))[0]).toMatchObject({ code: 'PKL_FRAME_UNIT_UNKNOWN' });
    expect(decode(line('ST', 'GS', '00a1.500', 'kg'))[0]).toMatchObject({ code: 'PKL_FRAME_INVALID' });
    expect(decode('ST,GS,1\x00,0001.500 kg\r\n')[0]).toMatchObject({ code: 'PKL_FRAME_INVALID' }); // lamp b7 clear
    expect(decode('hello\r\n')[0]).toMatchObject({ code: 'PKL_FRAME_INVALID', detail: { reason: 'frame is 7 bytes, expected 22' } });
  });

  it('splits a cut-off frame glued to a good one, and drops plain noise before a frame silently', () => {
    const cut = decode('ST,GS,1\x80,00', FRAME);
    expect(cut.map((f) => f.type)).toEqual(['error', 'weight']);
    expect(cut[0]).toMatchObject({ detail: { reason: 'frame cut off' } });
    expect(decode('\xff\x00zz', FRAME).map((f) => f.type)).toEqual(['weight']);
  });

  it('has no commands', () => {
    expect(thrownCode(() => cas22Protocol.encode('tare'))).toBe('PKL_SCALE_COMMAND_UNSUPPORTED');
  });

  decoderContract({
    create: () => cas22Protocol.createDecoder(),
    stream: cat(FRAME, 'noise\r\n', line('US', 'GS', '0012.345', 'kg'), 'ST,GS', FRAME, line('OL', 'GS', '        ', 'kg'), FRAME),
    maxBuffered: 44,
    frame: FRAME,
  });
});
