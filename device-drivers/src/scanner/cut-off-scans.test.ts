/**
 * Scans cut off before their end (cable pulled mid-scan, scanner reset, a replayed capture that
 * stops early), across every scanner decoder: never emitted as a code on idle or end of stream,
 * never glued onto the next code; dropped with one coded error instead. Every fixture is also
 * fed one byte at a time.
 */
import { describe, expect, it } from 'vitest';
import { EV_KEY, EV_SYN, EvdevDecoder, encodeInputEvent } from './evdev.js';
import { HidKeyboardDecoder } from './hid-keyboard.js';
import { encodeHidPosReports, HID_POS_REPORT, HidPosScannerDecoder } from './hid-pos.js';
import { MOD } from './key-text.js';
import { bytewise, cat, codes } from './testing.js';
import type { ScannerDecoder, ScannerFrame } from './types.js';

/** HID usage ids (HID Usage Tables §10) for the characters of these fixtures. */
const USAGE: Record<string, readonly [mods: number, usage: number]> = {
  S: [MOD.LShift, 0x16],
  F: [MOD.LShift, 0x09],
  '1': [0, 0x1e],
  '2': [0, 0x1f],
  '3': [0, 0x20],
  '4': [0, 0x21],
  '5': [0, 0x22],
  '6': [0, 0x23],
  '7': [0, 0x24],
  '8': [0, 0x25],
  '9': [0, 0x26],
  '0': [0, 0x27],
  '\n': [0, 0x28], // Enter, the scanner's suffix
};

/** One boot report per key down and one all-up report, as a wedge scanner sends them (HID 1.11 App. B.1). */
function bootReports(text: string): Uint8Array[] {
  return [...text].flatMap((ch) => {
    const [mods, usage] = USAGE[ch]!;
    return [Uint8Array.of(mods, 0, usage, 0, 0, 0, 0, 0), new Uint8Array(8)];
  });
}

/** Feeds timed chunks (each whole, or split into single bytes at the same time). */
function feedTimed(d: ScannerDecoder, chunks: Array<readonly [at: number, bytes: Uint8Array]>, oneByte: boolean): ScannerFrame[] {
  const out: ScannerFrame[] = [];
  for (const [at, bytes] of chunks) for (const c of oneByte ? bytewise(bytes) : [bytes]) out.push(...d.push(c, at));
  return out;
}

/** Reports typed 4 ms apart from `t0` (a fast scanner's key rate). */
const typedAt = (t0: number, text: string) => bootReports(text).map((r, i) => [t0 + 4 * Math.floor(i / 2), r] as const);

describe('keyboard-wedge scan cut off before its suffix (hidraw boot reports)', () => {
  for (const oneByte of [false, true]) {
    const how = oneByte ? 'one byte at a time' : 'whole reports';
    it(`"SF1234" then, after a gap, "SF1234567890⏎": one error, one scan, nothing glued (${how})`, () => {
      const d = new HidKeyboardDecoder({ maxKeyGapMs: 100 });
      const out = feedTimed(d, [...typedAt(0, 'SF1234'), ...typedAt(1_000, 'SF1234567890\n')], oneByte);
      expect(out).toEqual([
        { type: 'error', code: 'PKL_SCAN_INCOMPLETE', detail: { protocol: 'hid-keyboard', length: 6, suffix: 'enter' }, raw: 'SF1234' },
        { type: 'scan', code: 'SF1234567890', end: 'enter' },
      ]);
    });

    it(`a scan cut off at the end of the stream is dropped on flush(), never a code (${how})`, () => {
      const d = new HidKeyboardDecoder();
      feedTimed(d, typedAt(0, 'SF1234'), oneByte);
      expect(d.pending).toBe(true);
      expect(d.bufferedBytes).toBe(0); // whole reports leave no bytes behind, only half a code
      expect(d.flush()).toEqual([
        { type: 'error', code: 'PKL_SCAN_INCOMPLETE', detail: { protocol: 'hid-keyboard', length: 6, suffix: 'enter' }, raw: 'SF1234' },
      ]);
      expect(d.pending).toBe(false);
      expect(codes(feedTimed(d, typedAt(5_000, 'SF1234567890\n'), oneByte))).toEqual(['SF1234567890']);
    });
  }

  it('without a configured suffix (terminators: []), the idle gap is what ends a scan', () => {
    const d = new HidKeyboardDecoder({ terminators: [], maxKeyGapMs: 100 });
    const out = feedTimed(d, [...typedAt(0, 'SF12'), ...typedAt(1_000, '34')], false);
    expect(out).toEqual([{ type: 'scan', code: 'SF12', end: 'flush' }]);
    expect(d.flush()).toEqual([{ type: 'scan', code: '34', end: 'flush' }]);
  });

  it('keys of one scan closer than the gap stay one scan; a mid-report byte split does not matter', () => {
    const d = new HidKeyboardDecoder({ maxKeyGapMs: 100 });
    expect(codes(feedTimed(d, typedAt(0, 'SF1234567890\n'), true))).toEqual(['SF1234567890']);
  });

  it('without times (a replay of bytes alone) the cut-off scan is still dropped on flush()', () => {
    const d = new HidKeyboardDecoder({ maxKeyGapMs: 100 });
    for (const r of bootReports('SF1234')) d.push(r);
    expect(codes(d.flush())).toEqual(['!PKL_SCAN_INCOMPLETE']);
  });
});

describe('keyboard-wedge scan cut off before its suffix (evdev input_event, kernel times)', () => {
  /** Key down/up + SYN events for `text`, 4 ms apart from t0 (ms), kernel timestamps. */
  function events(t0: number, text: string): Uint8Array {
    const parts: Uint8Array[] = [];
    const KEY: Record<string, number> = { S: 31, F: 33, '1': 2, '2': 3, '3': 4, '4': 5, '5': 6, '6': 7, '7': 8, '8': 9, '9': 10, '0': 11, '\n': 28 };
    [...text].forEach((ch, i) => {
      const t = t0 + 4 * i;
      const e = (type: number, code: number, value: number) =>
        encodeInputEvent({ sec: 1_700_000_000 + Math.floor(t / 1000), usec: (t % 1000) * 1000, type, code, value }, 64);
      const shift = ch === 'S' || ch === 'F';
      if (shift) parts.push(e(EV_KEY, 42, 1));
      parts.push(e(EV_KEY, KEY[ch]!, 1), e(EV_SYN, 0, 0), e(EV_KEY, KEY[ch]!, 0), e(EV_SYN, 0, 0));
      if (shift) parts.push(e(EV_KEY, 42, 0));
    });
    return cat(...parts);
  }

  it('the kernel event times split the cut-off scan from the next, fed whole or one byte at a time', () => {
    const stream = cat(events(0, 'SF1234'), events(2_000, 'SF1234567890\n'));
    const expected = [
      { type: 'error', code: 'PKL_SCAN_INCOMPLETE', detail: { protocol: 'evdev', length: 6, suffix: 'enter' }, raw: 'SF1234' },
      { type: 'scan', code: 'SF1234567890', end: 'enter' },
    ];
    expect(new EvdevDecoder({ maxKeyGapMs: 100 }).push(stream)).toEqual(expected);
    const d = new EvdevDecoder({ maxKeyGapMs: 100 });
    expect(bytewise(stream).flatMap((c) => d.push(c))).toEqual(expected);
  });

  it('a cut-off scan at the end of the stream is dropped on flush()', () => {
    const d = new EvdevDecoder();
    d.push(events(0, 'SF12'));
    expect(codes(d.flush())).toEqual(['!PKL_SCAN_INCOMPLETE']);
  });
});

describe('HID POS scanner (0x8C): truncated code, truncated report, glued report', () => {
  const long = 'L'.repeat(70); // two reports, the first with the more-data flag set

  for (const oneByte of [false, true]) {
    const how = oneByte ? 'one byte at a time' : 'whole reports';
    it(`a code whose last report never came is dropped when the next code starts after a gap (${how})`, () => {
      const d = new HidPosScannerDecoder({ maxReportGapMs: 100 });
      const first = encodeHidPosReports(long).subarray(0, HID_POS_REPORT.length); // more-data set, rest lost
      const out = feedTimed(
        d,
        [
          [0, first],
          [1_000, encodeHidPosReports('SF1234567890')],
        ],
        oneByte,
      );
      expect(out).toEqual([
        {
          type: 'error',
          code: 'PKL_FRAME_INVALID',
          detail: { protocol: 'hid-pos-scanner', reason: 'code ended without its last report (more-data flag still set)' },
          raw: 'L'.repeat(56),
        },
        { type: 'scan', code: 'SF1234567890', end: 'report' },
      ]);
    });

    it(`a report cut short, then a whole one: the whole one decodes, the stub is an error (${how})`, () => {
      const d = new HidPosScannerDecoder();
      const stub = encodeHidPosReports('4006381333931').subarray(0, 30);
      const out = feedTimed(
        d,
        [
          [0, stub],
          [0, encodeHidPosReports('SF1234567890')],
        ],
        oneByte,
      );
      expect(codes(out)).toEqual(['!PKL_FRAME_INVALID', 'SF1234567890']);
    });

    it(`a valid report with trailing garbage: the code, then one error for the garbage on flush (${how})`, () => {
      const d = new HidPosScannerDecoder();
      const out = feedTimed(d, [[0, cat(encodeHidPosReports('SF1'), Uint8Array.of(0x02, 0x05, 0x41))]], oneByte);
      expect(codes(out)).toEqual(['SF1']);
      expect(d.pending).toBe(true);
      expect(codes(d.flush())).toEqual(['!PKL_FRAME_INVALID']);
      expect(d.pending).toBe(false);
    });
  }

  it('a code cut off at the end of the stream (whole reports) is pending, and dropped on flush()', () => {
    const d = new HidPosScannerDecoder();
    d.push(encodeHidPosReports(long).subarray(0, HID_POS_REPORT.length));
    expect(d.bufferedBytes).toBe(0);
    expect(d.pending).toBe(true);
    expect(codes(d.flush())).toEqual(['!PKL_FRAME_INVALID']);
  });
});
