/**
 * The byte-stream transports a line driver is given (injected, so tests and other links —
 * serial-over-IP, a pty — plug in the same way). Many DWS controllers connect to the host
 * (the gateway listens: `TcpServerTransport`); others wait for the host (`tcpClientTransport`).
 */
import net from 'node:net';
import type { Duplex } from 'node:stream';

export interface StreamTransport {
  /** For logs and state reasons: `tcp 10.0.0.5:2000`. */
  readonly description: string;
  /** Prepare (listen); idempotent. */
  open(): Promise<void>;
  /** The next connection to the line. Rejects when none can be had now (refused, timeout, aborted). */
  connect(signal: AbortSignal): Promise<Duplex>;
  /** Release everything (listener, sockets); idempotent. */
  close(): Promise<void>;
}

function abortError(): Error {
  return Object.assign(new Error('aborted'), { name: 'AbortError' });
}

/** The gateway dials the line. */
export function tcpClientTransport(opts: { host: string; port: number; connectTimeoutMs?: number }): StreamTransport {
  return {
    description: `tcp ${opts.host}:${opts.port}`,
    open: async () => {},
    close: async () => {},
    connect: (signal) =>
      new Promise<Duplex>((resolve, reject) => {
        if (signal.aborted) return reject(abortError());
        const socket = net.connect({ host: opts.host, port: opts.port });
        const timer = setTimeout(() => fail(new Error(`connect timeout after ${opts.connectTimeoutMs ?? 5000} ms`)), opts.connectTimeoutMs ?? 5000);
        const onAbort = () => fail(abortError());
        function fail(err: Error): void {
          clearTimeout(timer);
          signal.removeEventListener('abort', onAbort);
          socket.destroy();
          reject(err);
        }
        signal.addEventListener('abort', onAbort, { once: true });
        socket.once('error', fail);
        socket.once('connect', () => {
          clearTimeout(timer);
          signal.removeEventListener('abort', onAbort);
          socket.off('error', fail);
          socket.setNoDelay(true); // telegrams are small; Nagle would hold replies for the peer's delayed ACK
          socket.setKeepAlive(true, 10_000);
          resolve(socket);
        });
      }),
  };
}

/**
 * The line dials the gateway. One line connection at a time: a new connection replaces the
 * current one (a controller that reconnects after a network fault leaves a half-open socket
 * behind that would otherwise swallow replies).
 */
export class TcpServerTransport implements StreamTransport {
  readonly #host: string;
  readonly #port: number;
  #server: net.Server | null = null;
  #current: net.Socket | null = null;
  #queued: net.Socket | null = null;
  #waiter: ((s: net.Socket) => void) | null = null;

  constructor(opts: { host: string; port: number }) {
    this.#host = opts.host;
    this.#port = opts.port;
  }

  get description(): string {
    return `tcp listen ${this.#host}:${this.port}`;
  }

  /** The bound port (useful with port 0). */
  get port(): number {
    const a = this.#server?.address();
    return a !== null && typeof a === 'object' && a !== undefined ? a.port : this.#port;
  }

  async open(): Promise<void> {
    if (this.#server) return;
    const server = net.createServer((s) => this.#accept(s));
    this.#server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.#port, this.#host, () => {
        server.off('error', reject);
        resolve();
      });
    });
  }

  connect(signal: AbortSignal): Promise<Duplex> {
    return new Promise<Duplex>((resolve, reject) => {
      if (signal.aborted) return reject(abortError());
      if (!this.#server) return reject(new Error('transport not open'));
      const take = (s: net.Socket) => {
        signal.removeEventListener('abort', onAbort);
        this.#waiter = null;
        this.#current = s;
        resolve(s);
      };
      const onAbort = () => {
        this.#waiter = null;
        reject(abortError());
      };
      if (this.#queued && !this.#queued.destroyed) {
        const s = this.#queued;
        this.#queued = null;
        take(s);
        return;
      }
      signal.addEventListener('abort', onAbort, { once: true });
      this.#waiter = take;
    });
  }

  async close(): Promise<void> {
    const server = this.#server;
    this.#server = null;
    this.#current?.destroy();
    this.#queued?.destroy();
    this.#current = this.#queued = null;
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  #accept(s: net.Socket): void {
    s.setNoDelay(true);
    s.setKeepAlive(true, 10_000);
    s.on('error', () => {}); // the driver listens once it owns the socket; before that, ignore resets
    if (this.#waiter) return this.#waiter(s);
    this.#queued?.destroy();
    this.#queued = s;
    this.#current?.destroy(); // the newest connection wins
  }
}
