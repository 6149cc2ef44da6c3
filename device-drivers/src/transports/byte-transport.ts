/**
 * The one byte-stream seam between a device driver and its wire (serial port, serial device
 * server over TCP, a test double). A transport is single-use: `open()` once, and after it
 * closes (by `close()` or because the link dropped) the driver asks its factory for a new one.
 * Reconnect policy (backoff, jitter) belongs to the driver, not to the transport.
 */
export interface ByteTransport {
  /** Human-readable endpoint for logs and state reasons (`/dev/ttyUSB0`, `tcp://10.0.0.5:4001`). */
  readonly description: string;
  /** Resolves when bytes can flow; rejects with the OS reason (ENOENT, ECONNREFUSED, …). */
  open(): Promise<void>;
  /** Idempotent; resolves once the endpoint is released. Fires `onClose` listeners with "closed". */
  close(): Promise<void>;
  /** Resolves when the bytes were handed to the OS; rejects when the link is not open. */
  write(bytes: Uint8Array): Promise<void>;
  onData(listener: (chunk: Uint8Array) => void): void;
  /**
   * Each `onData` chunk is one whole message (a HID input report), not a slice of a byte
   * stream: decoders of formats without a sync byte drop a stub at the chunk's end.
   */
  readonly messages?: boolean;
  /** HID links: the opened interface's report descriptor (HID 1.11 §6.2.2), null when unreadable. */
  readonly reportDescriptor?: Uint8Array | null;
  /** HID keyboard links: kernel input devices still typing this device's keys (null: unknown). */
  readonly keystrokeLeaks?: readonly string[] | null;
  /** Fires exactly once per opened transport, whatever closed it (`reason` says what). */
  onClose(listener: (reason: string) => void): void;
}

/** Builds a fresh transport for every connection attempt. */
export type TransportFactory = () => ByteTransport;

/** Small helper the transports share: fire close listeners once. */
export class CloseSignal {
  readonly #listeners: ((reason: string) => void)[] = [];
  #fired = false;

  get fired(): boolean {
    return this.#fired;
  }

  add(listener: (reason: string) => void): void {
    this.#listeners.push(listener);
  }

  fire(reason: string): void {
    if (this.#fired) return;
    this.#fired = true;
    for (const l of this.#listeners) l(reason);
  }
}

export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
