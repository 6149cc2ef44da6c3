/**
 * A Zebra-like ZPL printer on raw TCP: accepts `^XA…^XZ` formats (`^PQ` quantity honoured),
 * answers `~HS` and `~HQES` from its state with the encoders of
 * device-drivers/src/printer/zpl/status.ts, and obeys `~JA` (cancel all), `~PP` (pause) and
 * `~PS` (resume). Faults: see {@link RawPrinterSim}.
 */
import type net from 'node:net';
import { encodeExtendedStatus, encodeHostStatus, HQES_ERROR, IDLE_HOST_STATUS, type HostStatus } from '../../../device-drivers/src/printer/zpl/status.js';
import { ZplStreamParser } from '../../../device-drivers/src/printer/zpl/stream.js';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { type PrinterSimOptions, RawPrinterSim } from './raw-printer-sim.js';
import { renderZplPng } from './zpl-png.js';

export interface ZplPrinterSimOptions extends PrinterSimOptions {
  /** With `outDir`: also render each printed label to label-NNNN.png (default true). */
  readonly renderPng?: boolean;
}

export class ZplPrinterSim extends RawPrinterSim {
  protected readonly extension = 'zpl';
  /** PNG files written so far (rendering runs behind printing, in order). */
  readonly pngs: string[] = [];
  readonly renderErrors: string[] = [];
  #rendering: Promise<void> = Promise.resolve();

  constructor(options: ZplPrinterSimOptions = {}) {
    super(options);
    const dir = options.outDir;
    if (dir !== undefined && options.renderPng !== false) {
      this.on('printed', (label) => {
        const file = join(dir, `label-${String(label.seq).padStart(4, '0')}.png`);
        this.#rendering = this.#rendering
          .then(() => renderZplPng(label.data))
          .then((png) => {
            writeFileSync(file, png);
            this.pngs.push(file);
          })
          .catch((err: unknown) => {
            this.renderErrors.push(String(err));
          });
      });
    }
  }

  /** Resolves when every label printed so far has been rendered. */
  renderIdle(): Promise<void> {
    return this.#rendering;
  }

  /** The `~HS` answer for the current state (exposed for tests and demos). */
  hostStatus(partialFormat = false): HostStatus {
    const f = this.faults;
    const [current, ...waiting] = this.queue;
    return {
      ...IDLE_HOST_STATUS,
      paperOut: Boolean(f.paperOut),
      paused: Boolean(f.paused),
      headOpen: Boolean(f.headOpen),
      ribbonOut: Boolean(f.ribbonOut),
      formatsInBuffer: waiting.length,
      labelsRemaining: current?.remaining ?? 0,
      partialFormat,
    };
  }

  extendedErrors(): number {
    const f = this.faults;
    return (f.paperOut ? HQES_ERROR.mediaOut : 0) | (f.ribbonOut ? HQES_ERROR.ribbonOut : 0) | (f.headOpen ? HQES_ERROR.headOpen : 0);
  }

  protected openSession(socket: net.Socket): (chunk: Buffer) => void {
    const parser = new ZplStreamParser();
    return (chunk) => {
      for (const input of parser.push(chunk)) {
        if (socket.destroyed) return;
        switch (input.type) {
          case 'format':
            if (!this.enqueue(socket, input.zpl, input.quantity)) return;
            break;
          case 'immediate':
            this.#immediate(socket, input.command, parser.inFormat);
            break;
          case 'overflow':
            break;
        }
      }
    };
  }

  #immediate(socket: net.Socket, command: 'HS' | 'HQES' | 'JA' | 'PP' | 'PS', partial: boolean): void {
    switch (command) {
      case 'HS':
        this.answer(socket, encodeHostStatus(this.hostStatus(partial)), Boolean(this.faults.silentHsWhenFaulted && this.hardFault));
        return;
      case 'HQES':
        this.answer(socket, encodeExtendedStatus({ errors: this.extendedErrors(), errors2: 0, warnings: 0, warnings2: 0 }));
        return;
      case 'JA':
        this.cancelAll();
        return;
      case 'PP':
        this.setFaults({ paused: true });
        return;
      case 'PS':
        this.setFaults({ paused: false });
        return;
    }
  }
}
