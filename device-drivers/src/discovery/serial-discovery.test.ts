import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { discoverSerialScales, listSerialCandidates } from './serial-discovery.js';
import { SCALE_DEFINITIONS } from '../scale/index.js';
import type { ScaleDefinition } from '../scale/types.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'pkl-disc-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const failingList = () => Promise.reject(new Error('spawn udevadm ENOENT'));
// A serial definition with a USB match, for matching tests (no shipped serial definition has one yet).
const ftdiScale: ScaleDefinition = { ...SCALE_DEFINITIONS[0]!, id: 'test-ftdi-scale', match: { usb: [{ vendorId: 0x0403, productId: 0x6001 }] } };
const match = (v: number, p: number) => [ftdiScale].filter((d) => d.match?.usb?.some((u) => u.vendorId === v && u.productId === p));

describe('serial discovery', () => {
  it('falls back to /dev/serial/by-id and configured paths when SerialPort.list() fails', async () => {
    const byId = path.join(dir, 'by-id');
    mkdirSync(byId);
    writeFileSync(path.join(dir, 'ttyUSB0'), '');
    writeFileSync(path.join(dir, 'ttyS9'), '');
    symlinkSync('../ttyUSB0', path.join(byId, 'usb-FTDI_FT232R_USB_UART_A50285BI-if00-port0'));
    const configured = [path.join(dir, 'ttyS9'), path.join(dir, 'ttyUSB0'), path.join(dir, 'gone')];
    const c = await listSerialCandidates({ list: failingList, byIdDir: byId, configuredPaths: configured });
    expect(c).toEqual([
      { path: path.join(byId, 'usb-FTDI_FT232R_USB_UART_A50285BI-if00-port0'), realPath: path.join(dir, 'ttyUSB0'), source: 'by-id', manufacturer: 'FTDI' },
      { path: path.join(dir, 'ttyS9'), realPath: path.join(dir, 'ttyS9'), source: 'configured' },
    ]);
    // No USB ids without udev: listed, but unsupported (never dropped).
    const d = await discoverSerialScales({ list: failingList, byIdDir: byId, configuredPaths: configured, match });
    expect(d.map((p) => p.status)).toEqual(['unsupported', 'unsupported']);
  });

  it('matches by USB VID:PID from SerialPort.list(); unknown ids stay unsupported', async () => {
    const list = () =>
      Promise.resolve([
        { path: '/dev/ttyUSB0', vendorId: '0403', productId: '6001', manufacturer: 'FTDI', serialNumber: 'A1', pnpId: undefined, locationId: undefined },
        {
          path: '/dev/ttyACM0',
          vendorId: '2341',
          productId: '0043',
          manufacturer: 'Arduino',
          serialNumber: undefined,
          pnpId: undefined,
          locationId: undefined,
        },
      ]);
    const d = await discoverSerialScales({ list, byIdDir: path.join(dir, 'none'), match });
    expect(d[0]).toMatchObject({ path: '/dev/ttyUSB0', status: 'matched', vendorId: 0x0403, productId: 0x6001 });
    expect(d[0]?.status === 'matched' && d[0].definition.id).toBe('test-ftdi-scale');
    expect(d[1]).toMatchObject({ path: '/dev/ttyACM0', status: 'unsupported', why: 'no scale definition matches USB 2341:0043' });
  });

  it('returns nothing (no error) on a machine without serial ports or udev', async () => {
    expect(await discoverSerialScales({ list: failingList, byIdDir: path.join(dir, 'none') })).toEqual([]);
  });
});
