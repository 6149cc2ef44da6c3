/**
 * A wire-protocol scale (indicator) for driver tests and demos: it speaks one protocol from
 * the device side ({@link deviceSide}) over a serial port (one end of a pty pair, see
 * {@link PtyPair}) or as a TCP server (a serial device server), answers polls, streams
 * continuous frames, and executes zero/tare.
 *
 * Fault injection (`setFaults`, any time): `unstable` (noisy weight, never settles),
 * `driftGramsPerSecond` (the reading creeps), `garbageEvery` (random bytes before every Nth
 * frame), `truncateEvery` (every Nth frame cut in half), `slowReplyMs` (poll answers delayed),
 * `silent` (sends and answers nothing), and `disconnect()` (drops the TCP connections / closes
 * the serial port; stopping the pty pair is the serial unplug).
 */
import { EventEmitter } from 'node:events';
import net from 'node:net';
import { SerialPort } from 'serialport';
import type { ProtocolOptions, ScaleCommand, SerialLineSettings } from '../../../device-drivers/src/scale/types.js';
import { Prng } from '../lib/prng.js';
import { type DeviceSide, deviceSide, type HostRequest, type Reading, type SimulatedProtocol } from './device-side.js';

export interface ScaleFaults {
  /** Noisy weight that never settles (± `noiseGrams`, default 20 g). */
  readonly unstable?: boolean;
  readonly noiseGrams?: number;
  readonly driftGramsPerSecond?: number;
  /** Random bytes before every Nth frame/answer (0 = off). */
  readonly garbageEvery?: number;
  /** Every Nth frame/answer is cut in half (0 = off). */
  readonly truncateEvery?: number;
  /** Delay before answering a host request. */
  readonly slowReplyMs?: number;
  /** Sends and answers nothing (cable cut at the indicator, indicator off). */
  readonly silent?: boolean;
}

export type ScaleLink =
  | { readonly kind: 'serial'; readonly path: string; readonly line?: SerialLineSettings; readonly reopenMs?: number }
  | { readonly kind: 'tcp'; readonly host?: string; readonly port?: number };

export interface ScaleSimulatorOptions {
  readonly protocol: SimulatedProtocol;
  /** Protocol options as in the definition (`checksum`, `unit`, `mode`). */
  readonly options?: ProtocolOptions;
  readonly link: ScaleLink;
  /** Continuous output period. Default 100 ms (~10 frames/s, docs/devices/scales.md). */
  readonly streamIntervalMs?: number;
  /** Load on the platform at start, grams. */
  readonly loadGrams?: number;
  readonly faults?: ScaleFaults;
  readonly seed?: number;
}

export interface ScaleSimulatorEvents {
  /** A request from the host, after its effect (zero/tare) was applied. */
  request: [req: HostRequest];
  /** The link to the host opened (serial port open, TCP client connected). */
  connected: [];
}

const DEFAULT_LINE: SerialLineSettings = { baudRate: 9600, dataBits: 8, parity: 'none', stopBits: 1 };

export class ScaleSimulator extends EventEmitter<ScaleSimulatorEvents> {
  readonly #o: ScaleSimulatorOptions;
  readonly #side: DeviceSide;
  readonly #rng: Prng;
  #faults: ScaleFaults;
  #load: number;
  #zeroOffset = 0;
  #tare = 0;
  #driftStart = Date.now();
  #frameNo = 0;
  #running = false;
  #stream: NodeJS.Timeout | undefined;
  #port: SerialPort | null = null;
  #reopen: NodeJS.Timeout | undefined;
  #server: net.Server | null = null;
  readonly #sockets = new Set<net.Socket>();
  readonly #requests: HostRequest[] = [];

  constructor(options: ScaleSimulatorOptions) {
    super();
    this.#o = options;
    this.#side = deviceSide(options.protocol, options.options ?? {});
    this.#rng = new Prng(options.seed ?? 1);
    this.#faults = options.faults ?? {};
    this.#load = options.loadGrams ?? 0;
  }

  /** TCP port the simulator listens on (after start()). */
  get port(): number {
    const a = this.#server?.address();
    return typeof a === 'object' && a !== null ? a.port : 0;
  }

  /** Requests received so far (oldest first). */
  get requests(): readonly HostRequest[] {
    return this.#requests;
  }

  /** Whether the host link is up (serial port open / at least one TCP client). */
  get connected(): boolean {
    return this.#port?.isOpen === true || this.#sockets.size > 0;
  }

  /** Put `grams` on the platform (the true load, before zero offset, tare and faults). */
  setLoad(grams: number): void {
    this.#load = grams;
  }

  setFaults(faults: ScaleFaults): void {
    this.#faults = faults;
    this.#driftStart = Date.now();
  }

  /** What the display shows now. */
  reading(): Reading {
    const f = this.#faults;
    const drift = f.driftGramsPerSecond ? Math.round((f.driftGramsPerSecond * (Date.now() - this.#driftStart)) / 1000) : 0;
    const noise = f.unstable ? this.#rng.int(-(f.noiseGrams ?? 20), f.noiseGrams ?? 20) || 1 : 0;
    const gross = this.#load + drift - this.#zeroOffset;
    return { grams: gross - this.#tare + noise, stable: !f.unstable && !f.driftGramsPerSecond, tareGrams: this.#tare };
  }

  async start(): Promise<void> {
    if (this.#running) return;
    this.#running = true;
    const link = this.#o.link;
    if (link.kind === 'tcp') {
      const server = net.createServer((s) => this.#acceptSocket(s));
      this.#server = server;
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(link.port ?? 0, link.host ?? '127.0.0.1', () => resolve());
      });
    } else {
      await this.#openSerial();
    }
    if (this.#side.streams) {
      this.#stream = setInterval(() => this.#emitFrame(), this.#o.streamIntervalMs ?? 100);
    }
  }

  async stop(): Promise<void> {
    if (!this.#running) return;
    this.#running = false;
    clearInterval(this.#stream);
    clearTimeout(this.#reopen);
    await this.#closeLinks();
    const server = this.#server;
    this.#server = null;
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  /** Drops the host link now (TCP: closes the connections; serial: closes the port, reopened later). */
  async disconnect(): Promise<void> {
    await this.#closeLinks();
  }

  // ---- links ------------------------------------------------------------------------------

  async #openSerial(): Promise<void> {
    const link = this.#o.link;
    if (link.kind !== 'serial' || !this.#running) return;
    const line = link.line ?? DEFAULT_LINE;
    const port = new SerialPort({ path: link.path, autoOpen: false, ...line });
    port.on('error', () => undefined);
    port.on('data', (chunk: Buffer) => this.#onBytes(chunk, (b) => this.#writeSerial(port, b)));
    port.on('close', () => {
      if (this.#port === port) this.#port = null;
      this.#scheduleReopen(); // the pty went away (pair stopped): wait for it to come back
    });
    try {
      await new Promise<void>((resolve, reject) => port.open((err) => (err ? reject(err) : resolve())));
    } catch {
      this.#scheduleReopen();
      return;
    }
    this.#port = port;
    this.emit('connected');
  }

  #scheduleReopen(): void {
    const link = this.#o.link;
    if (!this.#running || link.kind !== 'serial' || this.#reopen !== undefined) return;
    this.#reopen = setTimeout(() => {
      this.#reopen = undefined;
      if (this.#port === null) void this.#openSerial();
    }, link.reopenMs ?? 100);
  }

  #writeSerial(port: SerialPort, bytes: Uint8Array): void {
    if (port.isOpen) port.write(Buffer.from(bytes));
  }

  #acceptSocket(s: net.Socket): void {
    s.setNoDelay(true);
    this.#sockets.add(s);
    s.on('error', () => undefined);
    s.on('close', () => this.#sockets.delete(s));
    s.on('data', (chunk) => this.#onBytes(chunk, (b) => !s.destroyed && s.write(b)));
    this.emit('connected');
  }

  async #closeLinks(): Promise<void> {
    for (const s of this.#sockets) s.destroy();
    this.#sockets.clear();
    const port = this.#port;
    this.#port = null;
    if (port?.isOpen) await new Promise<void>((resolve) => port.close(() => resolve()));
  }

  #broadcast(bytes: Uint8Array): void {
    if (this.#port) this.#writeSerial(this.#port, bytes);
    for (const s of this.#sockets) if (!s.destroyed) s.write(bytes);
  }

  // ---- protocol -----------------------------------------------------------------------------

  #onBytes(chunk: Uint8Array, reply: (bytes: Uint8Array) => void): void {
    for (const req of this.#side.receive(chunk)) {
      this.#apply(req);
      this.#requests.push(req);
      this.emit('request', req);
      if (this.#faults.silent) continue;
      const answer = this.#side.answer(req, this.reading());
      if (answer === null) continue;
      const bytes = this.#withFaults(answer);
      const delay = this.#faults.slowReplyMs ?? 0;
      if (delay > 0) setTimeout(() => reply(bytes), delay);
      else reply(bytes);
    }
  }

  #apply(req: HostRequest): void {
    if (!('command' in req)) return;
    const cmd: ScaleCommand = req.command;
    const r = this.reading();
    if (cmd === 'zero') {
      this.#zeroOffset += r.grams + this.#tare; // zero the gross reading
      this.#tare = 0;
    } else if (cmd === 'tare') {
      this.#tare += r.grams;
    } else if (cmd === 'clearTare') {
      this.#tare = 0;
    }
  }

  #emitFrame(): void {
    if (this.#faults.silent || !this.connected) return;
    this.#broadcast(this.#withFaults(this.#side.frame(this.reading())));
  }

  #withFaults(frame: Uint8Array): Uint8Array {
    const f = this.#faults;
    this.#frameNo++;
    let out = frame;
    if (f.truncateEvery && this.#frameNo % f.truncateEvery === 0) out = out.subarray(0, Math.max(1, out.length >> 1));
    if (f.garbageEvery && this.#frameNo % f.garbageEvery === 0) {
      const junk = Uint8Array.from({ length: this.#rng.int(1, 8) }, () => this.#rng.int(0, 255));
      out = Uint8Array.from([...junk, ...out]);
    }
    return out;
  }
}
