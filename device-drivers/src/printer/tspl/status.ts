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
  headOpen: false,
  paperJam: false,
  paperOut: false,
  ribbonOut: false,
  paused: false,
  printing: false,
  coverOpen: false,
  temperatureOutOfRange: false,
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
 * Pairs `<ESC>!?` queries with their one-byte answers. The answer has no framing, so a reply
 * is the bytes that arrive after a query until the line goes quiet: the driver announces each
 * query ({@link expectAnswer}) and says when the quiet gap passed ({@link endOfReply}). A reply
 * of exactly one byte is a status; a reply of several bytes (a printer speaking another
 * protocol, line noise, an answer glued to garbage) yields NO status, one coded error — never
 * a status decoded from its first byte. Bytes with no query outstanding are errors too.
 * Splitting the bytes differently never changes the result: nothing is decided before the
 * reply ended.
 */
export class TsplStatusDecoder {
  /** Bytes of the reply being collected (kept up to 16 for the error text; all are counted). */
  #reply: number[] = [];
  #replyLength = 0;
  #open = false;
  /** Results decided by {@link expectAnswer} (it closes the previous reply), handed out next. */
  #decided: TsplReply[] = [];

  /** A query is waiting for (the rest of) its answer. */
  get outstanding(): number {
    return this.#open ? 1 : 0;
  }

  /** Bytes of the current reply so far. */
  get replyBytes(): number {
    return this.#replyLength;
  }

  /** Call once per `<ESC>!?` written; a reply still open is closed (and judged) first. */
  expectAnswer(): void {
    this.#decided.push(...this.#close());
    this.#open = true;
  }

  reset(): void {
    this.#reply = [];
    this.#replyLength = 0;
    this.#open = false;
    this.#decided = [];
  }

  push(chunk: Uint8Array): TsplReply[] {
    const out = this.#take();
    for (const byte of chunk) {
      if (!this.#open) {
        out.push(stray(byte));
        continue;
      }
      if (this.#reply.length < 16) this.#reply.push(byte);
      this.#replyLength++;
    }
    return out;
  }

  /** The quiet gap after the last byte passed (or the caller gave up waiting): judge the reply. */
  endOfReply(): TsplReply[] {
    const out = this.#take();
    out.push(...this.#close());
    return out;
  }

  #take(): TsplReply[] {
    const out = this.#decided;
    this.#decided = [];
    return out;
  }

  #close(): TsplReply[] {
    if (!this.#open || this.#replyLength === 0) return [];
    const bytes = this.#reply;
    const n = this.#replyLength;
    this.#open = false;
    this.#reply = [];
    this.#replyLength = 0;
    if (n === 1) {
      const byte = bytes[0] ?? 0;
      return [{ type: 'status', status: decodeTsplStatus(byte), byte }];
    }
    return [
      {
        type: 'error',
        code: 'PKL_FRAME_INVALID',
        details: { protocol: 'tspl-status', reason: `<ESC>!? reply of ${n} bytes, a status is exactly one byte` },
        raw: hex(bytes) + (n > bytes.length ? `…(${n} bytes)` : ''),
      },
    ];
  }
}

function hex(bytes: readonly number[]): string {
  return bytes.map((b) => `\\x${b.toString(16).padStart(2, '0')}`).join('');
}

function stray(byte: number): TsplReply {
  return {
    type: 'error',
    code: 'PKL_FRAME_INVALID',
    details: { protocol: 'tspl-status', reason: 'byte received with no <ESC>!? outstanding' },
    raw: hex([byte]),
  };
}
