/**
 * `packline device discover` over a recorded HID enumeration (this machine has no HID devices
 * and no uhid): every interface is listed, claimed ones with the definition and the identity to
 * configure, the site's own keyboard as unsupported; and with the real node-hid it runs (an
 * empty or real list, never a crash).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli } from '../support/cli.js';

const dir = mkdtempSync(join(tmpdir(), 'pkl-discover-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** What node-hid's devicesAsync() reported on a packing station (paths as the kernel gave them). */
const RECORDED = [
  {
    vendorId: 0x0c2e,
    productId: 0x0b6a,
    path: '/dev/hidraw1',
    serialNumber: '19123B0177',
    interface: 0,
    usagePage: 0x8c,
    usage: 0x02,
    product: 'Voyager 1250g',
  },
  { vendorId: 0x05e0, productId: 0x1200, path: '/dev/hidraw2', interface: 0, usagePage: 0x01, usage: 0x06, product: 'Symbol Bar Code Scanner' },
  { vendorId: 0x0922, productId: 0x8003, path: '/dev/hidraw3', interface: 0, usagePage: 0x8d, usage: 0x20, product: 'M10 10 Lb Digital Postal Scale' },
  { vendorId: 0x046d, productId: 0xc31c, path: '/dev/hidraw0', interface: 0, usagePage: 0x01, usage: 0x06, product: 'USB Keyboard' },
];

describe('packline device discover (HID)', () => {
  it('lists each HID interface with the claiming definition and its identity; unclaimed ones as unsupported', async () => {
    const file = join(dir, 'enumeration.json');
    writeFileSync(file, JSON.stringify(RECORDED));
    const r = await runCli(join(dir, 'data'), ['device', 'discover', '--hid-enumeration', file]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const hid = r.stdout.split('\n').filter((l) => l.startsWith('hid '));
    expect(hid).toEqual([
      'hid 046d:c31c /dev/hidraw0 page 0x01 usage 0x06 if 0 "USB Keyboard"  unsupported: no definition claims usage page 0x01 usage 0x06 of 046d:c31c',
      'hid 05e0:1200 /dev/hidraw2 page 0x01 usage 0x06 if 0 "Symbol Bar Code Scanner"  matched zebra-keyboard-wedge (keyboard-wedge-scanner): kind scanner, wire hid-keyboard, link {type: hid, device: "05e0:1200"}; keystrokes: unknown (no sysfs inhibited attribute, or a recording)',
      'hid 0922:8003 /dev/hidraw3 page 0x8d usage 0x20 if 0 "M10 10 Lb Digital Postal Scale"  matched hid-pos-scale (hid-pos-scale): kind scale, definition hid-pos-scale, link {type: hid, device: "0922:8003"}',
      'hid 0c2e:0b6a:19123B0177 /dev/hidraw1 page 0x8c usage 0x02 if 0 "Voyager 1250g"  matched honeywell-hid-pos (hid-pos-scanner): kind scanner, wire hid-pos, link {type: hid, device: "0c2e:0b6a:19123B0177"}',
    ]);
    const json = await runCli(join(dir, 'data'), ['device', 'discover', '--hid-enumeration', file, '--json']);
    const parsed = JSON.parse(json.stdout) as { hid: Array<{ status: string; identity: string }> };
    expect(parsed.hid.map((h) => [h.identity, h.status])).toContainEqual(['046d:c31c', 'unsupported']);
  });

  it('asks the real node-hid when no recording is given (this machine: no HID devices)', async () => {
    const r = await runCli(join(dir, 'data'), ['device', 'discover']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^hid[ :]/m); // "hid: no HID devices found", or one line per device
  });
});
