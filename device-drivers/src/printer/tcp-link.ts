/**
 * One raw TCP connection to a printer's port 9100, single-use (a fresh one per connection
 * attempt; reconnect policy belongs to the driver). Same shape as the project's ByteTransport
 * (device-drivers/src/transports/byte-transport.ts), so a test or another transport can be
 * injected in its place.
 */
import net from 'node:net';

export interface PrinterLink {
  readonly description: string;
  open(): Promise<void>;
  close(): Promise<void>;
  write(bytes: Uint8Array): Promise<void>;
  onData(listener: (chunk: Uint8Array) => void): void;
  /** Fires once per opened link, whatever closed it. */
  onClose(listener: (reason: string) => void): void;
}

export type PrinterLinkFactory = () => PrinterLink;

export interface TcpLinkOptions {
  readonly host: string;
  readonly port: number;
  /** A powered-off printer drops SYNs; give up after this long. Default 3000 ms. */
  readonly connectTimeoutMs?: number;
  /** TCP keep-alive probe delay (RFC 1122 §4.2.3.6): notices a printer that lost power. Default 10 s. */
  readonly keepAliveMs?: number;
}

export function tcpLink(options: TcpLinkOptions): PrinterLinkFactory {
  return () => new TcpLink(options);
}

class TcpLink implements PrinterLink {
  readonly description: string;
  readonly #o: TcpLinkOptions;
  readonly #socket = new net.Socket();
  readonly #closeListeners: ((reason: string) => void)[] = [];
  #closed = false;
  #lastError: string | undefined;

  constructor(options: TcpLinkOptions) {
    this.#o = options;
    this.description = `tcp://${options.host}:${options.port}`;
    this.#socket.on('error', (err) => {
      this.#lastError = err.message;
    });
    this.#socket.on('close', () => this.#fireClose(this.#lastError ? `connection lost (${this.#lastError})` : 'connection closed by printer'));
  }

  #fireClose(reason: string): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const l of this.#closeListeners) l(reason);
  }

  open(): Promise<void> {
    const s = this.#socket;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        s.destroy();
        reject(new Error(`connect to ${this.description} timed out`));
      }, this.#o.connectTimeoutMs ?? 3_000);
      const onError = (err: Error) => {
        clearTimeout(timer);
        reject(err);
      };
      s.once('error', onError);
      s.connect(this.#o.port, this.#o.host, () => {
        clearTimeout(timer);
        s.off('error', onError);
        s.setNoDelay(true); // a 5-byte status query must not wait for a delayed ACK
        s.setKeepAlive(true, this.#o.keepAliveMs ?? 10_000);
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
    this.#fireClose('closed');
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
    this.#closeListeners.push(listener);
  }
}
