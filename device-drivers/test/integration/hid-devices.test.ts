/**
 * HID devices through the node-hid boundary. Everywhere: the shipped MockHidBinding with a fake
 * enumeration (plug, unplug, replug on another node) and recorded report streams. Where the
 * kernel has /dev/uhid: the same suite against real virtual HID devices read by node-hid.
 */
import { describe, expect, it } from 'vitest';
import { mockRig, uhidRig, uhidUnavailable } from './hid-rig.js';
import { hidDeviceSuite } from './hid-suite.js';

hidDeviceSuite('MockHidBinding', mockRig);

const noUhid = uhidUnavailable();
if (noUhid === null) {
  hidDeviceSuite('uhid + node-hid', uhidRig);
} else {
  // A kernel feature, not a program npm or apt could install here: skipped with the reason.
  describe('USB HID devices on /dev/uhid', () => {
    it.skip(`skipped: ${noUhid}`, () => undefined);
  });
}

describe('keyboard-wedge scanner whose kernel input device is not inhibited (MockHidBinding)', () => {
  it('comes online with the reason "keystrokes leak", so the dashboard shows it', async () => {
    const { Aedes } = await import('aedes');
    const { createServer } = await import('node:net');
    const { connectAsync } = await import('mqtt');
    const { MockHidBinding } = await import('../../src/hid/mock-binding.js');
    const { HidTransport, HID_RECONNECT_BACKOFF } = await import('../../src/hid/hid-transport.js');
    const { ScannerDriver } = await import('../../src/scanner/scanner-driver.js');
    const { parseHidIdentity } = await import('../../src/hid/identity.js');
    const broker = await Aedes.createBroker();
    const server = createServer(broker.handle);
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    const url = `mqtt://127.0.0.1:${(server.address() as import('node:net').AddressInfo).port}`;
    const states: Array<Record<string, unknown>> = [];
    const watcher = await connectAsync(url);
    watcher.on('message', (_t, b) => states.push(JSON.parse(b.toString()) as Record<string, unknown>));
    await watcher.subscribeAsync('dev/leaky/state', { qos: 1 });
    const binding = new MockHidBinding();
    binding.plug({ vendorId: 0x0c2e, productId: 0x0b61, path: '/dev/hidraw9', interface: 0, usagePage: 0x01, usage: 0x06 }, null, ['input7']);
    const driver = new ScannerDriver({
      deviceId: 'leaky',
      wire: 'hid-keyboard',
      transport: () => new HidTransport({ binding, identity: parseHidIdentity('0c2e:0b61'), usagePage: 0x01 }),
      mqtt: { url, deviceId: 'leaky', secret: 'x' },
      backoff: HID_RECONNECT_BACKOFF,
    });
    try {
      await driver.start();
      await expect
        .poll(() => states.at(-1), { timeout: 10_000 })
        .toMatchObject({ state: 'online', reason: expect.stringMatching(/^keystrokes leak: input7 not inhibited/) });
    } finally {
      await driver.stop();
      await watcher.endAsync(true);
      await new Promise<void>((r) => broker.close(() => r()));
      server.close();
    }
  });
});
