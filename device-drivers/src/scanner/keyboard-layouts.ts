/**
 * Keyboard layouts for keyboard-wedge scanners, keyed by HID usage id on the Keyboard/Keypad
 * page 0x07 (USB HID Usage Tables 1.5 §10). A keyboard-wedge scanner types the barcode in the
 * layout it was *programmed* with, so the decoder must use that layout, not the host's
 * (docs/devices/scanners.md). evdev key codes are mapped to the same usage ids (evdev.ts),
 * so one table serves both.
 *
 * Each key lists its characters per level: [plain, Shift, AltGr]. Levels follow the X.Org xkb
 * `us`, `de` and `fr` (basic) symbol files. Dead keys (xkb `dead_*`) are listed separately:
 * a wedge scanner types a dead key followed by Space to get the bare character.
 */
import { PacklineError } from '../../../contracts/errors.js';

export type KeyLevels = readonly [plain: string, shift?: string, altGr?: string];

export interface KeyboardLayout {
  readonly id: string;
  readonly description: string;
  readonly keys: Readonly<Record<number, KeyLevels>>;
  /** `usage:level` of dead keys (level 0 plain, 1 Shift, 2 AltGr). */
  readonly deadKeys: ReadonlySet<string>;
}

// HID Usage Tables 1.5 §10 (Keyboard/Keypad page 0x07): usage ids the layouts share.
export const USAGE = {
  ErrorRollOver: 0x01,
  A: 0x04,
  Z: 0x1d,
  Digit1: 0x1e,
  Digit0: 0x27,
  Enter: 0x28,
  Escape: 0x29,
  Backspace: 0x2a,
  Tab: 0x2b,
  Space: 0x2c,
  CapsLock: 0x39,
  NumLock: 0x53,
  KeypadEnter: 0x58,
  Keypad1: 0x59,
  Keypad0: 0x62,
  LeftControl: 0xe0,
  RightGui: 0xe7,
} as const;

/** Keypad (usages 0x54–0x63) types the same in every layout (NumLock on, as scanners assume). */
const KEYPAD: Record<number, KeyLevels> = {
  0x54: ['/'],
  0x55: ['*'],
  0x56: ['-'],
  0x57: ['+'],
  0x59: ['1'],
  0x5a: ['2'],
  0x5b: ['3'],
  0x5c: ['4'],
  0x5d: ['5'],
  0x5e: ['6'],
  0x5f: ['7'],
  0x60: ['8'],
  0x61: ['9'],
  0x62: ['0'],
  0x63: ['.'],
};

function letters(order: string): Record<number, KeyLevels> {
  // `order` lists what the keys at US positions a..z (usages 0x04..0x1d) type.
  const out: Record<number, KeyLevels> = {};
  for (let i = 0; i < 26; i++) {
    const c = order[i] ?? '';
    out[USAGE.A + i] = [c, c.toUpperCase()];
  }
  return out;
}

function row(plain: string, shift: string, altGr: Record<number, string> = {}): Record<number, KeyLevels> {
  // Digit row: usages 0x1e ('1') … 0x27 ('0').
  const out: Record<number, KeyLevels> = {};
  for (let i = 0; i < 10; i++) {
    const a = altGr[i];
    out[USAGE.Digit1 + i] = a === undefined ? [plain[i] ?? '', shift[i] ?? ''] : [plain[i] ?? '', shift[i] ?? '', a];
  }
  return out;
}

const SPACE: Record<number, KeyLevels> = { [USAGE.Space]: [' ', ' '] };

export const US_LAYOUT: KeyboardLayout = {
  id: 'us',
  description: 'US English (xkb us)',
  keys: {
    ...letters('abcdefghijklmnopqrstuvwxyz'),
    ...row('1234567890', '!@#$%^&*()'),
    ...SPACE,
    0x2d: ['-', '_'],
    0x2e: ['=', '+'],
    0x2f: ['[', '{'],
    0x30: [']', '}'],
    0x31: ['\\', '|'],
    // 0x32 "Non-US # and ~": Linux maps it to KEY_BACKSLASH, which xkb us types as \ |.
    0x32: ['\\', '|'],
    0x33: [';', ':'],
    0x34: ["'", '"'],
    0x35: ['`', '~'],
    0x36: [',', '<'],
    0x37: ['.', '>'],
    0x38: ['/', '?'],
    ...KEYPAD,
  },
  deadKeys: new Set(),
};

export const DE_LAYOUT: KeyboardLayout = {
  id: 'de',
  description: 'German QWERTZ (xkb de): Y/Z swapped, digits Shift !"§$%&/()=, AltGr @ { [ ] } \\ ~ |',
  keys: {
    ...letters('abcdefghijklmnopqrstuvwxzy'),
    [0x08]: ['e', 'E', '€'],
    [0x10]: ['m', 'M', 'µ'],
    [0x14]: ['q', 'Q', '@'],
    ...row('1234567890', '!"§$%&/()=', { 1: '²', 2: '³', 6: '{', 7: '[', 8: ']', 9: '}' }),
    ...SPACE,
    0x2d: ['ß', '?', '\\'],
    0x2e: ['´', '`'],
    0x2f: ['ü', 'Ü'],
    0x30: ['+', '*', '~'],
    0x31: ['#', "'"],
    0x32: ['#', "'"],
    0x33: ['ö', 'Ö'],
    0x34: ['ä', 'Ä'],
    0x35: ['^', '°'],
    0x36: [',', ';'],
    0x37: ['.', ':'],
    0x38: ['-', '_'],
    0x64: ['<', '>', '|'],
    ...KEYPAD,
  },
  deadKeys: new Set(['46:0', '46:1', '53:0']), // 0x2e ´ `, 0x35 ^
};

export const FR_LAYOUT: KeyboardLayout = {
  id: 'fr',
  description: 'French AZERTY (xkb fr): A/Q and Z/W swapped, M right of L, digits need Shift',
  keys: {
    ...letters('qbcdefghijkl,noparstuvzxyw'),
    [0x10]: [',', '?'],
    ...row('&é"\'(-è_çà', '1234567890', { 1: '~', 2: '#', 3: '{', 4: '[', 5: '|', 6: '`', 7: '\\', 8: '^', 9: '@' }),
    ...SPACE,
    0x2d: [')', '°', ']'],
    0x2e: ['=', '+', '}'],
    0x2f: ['^', '¨'],
    0x30: ['$', '£', '¤'],
    0x31: ['*', 'µ'],
    0x32: ['*', 'µ'],
    0x33: ['m', 'M'],
    0x34: ['ù', '%'],
    0x35: ['²'],
    0x36: [';', '.'],
    0x37: [':', '/'],
    0x38: ['!', '§'],
    0x64: ['<', '>'],
    ...KEYPAD,
  },
  deadKeys: new Set(['31:2', '36:2', '47:0', '47:1']), // AltGr 2 ~, AltGr 7 `, 0x2f ^ ¨
};

export const KEYBOARD_LAYOUTS: Readonly<Record<string, KeyboardLayout>> = {
  us: US_LAYOUT,
  de: DE_LAYOUT,
  fr: FR_LAYOUT,
};

export function keyboardLayout(id: string): KeyboardLayout {
  const layout = Object.hasOwn(KEYBOARD_LAYOUTS, id) ? KEYBOARD_LAYOUTS[id] : undefined;
  if (!layout) {
    throw new PacklineError('PKL_CONFIG_INVALID', {
      reason: `unknown keyboard layout "${id}" (known: ${Object.keys(KEYBOARD_LAYOUTS).join(', ')})`,
    });
  }
  return layout;
}
