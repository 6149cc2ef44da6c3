/**
 * A virtual null-modem cable: `socat` links two pseudo-terminals, so a driver opens one end
 * and a simulated scale the other, both with the real serialport binding
 * (serialport@13 opens socat ptys fine, also with 7E1 settings; parity and baud
 * are not emulated). Stopping socat is an unplug: both ends read EIO and close; starting it
 * again with the same link names is a replug.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

export interface PtyPairOptions {
  /** Directory for the two links; default a fresh temp dir (removed by `dispose()`). */
  readonly dir?: string;
  /**
   * Full paths of the two links, when someone else (a gateway config) already names them.
   * Default `<dir>/ttyDRIVER` and `<dir>/ttyDEVICE`.
   */
  readonly driverPath?: string;
  readonly devicePath?: string;
  /** How long to wait for socat to create both links. Default 5000 ms. */
  readonly readyTimeoutMs?: number;
}

export class PtyPair {
  /** The end the driver opens. */
  readonly driverPath: string;
  /** The end the simulated scale opens. */
  readonly devicePath: string;
  readonly #dir: string;
  readonly #ownsDir: boolean;
  readonly #readyTimeoutMs: number;
  #proc: ChildProcess | null = null;

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
    this.#readyTimeoutMs = options.readyTimeoutMs ?? 5_000;
  }

  get running(): boolean {
    return this.#proc !== null;
  }

  /** Starts socat and resolves once both links exist. */
  async start(): Promise<void> {
    if (this.#proc) return;
    const proc = spawn('socat', [`pty,raw,echo=0,link=${this.driverPath}`, `pty,raw,echo=0,link=${this.devicePath}`], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    this.#proc = proc;
    let stderr = '';
    proc.stderr?.on('data', (d: Buffer) => {
      stderr = (stderr + d.toString()).slice(-2000);
    });
    let exited: string | undefined;
    proc.once('exit', (code, signal) => {
      exited = `socat exited (${signal ?? code}): ${stderr.trim()}`;
      if (this.#proc === proc) this.#proc = null;
    });
    proc.once('error', (err) => {
      exited = `socat failed to start: ${err.message}`;
    });
    const deadline = Date.now() + this.#readyTimeoutMs;
    while (!(existsSync(this.driverPath) && existsSync(this.devicePath))) {
      if (exited !== undefined) throw new Error(exited);
      if (Date.now() > deadline) {
        await this.stop();
        throw new Error(`socat links not ready after ${this.#readyTimeoutMs} ms`);
      }
      await new Promise((r) => setTimeout(r, 10));
    }
  }

  /** Kills socat (an unplug) and waits until it has exited and removed its links. */
  async stop(): Promise<void> {
    const proc = this.#proc;
    if (!proc) return;
    this.#proc = null;
    if (proc.exitCode === null && proc.signalCode === null) {
      await new Promise<void>((resolve) => {
        proc.once('exit', () => resolve());
        proc.kill('SIGTERM');
      });
    }
    // socat unlinks on SIGTERM; make sure a stale link never points at a recycled /dev/pts/N.
    for (const p of [this.driverPath, this.devicePath]) rmSync(p, { force: true });
  }

  /** Stops socat and removes the temp dir it created. */
  async dispose(): Promise<void> {
    await this.stop();
    if (this.#ownsDir) rmSync(this.#dir, { recursive: true, force: true });
  }
}
