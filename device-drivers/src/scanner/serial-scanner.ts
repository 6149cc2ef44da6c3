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

export type LineTerminator = 'cr' | 'lf' | 'crlf' | 'any';
const TERMINATOR_BYTES: Record<Exclude<LineTerminator, 'any'>, Uint8Array> = {
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
  readonly #delimiter: Uint8Array;

  constructor(options: SerialScannerOptions = {}) {
    const terminator = options.terminator ?? 'any';
    const maxLength = options.maxLength ?? 256;
    if (!['cr', 'lf', 'crlf', 'any'].includes(terminator)) {
      throw new PacklineError('PKL_CONFIG_INVALID', { reason: `${SERIAL_SCANNER}: "terminator" must be cr, lf, crlf or any` });
    }
    if (!Number.isInteger(maxLength) || maxLength < 1) {
      throw new PacklineError('PKL_CONFIG_INVALID', { reason: `${SERIAL_SCANNER}: "maxLength" must be a positive integer` });
    }
    this.#any = terminator === 'any';
    // `any`: frame on LF after turning every CR into LF; CR LF then gives one empty line, skipped.
    this.#delimiter = TERMINATOR_BYTES[terminator === 'any' ? 'lf' : terminator];
    this.#framer = new LineFramer({ delimiter: this.#delimiter, maxLength });
  }

  get bufferedBytes(): number {
    return this.#framer.bufferedBytes;
  }

  reset(): void {
    this.#framer.reset();
  }

  /** A line without terminator (scanner suffix off) ends after an idle gap: the driver calls flush(). */
  flush(): ScannerFrame[] {
    if (this.#framer.bufferedBytes === 0) return [];
    return this.push(this.#delimiter).map((f) => (f.type === 'scan' ? { ...f, code: f.code.replace(/\r$/, ''), end: 'flush' } : f));
  }

  push(chunk: Uint8Array): ScannerFrame[] {
    const bytes = this.#any ? chunk.map((b) => (b === 0x0d ? 0x0a : b)) : chunk;
    const out: ScannerFrame[] = [];
    for (const c of this.#framer.push(bytes)) {
      if (c.kind === 'overflow') {
        out.push({ type: 'error', code: 'PKL_FRAME_INVALID', detail: { protocol: SERIAL_SCANNER, reason: 'line too long without a terminator' }, raw: describeBytes(c.bytes) });
      } else if (c.bytes.length > 0) {
        out.push({ type: 'scan', code: latin1(c.bytes), end: 'line' });
      }
    }
    return out;
  }
}
