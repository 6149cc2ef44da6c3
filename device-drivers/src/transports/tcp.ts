/**
 * A serial device server (Moxa NPort / USR-TCP232 in "TCP server" mode, or the MT-SICS
 * Ethernet option) as a {@link ByteTransport}: the same bytes as on the serial line, carried
 * raw over one TCP connection. Line settings live in the device server, not here.
 */
import net from 'node:net';
import { type ByteTransport, CloseSignal, errorMessage } from './byte-transport.js';

export interface TcpTransportOptions {
  readonly host: string;
  readonly port: number;
  /** Give up a connect attempt after this long (a powered-off device server drops SYNs). */
  readonly connectTimeoutMs?: number;
  /**
   * TCP keep-alive probe delay. A device server that loses power never sends FIN; keep-alive
   * (RFC 1122 §4.2.3.6) is how the OS notices. The driver's silence timer usually notices first.
   */
  readonly keepAliveMs?: number;
}

export class TcpTransport implements ByteTransport {
  readonly description: string;
  readonly #options: TcpTransportOptions;
  readonly #socket = new net.Socket();
  readonly #closed = new CloseSignal();
  #lastError: string | undefined;

  constructor(options: TcpTransportOptions) {
    this.#options = options;
    this.description = `tcp://${options.host}:${options.port}`;
    this.#socket.on('error', (err) => {
      this.#lastError = errorMessage(err);
    });
    this.#socket.on('close', () => this.#closed.fire(this.#lastError ? `connection lost (${this.#lastError})` : 'connection closed by peer'));
  }

  open(): Promise<void> {
    const s = this.#socket;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        s.destroy();
        reject(new Error(`connect to ${this.description} timed out`));
      }, this.#options.connectTimeoutMs ?? 5_000);
      const onError = (err: Error) => {
        clearTimeout(timer);
        reject(err);
      };
      s.once('error', onError);
      s.connect(this.#options.port, this.#options.host, () => {
        clearTimeout(timer);
        s.off('error', onError);
        s.setNoDelay(true); // small polls must not wait for delayed ACKs
        s.setKeepAlive(true, this.#options.keepAliveMs ?? 10_000);
        resolve();
      });
    });
  }

  async close(): Promise<void> {
    const s = this.#socket;
    if (!s.destroyed) {
      await new Promise<void>((resolve) => {
        s.once('close', () => resolve());
        s.destroy();
      });
    }
    this.#closed.fire('closed');
  }

  write(bytes: Uint8Array): Promise<void> {
    return new Promise((resolve, reject) => {
      if (this.#socket.destroyed || !this.#socket.writable) return reject(new Error(`${this.description} is not open`));
      this.#socket.write(bytes, (err) => (err ? reject(err) : resolve()));
    });
  }

  onData(listener: (chunk: Uint8Array) => void): void {
    this.#socket.on('data', (chunk: Buffer) => listener(chunk));
  }

  onClose(listener: (reason: string) => void): void {
    this.#closed.add(listener);
  }
}
