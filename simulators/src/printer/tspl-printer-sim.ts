/**
 * A TSC/Gprinter-like TSPL printer on raw TCP: accepts command lines up to `PRINT m[,n]`
 * (m × n labels), answers `<ESC>!?` with the one status byte encoded by
 * device-drivers/src/printer/tspl/status.ts. Faults: see {@link RawPrinterSim}.
 */
import type net from 'node:net';
import { encodeTsplStatus } from '../../../device-drivers/src/printer/tspl/status.js';
import { TsplStreamParser } from '../../../device-drivers/src/printer/tspl/stream.js';
import { RawPrinterSim } from './raw-printer-sim.js';

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
          if (!this.enqueue(socket, input.tspl, input.labels)) return;
        } else if (input.type === 'status-query') {
          this.answer(socket, Uint8Array.of(this.statusByte()));
        }
      }
    };
  }
}
