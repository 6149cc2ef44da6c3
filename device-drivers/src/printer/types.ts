/**
 * Shared vocabulary of the label-printer modules: why a printer cannot print (fault codes that
 * travel as `print_result.reason` and as the `reason` of the retained `dev/{id}/state`), a
 * language-neutral status snapshot, and the small interface each printer language (ZPL, TSPL)
 * implements for the raw-TCP driver.
 */
import type { ErrorCode, ErrorDetails } from '../../../contracts/errors.js';

/**
 * Printer-side reasons, snake_case like the MQTT-native printer simulator's `paper_out`
 * (simulators/src/devices/label-printer.ts), so the gateway and the station screen see one
 * vocabulary whatever the printer model.
 */
export const PRINTER_FAULTS = [
  'paper_out',
  'head_open',
  'ribbon_out',
  'paper_jam',
  'cover_open',
  'paused',
  'over_temperature',
  'under_temperature',
  'temperature_out_of_range',
  'cutter_fault',
  'printhead_fault',
  'printer_error',
] as const;
export type PrinterFault = (typeof PRINTER_FAULTS)[number];

/**
 * Reasons a job fails that are not a printer fault. A command that fails validation is
 * answered with the coded error as reason instead (`PKL_PAYLOAD_INVALID: Invalid payload: …`).
 */
export const JOB_FAILURES = [
  /** No status answer within the timeout (a Zebra may stay silent to `~HS` while faulted). */
  'status_timeout',
  /** No TCP connection to the printer when the job arrived. */
  'offline',
  /** The TCP connection dropped while the job was being sent or printed. */
  'connection_lost',
  /** The driver stopped after sending the job and before its end was seen; never re-sent (no double label). */
  'interrupted',
  /** The printer still reported the job in progress after `jobTimeoutMs`. */
  'job_timeout',
  /** `format` is not the printer's language (a TSPL job for a ZPL printer). */
  'format_unsupported',
] as const;
export type JobFailure = (typeof JOB_FAILURES)[number];

/** What the driver needs from one status answer, whatever the language. */
export interface StatusSnapshot {
  /** Conditions that stop printing, most important first; empty = ready. */
  readonly faults: readonly PrinterFault[];
  /** Labels still queued or printing in the printer. */
  readonly busy: boolean;
}

/** One decoded status answer, or a coded error for bytes that are not one. */
export type StatusReading =
  | { readonly ok: true; readonly query: 'primary' | 'fallback'; readonly snapshot: StatusSnapshot }
  | { readonly ok: false; readonly code: ErrorCode; readonly details: ErrorDetails };

export interface StatusReader {
  /** The driver wrote a query; readers of unframed answers (TSPL's one byte) pair bytes with queries. */
  sent(query: 'primary' | 'fallback'): void;
  /** Incremental: feed bytes in arbitrary chunks; never throws; bounded buffer. */
  push(chunk: Uint8Array): StatusReading[];
  /**
   * Readers of unframed answers only: the line was quiet for `replyQuietMs` after the last
   * byte, so the answer is complete and can be judged (TSPL: exactly one byte or no status).
   */
  endOfReply?(): StatusReading[];
  reset(): void;
}

export type PrinterLanguageId = 'zpl' | 'tspl';

/** A printer command language as the driver sees it. */
export interface PrinterLanguage {
  readonly id: PrinterLanguageId;
  /** The status query sent before and during every job (ZPL `~HS`, TSPL `<ESC>!?`). */
  readonly primaryQuery: Uint8Array;
  /** Asked when the primary query goes unanswered (ZPL `~HQES`); absent when there is none. */
  readonly fallbackQuery?: Uint8Array;
  /** Drops everything queued in the printer after a fault mid-job (ZPL `~JA`). */
  readonly cancelAll?: Uint8Array;
  /**
   * True when a job can only be called finished after the printer was seen busy once or a
   * settle time passed: TSPL's status byte cannot tell "not started yet" from "done".
   */
  readonly needsSettle: boolean;
  /** Unframed answers: quiet gap after the last byte that ends an answer (see StatusReader.endOfReply). */
  readonly replyQuietMs?: number;
  createReader(): StatusReader;
}

export interface PrinterDefinition {
  /** Stable id used in configuration, e.g. `zebra-zd420`. */
  readonly id: string;
  readonly vendor: string;
  readonly model: string;
  readonly language: PrinterLanguageId;
  /** Raw TCP port (9100 is the de-facto "JetDirect"/raw port on Zebra, TSC and Gprinter). */
  readonly port: number;
  /** Print resolution in dots per mm (8 = 203 dpi, 12 = 300 dpi). */
  readonly dpmm: number;
  /** Widest printable area, mm. */
  readonly maxWidthMm: number;
  /** Facts taken from datasheets but not checked on a real unit. */
  readonly unverified?: readonly string[];
}
