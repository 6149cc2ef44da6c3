/**
 * Scanners in USB-CDC / RS-232 mode send each code as a text line. The terminator is a scanner
 * setting (Honeywell/Zebra/Datalogic "suffix": CR by default on most, CR LF or LF on others),
 * so it is configurable; `any` accepts CR, LF and CR LF alike (an empty line between CR and LF
 * is not a scan). Bytes are Latin-1 (barcodes are 8-bit data, never UTF-8 here).
 */
import { PacklineError } from '../../../contracts/errors.js';
import { describeBytes, latin1 } from '../framing/bytes.js';
import { LineFramer } from '../framing/line-framer.js';
import type { ScannerDecoder, ScannerFrame } from './types.js';

export const SERIAL_SCANNER = 'serial-scanner';

/** `none`: the scanner's suffix is switched off, a scan ends after an idle gap (`flush()`). */
export type LineTerminator = 'cr' | 'lf' | 'crlf' | 'any' | 'none';
const TERMINATOR_BYTES: Record<Exclude<LineTerminator, 'any' | 'none'>, Uint8Array> = {
  cr: Uint8Array.of(0x0d),
  lf: Uint8Array.of(0x0a),
  crlf: Uint8Array.of(0x0d, 0x0a),
};

export interface SerialScannerOptions {
  readonly terminator?: LineTerminator;
  /** Longest line accepted; default 256. */
  readonly maxLength?: number;
}

export class SerialScannerDecoder implements ScannerDecoder {
  readonly #framer: LineFramer;
  readonly #any: boolean;
  readonly #none: boolean;
  readonly #delimiter: Uint8Array;

  constructor(options: SerialScannerOptions = {}) {
    const terminator = options.terminator ?? 'any';
    const maxLength = options.maxLength ?? 256;
    if (!['cr', 'lf', 'crlf', 'any', 'none'].includes(terminator)) {
      throw new PacklineError('PKL_CONFIG_INVALID', { reason: `${SERIAL_SCANNER}: "terminator" must be cr, lf, crlf, any or none` });
    }
    if (!Number.isInteger(maxLength) || maxLength < 1) {
      throw new PacklineError('PKL_CONFIG_INVALID', { reason: `${SERIAL_SCANNER}: "maxLength" must be a positive integer` });
    }
    this.#none = terminator === 'none';
    this.#any = terminator === 'any' || this.#none;
    // `any`: frame on LF after turning every CR into LF; CR LF then gives one empty line, skipped.
    this.#delimiter = TERMINATOR_BYTES[this.#any ? 'lf' : (terminator as Exclude<LineTerminator, 'any' | 'none'>)];
    this.#framer = new LineFramer({ delimiter: this.#delimiter, maxLength });
  }

  get bufferedBytes(): number {
    return this.#framer.bufferedBytes;
  }

  get pending(): boolean {
    return this.#framer.bufferedBytes > 0;
  }

  reset(): void {
    this.#framer.reset();
  }

  /**
   * The line went idle (the driver calls this after a gap). With the suffix switched off
   * (`terminator: 'none'`) that ends a scan; otherwise the bytes still waiting for their
   * terminator are a cut-off scan, dropped with `PKL_SCAN_INCOMPLETE` (never a half code, and
   * never glued to the next line).
   */
  flush(): ScannerFrame[] {
    if (this.#framer.bufferedBytes === 0) return [];
    if (!this.#none) {
      const held = this.#framer.takeBuffered();
      return [
        { type: 'error', code: 'PKL_SCAN_INCOMPLETE', detail: { protocol: SERIAL_SCANNER, length: held.length, suffix: 'line end' }, raw: describeBytes(held) },
      ];
    }
    return this.push(this.#delimiter).map((f) => (f.type === 'scan' ? { ...f, code: f.code.replace(/\r$/, ''), end: 'flush' } : f));
  }

  push(chunk: Uint8Array): ScannerFrame[] {
    const bytes = this.#any ? chunk.map((b) => (b === 0x0d ? 0x0a : b)) : chunk;
    const out: ScannerFrame[] = [];
    for (const c of this.#framer.push(bytes)) {
      if (c.kind === 'overflow') {
        out.push({
          type: 'error',
          code: 'PKL_FRAME_INVALID',
          detail: { protocol: SERIAL_SCANNER, reason: 'line too long without a terminator' },
          raw: describeBytes(c.bytes),
        });
      } else if (c.bytes.length > 0) {
        out.push({ type: 'scan', code: latin1(c.bytes), end: 'line' });
      }
    }
    return out;
  }
}
