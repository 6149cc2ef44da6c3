/**
 * The common half of the raw-TCP label printer simulators (ZPL and TSPL): a TCP server on
 * 127.0.0.1 (port 0 = ephemeral), a print engine that takes queued labels one at a time
 * (`printMs` each, or `slowMs` under the `slow` fault), a roll of `paperLabels` labels that runs
 * out (paper-out sets itself when the roll is empty, like a media sensor), the list of labels
 * "printed" (optionally written to `outDir` as label-0001.zpl / .tspl), and fault injection.
 *
 * Faults (`setFaults`, any time): `paperOut`, `headOpen`, `ribbonOut`, `paused` (all stop the
 * engine and show in the status answers), `silent` (answers no status query at all),
 * `silentHsWhenFaulted` (ZPL: ignores `~HS` while paper out / head open / ribbon out but
 * answers `~HQES`, like current Zebra firmware, docs/devices/printers.md), `slowMs` (time
 * per label), `disconnectMidJob` (the next job is cut off: connection dropped, job lost; fires
 * once). `disconnectAll()` drops every connection; `refuseConnections(true)` closes new
 * connections at once (printer rebooting).
 *
 * The language subclasses parse the incoming bytes and encode status answers with the SAME
 * protocol modules the driver decodes with (device-drivers/src/printer/{zpl,tspl}/).
 */
import { EventEmitter } from 'node:events';
import { mkdirSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { join } from 'node:path';

export interface PrinterSimFaults {
  readonly paperOut?: boolean;
  readonly headOpen?: boolean;
  readonly ribbonOut?: boolean;
  readonly paused?: boolean;
  readonly silent?: boolean;
  readonly silentHsWhenFaulted?: boolean;
  readonly slowMs?: number;
  readonly disconnectMidJob?: boolean;
}

export interface PrinterSimOptions {
  readonly host?: string;
  /** 0 (default) = ephemeral. */
  readonly port?: number;
  /** Time to print one label. Default 20 ms. */
  readonly printMs?: number;
  /** Labels left on the roll; paper-out when it reaches 0. Default: endless. */
  readonly paperLabels?: number;
  /** Each printed label is written here as label-NNNN.<ext>. */
  readonly outDir?: string;
  readonly faults?: PrinterSimFaults;
}

export interface PrintedLabel {
  readonly seq: number;
  readonly data: string;
  readonly at: number;
}

export interface PrinterSimEvents {
  printed: [label: PrintedLabel];
  /** A complete job arrived (before printing). */
  job: [data: string, labels: number];
  connection: [];
}

interface QueuedJob {
  readonly data: string;
  remaining: number;
}

export abstract class RawPrinterSim extends EventEmitter<PrinterSimEvents> {
  protected abstract readonly extension: string;
  readonly #o: PrinterSimOptions;
  readonly #server = net.createServer((s) => this.#onConnection(s));
  readonly #sockets = new Set<net.Socket>();
  #faults: PrinterSimFaults;
  #paper: number;
  #refuse = false;
  #timer: NodeJS.Timeout | undefined;
  #seq = 0;
  protected readonly queue: QueuedJob[] = [];
  readonly labels: PrintedLabel[] = [];
  /** Status queries answered / ignored, for tests. */
  statusAnswered = 0;
  statusIgnored = 0;

  constructor(options: PrinterSimOptions = {}) {
    super();
    this.#o = options;
    this.#faults = { ...options.faults };
    this.#paper = options.paperLabels ?? Number.POSITIVE_INFINITY;
    if (this.#paper <= 0) this.#faults = { ...this.#faults, paperOut: true };
  }

  get port(): number {
    const a = this.#server.address();
    return typeof a === 'object' && a !== null ? a.port : 0;
  }

  get faults(): PrinterSimFaults {
    return this.#faults;
  }

  /** Labels still queued in the printer. */
  get pendingLabels(): number {
    return this.queue.reduce((n, j) => n + j.remaining, 0);
  }

  get connections(): number {
    return this.#sockets.size;
  }

  async start(): Promise<number> {
    if (this.#o.outDir) mkdirSync(this.#o.outDir, { recursive: true });
    await new Promise<void>((resolve, reject) => {
      this.#server.once('error', reject);
      this.#server.listen(this.#o.port ?? 0, this.#o.host ?? '127.0.0.1', () => {
        this.#server.off('error', reject);
        resolve();
      });
    });
    return this.port;
  }

  async stop(): Promise<void> {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.disconnectAll();
    if (this.#server.listening) await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  setFaults(patch: PrinterSimFaults): void {
    this.#faults = { ...this.#faults, ...patch };
    this.schedulePrint();
  }

  /** A new roll: clears paper-out. */
  loadPaper(labels = Number.POSITIVE_INFINITY): void {
    this.#paper = labels;
    this.setFaults({ paperOut: labels <= 0 });
  }

  disconnectAll(): void {
    for (const s of this.#sockets) s.destroy();
  }

  refuseConnections(refuse: boolean): void {
    this.#refuse = refuse;
  }

  /** Resolves once `n` labels were printed in total. */
  waitForLabels(n: number, timeoutMs = 10_000): Promise<PrintedLabel[]> {
    if (this.labels.length >= n) return Promise.resolve(this.labels.slice());
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.off('printed', on);
        reject(new Error(`only ${this.labels.length} of ${n} labels printed after ${timeoutMs} ms`));
      }, timeoutMs);
      const on = () => {
        if (this.labels.length < n) return;
        clearTimeout(timer);
        this.off('printed', on);
        resolve(this.labels.slice());
      };
      this.on('printed', on);
    });
  }

  /** A fault that stops the print engine. */
  protected get stopped(): boolean {
    const f = this.#faults;
    return Boolean(f.paperOut || f.headOpen || f.ribbonOut || f.paused);
  }

  protected get hardFault(): boolean {
    const f = this.#faults;
    return Boolean(f.paperOut || f.headOpen || f.ribbonOut);
  }

  /**
   * One parser per connection: returns the handler for that connection's bytes, which calls
   * {@link enqueue}, {@link answer} and {@link cancelAll}.
   */
  protected abstract openSession(socket: net.Socket): (chunk: Buffer) => void;

  /** A complete job arrived; returns false if the `disconnectMidJob` fault cut it off. */
  protected enqueue(socket: net.Socket, data: string, labels: number): boolean {
    if (this.#faults.disconnectMidJob) {
      this.#faults = { ...this.#faults, disconnectMidJob: false };
      socket.destroy();
      return false;
    }
    this.emit('job', data, labels);
    if (labels > 0) this.queue.push({ data, remaining: labels });
    this.schedulePrint();
    return true;
  }

  /** Writes a status answer unless a silence fault applies. */
  protected answer(socket: net.Socket, bytes: Uint8Array, silencedByFault = false): void {
    if (this.#faults.silent || silencedByFault || socket.destroyed) {
      this.statusIgnored++;
      return;
    }
    this.statusAnswered++;
    socket.write(bytes);
  }

  protected cancelAll(): void {
    this.queue.length = 0;
  }

  protected schedulePrint(): void {
    if (this.#timer !== undefined || this.queue.length === 0 || this.stopped) return;
    this.#timer = setTimeout(
      () => {
        this.#timer = undefined;
        this.#printOne();
      },
      this.#faults.slowMs ?? this.#o.printMs ?? 20,
    );
  }

  #printOne(): void {
    const job = this.queue[0];
    if (job === undefined || this.stopped) return;
    job.remaining--;
    if (job.remaining <= 0) this.queue.shift();
    const label: PrintedLabel = { seq: ++this.#seq, data: job.data, at: Date.now() };
    this.labels.push(label);
    if (this.#o.outDir) writeFileSync(join(this.#o.outDir, `label-${String(label.seq).padStart(4, '0')}.${this.extension}`), job.data);
    this.#paper--;
    if (this.#paper <= 0) this.#faults = { ...this.#faults, paperOut: true }; // media sensor: roll empty
    this.emit('printed', label);
    this.schedulePrint();
  }

  #onConnection(socket: net.Socket): void {
    if (this.#refuse) {
      socket.destroy();
      return;
    }
    this.#sockets.add(socket);
    const onBytes = this.openSession(socket);
    socket.on('data', (chunk: Buffer) => onBytes(chunk));
    socket.on('error', () => undefined);
    socket.on('close', () => this.#sockets.delete(socket));
    this.emit('connection');
  }
}
