import { describe, expect, it } from 'vitest';
import { SCALE_DEFINITIONS } from '../scale/index.js';
import type { HidDeviceInfo } from './binding.js';
import { claimingDefinitions, HID_DEVICE_DEFINITIONS, USAGE_KEYBOARD, USAGE_PAGE } from './definitions.js';
import { discoverHid } from './discovery.js';
import { formatHidIdentity, parseHidIdentity } from './identity.js';
import { MockHidBinding } from './mock-binding.js';

const dev = (over: Partial<HidDeviceInfo> & Pick<HidDeviceInfo, 'vendorId' | 'productId' | 'path'>): HidDeviceInfo => ({ interface: 0, ...over });

describe('HID device definitions (data, kept in step with the scale catalogue)', () => {
  it('ids are unique and every definition claims something', () => {
    const ids = HID_DEVICE_DEFINITIONS.map((d) => d.id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const d of HID_DEVICE_DEFINITIONS) expect(d.match.length, d.id).toBeGreaterThan(0);
  });

  it('every HID scale of the scale catalogue is claimable on page 0x8D by its VID:PID, and every HID scale row names a catalogue scale', () => {
    for (const s of SCALE_DEFINITIONS.filter((d) => d.transport === 'hid')) {
      for (const u of s.match?.usb ?? []) {
        const best = claimingDefinitions(dev({ ...u, path: '/dev/hidraw0', usagePage: USAGE_PAGE.scale }))[0];
        expect(best?.scaleDefinition, `${s.id} ${formatHidIdentity(u)}`).toBe(s.id);
      }
    }
    for (const d of HID_DEVICE_DEFINITIONS.filter((x) => x.class === 'hid-pos-scale')) {
      expect(SCALE_DEFINITIONS.find((s) => s.id === d.scaleDefinition)?.transport, d.id).toBe('hid');
    }
  });

  it('a plain keyboard is never claimed; a scanner vendor keyboard interface is a wedge; page 0x8C is always a HID POS scanner', () => {
    expect(claimingDefinitions(dev({ vendorId: 0x046d, productId: 0xc31c, path: 'a', usagePage: USAGE_PAGE.genericDesktop, usage: USAGE_KEYBOARD }))).toEqual(
      [],
    );
    expect(claimingDefinitions(dev({ vendorId: 0x0c2e, productId: 0x0b61, path: 'a', usagePage: 0x01, usage: 0x06 }))[0]?.class).toBe('keyboard-wedge-scanner');
    expect(claimingDefinitions(dev({ vendorId: 0x0c2e, productId: 0x0b6a, path: 'a', usagePage: 0x8c, usage: 0x02 }))[0]?.id).toBe('honeywell-hid-pos');
    expect(claimingDefinitions(dev({ vendorId: 0x1234, productId: 0x0001, path: 'a', usagePage: 0x8c }))[0]?.id).toBe('generic-hid-pos-scanner');
  });
});

describe('HID identity (vid:pid[:serial], never /dev/hidrawN)', () => {
  it('parses and formats', () => {
    expect(parseHidIdentity('0c2e:0B61')).toEqual({ vendorId: 0x0c2e, productId: 0x0b61 });
    expect(parseHidIdentity('0922:8003:SN 42')).toEqual({ vendorId: 0x0922, productId: 0x8003, serialNumber: 'SN 42' });
    expect(formatHidIdentity({ vendorId: 0x922, productId: 0x8003, serialNumber: 'x' })).toBe('0922:8003:x');
  });
  it('refuses a kernel node and malformed text with PKL_CONFIG_INVALID', () => {
    expect(() => parseHidIdentity('/dev/hidraw2')).toThrow(
      expect.objectContaining({ code: 'PKL_CONFIG_INVALID', details: { reason: expect.stringMatching(/changes on replug/) } }),
    );
    for (const bad of ['c2e:b61', '0c2e', '0c2e:0b61:', 'zzzz:0001'])
      expect(() => parseHidIdentity(bad), bad).toThrow(expect.objectContaining({ code: 'PKL_CONFIG_INVALID' }));
  });
});

describe('HID discovery (fake enumeration)', () => {
  it('lists every interface: claimed ones with their definition and identity, the rest as unsupported', async () => {
    const b = new MockHidBinding();
    b.plug(dev({ vendorId: 0x0c2e, productId: 0x0b6a, path: '/dev/hidraw1', serialNumber: '19123', usagePage: 0x8c, usage: 0x02, product: 'Voyager 1250g' }));
    b.plug(dev({ vendorId: 0x0922, productId: 0x8003, path: '/dev/hidraw4', usagePage: 0x8d, usage: 0x20 }));
    b.plug(dev({ vendorId: 0x05e0, productId: 0x1200, path: '/dev/hidraw2', usagePage: 0x01, usage: 0x06 }), null, ['input4']);
    b.plug(dev({ vendorId: 0x046d, productId: 0xc31c, path: '/dev/hidraw0', usagePage: 0x01, usage: 0x06 }));
    const rows = await discoverHid(b);
    expect(rows.map((r) => [r.identity, r.status, r.status === 'matched' ? r.definition.id : r.why])).toEqual([
      ['046d:c31c', 'unsupported', 'no definition claims usage page 0x01 usage 0x06 of 046d:c31c'],
      ['05e0:1200', 'matched', 'zebra-keyboard-wedge'],
      ['0922:8003', 'matched', 'hid-pos-scale'],
      ['0c2e:0b6a:19123', 'matched', 'honeywell-hid-pos'],
    ]);
    const wedge = rows.find((r) => r.identity === '05e0:1200');
    expect(wedge?.status === 'matched' && wedge.keystrokeLeaks).toEqual(['input4']); // wedge only: is it still typing?
    const scale = rows.find((r) => r.identity === '0922:8003');
    expect(scale?.status === 'matched' && scale.keystrokeLeaks).toBeUndefined();
    expect(scale?.status === 'matched' && scale.alternatives.map((a) => a.id)).toEqual(['generic-hid-pos-scale']);
  });
});

describe('keystroke leak check (sysfs input inhibited attribute)', () => {
  it('names the input devices of a hidraw node that are not inhibited; none when all are; null when the kernel cannot tell', async () => {
    const { mkdtempSync, mkdirSync, writeFileSync, rmSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const { keystrokeLeaksIn } = await import('./binding.js');
    const sys = mkdtempSync(join(tmpdir(), 'pkl-sys-'));
    try {
      const input = (node: string, name: string, inhibited?: string) => {
        const d = join(sys, 'class/hidraw', node, 'device/input', name);
        mkdirSync(d, { recursive: true });
        if (inhibited !== undefined) writeFileSync(join(d, 'inhibited'), `${inhibited}\n`);
      };
      input('hidraw2', 'input5', '0');
      input('hidraw2', 'input6', '1');
      input('hidraw3', 'input8', '1');
      input('hidraw4', 'input9'); // no attribute: kernel < 5.11
      expect(await keystrokeLeaksIn(sys, '/dev/hidraw2')).toEqual(['input5']);
      expect(await keystrokeLeaksIn(sys, '/dev/hidraw3')).toEqual([]);
      expect(await keystrokeLeaksIn(sys, '/dev/hidraw4')).toBeNull();
      expect(await keystrokeLeaksIn(sys, '/dev/hidraw7')).toEqual([]); // no input device (HID POS interface)
      expect(await keystrokeLeaksIn(sys, '/dev/ttyUSB0')).toBeNull();
    } finally {
      rmSync(sys, { recursive: true, force: true });
    }
  });
});
