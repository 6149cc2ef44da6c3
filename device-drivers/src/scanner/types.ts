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
  push(chunk: Uint8Array): ScannerFrame[];
  /** Ends a scan that has no terminator (the driver calls this after an idle gap). */
  flush(): ScannerFrame[];
  readonly bufferedBytes: number;
  reset(): void;
}
