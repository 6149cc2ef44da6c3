/**
 * A TSC/Gprinter-like TSPL printer on raw TCP: accepts command lines up to `PRINT m[,n]`
 * (m × n labels), answers `<ESC>!?` with the one status byte encoded by
 * device-drivers/src/printer/tspl/status.ts. Faults: see {@link RawPrinterSim}.
 *
 * A job that selects `CODEPAGE UTF-8` (TSPL/TSPL2 Programming Manual, CODEPAGE) is kept as the
 * text it means, decoded as UTF-8, so `labels` and label-NNNN.tspl show its Chinese as sent;
 * any other job is kept byte for byte as Latin-1 (one character per byte).
 */
import type net from 'node:net';
import { encodeTsplStatus } from '../../../device-drivers/src/printer/tspl/status.js';
import { TsplStreamParser } from '../../../device-drivers/src/printer/tspl/stream.js';
import { RawPrinterSim } from './raw-printer-sim.js';

const UTF8_CODEPAGE_RE = /^\s*CODEPAGE\s+UTF-8\s*$/im;

/** The job's text: `tspl` holds one character per received byte (the stream parser's latin1). */
export function decodeTsplJob(tspl: string): string {
  return UTF8_CODEPAGE_RE.test(tspl) ? Buffer.from(tspl, 'latin1').toString('utf8') : tspl;
}

export class TsplPrinterSim extends RawPrinterSim {
  protected readonly extension = 'tspl';

  /** The `<ESC>!?` byte for the current state. */
  statusByte(): number {
    const f = this.faults;
    return encodeTsplStatus({
      headOpen: Boolean(f.headOpen),
      paperOut: Boolean(f.paperOut),
      ribbonOut: Boolean(f.ribbonOut),
      paused: Boolean(f.paused),
      printing: this.queue.length > 0,
    });
  }

  protected openSession(socket: net.Socket): (chunk: Buffer) => void {
    const parser = new TsplStreamParser();
    return (chunk) => {
      for (const input of parser.push(chunk)) {
        if (socket.destroyed) return;
        if (input.type === 'job') {
          if (!this.enqueue(socket, decodeTsplJob(input.tspl), input.labels)) return;
        } else if (input.type === 'status-query') {
          this.answer(socket, Uint8Array.of(this.statusByte()));
        }
      }
    };
  }
}
