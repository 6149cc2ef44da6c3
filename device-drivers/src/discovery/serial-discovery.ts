/**
 * Lists serial ports that may have a scale behind them and matches them to definitions.
 *
 * Sources, in order: `SerialPort.list()` (udev; rejects with `spawn udevadm ENOENT` in
 * containers/CI — docs/devices/scales.md), then the `/dev/serial/by-id` symlinks
 * (stable names that survive re-plugging; udev creates them, and a `usb-<vendor>_<product>…`
 * name is all we know without udevadm), then the paths the site configured. A port whose USB
 * VID:PID matches a definition gets the best (highest-priority) match; every other port is
 * returned as `unsupported` rather than dropped (the Odoo IoT box pattern), so
 * the operator sees it and can assign a definition by hand.
 */
import { readdir, readlink, realpath } from 'node:fs/promises';
import path from 'node:path';
import { SerialPort } from 'serialport';
import { matchScaleDefinitionsByUsb } from '../scale/index.js';
import type { ScaleDefinition } from '../scale/types.js';

/** What `SerialPort.list()` reports per port. */
export type PortInfo = Awaited<ReturnType<typeof SerialPort.list>>[number];

export interface SerialCandidate {
  /** Path to open (a by-id link when known: it survives re-plugging into another port). */
  readonly path: string;
  /** What the path resolves to (`/dev/ttyUSB0`), when known. */
  readonly realPath?: string;
  readonly source: 'list' | 'by-id' | 'configured';
  readonly vendorId?: number;
  readonly productId?: number;
  readonly manufacturer?: string;
  readonly serialNumber?: string;
}

export type DiscoveredPort =
  | (SerialCandidate & { readonly status: 'matched'; readonly definition: ScaleDefinition; readonly alternatives: readonly ScaleDefinition[] })
  | (SerialCandidate & { readonly status: 'unsupported'; readonly why: string });

export interface SerialDiscoveryOptions {
  /** Site-configured device paths (e.g. a pty, `/dev/ttyS0`, a by-path link). */
  readonly configuredPaths?: readonly string[];
  /** Injectable for tests; defaults to `SerialPort.list`. */
  readonly list?: () => Promise<PortInfo[]>;
  /** Injectable for tests; defaults to `/dev/serial/by-id`. */
  readonly byIdDir?: string;
  /** Only these definitions are considered (default: all scale definitions with a USB match). */
  readonly match?: (vendorId: number, productId: number) => ScaleDefinition[];
}

function parseHexId(v: string | undefined): number | undefined {
  if (v === undefined || !/^(0x)?[0-9a-fA-F]{1,4}$/.test(v)) return undefined;
  return Number.parseInt(v.replace(/^0x/, ''), 16);
}

async function fromList(list: () => Promise<PortInfo[]>): Promise<SerialCandidate[] | null> {
  try {
    const ports = await list();
    return ports.map((p) => {
      const vendorId = parseHexId(p.vendorId);
      const productId = parseHexId(p.productId);
      return {
        path: p.path,
        source: 'list' as const,
        ...(vendorId !== undefined ? { vendorId } : {}),
        ...(productId !== undefined ? { productId } : {}),
        ...(p.manufacturer ? { manufacturer: p.manufacturer } : {}),
        ...(p.serialNumber ? { serialNumber: p.serialNumber } : {}),
      };
    });
  } catch {
    return null; // no udevadm (container, CI): fall back to the filesystem
  }
}

async function fromById(dir: string): Promise<SerialCandidate[]> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return []; // no USB serial device plugged in (udev removes the directory)
  }
  const out: SerialCandidate[] = [];
  for (const name of names.sort()) {
    const link = path.join(dir, name);
    try {
      const target = path.resolve(dir, await readlink(link));
      // `usb-FTDI_FT232R_USB_UART_A50285BI-if00-port0`: vendor string, model, serial.
      const m = /^usb-([^_]+)_(.+?)(?:-if\d+(?:-port\d+)?)?$/.exec(name);
      out.push({ path: link, realPath: target, source: 'by-id', ...(m?.[1] ? { manufacturer: m[1] } : {}) });
    } catch {
      // not a symlink: skip
    }
  }
  return out;
}

async function fromConfigured(paths: readonly string[]): Promise<SerialCandidate[]> {
  const out: SerialCandidate[] = [];
  for (const p of paths) {
    try {
      // Follows links: a dangling pty/by-id link means the device is gone right now.
      out.push({ path: p, realPath: await realpath(p), source: 'configured' });
    } catch {
      // configured but absent right now: the driver's reconnect loop covers it
    }
  }
  return out;
}

/** Candidate ports, deduplicated by the device they resolve to; `list()` data wins. */
export async function listSerialCandidates(options: SerialDiscoveryOptions = {}): Promise<SerialCandidate[]> {
  const listed = (await fromList(options.list ?? (() => SerialPort.list()))) ?? [];
  const byId = await fromById(options.byIdDir ?? '/dev/serial/by-id');
  const configured = await fromConfigured(options.configuredPaths ?? []);
  const seen = new Map<string, SerialCandidate>();
  const keyOf = (c: SerialCandidate) => c.realPath ?? c.path;
  for (const c of listed) seen.set(keyOf(c), c);
  for (const c of byId) {
    const prior = seen.get(keyOf(c));
    // Prefer the stable by-id path, keep the USB ids the list gave.
    seen.set(keyOf(c), prior ? { ...prior, ...c, source: prior.source } : c);
  }
  for (const c of configured) if (!seen.has(keyOf(c))) seen.set(keyOf(c), c);
  return [...seen.values()];
}

/** Candidates with their best-matching scale definition, or `unsupported` with the reason. */
export async function discoverSerialScales(options: SerialDiscoveryOptions = {}): Promise<DiscoveredPort[]> {
  const match = options.match ?? matchScaleDefinitionsByUsb;
  return (await listSerialCandidates(options)).map((c): DiscoveredPort => {
    if (c.vendorId === undefined || c.productId === undefined) {
      return { ...c, status: 'unsupported', why: 'no USB vendor/product id known; assign a definition in the config' };
    }
    const defs = match(c.vendorId, c.productId).filter((d) => d.transport === 'serial');
    const [best, ...rest] = defs;
    if (best === undefined) {
      const id = `${c.vendorId.toString(16).padStart(4, '0')}:${c.productId.toString(16).padStart(4, '0')}`;
      return { ...c, status: 'unsupported', why: `no scale definition matches USB ${id}` };
    }
    return { ...c, status: 'matched', definition: best, alternatives: rest };
  });
}
