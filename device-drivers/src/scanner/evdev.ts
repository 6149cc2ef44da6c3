/**
 * Keyboard-wedge scanners read through Linux evdev (`/dev/input/eventN`, what the Odoo IoT box
 * does; docs/devices/scanners.md).
 *
 * `struct input_event` (linux/input.h): `struct timeval time; __u16 type; __u16 code; __s32 value;`
 * in host byte order (little endian on x86_64, arm64 and armhf). timeval is two `long`s, so an
 * event is 24 bytes on 64-bit kernels (type @16, code @18, value @20) and 16 bytes on 32-bit
 * ones such as armhf Raspberry Pi OS (type @8, code @10, value @12).
 * EV_KEY (1) events carry a KEY_* code (linux/input-event-codes.h); value 1 = press,
 * 0 = release, 2 = autorepeat (ignored: a scanner never holds a key).
 *
 * KEY_* codes are mapped to HID usage ids (the inverse of `hid_keyboard[]` in Linux
 * drivers/hid/hid-input.c) so the same layout tables decode both transports.
 */
import { PacklineError } from '../../../contracts/errors.js';
import { concatBytes } from '../framing/bytes.js';
import { SkippedBytes } from './resync.js';
import { type KeyboardLayout, keyboardLayout } from './keyboard-layouts.js';
import { KeyTextAssembler, type KeyTerminator } from './key-text.js';
import type { ScannerDecoder, ScannerFrame } from './types.js';

export const EVDEV = 'evdev';

// linux/input-event-codes.h
export const EV_SYN = 0x00;
export const EV_KEY = 0x01;
export const EV_MSC = 0x04;
/** EV_MAX: event types above it do not exist. */
const EV_MAX = 0x1f;

/** `struct input_event` sizes: 64-bit and 32-bit `long` (timeval = 2 × long). */
export const INPUT_EVENT_SIZE = { 64: 24, 32: 16 } as const;
export type WordSize = keyof typeof INPUT_EVENT_SIZE;

/** KEY_* code → HID usage id (page 0x07). Index comments name the KEY_* constant. */
export const EVDEV_TO_HID_USAGE: Readonly<Record<number, number>> = {
  1: 0x29, // KEY_ESC
  2: 0x1e,
  3: 0x1f,
  4: 0x20,
  5: 0x21,
  6: 0x22,
  7: 0x23,
  8: 0x24,
  9: 0x25,
  10: 0x26, // KEY_1..KEY_9
  11: 0x27, // KEY_0
  12: 0x2d, // KEY_MINUS
  13: 0x2e, // KEY_EQUAL
  14: 0x2a, // KEY_BACKSPACE
  15: 0x2b, // KEY_TAB
  16: 0x14,
  17: 0x1a,
  18: 0x08,
  19: 0x15,
  20: 0x17,
  21: 0x1c,
  22: 0x18,
  23: 0x0c,
  24: 0x12,
  25: 0x13, // KEY_Q..KEY_P
  26: 0x2f, // KEY_LEFTBRACE
  27: 0x30, // KEY_RIGHTBRACE
  28: 0x28, // KEY_ENTER
  29: 0xe0, // KEY_LEFTCTRL
  30: 0x04,
  31: 0x16,
  32: 0x07,
  33: 0x09,
  34: 0x0a,
  35: 0x0b,
  36: 0x0d,
  37: 0x0e,
  38: 0x0f, // KEY_A..KEY_L
  39: 0x33, // KEY_SEMICOLON
  40: 0x34, // KEY_APOSTROPHE
  41: 0x35, // KEY_GRAVE
  42: 0xe1, // KEY_LEFTSHIFT
  43: 0x31, // KEY_BACKSLASH (hid-input maps both 0x31 and 0x32 here)
  44: 0x1d,
  45: 0x1b,
  46: 0x06,
  47: 0x19,
  48: 0x05,
  49: 0x11,
  50: 0x10, // KEY_Z..KEY_M
  51: 0x36, // KEY_COMMA
  52: 0x37, // KEY_DOT
  53: 0x38, // KEY_SLASH
  54: 0xe5, // KEY_RIGHTSHIFT
  55: 0x55, // KEY_KPASTERISK
  56: 0xe2, // KEY_LEFTALT
  57: 0x2c, // KEY_SPACE
  58: 0x39, // KEY_CAPSLOCK
  69: 0x53, // KEY_NUMLOCK
  71: 0x5f,
  72: 0x60,
  73: 0x61, // KEY_KP7..KEY_KP9
  74: 0x56, // KEY_KPMINUS
  75: 0x5c,
  76: 0x5d,
  77: 0x5e, // KEY_KP4..KEY_KP6
  78: 0x57, // KEY_KPPLUS
  79: 0x59,
  80: 0x5a,
  81: 0x5b, // KEY_KP1..KEY_KP3
  82: 0x62, // KEY_KP0
  83: 0x63, // KEY_KPDOT
  86: 0x64, // KEY_102ND
  96: 0x58, // KEY_KPENTER
  97: 0xe4, // KEY_RIGHTCTRL
  98: 0x54, // KEY_KPSLASH
  100: 0xe6, // KEY_RIGHTALT
  125: 0xe3, // KEY_LEFTMETA
  126: 0xe7, // KEY_RIGHTMETA
};

export interface InputEvent {
  readonly sec: number;
  readonly usec: number;
  readonly type: number;
  readonly code: number;
  readonly value: number;
}

/** Reads one `struct input_event` (little endian) at `offset`. */
export function readInputEvent(bytes: Uint8Array, offset: number, wordSize: WordSize): InputEvent {
  const v = new DataView(bytes.buffer, bytes.byteOffset + offset, INPUT_EVENT_SIZE[wordSize]);
  const w = wordSize / 8;
  const sec = wordSize === 64 ? Number(v.getBigInt64(0, true)) : v.getInt32(0, true);
  const usec = wordSize === 64 ? Number(v.getBigInt64(8, true)) : v.getInt32(4, true);
  return { sec, usec, type: v.getUint16(2 * w, true), code: v.getUint16(2 * w + 2, true), value: v.getInt32(2 * w + 4, true) };
}

/** Encodes one `struct input_event` (little endian) — for fixtures and simulators. */
export function encodeInputEvent(e: InputEvent, wordSize: WordSize): Uint8Array {
  const out = new Uint8Array(INPUT_EVENT_SIZE[wordSize]);
  const v = new DataView(out.buffer);
  const w = wordSize / 8;
  if (wordSize === 64) {
    v.setBigInt64(0, BigInt(e.sec), true);
    v.setBigInt64(8, BigInt(e.usec), true);
  } else {
    v.setInt32(0, e.sec, true);
    v.setInt32(4, e.usec, true);
  }
  v.setUint16(2 * w, e.type, true);
  v.setUint16(2 * w + 2, e.code, true);
  v.setInt32(2 * w + 4, e.value, true);
  return out;
}

/** Modifier usage (0xE0–0xE7) → boot-report modifier bit (MOD). */
function modifierBit(usage: number): number {
  return usage >= 0xe0 && usage <= 0xe7 ? 1 << (usage - 0xe0) : 0;
}

export interface EvdevOptions {
  /** `long` size of the kernel that wrote the events: 64 (x86_64, arm64) or 32 (armhf). */
  readonly wordSize?: WordSize;
  readonly layout?: string | KeyboardLayout;
  readonly terminators?: readonly KeyTerminator[];
  readonly maxLength?: number;
  /** Longest gap between two keys of one scan (KeyTextAssembler `maxKeyGapMs`). */
  readonly maxKeyGapMs?: number;
}

export class EvdevDecoder implements ScannerDecoder {
  readonly #text: KeyTextAssembler;
  readonly #wordSize: WordSize;
  readonly #size: number;
  #buf: Uint8Array = new Uint8Array(0);
  readonly #skipped: SkippedBytes;
  #mods = 0;

  constructor(options: EvdevOptions = {}) {
    const wordSize = options.wordSize ?? 64;
    if (wordSize !== 64 && wordSize !== 32) {
      throw new PacklineError('PKL_CONFIG_INVALID', { reason: `${EVDEV}: "wordSize" must be 64 or 32` });
    }
    const layout = typeof options.layout === 'object' ? options.layout : keyboardLayout(options.layout ?? 'us');
    this.#text = new KeyTextAssembler({
      layout,
      protocol: EVDEV,
      ...(options.terminators ? { terminators: options.terminators } : {}),
      ...(options.maxLength !== undefined ? { maxLength: options.maxLength } : {}),
      ...(options.maxKeyGapMs !== undefined ? { maxKeyGapMs: options.maxKeyGapMs } : {}),
    });
    this.#wordSize = wordSize;
    this.#skipped = new SkippedBytes(EVDEV, `bytes are not a ${wordSize}-bit input_event`);
    this.#size = INPUT_EVENT_SIZE[wordSize];
  }

  get bufferedBytes(): number {
    return this.#buf.length;
  }

  get pending(): boolean {
    return this.#buf.length > 0 || this.#skipped.held > 0 || this.#text.pending;
  }

  reset(): void {
    this.#buf = new Uint8Array(0);
    this.#skipped.clear();
    this.#mods = 0;
    this.#text.reset();
  }

  flush(): ScannerFrame[] {
    return [...this.#skipped.take(), ...this.#text.flush()];
  }

  push(chunk: Uint8Array): ScannerFrame[] {
    const out: ScannerFrame[] = [];
    const buf = concatBytes(this.#buf, chunk);
    let pos = 0;
    while (buf.length - pos >= this.#size) {
      const e = readInputEvent(buf, pos, this.#wordSize);
      if (!plausible(e)) {
        this.#skipped.add(buf[pos] ?? 0);
        pos++;
        continue;
      }
      out.push(...this.#skipped.take());
      pos += this.#size;
      // The gap check uses the kernel's own event time, so it holds for any split or replay.
      if (e.type === EV_KEY) out.push(...this.#key(e.code, e.value, e.sec * 1000 + e.usec / 1000));
    }
    this.#buf = buf.slice(pos);
    return out;
  }

  #key(code: number, value: number, at: number): ScannerFrame[] {
    const usage = EVDEV_TO_HID_USAGE[code];
    if (usage === undefined) {
      if (value !== 1) return [];
      return [{ type: 'error', code: 'PKL_FRAME_INVALID', detail: { protocol: EVDEV, reason: `key code ${code} is not a keyboard key` }, raw: String(code) }];
    }
    const bit = modifierBit(usage);
    if (bit !== 0) {
      if (value === 2) return [];
      this.#mods = value === 1 ? this.#mods | bit : this.#mods & ~bit;
      this.#text.setModifiers(this.#mods);
      return [];
    }
    return value === 1 ? this.#text.press(usage, at) : [];
  }
}

/**
 * Resync check: seconds within 32 bits (true until 2106, and what makes a misaligned 64-bit
 * window fail), microseconds < 10^6, a defined event type, key values 0..2.
 */
function plausible(e: InputEvent): boolean {
  if (e.usec < 0 || e.usec >= 1_000_000 || e.sec < 0 || e.sec > 0xffff_ffff) return false;
  if (e.type > EV_MAX) return false;
  if (e.type === EV_KEY && (e.value < 0 || e.value > 2)) return false;
  return true;
}
