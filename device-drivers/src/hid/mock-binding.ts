/**
 * A HID stack in memory for tests and simulators (the counterpart of serialport's
 * binding-mock): devices are plugged and unplugged on any path, input reports are emitted as a
 * device would send them, output reports are recorded. Unplugging an open device fails its
 * read the way hidapi does on Linux ("could not read from HID device").
 */
import type { HidBinding, HidDeviceInfo, HidHandle } from './binding.js';

interface Plugged {
  info: HidDeviceInfo;
  descriptor: Uint8Array | null;
  handles: Set<MockHandle>;
  leaks: string[] | null;
}

class MockHandle implements HidHandle {
  readonly #data: Array<(r: Uint8Array) => void> = [];
  readonly #errors: Array<(e: Error) => void> = [];
  closed = false;

  constructor(
    private readonly binding: MockHidBinding,
    readonly path: string,
  ) {}

  onData(l: (r: Uint8Array) => void): void {
    this.#data.push(l);
  }
  onError(l: (e: Error) => void): void {
    this.#errors.push(l);
  }
  async write(report: Uint8Array): Promise<void> {
    if (this.closed) throw new Error('device closed');
    this.binding.recordWrite(this.path, report);
  }
  async close(): Promise<void> {
    this.closed = true;
    this.binding.forget(this);
  }
  deliver(report: Uint8Array): void {
    if (!this.closed) for (const l of this.#data) l(report);
  }
  fail(err: Error): void {
    if (this.closed) return;
    for (const l of this.#errors) l(err);
  }
}

export class MockHidBinding implements HidBinding {
  readonly #devices = new Map<string, Plugged>();
  /** Output reports written, per path, in order. */
  readonly writes: Array<{ path: string; report: Uint8Array }> = [];
  /** How often `devices()` was called (enumeration cost is what hotplug polling pays). */
  enumerations = 0;

  /** `leaks`: kernel input devices of it that are not inhibited (keys reach the console). */
  plug(info: HidDeviceInfo, descriptor: Uint8Array | null = null, leaks: string[] | null = []): void {
    if (this.#devices.has(info.path)) throw new Error(`${info.path} is already plugged`);
    this.#devices.set(info.path, { info, descriptor, handles: new Set(), leaks });
  }

  async keystrokeLeaks(path: string): Promise<string[] | null> {
    return this.#devices.get(path)?.leaks ?? null;
  }

  /** Removes the device; open handles fail like an unplugged hidraw node. */
  unplug(path: string): void {
    const d = this.#devices.get(path);
    if (!d) throw new Error(`${path} is not plugged`);
    this.#devices.delete(path);
    for (const h of d.handles) h.fail(new Error('could not read from HID device'));
  }

  /** The device sends one input report to every open handle. */
  emit(path: string, report: Uint8Array): void {
    const d = this.#devices.get(path);
    if (!d) throw new Error(`${path} is not plugged`);
    for (const h of d.handles) h.deliver(report);
  }

  openHandles(path: string): number {
    return this.#devices.get(path)?.handles.size ?? 0;
  }

  async devices(): Promise<HidDeviceInfo[]> {
    this.enumerations++;
    return [...this.#devices.values()].map((d) => d.info);
  }

  async open(path: string): Promise<HidHandle> {
    const d = this.#devices.get(path);
    if (!d) throw new Error(`cannot open device with path ${path}`);
    const h = new MockHandle(this, path);
    d.handles.add(h);
    return h;
  }

  async reportDescriptor(path: string): Promise<Uint8Array | null> {
    return this.#devices.get(path)?.descriptor ?? null;
  }

  recordWrite(path: string, report: Uint8Array): void {
    this.writes.push({ path, report: Uint8Array.from(report) });
  }

  forget(h: MockHandle): void {
    this.#devices.get(h.path)?.handles.delete(h);
  }
}
