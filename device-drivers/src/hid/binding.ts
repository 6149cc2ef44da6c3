/**
 * The narrow port between Packline's HID links and the HID stack, owned by the consumer (the
 * links and discovery): enumerate, open by path, read reports, write output reports, and the
 * report descriptor. `NodeHidBinding` is the real one (node-hid → hidapi's hidraw backend on
 * Linux); `MockHidBinding` (mock-binding.ts) is shipped for tests and simulators, like
 * serialport's binding-mock.
 */
import { readdir, readFile } from 'node:fs/promises';
import { basename } from 'node:path';

/** One HID interface / top-level collection as enumeration reports it. */
export interface HidDeviceInfo {
  readonly vendorId: number;
  readonly productId: number;
  /** Kernel node (`/dev/hidraw3`): changes across replugs; never configured, only used to open. */
  readonly path: string;
  readonly serialNumber?: string;
  readonly manufacturer?: string;
  readonly product?: string;
  /** USB interface number (−1 when the bus has none). */
  readonly interface: number;
  /** Top-level collection usage page / usage (HID 1.11 §6.2.2.7, from the report descriptor). */
  readonly usagePage?: number;
  readonly usage?: number;
}

/** An open HID device. One `data` event per input report, report id first when numbered. */
export interface HidHandle {
  onData(listener: (report: Uint8Array) => void): void;
  /** Read failure; on Linux an unplug surfaces here ("could not read from HID device"). */
  onError(listener: (err: Error) => void): void;
  /** Writes one output report; byte 0 is the report id (0 for unnumbered reports, hidapi rule). */
  write(report: Uint8Array): Promise<void>;
  close(): Promise<void>;
}

export interface HidBinding {
  devices(): Promise<HidDeviceInfo[]>;
  open(path: string): Promise<HidHandle>;
  /** The raw report descriptor (HID 1.11 §6.2.2), or null when the platform does not expose it. */
  reportDescriptor(path: string): Promise<Uint8Array | null>;
  /**
   * Kernel input devices fed by this HID device that still type its keys into the console
   * (not inhibited), or null when unknown. A keyboard-wedge scanner read through hidraw must
   * have none: docs/udev/70-packline-hid.rules inhibits them.
   */
  keystrokeLeaks?(path: string): Promise<string[] | null>;
}

interface NodeHidDevice {
  vendorId: number;
  productId: number;
  path?: string | undefined;
  serialNumber?: string | undefined;
  manufacturer?: string | undefined;
  product?: string | undefined;
  interface: number;
  usagePage?: number | undefined;
  usage?: number | undefined;
}

interface NodeHidAsync {
  on(event: 'data', l: (data: Buffer) => void): void;
  on(event: 'error', l: (err: unknown) => void): void;
  write(values: number[] | Buffer): Promise<number>;
  close(): Promise<void>;
}

interface NodeHidModule {
  devicesAsync(): Promise<NodeHidDevice[]>;
  HIDAsync: { open(path: string, options?: { nonExclusive?: boolean }): Promise<NodeHidAsync> };
}

let loaded: Promise<NodeHidModule> | null = null;

/** node-hid is loaded on first use, so a gateway without HID devices never loads the addon. */
function nodeHid(): Promise<NodeHidModule> {
  loaded ??= import('node-hid').then((m) => ((m as { default?: NodeHidModule }).default ?? m) as NodeHidModule);
  return loaded;
}

export class NodeHidBinding implements HidBinding {
  async devices(): Promise<HidDeviceInfo[]> {
    const list = await (await nodeHid()).devicesAsync();
    const out: HidDeviceInfo[] = [];
    for (const d of list) {
      if (d.path === undefined) continue;
      out.push({
        vendorId: d.vendorId,
        productId: d.productId,
        path: d.path,
        interface: d.interface,
        ...(d.serialNumber ? { serialNumber: d.serialNumber } : {}),
        ...(d.manufacturer ? { manufacturer: d.manufacturer } : {}),
        ...(d.product ? { product: d.product } : {}),
        ...(d.usagePage !== undefined ? { usagePage: d.usagePage } : {}),
        ...(d.usage !== undefined ? { usage: d.usage } : {}),
      });
    }
    return out;
  }

  async open(path: string): Promise<HidHandle> {
    const dev = await (await nodeHid()).HIDAsync.open(path);
    return {
      onData: (l) => dev.on('data', (data: Buffer) => l(new Uint8Array(data.buffer, data.byteOffset, data.byteLength))),
      onError: (l) => dev.on('error', (err: unknown) => l(err instanceof Error ? err : new Error(String(err)))),
      write: async (report) => {
        await dev.write(Buffer.from(report));
      },
      close: () => dev.close(),
    };
  }

  /** sysfs: /sys/class/hidraw/hidrawN/device/input/inputM/inhibited (Linux >= 5.11) is 0 while keys reach handlers. */
  async keystrokeLeaks(path: string): Promise<string[] | null> {
    return keystrokeLeaksIn('/sys', path);
  }

  /** Linux exposes it world-readable at /sys/class/hidraw/hidrawN/device/report_descriptor. */
  async reportDescriptor(path: string): Promise<Uint8Array | null> {
    if (!/^\/dev\/hidraw\d+$/.test(path)) return null;
    try {
      return new Uint8Array(await readFile(`/sys/class/hidraw/${basename(path)}/device/report_descriptor`));
    } catch {
      return null;
    }
  }
}

/** The input devices under a hidraw node's HID device whose `inhibited` is not 1 (`sysRoot` injectable for tests). */
export async function keystrokeLeaksIn(sysRoot: string, hidrawPath: string): Promise<string[] | null> {
  if (!/^\/dev\/hidraw\d+$/.test(hidrawPath)) return null;
  const dir = `${sysRoot}/class/hidraw/${basename(hidrawPath)}/device/input`;
  let inputs: string[];
  try {
    inputs = (await readdir(dir)).filter((n) => /^input\d+$/.test(n)).sort();
  } catch {
    return []; // no input device at all (HID POS interfaces): nothing can be typed
  }
  const leaks: string[] = [];
  for (const name of inputs) {
    const v = await readFile(`${dir}/${name}/inhibited`, 'utf8').catch(() => null);
    if (v === null) return null; // kernel older than 5.11: cannot tell
    if (v.trim() !== '1') leaks.push(name);
  }
  return leaks;
}
