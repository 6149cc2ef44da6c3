/**
 * A virtual null-modem cable: two pseudo-terminals whose master sides are joined in this
 * process, so a driver opens one slave end and a simulated scale the other, both with the real
 * serialport binding. The ptys come from openpty(3) through node-pty's prebuilt binding
 * (@lydell/node-pty, installed by npm for linux-x64 and linux-arm64), so no system program
 * (socat) is needed. Both slaves are put in raw mode (termios as cfmakeraw(3): no echo, no
 * CR/NL translation, no XON/XOFF), the same line `socat pty,raw,echo=0` made; parity and baud
 * are not emulated. Stopping the pair is an unplug: the masters close, both open ends read
 * EIO (a hangup) and close; starting it again with the same link names is a replug.
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import tty from 'node:tty';

interface OpenPty {
  master: number;
  slave: number;
  pty: string;
}

/** node-pty's native `open(cols, rows)`: openpty(3), the master set non-blocking. */
type NativeOpen = (cols: number, rows: number) => OpenPty;

let nativeOpen: NativeOpen | undefined;
function openPty(): OpenPty {
  if (nativeOpen === undefined) {
    // The public `open()` of node-pty also starts reading the slave, which would steal the
    // driver's bytes; the binding's own open() returns the bare descriptors.
    const require = createRequire(import.meta.url);
    const { requireBinary } = require('@lydell/node-pty/requireBinary.js') as { requireBinary(file: string): { open: NativeOpen } };
    nativeOpen = requireBinary('pty.node').open;
  }
  return nativeOpen(80, 24);
}

export interface PtyPairOptions {
  /** Directory for the two links; default a fresh temp dir (removed by `dispose()`). */
  readonly dir?: string;
  /**
   * Full paths of the two links, when someone else (a gateway config) already names them.
   * Default `<dir>/ttyDRIVER` and `<dir>/ttyDEVICE`.
   */
  readonly driverPath?: string;
  readonly devicePath?: string;
}

interface Live {
  /** Master sides (joined to each other) and slave holders (kept open, raw mode). */
  readonly streams: tty.ReadStream[];
}

export class PtyPair {
  /** The end the driver opens. */
  readonly driverPath: string;
  /** The end the simulated scale opens. */
  readonly devicePath: string;
  readonly #dir: string;
  readonly #ownsDir: boolean;
  #live: Live | null = null;

  constructor(options: PtyPairOptions = {}) {
    // Both links named by the caller: no temp dir of our own is needed.
    const namedDir = options.driverPath !== undefined && options.devicePath !== undefined ? path.dirname(options.driverPath) : undefined;
    this.#ownsDir = options.dir === undefined && namedDir === undefined;
    this.#dir = options.dir ?? namedDir ?? mkdtempSync(path.join(tmpdir(), 'packline-pty-'));
    mkdirSync(this.#dir, { recursive: true });
    this.driverPath = options.driverPath ?? path.join(this.#dir, 'ttyDRIVER');
    this.devicePath = options.devicePath ?? path.join(this.#dir, 'ttyDEVICE');
    mkdirSync(path.dirname(this.driverPath), { recursive: true });
    mkdirSync(path.dirname(this.devicePath), { recursive: true });
  }

  get running(): boolean {
    return this.#live !== null;
  }

  /** Opens both ptys, joins them and creates the two links. */
  async start(): Promise<void> {
    if (this.#live) return;
    const a = openPty();
    const b = openPty();
    const streams: tty.ReadStream[] = [];
    for (const end of [a, b]) {
      // Holding the slave open keeps the master readable while the driver closes and reopens
      // its end (otherwise the master reads EIO between opens); it is never read from here.
      const holder = new tty.ReadStream(end.slave);
      holder.setRawMode(true);
      streams.push(holder);
    }
    const ma = new tty.ReadStream(a.master);
    const mb = new tty.ReadStream(b.master);
    ma.on('data', (d: Buffer) => mb.write(d));
    mb.on('data', (d: Buffer) => ma.write(d));
    for (const m of [ma, mb]) m.on('error', () => m.destroy()); // EIO once a pair is torn down
    streams.push(ma, mb);
    this.#live = { streams };
    for (const [link, end] of [
      [this.driverPath, a],
      [this.devicePath, b],
    ] as const) {
      rmSync(link, { force: true });
      symlinkSync(end.pty, link);
    }
    if (!existsSync(this.driverPath) || !existsSync(this.devicePath)) throw new Error(`pty links not created in ${this.#dir}`);
  }

  /** Closes both ptys (an unplug) and removes the links. */
  async stop(): Promise<void> {
    const live = this.#live;
    if (!live) return;
    this.#live = null;
    // Links first, so a stale link never points at a recycled /dev/pts/N.
    for (const p of [this.driverPath, this.devicePath]) rmSync(p, { force: true });
    await Promise.all(
      live.streams.map(
        (s) =>
          new Promise<void>((resolve) => {
            if (s.destroyed) return resolve();
            s.once('close', () => resolve());
            s.destroy();
          }),
      ),
    );
  }

  /** Unplugs and removes the temp dir it created. */
  async dispose(): Promise<void> {
    await this.stop();
    if (this.#ownsDir) rmSync(this.#dir, { recursive: true, force: true });
  }
}
