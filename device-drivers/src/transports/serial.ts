/**
 * A serial port as a {@link ByteTransport} (serialport 13). Line settings come from the scale
 * definition's `serial` block (factory settings) unless the site overrides them.
 *
 * The binding is injectable so unit tests can run on `SerialPortMock.binding` (MockBinding)
 * and integration tests on a pty pair with the real binding. Modem lines (DTR/RTS) are
 * never touched: they cannot be set on a pty (`ENOTTY`, docs/devices/scales.md)
 * and the indicators we support need no handshake.
 */
import { SerialPort, type SerialPortMock } from 'serialport';
import type { SerialLineSettings } from '../scale/types.js';
import { type ByteTransport, CloseSignal, errorMessage } from './byte-transport.js';

/** A serialport binding: the platform one (`SerialPort.binding`) or the mock (`SerialPortMock.binding`). */
export type SerialBinding = typeof SerialPort.binding | typeof SerialPortMock.binding;

export interface SerialTransportOptions {
  /** Device path; prefer stable `/dev/serial/by-id/usb-…` links over `/dev/ttyUSBn`. */
  readonly path: string;
  readonly line: SerialLineSettings;
  /** Defaults to the platform binding serialport detects (bindings-cpp). */
  readonly binding?: SerialBinding;
}

export class SerialTransport implements ByteTransport {
  readonly description: string;
  readonly #port: SerialPort;
  readonly #closed = new CloseSignal();
  #opened = false;

  constructor(options: SerialTransportOptions) {
    this.description = options.path;
    const { baudRate, dataBits, parity, stopBits } = options.line;
    // `binding` overrides the detected one: serialport's constructor spreads options after its default.
    this.#port = new SerialPort({
      path: options.path,
      baudRate,
      dataBits,
      parity,
      stopBits,
      autoOpen: false,
      ...(options.binding !== undefined ? { binding: options.binding } : {}),
    } as ConstructorParameters<typeof SerialPort>[0]);
    this.#port.on('close', (err: unknown) => {
      // A DisconnectedError means the device went away (USB unplug, pty master closed).
      const disconnected = typeof err === 'object' && err !== null && (err as { disconnected?: boolean }).disconnected === true;
      this.#closed.fire(disconnected ? `port disconnected (${errorMessage(err)})` : 'port closed');
    });
    // Errors after open are followed by 'close' (disconnect) or surface on write; never crash on them.
    this.#port.on('error', () => undefined);
  }

  open(): Promise<void> {
    return new Promise((resolve, reject) => {
      this.#port.open((err) => {
        if (err) return reject(err);
        this.#opened = true;
        resolve();
      });
    });
  }

  async close(): Promise<void> {
    if (this.#opened && this.#port.isOpen) {
      await new Promise<void>((resolve) => this.#port.close(() => resolve()));
    }
    this.#closed.fire('closed');
  }

  write(bytes: Uint8Array): Promise<void> {
    return new Promise((resolve, reject) => {
      if (!this.#port.isOpen) return reject(new Error(`${this.description} is not open`));
      this.#port.write(Buffer.from(bytes), (err) => (err ? reject(err) : resolve()));
    });
  }

  onData(listener: (chunk: Uint8Array) => void): void {
    this.#port.on('data', (chunk: Buffer) => listener(chunk));
  }

  onClose(listener: (reason: string) => void): void {
    this.#closed.add(listener);
  }
}
