import { describe, expect, it } from 'vitest';
import { cat, decoderContract, feed, thrownCode } from '../testing/decoder-contract.js';
import { TOLEDO_8217_MAX_FRAME, Toledo8217Decoder, toledo8217Protocol } from './protocol.js';

const decode = (...parts: Array<Uint8Array | string>) => feed(new Toledo8217Decoder(), [cat(...parts)]);

describe('Toledo 8217 decoder', () => {
  it('decodes a stable weight answer to W', () => {
    const bytes = Buffer.from([0x02 /* STX */, 0x30, 0x30, 0x31, 0x2e, 0x32, 0x33 /* "001.23" */, 0x0d /* CR */]);
    expect(feed(new Toledo8217Decoder(), [bytes])).toEqual([{ type: 'weight', grams: 1230, stable: true, net: false, raw: '\\x02001.23\\x0d' }]);
  });

  it('marks net weight (N suffix) and converts lb when set up in lb', () => {
    expect(decode('\x0201.500N\r')).toEqual([{ type: 'weight', grams: 1500, stable: true, net: true, raw: '\\x0201.500N\\x0d' }]);
    const lb = feed(new Toledo8217Decoder({ unit: 'lb' }), [cat('\x0202.00\r')]);
    expect(lb[0]).toMatchObject({ grams: 907.18474 });
  });

  it('decodes the status byte (STX ? status CR) bit by bit', () => {
    // 0x41 = bit6 (always 1) + bit0 motion
    expect(decode(Buffer.from([0x02, 0x3f /* ? */, 0x41, 0x0d]))).toEqual([
      { type: 'status', stable: false, overload: false, underload: false, outOfRange: false, zero: false, net: false, raw: '\\x02?A\\x0d' },
    ]);
    // 0x62 = bit6 + bit5 net + bit1 over capacity
    expect(decode(Buffer.from([0x02, 0x3f, 0x62, 0x0d]))[0]).toMatchObject({ stable: true, overload: true, net: true, underload: false });
    // 0x54 = bit6 + bit4 centre of zero + bit2 under zero; parity bit 7 set (0xd4) is masked off
    expect(decode(Buffer.from([0x02, 0x3f, 0xd4, 0x0d]))[0]).toMatchObject({ stable: true, underload: true, zero: true });
    // bit6 clear ⇒ not a status byte
    expect(decode(Buffer.from([0x02, 0x3f, 0x01, 0x0d]))[0]).toMatchObject({ type: 'error', code: 'PKL_FRAME_INVALID' });
  });

  it('decodes the echo-mode answer', () => {
    expect(decode('\x02E\r')).toEqual([{ type: 'reply', command: 'E', status: 'done', raw: '\\x02E\\x0d' }]);
  });

  it('ignores garbage between frames and reports a truncated frame, then recovers', () => {
    const frames = decode('zz\xff', '\x02001.2', '\x02002.50\r', 'noise', '\x02?A\r');
    expect(frames.map((f) => f.type)).toEqual(['error', 'weight', 'status']);
    expect(frames[0]).toEqual({
      type: 'error',
      code: 'PKL_FRAME_INVALID',
      detail: { protocol: 'toledo-8217', reason: 'frame cut off before CR' },
      raw: '\\x02001.2',
    });
    expect(frames[1]).toMatchObject({ grams: 2500 });
  });

  it('reports a frame with no CR within the maximum length', () => {
    const frames = decode('\x02', '1'.repeat(TOLEDO_8217_MAX_FRAME + 3), '\x02003.00\r');
    expect(frames.map((f) => f.type)).toEqual(['error', 'weight']);
  });

  it('reports text that is neither weight nor status', () => {
    expect(decode('\x02abc\r')[0]).toMatchObject({ type: 'error', code: 'PKL_FRAME_INVALID' });
  });

  decoderContract({
    create: () => toledo8217Protocol.createDecoder({ unit: 'kg' }),
    stream: cat('\x02001.23\r', 'xx', '\x02?A\r', '\x0201.500N\r', '\x0200', '\x02E\r', '\x02?`\r'),
    maxBuffered: TOLEDO_8217_MAX_FRAME,
    frame: cat('\x02001.23\r'),
  });
});

describe('Toledo 8217 encoder', () => {
  it('encodes W, Z, T, C as single bytes without terminator (golden bytes)', () => {
    expect([...toledo8217Protocol.encode('weigh')]).toEqual([0x57]);
    expect([...toledo8217Protocol.encode('zero')]).toEqual([0x5a]);
    expect([...toledo8217Protocol.encode('tare')]).toEqual([0x54]);
    expect([...toledo8217Protocol.encode('clearTare')]).toEqual([0x43]);
    expect(thrownCode(() => toledo8217Protocol.encode('weighNow'))).toBe('PKL_SCALE_COMMAND_UNSUPPORTED');
  });

  it('validates its options', () => {
    expect(thrownCode(() => toledo8217Protocol.createDecoder({ unit: 'stone' }))).toBe('PKL_CONFIG_INVALID');
    expect(thrownCode(() => toledo8217Protocol.createDecoder({ baud: 9600 }))).toBe('PKL_CONFIG_INVALID');
  });
});
