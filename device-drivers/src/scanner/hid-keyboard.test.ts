import { describe, expect, it } from 'vitest';
import { bootReportsFor, HidKeyboardDecoder } from './hid-keyboard.js';
import { MOD } from './key-text.js';
import { cat, codes, feed, scannerDecoderContract } from './testing.js';

const S = MOD.LShift;
const ENTER = [0, 0x28] as const;
/** Press + release reports for [modifiers, usage] pairs. */
const typed = (...keys: Array<readonly [number, number]>) => bootReportsFor(keys);
const decode = (bytes: Uint8Array, opts: ConstructorParameters<typeof HidKeyboardDecoder>[0] = {}) => feed(new HidKeyboardDecoder(opts), [bytes]);

describe('HID keyboard boot reports', () => {
  it('decodes an annotated capture of "Ab1" + Enter (US)', () => {
    const capture = Uint8Array.of(
      0x02,
      0x00,
      0x04,
      0,
      0,
      0,
      0,
      0, // LShift + usage 0x04 (a) → 'A'
      0x00,
      0x00,
      0x00,
      0,
      0,
      0,
      0,
      0, // release all
      0x00,
      0x00,
      0x05,
      0,
      0,
      0,
      0,
      0, // 0x05 (b) → 'b'
      0x00,
      0x00,
      0x00,
      0,
      0,
      0,
      0,
      0,
      0x00,
      0x00,
      0x1e,
      0,
      0,
      0,
      0,
      0, // 0x1e → '1'
      0x00,
      0x00,
      0x00,
      0,
      0,
      0,
      0,
      0,
      0x00,
      0x00,
      0x28,
      0,
      0,
      0,
      0,
      0, // 0x28 Enter → end of scan
      0x00,
      0x00,
      0x00,
      0,
      0,
      0,
      0,
      0,
    );
    expect(decode(capture)).toEqual([{ type: 'scan', code: 'Ab1', end: 'enter' }]);
  });

  it('counts a key only in the report where it first appears (rollover)', () => {
    const reports = Uint8Array.of(
      0,
      0,
      0x04,
      0,
      0,
      0,
      0,
      0, // a pressed
      0,
      0,
      0x04,
      0x05,
      0,
      0,
      0,
      0, // a still held, b new → 'b'
      0,
      0,
      0x05,
      0,
      0,
      0,
      0,
      0, // a released, b held → nothing
      0,
      0,
      0x05,
      0x04,
      0,
      0,
      0,
      0, // a pressed again → 'a'
      0,
      0,
      0x28,
      0,
      0,
      0,
      0,
      0,
    );
    expect(codes(decode(reports))).toEqual(['aba']);
    // "11": the release between the two presses makes the second one new.
    expect(codes(decode(typed([0, 0x1e], [0, 0x1e], ENTER)))).toEqual(['11']);
  });

  it('ignores an ErrorRollOver report (all six slots 0x01)', () => {
    const bytes = cat(
      Uint8Array.of(0, 0, 0x04, 0, 0, 0, 0, 0),
      Uint8Array.of(0, 0, 1, 1, 1, 1, 1, 1),
      Uint8Array.of(0, 0, 0x04, 0x05, 0, 0, 0, 0),
      typed(ENTER),
    );
    expect(codes(decode(bytes))).toEqual(['ab']);
  });

  it('decodes the same usages differently per layout (the scanner layout, not the host)', () => {
    const bytes = typed([0, 0x1c], [0, 0x1d], [S, 0x24], [MOD.RAlt, 0x14], [S, 0x1e], [0, 0x1e], ENTER);
    expect(codes(decode(bytes, { layout: 'de' }))).toEqual(['zy/@!1']);
    // AZERTY: A/Q and Z/W swapped, digits need Shift, AltGr+0 is @.
    expect(codes(decode(typed([0, 0x14], [0, 0x1a], [S, 0x1e], [0, 0x1e], [MOD.RAlt, 0x27], ENTER), { layout: 'fr' }))).toEqual(['az1&@']);
    // US has no AltGr level: the scan is spoiled and reported, never guessed.
    expect(decode(bytes, { layout: 'us' })).toEqual([
      {
        type: 'error',
        code: 'PKL_FRAME_INVALID',
        detail: { protocol: 'hid-keyboard', reason: 'key usage 0x14 level 2 has no character in layout us' },
        raw: 'yz&',
      },
    ]);
  });

  it('treats Ctrl+Alt as AltGr and types dead key + Space as the bare accent', () => {
    expect(codes(decode(typed([MOD.LCtrl | MOD.LAlt, 0x25], [0, 0x35], [0, 0x2c], [0, 0x04], ENTER), { layout: 'de' }))).toEqual(['[^a']);
  });

  it('types Ctrl+] as GS (GS1 FNC1) and Alt+keypad codes layout-independently', () => {
    expect(codes(decode(typed([0, 0x1f], [MOD.LCtrl, 0x30], [0, 0x20], ENTER)))).toEqual(['2\x1d3']);
    const altA = Uint8Array.of(
      MOD.LAlt,
      0,
      0x5e,
      0,
      0,
      0,
      0,
      0, // Alt held, keypad 6
      MOD.LAlt,
      0,
      0x00,
      0,
      0,
      0,
      0,
      0,
      MOD.LAlt,
      0,
      0x5d,
      0,
      0,
      0,
      0,
      0, // keypad 5
      0x00,
      0,
      0x00,
      0,
      0,
      0,
      0,
      0, // Alt released → chr(65) 'A'
    );
    expect(codes(decode(cat(altA, typed(ENTER)), { layout: 'fr' }))).toEqual(['A']);
  });

  it('honours CapsLock on letters only, Backspace, and the configured terminator', () => {
    expect(codes(decode(typed([0, 0x39], [0, 0x04], [S, 0x04], [0, 0x1e], [0, 0x05], [0, 0x2a], ENTER)))).toEqual(['Aa1']);
    const tabbed = typed([0, 0x04], ENTER, [0, 0x05], [0, 0x2b]);
    expect(decode(tabbed, { terminators: ['tab'] })).toEqual([{ type: 'scan', code: 'ab', end: 'tab' }]);
  });

  it('ends a scan without terminator on flush(); too long a code is an error', () => {
    const d = new HidKeyboardDecoder({ terminators: [] });
    expect(d.push(typed([0, 0x04], [0, 0x05], ENTER))).toEqual([]);
    expect(d.flush()).toEqual([{ type: 'scan', code: 'ab', end: 'flush' }]);
    expect(d.flush()).toEqual([]);
    expect(decode(typed([0, 0x04], [0, 0x05], [0, 0x06], ENTER), { maxLength: 2 })[0]).toMatchObject({ code: 'PKL_FRAME_INVALID', raw: 'ab' });
  });

  it('reports garbage and resynchronises on the next plausible report', () => {
    const out = decode(cat(typed([0, 0x05]), '\xff\x01junk', typed([0, 0x04], ENTER)));
    expect(out).toEqual([
      { type: 'error', code: 'PKL_FRAME_INVALID', detail: { protocol: 'hid-keyboard', reason: 'bytes are not a keyboard boot report' }, raw: '\\xff\\x01junk' },
      { type: 'scan', code: 'ba', end: 'enter' },
    ]);
  });

  it('strips a numbered-report id', () => {
    const r = (k: number) => Uint8Array.of(0x01, 0, 0, k, 0, 0, 0, 0, 0);
    expect(codes(decode(cat(r(0x04), r(0), r(0x28), r(0)), { reportId: 1 }))).toEqual(['a']);
  });

  it('refuses bad options with PKL_CONFIG_INVALID', () => {
    expect(() => new HidKeyboardDecoder({ layout: 'xx' })).toThrow(expect.objectContaining({ code: 'PKL_CONFIG_INVALID' }));
    expect(() => new HidKeyboardDecoder({ reportId: 300 })).toThrow(expect.objectContaining({ code: 'PKL_CONFIG_INVALID' }));
  });

  scannerDecoderContract(
    () => new HidKeyboardDecoder({ layout: 'de' }),
    cat(typed([S, 0x16], [S, 0x09], [0, 0x1e], [0, 0x1f], ENTER), 'garbage!', typed([0, 0x1c], [MOD.RAlt, 0x14], ENTER)),
    8,
  );
});
