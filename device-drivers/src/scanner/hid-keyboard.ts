/**
 * Keyboard-wedge barcode scanners read as HID keyboard boot reports (e.g. from /dev/hidrawN).
 *
 * Boot report (HID 1.11 Appendix B.1, 8 bytes): byte0 modifier bits (see key-text.ts MOD),
 * byte1 reserved (0), bytes2–7 up to six pressed keys as usage ids of the Keyboard page 0x07
 * (HID Usage Tables 1.5 §10), 0 = no key. A report lists every key *held*, so a key counts
 * only in the first report it appears in (key rollover: "in this report and not in the
 * previous one"); scanners send press + all-zero release per character (docs/devices/scanners.md).
 * All six slots = 0x01 ErrorRollOver means "too many keys": the key list is void (§10).
 *
 * Reads from hidraw deliver whole reports; the decoder still takes any split of a recorded
 * byte stream and resynchronises after garbage, best effort (a non-zero reserved byte, an usage
 * id outside the page or a key after an empty slot drops one byte): a boot report has no sync
 * byte, so garbage that happens to look like a report cannot be told apart.
 */
import { PacklineError } from '../../../contracts/errors.js';
import { concatBytes } from '../framing/bytes.js';
import { SkippedBytes } from './resync.js';
import { type KeyboardLayout, keyboardLayout, USAGE } from './keyboard-layouts.js';
import { KeyTextAssembler, type KeyTerminator } from './key-text.js';
import type { ScannerDecoder, ScannerFrame } from './types.js';

export const HID_KEYBOARD = 'hid-keyboard';

const BOOT_REPORT_LENGTH = 8;
/** Highest usage id a boot keyboard sends (0xE7 Right GUI; HID Usage Tables §10). */
const MAX_USAGE = 0xe7;

export interface HidKeyboardOptions {
  /** Layout the scanner is programmed for (`us`, `de`, `fr`) or a layout object. Default `us`. */
  readonly layout?: string | KeyboardLayout;
  /** Keys that end a scan; default `['enter']`. */
  readonly terminators?: readonly KeyTerminator[];
  readonly maxLength?: number;
  /** Longest gap between two keys of one scan (KeyTextAssembler `maxKeyGapMs`). */
  readonly maxKeyGapMs?: number;
  /** Report id prefixed to each report (non-boot interfaces with numbered reports); default none. */
  readonly reportId?: number;
}

export class HidKeyboardDecoder implements ScannerDecoder {
  readonly #text: KeyTextAssembler;
  readonly #reportId: number | undefined;
  readonly #size: number;
  #buf: Uint8Array = new Uint8Array(0);
  readonly #skipped: SkippedBytes;
  #held: ReadonlySet<number> = new Set();

  constructor(options: HidKeyboardOptions = {}) {
    const layout = typeof options.layout === 'object' ? options.layout : keyboardLayout(options.layout ?? 'us');
    if (options.reportId !== undefined && !(Number.isInteger(options.reportId) && options.reportId >= 1 && options.reportId <= 255)) {
      throw new PacklineError('PKL_CONFIG_INVALID', { reason: `${HID_KEYBOARD}: "reportId" must be 1..255` });
    }
    this.#text = new KeyTextAssembler({
      layout,
      protocol: HID_KEYBOARD,
      ...(options.terminators ? { terminators: options.terminators } : {}),
      ...(options.maxLength !== undefined ? { maxLength: options.maxLength } : {}),
      ...(options.maxKeyGapMs !== undefined ? { maxKeyGapMs: options.maxKeyGapMs } : {}),
    });
    this.#reportId = options.reportId;
    this.#skipped = new SkippedBytes(HID_KEYBOARD, 'bytes are not a keyboard boot report');
    this.#size = BOOT_REPORT_LENGTH + (options.reportId === undefined ? 0 : 1);
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
    this.#held = new Set();
    this.#text.reset();
  }

  flush(): ScannerFrame[] {
    return [...this.#skipped.take(), ...this.#text.flush()];
  }

  push(chunk: Uint8Array, at?: number): ScannerFrame[] {
    const out: ScannerFrame[] = [];
    const buf = concatBytes(this.#buf, chunk);
    let pos = 0;
    while (buf.length - pos >= this.#size) {
      const report = buf.subarray(pos, pos + this.#size);
      if (!this.#plausible(report)) {
        this.#skipped.add(buf[pos] ?? 0);
        pos++;
        continue;
      }
      out.push(...this.#skipped.take());
      out.push(...this.#report(report.subarray(this.#size - BOOT_REPORT_LENGTH), at));
      pos += this.#size;
    }
    this.#buf = buf.slice(pos);
    return out;
  }

  #plausible(r: Uint8Array): boolean {
    const o = this.#size - BOOT_REPORT_LENGTH;
    if (o === 1 && r[0] !== this.#reportId) return false;
    if (r[o + 1] !== 0) return false; // reserved byte (HID 1.11 B.1)
    // Keyboards fill the key slots from the left (Linux usbkbd/hid-input rely on the same):
    // a key after an empty slot marks a misaligned window.
    let empty = false;
    for (let i = o + 2; i < r.length; i++) {
      const k = r[i] ?? 0;
      if (k > MAX_USAGE || (empty && k !== 0)) return false;
      if (k === 0) empty = true;
    }
    return true;
  }

  #report(r: Uint8Array, at: number | undefined): ScannerFrame[] {
    this.#text.setModifiers(r[0] ?? 0);
    const keys = Array.from(r.subarray(2)).filter((k) => k !== 0);
    if (keys.length === 6 && keys.every((k) => k === USAGE.ErrorRollOver)) return []; // phantom state
    const out: ScannerFrame[] = [];
    for (const k of keys) if (!this.#held.has(k)) out.push(...this.#text.press(k, at));
    this.#held = new Set(keys);
    return out;
  }
}

/** Builds the boot reports a wedge scanner sends for `text` (press + release per key) — for fixtures and simulators. */
export function bootReportsFor(presses: ReadonlyArray<readonly [modifiers: number, usage: number]>): Uint8Array {
  const out = new Uint8Array(presses.length * 2 * BOOT_REPORT_LENGTH);
  presses.forEach(([mods, usage], i) => {
    out.set([mods, 0, usage, 0, 0, 0, 0, 0], i * 2 * BOOT_REPORT_LENGTH);
  });
  return out;
}
