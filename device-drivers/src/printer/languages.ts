/**
 * ZPL and TSPL as the raw-TCP driver sees them: which query to send, how to read the answer
 * into a {@link StatusSnapshot}, how to cancel. The protocol facts live in zpl/status.ts and
 * tspl/status.ts; this file only maps them onto the shared fault vocabulary.
 */
import type { PrinterFault, PrinterLanguage, PrinterLanguageId, StatusReader, StatusReading, StatusSnapshot } from './types.js';
import { TSPL_STATUS_QUERY, TsplStatusDecoder, type TsplReply, type TsplStatus } from './tspl/status.js';
import {
  type ExtendedStatus,
  HQES_ERROR,
  type HostStatus,
  ZPL_CANCEL_ALL,
  ZPL_EXTENDED_STATUS_QUERY,
  ZPL_HOST_STATUS_QUERY,
  ZplStatusDecoder,
} from './zpl/status.js';

/** Faults in a `~HS` answer, most actionable first (an open head explains "paper out" too). */
export function zplHostFaults(s: HostStatus): PrinterFault[] {
  const f: PrinterFault[] = [];
  if (s.headOpen) f.push('head_open');
  if (s.paperOut) f.push('paper_out');
  if (s.ribbonOut) f.push('ribbon_out');
  if (s.overTemperature) f.push('over_temperature');
  if (s.underTemperature) f.push('under_temperature');
  if (s.paused) f.push('paused');
  return f;
}

export function zplSnapshot(s: HostStatus): StatusSnapshot {
  return { faults: zplHostFaults(s), busy: s.formatsInBuffer > 0 || s.labelsRemaining > 0 || s.partialFormat };
}

/** Faults in a `~HQES` answer; error bits above nibble 2 become `printer_error`. */
export function zplExtendedFaults(s: ExtendedStatus): PrinterFault[] {
  const e = s.errors;
  const f: PrinterFault[] = [];
  if (e & HQES_ERROR.headOpen) f.push('head_open');
  if (e & HQES_ERROR.mediaOut) f.push('paper_out');
  if (e & HQES_ERROR.ribbonOut) f.push('ribbon_out');
  if (e & HQES_ERROR.cutterFault) f.push('cutter_fault');
  if (e & (HQES_ERROR.printheadOverTemp | HQES_ERROR.motorOverTemp)) f.push('over_temperature');
  if (e & (HQES_ERROR.badPrintheadElement | HQES_ERROR.printheadDetection)) f.push('printhead_fault');
  if ((e & ~0xff) !== 0 || s.errors2 !== 0) f.push('printer_error');
  return f;
}

export function tsplSnapshot(s: TsplStatus): StatusSnapshot {
  const f: PrinterFault[] = [];
  if (s.headOpen) f.push('head_open');
  if (s.coverOpen) f.push('cover_open');
  if (s.paperJam) f.push('paper_jam');
  if (s.paperOut) f.push('paper_out');
  if (s.ribbonOut) f.push('ribbon_out');
  if (s.temperatureOutOfRange) f.push('temperature_out_of_range');
  if (s.paused) f.push('paused');
  return { faults: f, busy: s.printing };
}

class ZplReader implements StatusReader {
  readonly #d = new ZplStatusDecoder();
  sent(): void {}
  reset(): void {
    this.#d.reset();
  }
  push(chunk: Uint8Array): StatusReading[] {
    // biome-ignore lint/suspicious/useIterableCallbackReturn: the switch is exhaustive over the decoder's reading types (tsc checks it)
    return this.#d.push(chunk).map((r): StatusReading => {
      switch (r.type) {
        case 'host-status':
          return { ok: true, query: 'primary', snapshot: zplSnapshot(r.status) };
        case 'extended-status':
          // ~HQES says nothing about the buffer: "busy" stays true so it never completes a job.
          return { ok: true, query: 'fallback', snapshot: { faults: zplExtendedFaults(r.status), busy: true } };
        case 'error':
          return { ok: false, code: r.code, details: { ...r.details, raw: r.raw } };
      }
    });
  }
}

class TsplReader implements StatusReader {
  readonly #d = new TsplStatusDecoder();
  sent(): void {
    this.#d.expectAnswer();
  }
  reset(): void {
    this.#d.reset();
  }
  push(chunk: Uint8Array): StatusReading[] {
    return this.#d.push(chunk).map(tsplReading);
  }
  endOfReply(): StatusReading[] {
    return this.#d.endOfReply().map(tsplReading);
  }
}

function tsplReading(r: TsplReply): StatusReading {
  return r.type === 'status'
    ? { ok: true, query: 'primary', snapshot: tsplSnapshot(r.status) }
    : { ok: false, code: r.code, details: { ...r.details, raw: r.raw } };
}

export const ZPL: PrinterLanguage = {
  id: 'zpl',
  primaryQuery: ZPL_HOST_STATUS_QUERY,
  // docs.zebra.com: current firmware may not answer ~HS while media out / head open: ask ~HQES.
  fallbackQuery: ZPL_EXTENDED_STATUS_QUERY,
  cancelAll: ZPL_CANCEL_ALL,
  needsSettle: false,
  createReader: () => new ZplReader(),
};

export const TSPL: PrinterLanguage = {
  id: 'tspl',
  primaryQuery: TSPL_STATUS_QUERY,
  needsSettle: true,
  // The printer answers <ESC>!? at once with one byte (TSC TSPL manual, immediate commands):
  // on a LAN the byte comes in one segment; 30 ms of silence after it closes the answer.
  replyQuietMs: 30,
  createReader: () => new TsplReader(),
};

export const PRINTER_LANGUAGES: Readonly<Record<PrinterLanguageId, PrinterLanguage>> = { zpl: ZPL, tspl: TSPL };
