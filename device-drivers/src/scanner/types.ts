/**
 * Shared types of the barcode scanner decoders (HID keyboard, HID POS, evdev, serial). All
 * decoders are pure: bytes in, frames out, no I/O, no timers; they never throw on input.
 */
import type { ErrorCode, ErrorDetails } from '../../../contracts/errors.js';

/** How a scan ended: a terminator key, a serial line end, a HID POS report, or `flush()`. */
export type ScanEnd = 'enter' | 'tab' | 'line' | 'report' | 'flush';

export interface ScanFrame {
  readonly type: 'scan';
  /** The decoded characters, prefixes/suffixes/AIM id still in place (see postprocess.ts). */
  readonly code: string;
  /** AIM symbology identifier (ISO/IEC 15424) when the transport carries it separately (HID POS). */
  readonly symbology?: string;
  readonly end: ScanEnd;
}

/** Input that could not be decoded; `code`/`detail` feed `toWireError(code, detail)`. */
export interface ScanErrorFrame {
  readonly type: 'error';
  readonly code: ErrorCode;
  readonly detail: ErrorDetails;
  /** Offending bytes (`\xNN` for non-printables) or the partial text of a spoiled scan. */
  readonly raw: string;
}

export type ScannerFrame = ScanFrame | ScanErrorFrame;

export interface ScannerDecoder {
  /**
   * Bytes in, frames out. `at` (ms, any monotonic clock) is when the chunk arrived: keyboard
   * decoders use it to tell a cut-off scan from the next one (see KeyTextAssembler).
   */
  push(chunk: Uint8Array, at?: number): ScannerFrame[];
  /**
   * The stream went idle or ended (the driver calls this after an idle gap): ends a scan that
   * has no terminator by configuration, drops one that lost its terminator with an error.
   */
  flush(): ScannerFrame[];
  readonly bufferedBytes: number;
  /** Something waits for more input: buffered bytes or a scan without its end yet. */
  readonly pending: boolean;
  reset(): void;
}
