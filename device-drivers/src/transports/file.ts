/**
 * A character device or FIFO as a {@link ByteTransport}: Linux input devices
 * (`/dev/input/eventN`, evdev `struct input_event` records), `/dev/hidrawN` report streams, or a
 * named pipe in tests. Read-mostly: `write` appends (hidraw output reports), which input
 * devices refuse.
 */
import { createReadStream, createWriteStream, type ReadStream } from 'node:fs';
import { type ByteTransport, CloseSignal, errorMessage } from './byte-transport.js';

export interface FileTransportOptions {
  readonly path: string;
}

export class FileTransport implements ByteTransport {
  readonly description: string;
  readonly #path: string;
  readonly #closed = new CloseSignal();
  readonly #listeners: Array<(chunk: Uint8Array) => void> = [];
  #stream: ReadStream | null = null;

  constructor(options: FileTransportOptions) {
    this.#path = options.path;
    this.description = options.path;
  }

  open(): Promise<void> {
    return new Promise((resolve, reject) => {
      // highWaterMark 24: one 64-bit input_event per read keeps scans prompt.
      const stream = createReadStream(this.#path, { highWaterMark: 4096 });
      this.#stream = stream;
      stream.once('open', () => resolve());
      stream.once('error', (err) => {
        reject(err);
        this.#closed.fire(`read failed (${errorMessage(err)})`);
      });
      stream.on('data', (chunk) => {
        const bytes = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
        for (const l of this.#listeners) l(bytes);
      });
      stream.on('close', () => this.#closed.fire('device closed'));
    });
  }

  async close(): Promise<void> {
    const s = this.#stream;
    if (s && !s.destroyed) {
      await new Promise<void>((resolve) => {
        s.once('close', () => resolve());
        s.destroy();
      });
    }
    this.#closed.fire('closed');
  }

  write(bytes: Uint8Array): Promise<void> {
    return new Promise((resolve, reject) => {
      const w = createWriteStream(this.#path, { flags: 'a' });
      w.once('error', reject);
      w.end(bytes, () => resolve());
    });
  }

  onData(listener: (chunk: Uint8Array) => void): void {
    this.#listeners.push(listener);
  }

  onClose(listener: (reason: string) => void): void {
    this.#closed.add(listener);
  }
}
