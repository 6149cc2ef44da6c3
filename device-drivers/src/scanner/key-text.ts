/**
 * Turns key presses (HID usage ids, page 0x07) plus the modifier state into scanned codes.
 * Shared by the HID keyboard boot-report decoder and the evdev decoder.
 *
 * Modifiers use the bit layout of the boot report's byte 0 (HID 1.11 Appendix B.1 / Usage
 * Tables §10 usages 0xE0–0xE7): b0 LCtrl, b1 LShift, b2 LAlt, b3 LGUI, b4 RCtrl, b5 RShift,
 * b6 RAlt, b7 RGUI. Right Alt is AltGr; Windows also treats Ctrl+Alt as AltGr.
 */
import { PacklineError } from '../../../contracts/errors.js';
import { type KeyboardLayout, USAGE } from './keyboard-layouts.js';
import type { ScanEnd, ScannerFrame } from './types.js';

export const MOD = {
  LCtrl: 0x01,
  LShift: 0x02,
  LAlt: 0x04,
  LGui: 0x08,
  RCtrl: 0x10,
  RShift: 0x20,
  RAlt: 0x40,
  RGui: 0x80,
} as const;

export type KeyTerminator = 'enter' | 'tab';

export interface KeyTextOptions {
  readonly layout: KeyboardLayout;
  /** Keys that end a scan (scanner "suffix" setting); default Enter. `[]` = end on flush() only. */
  readonly terminators?: readonly KeyTerminator[];
  /** Longest code accepted (characters); longer input is dropped with an error. Default 256. */
  readonly maxLength?: number;
  /** Protocol name used in error details. */
  readonly protocol: string;
  /**
   * Longest silence between two keys of one scan, ms. A scanner types a code as one burst
   * (a few ms per key); a longer gap means the scan in progress was cut off (cable pulled,
   * scanner reset) and the next key starts a new scan. Applies only when `press()` is given
   * the key's time. Default: no gap check.
   */
  readonly maxKeyGapMs?: number;
}

export class KeyTextAssembler {
  readonly #layout: KeyboardLayout;
  readonly #terminators: ReadonlySet<KeyTerminator>;
  readonly #maxLength: number;
  readonly #protocol: string;
  #text = '';
  /** Why the scan in progress is unusable (an unmapped key, an overlong code). */
  #spoiled: string | null = null;
  #mods = 0;
  #caps = false;
  #afterDeadKey = false;
  /** Digits typed on the keypad while Alt is held (Alt+keypad character entry). */
  #altDigits: string | null = null;
  /** Time of the last key of the scan in progress (when the caller supplies times). */
  #lastKeyAt: number | null = null;
  readonly #maxKeyGapMs: number | undefined;

  constructor(options: KeyTextOptions) {
    const maxLength = options.maxLength ?? 256;
    if (!Number.isInteger(maxLength) || maxLength < 1) {
      throw new PacklineError('PKL_CONFIG_INVALID', { reason: `${options.protocol}: "maxLength" must be a positive integer` });
    }
    this.#layout = options.layout;
    this.#terminators = new Set(options.terminators ?? ['enter']);
    this.#maxLength = maxLength;
    this.#protocol = options.protocol;
    if (options.maxKeyGapMs !== undefined && !(Number.isFinite(options.maxKeyGapMs) && options.maxKeyGapMs > 0)) {
      throw new PacklineError('PKL_CONFIG_INVALID', { reason: `${options.protocol}: "maxKeyGapMs" must be a positive number` });
    }
    this.#maxKeyGapMs = options.maxKeyGapMs;
  }

  /** A scan is in progress: characters (or a spoiled scan) waiting for their terminator. */
  get pending(): boolean {
    return this.#text !== '' || this.#spoiled !== null;
  }

  get pendingText(): string {
    return this.#text;
  }

  reset(): void {
    this.#text = '';
    this.#spoiled = null;
    this.#mods = 0;
    this.#caps = false;
    this.#afterDeadKey = false;
    this.#altDigits = null;
    this.#lastKeyAt = null;
  }

  /** New modifier state. Releasing Alt completes an Alt+keypad character. */
  setModifiers(mods: number): void {
    const altWasHeld = (this.#mods & MOD.LAlt) !== 0;
    this.#mods = mods & 0xff;
    if ((mods & MOD.LAlt) !== 0 && !altWasHeld) this.#altDigits = '';
    if ((mods & MOD.LAlt) === 0 && altWasHeld) {
      const digits = this.#altDigits;
      this.#altDigits = null;
      if (digits) this.#altCode(digits);
    }
  }

  /**
   * One newly pressed key (usage id), optionally with its time in ms. Returns a frame when the
   * key ends a scan, or when the gap since the previous key ended the one before it.
   */
  press(usage: number, at?: number): ScannerFrame[] {
    const cut = this.#gapCut(at);
    const out = this.#press(usage);
    return cut.length === 0 ? out : [...cut, ...out];
  }

  #gapCut(at: number | undefined): ScannerFrame[] {
    if (at === undefined) return [];
    const last = this.#lastKeyAt;
    this.#lastKeyAt = at;
    if (last === null || this.#maxKeyGapMs === undefined || at - last <= this.#maxKeyGapMs || !this.pending) return [];
    this.#afterDeadKey = false;
    return this.#terminate('flush');
  }

  #press(usage: number): ScannerFrame[] {
    const afterDead = this.#afterDeadKey;
    this.#afterDeadKey = false;
    if (usage === USAGE.Enter || usage === USAGE.KeypadEnter) return this.#terminate('enter');
    if (usage === USAGE.Tab) return this.#terminate('tab');
    if (usage >= USAGE.LeftControl && usage <= USAGE.RightGui) return []; // modifiers arrive via setModifiers
    if (usage === USAGE.CapsLock) {
      this.#caps = !this.#caps;
      return [];
    }
    if (usage === USAGE.NumLock || usage === USAGE.Escape) return [];
    if (usage === USAGE.Backspace) {
      this.#text = this.#text.slice(0, -1);
      return [];
    }
    const m = this.#mods;
    const ctrl = (m & (MOD.LCtrl | MOD.RCtrl)) !== 0;
    const altGr = (m & MOD.RAlt) !== 0 || (ctrl && (m & MOD.LAlt) !== 0);
    if (this.#altDigits !== null && !altGr && !ctrl) {
      // Alt+keypad entry ("ALT mode" of wedge scanners; layout independent).
      const digit = usage === USAGE.Keypad0 ? 0 : usage >= USAGE.Keypad1 && usage < USAGE.Keypad0 ? usage - USAGE.Keypad1 + 1 : -1;
      if (digit >= 0) this.#altDigits += String(digit);
      return [];
    }
    const levels = this.#layout.keys[usage];
    const plain = levels?.[0];
    const shift = (m & (MOD.LShift | MOD.RShift)) !== 0;
    const isLetter = plain !== undefined && plain.toUpperCase() !== plain;
    const level = altGr ? 2 : shift !== (this.#caps && isLetter) ? 1 : 0;
    const ch = levels?.[level];
    if (ch === undefined || ch === '') {
      this.#spoil(`key usage 0x${usage.toString(16).padStart(2, '0')} level ${level} has no character in layout ${this.#layout.id}`);
      return [];
    }
    if (ctrl && !altGr) {
      // Ctrl+key types a C0 control character (Ctrl+] = GS 0x1d, the GS1 FNC1 separator).
      const code = ch.toUpperCase().charCodeAt(0);
      if (ch.length === 1 && code >= 0x40 && code <= 0x5f) this.#append(String.fromCharCode(code & 0x1f));
      else this.#spoil(`Ctrl+${ch} is not a control character`);
      return [];
    }
    if (afterDead && usage === USAGE.Space) return []; // dead key + Space = the bare accent, already typed
    this.#append(ch);
    if (this.#layout.deadKeys.has(`${usage}:${level}`)) this.#afterDeadKey = true;
    return [];
  }

  /**
   * The stream went idle or ended. Without terminators (`terminators: []`) that ends a scan;
   * with a configured suffix, characters still waiting for it are a cut-off scan: never a
   * code, one `PKL_SCAN_INCOMPLETE` error instead (so a half code is never glued to the next).
   */
  flush(): ScannerFrame[] {
    return this.#terminate('flush');
  }

  #altCode(digits: string): void {
    const n = Number(digits);
    // Alt+0nnn is the Windows ANSI code page (cp1252 ≈ Latin-1 for text); without the leading 0
    // it is the OEM code page, which agrees with ASCII only below 128.
    if (n >= 1 && (n < 128 || (digits.startsWith('0') && n <= 255))) this.#append(String.fromCharCode(n));
    else this.#spoil(`Alt+${digits} is outside the supported Alt code range`);
  }

  #append(ch: string): void {
    if (this.#spoiled !== null) return;
    if (this.#text.length + ch.length > this.#maxLength) {
      this.#spoil(`code longer than ${this.#maxLength} characters`);
      return;
    }
    this.#text += ch;
  }

  #spoil(reason: string): void {
    if (this.#spoiled === null) this.#spoiled = reason;
  }

  #terminate(end: ScanEnd): ScannerFrame[] {
    // A non-terminator Enter/Tab (scanner suffix set to the other key) is ignored.
    if (end !== 'flush' && !this.#terminators.has(end as KeyTerminator)) return [];
    const text = this.#text;
    const spoiled = this.#spoiled;
    this.#text = '';
    this.#spoiled = null;
    if (end === 'flush' && this.#terminators.size > 0 && (text !== '' || spoiled !== null)) {
      const suffix = [...this.#terminators].join(' or ');
      return [{ type: 'error', code: 'PKL_SCAN_INCOMPLETE', detail: { protocol: this.#protocol, length: text.length, suffix }, raw: text }];
    }
    if (spoiled !== null) {
      return [{ type: 'error', code: 'PKL_FRAME_INVALID', detail: { protocol: this.#protocol, reason: spoiled }, raw: text }];
    }
    return text === '' ? [] : [{ type: 'scan', code: text, end }];
  }
}
