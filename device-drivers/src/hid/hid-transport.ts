/**
 * A HID device as a {@link ByteTransport}, found by identity at every open: the driver's
 * reconnect loop asks for a fresh transport after each close, `open()` enumerates and takes
 * whichever node the device has now, so a scanner replugged into another port (`/dev/hidraw2`
 * → `/dev/hidraw5`) comes back without a restart. Each `onData` chunk is exactly one input
 * report (`messages`), so decoders of unsynchronised reports can drop a stub at the boundary.
 *
 * Hotplug is polling enumeration while the device is missing (docs/decisions/0010-hid-hotplug.md):
 * drivers on a HID link cap their backoff at {@link HID_RECONNECT_BACKOFF}.maxMs.
 */
import { type ByteTransport, CloseSignal, errorMessage } from '../transports/byte-transport.js';
import type { BackoffOptions } from '../transports/backoff.js';
import type { HidBinding, HidHandle } from './binding.js';
import { USAGE_PAGE } from './definitions.js';
import { formatHidIdentity, type HidIdentity, matchesIdentity } from './identity.js';

/** Reconnect pacing of HID links: a replugged device is found within 1 s of enumeration polling. */
export const HID_RECONNECT_BACKOFF: BackoffOptions = { initialMs: 100, maxMs: 1_000, factor: 2 };

export interface HidTransportOptions {
  readonly binding: HidBinding;
  readonly identity: HidIdentity;
  /** Only interfaces whose top-level collection is on this usage page (a composite device has several). */
  readonly usagePage?: number;
}

export class HidTransport implements ByteTransport {
  readonly #o: HidTransportOptions;
  readonly #closed = new CloseSignal();
  readonly #listeners: Array<(chunk: Uint8Array) => void> = [];
  #handle: HidHandle | null = null;
  #path: string | null = null;
  /** The report descriptor of the opened interface (HID 1.11 §6.2.2), when the platform exposes it. */
  reportDescriptor: Uint8Array | null = null;
  /** Every chunk is one whole report. */
  readonly messages = true;
  /** Keyboard interfaces: kernel input devices that still type the scans into the console (null: unknown). */
  keystrokeLeaks: readonly string[] | null = null;

  constructor(options: HidTransportOptions) {
    this.#o = options;
  }

  get description(): string {
    const id = `hid ${formatHidIdentity(this.#o.identity)}`;
    return this.#path === null ? id : `${id} (${this.#path})`;
  }

  /** The node the device was found on this time (for logs; never configuration). */
  get path(): string | null {
    return this.#path;
  }

  async open(): Promise<void> {
    const { binding, identity, usagePage } = this.#o;
    const found = (await binding.devices()).filter((d) => matchesIdentity(d, identity) && (usagePage === undefined || d.usagePage === usagePage));
    const device = found[0];
    if (device === undefined)
      throw new Error(
        `not plugged in (no HID device ${formatHidIdentity(identity)}${usagePage === undefined ? '' : ` with usage page 0x${usagePage.toString(16)}`})`,
      );
    if (found.length > 1 && identity.serialNumber === undefined) {
      throw new Error(`${found.length} devices match ${formatHidIdentity(identity)}: add the serial number (vid:pid:serial) to tell them apart`);
    }
    this.#path = device.path;
    this.reportDescriptor = await binding.reportDescriptor(device.path);
    if (device.usagePage === USAGE_PAGE.genericDesktop) this.keystrokeLeaks = (await binding.keystrokeLeaks?.(device.path)) ?? null;
    const handle = await binding.open(device.path);
    this.#handle = handle;
    handle.onData((report) => {
      for (const l of this.#listeners) l(report);
    });
    handle.onError((err) => {
      this.#handle = null;
      void handle.close().catch(() => undefined);
      this.#closed.fire(`unplugged or read failed (${errorMessage(err)})`);
    });
  }

  async close(): Promise<void> {
    const h = this.#handle;
    this.#handle = null;
    await h?.close().catch(() => undefined);
    this.#closed.fire('closed');
  }

  async write(bytes: Uint8Array): Promise<void> {
    const h = this.#handle;
    if (h === null) throw new Error('HID device not open');
    await h.write(bytes);
  }

  onData(listener: (chunk: Uint8Array) => void): void {
    this.#listeners.push(listener);
  }

  onClose(listener: (reason: string) => void): void {
    this.#closed.add(listener);
  }
}
