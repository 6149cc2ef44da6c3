/**
 * TSPL status: the one-byte answer to `<ESC>!?`, decoded and encoded. Pure.
 *
 * Source: TSC TSPL/TSPL2 Programming Manual (TTP-244 Plus), "<ESC>!? — Inquire printer
 * status": the printer answers immediately, even while in an error state, with ONE byte whose
 * bits are (docs/devices/printers.md; same on Gprinter GP-2120T):
 *   bit0 head opened · bit1 paper jam · bit2 out of paper · bit3 out of ribbon ·
 *   bit4 pause · bit5 printing · bit6 cover opened · bit7 environment temperature over range.
 *   0x00 = ready.
 * The answer has no framing, so a byte can only be paired with a query: bytes that arrive
 * when no query is outstanding are reported as coded errors, never decoded as a status.
 */
import type { ErrorCode, ErrorDetails } from '../../../../contracts/errors.js';

/** `<ESC>!?` (TSC TSPL manual, immediate commands). */
export const TSPL_STATUS_QUERY = Uint8Array.from([0x1b /* ESC */, 0x21 /* ! */, 0x3f /* ? */]);

/** Bits of the `<ESC>!?` answer (TSC TSPL manual, <ESC>!? table). */
export const TSPL_STATUS_BIT = {
  headOpen: 0x01,
  paperJam: 0x02,
  paperOut: 0x04,
  ribbonOut: 0x08,
  paused: 0x10,
  printing: 0x20,
  coverOpen: 0x40,
  temperatureOutOfRange: 0x80,
} as const;

export type TsplStatus = { readonly [K in keyof typeof TSPL_STATUS_BIT]: boolean };

export const TSPL_READY: TsplStatus = {
  headOpen: false, paperJam: false, paperOut: false, ribbonOut: false,
  paused: false, printing: false, coverOpen: false, temperatureOutOfRange: false,
};

export function decodeTsplStatus(byte: number): TsplStatus {
  const out: Record<string, boolean> = {};
  for (const [name, mask] of Object.entries(TSPL_STATUS_BIT)) out[name] = (byte & mask) !== 0;
  return out as TsplStatus;
}

export function encodeTsplStatus(status: Partial<TsplStatus>): number {
  let byte = 0;
  for (const [name, mask] of Object.entries(TSPL_STATUS_BIT)) if (status[name as keyof TsplStatus]) byte |= mask;
  return byte;
}

export type TsplReply =
  | { readonly type: 'status'; readonly status: TsplStatus; readonly byte: number }
  | { readonly type: 'error'; readonly code: ErrorCode; readonly details: ErrorDetails; readonly raw: string };

/**
 * Pairs status bytes with the queries the caller announced via {@link expectAnswer}. At most
 * `maxOutstanding` queries are remembered (a printer that never answers must not grow it).
 */
export class TsplStatusDecoder {
  readonly #max: number;
  #outstanding = 0;

  constructor(maxOutstanding = 8) {
    this.#max = maxOutstanding;
  }

  get outstanding(): number {
    return this.#outstanding;
  }

  /** Call once per `<ESC>!?` written. */
  expectAnswer(): void {
    this.#outstanding = Math.min(this.#max, this.#outstanding + 1);
  }

  reset(): void {
    this.#outstanding = 0;
  }

  push(chunk: Uint8Array): TsplReply[] {
    const out: TsplReply[] = [];
    for (const byte of chunk) {
      if (this.#outstanding === 0) {
        out.push({
          type: 'error',
          code: 'PKL_FRAME_INVALID',
          details: { protocol: 'tspl-status', reason: 'byte received with no <ESC>!? outstanding' },
          raw: `\\x${byte.toString(16).padStart(2, '0')}`,
        });
        continue;
      }
      this.#outstanding--;
      out.push({ type: 'status', status: decodeTsplStatus(byte), byte });
    }
    return out;
  }
}
