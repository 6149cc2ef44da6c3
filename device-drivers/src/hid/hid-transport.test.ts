import { describe, expect, it } from 'vitest';
import { HidTransport } from './hid-transport.js';
import { parseHidIdentity } from './identity.js';
import { MockHidBinding } from './mock-binding.js';
import { SCALE_REPORT_DESCRIPTOR } from './testing.js';

const dev = (path: string, usagePage: number, serialNumber?: string) => ({
  vendorId: 0x0c2e,
  productId: 0x0b6a,
  path,
  interface: usagePage === 0x8c ? 1 : 0,
  usagePage,
  ...(serialNumber ? { serialNumber } : {}),
});

describe('HidTransport: found by identity at every open', () => {
  it('takes the interface of the wanted usage page on a composite device, reports one chunk per report, reads the descriptor', async () => {
    const b = new MockHidBinding();
    b.plug(dev('/dev/hidraw4', 0x01));
    b.plug(dev('/dev/hidraw5', 0x8c), SCALE_REPORT_DESCRIPTOR);
    const t = new HidTransport({ binding: b, identity: parseHidIdentity('0c2e:0b6a'), usagePage: 0x8c });
    const chunks: Uint8Array[] = [];
    t.onData((c) => chunks.push(c));
    await t.open();
    expect(t.path).toBe('/dev/hidraw5');
    expect(t.description).toBe('hid 0c2e:0b6a (/dev/hidraw5)');
    expect(t.messages).toBe(true);
    expect(t.reportDescriptor).toEqual(SCALE_REPORT_DESCRIPTOR);
    b.emit('/dev/hidraw5', Uint8Array.of(2, 1, 0x41));
    b.emit('/dev/hidraw5', Uint8Array.of(2, 1, 0x42));
    expect(chunks.map((c) => Array.from(c))).toEqual([
      [2, 1, 0x41],
      [2, 1, 0x42],
    ]);
    await t.write(Uint8Array.of(2, 2));
    expect(b.writes).toEqual([{ path: '/dev/hidraw5', report: Uint8Array.of(2, 2) }]);
    await t.close();
    expect(b.openHandles('/dev/hidraw5')).toBe(0);
  });

  it('closes with the reason when the device is unplugged; a missing device fails open with the reason', async () => {
    const b = new MockHidBinding();
    b.plug(dev('/dev/hidraw1', 0x8c));
    const t = new HidTransport({ binding: b, identity: parseHidIdentity('0c2e:0b6a'), usagePage: 0x8c });
    const closed = new Promise<string>((r) => t.onClose(r));
    await t.open();
    b.unplug('/dev/hidraw1');
    expect(await closed).toMatch(/^unplugged or read failed \(could not read from HID device\)/);
    await expect(t.write(Uint8Array.of(0))).rejects.toThrow(/not open/);
    const again = new HidTransport({ binding: b, identity: parseHidIdentity('0c2e:0b6a'), usagePage: 0x8c });
    await expect(again.open()).rejects.toThrow(/not plugged in \(no HID device 0c2e:0b6a with usage page 0x8c\)/);
  });

  it('two identical devices: refused without a serial number, told apart with one', async () => {
    const b = new MockHidBinding();
    b.plug(dev('/dev/hidraw1', 0x8c, 'A1'));
    b.plug(dev('/dev/hidraw2', 0x8c, 'B2'));
    await expect(new HidTransport({ binding: b, identity: parseHidIdentity('0c2e:0b6a'), usagePage: 0x8c }).open()).rejects.toThrow(
      /2 devices match 0c2e:0b6a: add the serial number/,
    );
    const t = new HidTransport({ binding: b, identity: parseHidIdentity('0c2e:0b6a:B2'), usagePage: 0x8c });
    await t.open();
    expect(t.path).toBe('/dev/hidraw2');
    await t.close();
  });
});
