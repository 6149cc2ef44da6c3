import { describe, expect, it } from 'vitest';
import { EV_KEY, EV_MSC, EV_SYN, EvdevDecoder, encodeInputEvent, readInputEvent, type WordSize } from './evdev.js';
import { cat, codes, feed, scannerDecoderContract } from './testing.js';

// linux/input-event-codes.h
const KEY = { LEFTSHIFT: 42, RIGHTALT: 100, ENTER: 28, S: 31, F: 33, Y: 21, Q: 16, N1: 2, N2: 3, KPENTER: 96 } as const;

/** What the kernel writes for one key stroke: MSC_SCAN, KEY down, SYN, KEY up, SYN. */
function stroke(code: number, ws: WordSize, t = 0): Uint8Array {
  const e = (type: number, c: number, value: number) => encodeInputEvent({ sec: 1_700_000_000 + t, usec: 1000 * t, type, code: c, value }, ws);
  return cat(e(EV_MSC, 4, 0x70000), e(EV_KEY, code, 1), e(EV_SYN, 0, 0), e(EV_KEY, code, 0), e(EV_SYN, 0, 0));
}
const key = (code: number, value: number, ws: WordSize) => encodeInputEvent({ sec: 1_700_000_000, usec: 0, type: EV_KEY, code, value }, ws);
const shifted = (code: number, ws: WordSize) => cat(key(KEY.LEFTSHIFT, 1, ws), stroke(code, ws), key(KEY.LEFTSHIFT, 0, ws));

describe('evdev input_event decoding', () => {
  it('reads an annotated 24-byte (64-bit) event', () => {
    const bytes = Uint8Array.of(
      0x00,
      0xf1,
      0x53,
      0x65,
      0,
      0,
      0,
      0, // tv_sec  = 1700000000 (s64 LE)
      0x40,
      0xe2,
      0x01,
      0,
      0,
      0,
      0,
      0, // tv_usec = 123456
      0x01,
      0x00, // type  = EV_KEY
      0x1f,
      0x00, // code  = KEY_S (31)
      0x01,
      0x00,
      0x00,
      0x00, // value = 1 (press)
    );
    expect(readInputEvent(bytes, 0, 64)).toEqual({ sec: 1_700_000_000, usec: 123_456, type: 1, code: 31, value: 1 });
    expect(encodeInputEvent({ sec: 1_700_000_000, usec: 123_456, type: 1, code: 31, value: 1 }, 64)).toEqual(bytes);
  });

  it('reads an annotated 16-byte (32-bit armhf) event', () => {
    const bytes = Uint8Array.of(
      0x00,
      0xf1,
      0x53,
      0x65, // tv_sec  (s32 LE)
      0x00,
      0x00,
      0x00,
      0x00, // tv_usec
      0x01,
      0x00,
      0x1c,
      0x00, // EV_KEY, KEY_ENTER (28)
      0x00,
      0x00,
      0x00,
      0x00, // value 0 (release)
    );
    expect(readInputEvent(bytes, 0, 32)).toEqual({ sec: 1_700_000_000, usec: 0, type: 1, code: 28, value: 0 });
  });

  for (const ws of [64, 32] as const) {
    it(`decodes "SF12" + Enter with Shift (${ws}-bit)`, () => {
      const stream = cat(shifted(KEY.S, ws), shifted(KEY.F, ws), stroke(KEY.N1, ws), stroke(KEY.N2, ws), stroke(KEY.ENTER, ws));
      expect(feed(new EvdevDecoder({ wordSize: ws }), [stream])).toEqual([{ type: 'scan', code: 'SF12', end: 'enter' }]);
    });
  }

  it('uses the scanner layout, ignores autorepeat and treats keypad Enter as Enter', () => {
    const ws = 64;
    const stream = cat(stroke(KEY.Y, ws), key(KEY.Y, 2, ws), key(KEY.RIGHTALT, 1, ws), stroke(KEY.Q, ws), key(KEY.RIGHTALT, 0, ws), stroke(KEY.KPENTER, ws));
    expect(codes(feed(new EvdevDecoder({ layout: 'de' }), [stream]))).toEqual(['z@']);
    expect(codes(feed(new EvdevDecoder({ layout: 'us' }), [stream]))).toEqual(['!PKL_FRAME_INVALID']); // US has no AltGr+Q
  });

  it('reports a key that is no keyboard key and garbage, then decodes on', () => {
    const ws = 64;
    const out = feed(new EvdevDecoder(), [cat(key(0x110 /* BTN_LEFT */, 1, ws), 'not an event at all!', stroke(KEY.S, ws), stroke(KEY.ENTER, ws))]);
    expect(out.map((f) => (f.type === 'error' ? f.detail['reason'] : f.code))).toEqual([
      'key code 272 is not a keyboard key',
      'bytes are not a 64-bit input_event',
      's',
    ]);
  });

  it('refuses a bad word size', () => {
    expect(() => new EvdevDecoder({ wordSize: 16 as WordSize })).toThrow(expect.objectContaining({ code: 'PKL_CONFIG_INVALID' }));
  });

  scannerDecoderContract(
    () => new EvdevDecoder({ wordSize: 32 }),
    cat(shifted(KEY.S, 32), stroke(KEY.N1, 32), stroke(KEY.ENTER, 32), '\xff\xff\xff\xff\xff', stroke(KEY.F, 32), stroke(KEY.ENTER, 32)),
    16,
  );
});
