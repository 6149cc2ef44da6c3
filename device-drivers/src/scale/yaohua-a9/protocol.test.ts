import { describe, expect, it } from 'vitest';
import { cat, decoderContract, feed, thrownCode } from '../testing/decoder-contract.js';
import { YaohuaA9Decoder, encodeYaohuaFrame, yaohuaA9Protocol, yaohuaXor } from './protocol.js';

/** docs/devices/scales.md: +20.00 (dp 2), XOR 0x1B. */
const PLUS_20 = Buffer.from([
  0x02, // STX
  0x2b, // '+'
  0x30,
  0x30,
  0x32,
  0x30,
  0x30,
  0x30, // "002000"
  0x32, // dp count '2'
  0x31,
  0x42, // XOR "1B"
  0x03, // ETX
]);
/** Captured truck-scale frames: +1560 (dp 0, XOR 0x19) and 0 (XOR 0x1B). */
const CAPTURED_1560 = Buffer.from('022b30303135363030313903', 'hex');
const CAPTURED_0 = Buffer.from('022b30303030303030314203', 'hex');

const create = (samples = 3) => new YaohuaA9Decoder({ unit: 'kg', stability: { samples, toleranceGrams: 0 } });

describe('Yaohua XK3190-A9 decoder', () => {
  it('decodes the reference and captured frames (kg configured)', () => {
    expect(yaohuaXor(PLUS_20)).toBe(0x1b);
    expect(feed(create(), [PLUS_20, CAPTURED_1560, CAPTURED_0]).map((f) => f.type === 'weight' && f.grams)).toEqual([20_000, 1_560_000, 0]);
    expect(feed(create(), [PLUS_20])[0]).toEqual({ type: 'weight', grams: 20000, stable: false, raw: '\\x02+00200021B\\x03' });
  });

  it('derives stability from N equal readings', () => {
    const frames = feed(create(3), [PLUS_20, PLUS_20, PLUS_20, CAPTURED_0, PLUS_20, PLUS_20, PLUS_20]);
    expect(frames.map((f) => f.type === 'weight' && f.stable)).toEqual([false, false, true, false, false, false, true]);
  });

  it('decodes negative weights and other units', () => {
    const g = new YaohuaA9Decoder({ unit: 'g', stability: { samples: 2, toleranceGrams: 0 } });
    expect(feed(g, [encodeYaohuaFrame(-1234, 1)])[0]).toMatchObject({ grams: -123.4 });
  });

  it('reports a checksum error (and restarts the stability run), then recovers', () => {
    const bad = Uint8Array.from(PLUS_20);
    bad[10] = 0x43; // "1C"
    const frames = feed(create(2), [PLUS_20, bad, PLUS_20, PLUS_20]);
    expect(frames[1]).toEqual({
      type: 'error',
      code: 'PKL_FRAME_CHECKSUM',
      detail: { protocol: 'yaohua-a9', expected: '0x1b', actual: '0x1c' },
      raw: '\\x02+00200021C\\x03',
    });
    expect(frames.map((f) => f.type === 'weight' && f.stable)).toEqual([false, false, false, true]);
  });

  it('reports a truncated frame and garbage, resyncs on the next STX', () => {
    const frames = feed(create(), [cat('\xff\x10', PLUS_20.subarray(0, 6), PLUS_20, 'xyz', CAPTURED_0)]);
    expect(frames.map((f) => f.type)).toEqual(['error', 'weight', 'weight']);
    expect(frames[0]).toMatchObject({ code: 'PKL_FRAME_INVALID' });
  });

  it('reports a bad body (non-digit) even with a matching XOR', () => {
    const f = encodeYaohuaFrame(100, 0);
    f[3] = 0x41; // 'A'
    const x = yaohuaXor(f).toString(16).toUpperCase().padStart(2, '0');
    f[9] = x.charCodeAt(0);
    f[10] = x.charCodeAt(1);
    expect(feed(create(), [f])[0]).toMatchObject({ code: 'PKL_FRAME_INVALID' });
  });

  it('validates options and has no commands', () => {
    expect(thrownCode(() => yaohuaA9Protocol.createDecoder({ stability: { samples: 1, toleranceGrams: 0 } }))).toBe('PKL_CONFIG_INVALID');
    expect(thrownCode(() => yaohuaA9Protocol.createDecoder({ unit: 'jin' }))).toBe('PKL_CONFIG_INVALID');
    expect(thrownCode(() => yaohuaA9Protocol.encode('weigh'))).toBe('PKL_SCALE_COMMAND_UNSUPPORTED');
  });

  decoderContract({
    create: () => yaohuaA9Protocol.createDecoder({ unit: 'kg', stability: { samples: 2, toleranceGrams: 0 } }),
    // Starts with a reading unlike the last one, so stability flags do not depend on history.
    stream: cat(CAPTURED_1560, CAPTURED_1560, 'zz', PLUS_20.subarray(0, 4), PLUS_20, PLUS_20, CAPTURED_0),
    maxBuffered: 12,
    frame: PLUS_20,
  });
});
