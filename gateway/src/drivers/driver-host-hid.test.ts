/**
 * A packing station whose three USB HID devices are configured by vendor/product id alone
 * (`link: {type: hid, device: vid:pid}`), hosted by the DriverHost against the node-hid
 * boundary (device-drivers' MockHidBinding): the config validates, every device reports through
 * the broker as itself, and each survives an unplug and a replug on another node. A
 * `/dev/hidrawN` in the config is refused.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type AddressInfo, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Aedes } from 'aedes';
import { connectAsync, type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MockHidBinding } from '../../../device-drivers/src/hid/mock-binding.js';
import { encodeHidPosReports } from '../../../device-drivers/src/scanner/hid-pos.js';
import { parseConfig } from '../config/load.js';
import { createLogger } from '../lib/logger.js';
import { openStore } from '../storage/sqlite-store.js';
import type { Store } from '../storage/types.js';
import { DriverHost } from './driver-host.js';

const devices = [
  { id: 'st-1-scanner', role: 'scanner', station: 'st-1', driver: { kind: 'scanner', wire: 'hid-pos', link: { type: 'hid', device: '0c2e:0b6a' } } },
  {
    id: 'st-1-wedge',
    role: 'scanner',
    station: 'st-1',
    driver: { kind: 'scanner', wire: 'hid-keyboard', layout: 'us', link: { type: 'hid', device: '05e0:1200' } },
  },
  { id: 'st-1-scale', role: 'scale', station: 'st-1', driver: { kind: 'scale', definition: 'hid-pos-scale', link: { type: 'hid', device: '0922:8003' } } },
  { id: 'st-1-printer', role: 'printer', station: 'st-1' },
];

const info = (vendorId: number, productId: number, path: string, usagePage: number, usage: number) => ({
  vendorId,
  productId,
  path,
  interface: 0,
  usagePage,
  usage,
});

let dir: string;
let store: Store;
let broker: Aedes;
let server: Server;
let url: string;
let watcher: MqttClient;
const msgs: Array<{ topic: string; payload: Record<string, unknown> }> = [];

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'pkl-hidhost-'));
  store = openStore({ dataDir: dir, logger: createLogger('silent') });
  await store.start();
  for (const d of devices) {
    await store.write([
      { op: 'device.put', device: { deviceId: d.id, role: d.role, station: d.station, model: null, secretHash: 'x', createdAt: 0, rotatedAt: 0 } },
    ]);
  }
  broker = await Aedes.createBroker();
  server = createServer(broker.handle);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  url = `mqtt://127.0.0.1:${(server.address() as AddressInfo).port}`;
  watcher = await connectAsync(url, { clientId: 'watcher' });
  watcher.on('message', (topic, b) => msgs.push({ topic, payload: JSON.parse(b.toString()) as Record<string, unknown> }));
  await watcher.subscribeAsync(['dev/+/evt/+', 'dev/+/state'], { qos: 1 });
});

afterAll(async () => {
  await watcher?.endAsync(true);
  await new Promise<void>((r) => broker.close(() => r()));
  server?.close();
  await store?.stop();
  rmSync(dir, { recursive: true, force: true });
});

const poll = { timeout: 10_000, interval: 20 };
const state = (id: string) => msgs.filter((m) => m.topic === `dev/${id}/state`).at(-1)?.payload;
const events = (id: string, kind: string) => msgs.filter((m) => m.topic === `dev/${id}/evt/${kind}`).map((m) => m.payload);

describe('DriverHost: a station of USB HID devices configured by vid:pid', () => {
  it('validates, reports through the broker, and survives replugging each device on another node', async () => {
    const config = parseConfig({ devices, stations: [{ id: 'st-1', scanner: 'st-1-scanner', scale: 'st-1-scale', printer: 'st-1-printer' }] });
    const hid = new MockHidBinding();
    hid.plug(info(0x0c2e, 0x0b6a, '/dev/hidraw1', 0x8c, 0x02));
    hid.plug(info(0x05e0, 0x1200, '/dev/hidraw2', 0x01, 0x06));
    hid.plug(info(0x0922, 0x8003, '/dev/hidraw3', 0x8d, 0x20));
    const host = new DriverHost({ config, store, mqttUrl: url, logger: createLogger('silent'), hidBinding: hid });
    await host.start();
    try {
      await expect.poll(() => [state('st-1-scanner')?.['state'], state('st-1-wedge')?.['state']], poll).toEqual(['online', 'online']);
      hid.emit('/dev/hidraw1', encodeHidPosReports('SF1234567890'));
      await expect.poll(() => events('st-1-scanner', 'scan').map((s) => s['code']), poll).toEqual(['SF1234567890']);
      await expect
        .poll(() => {
          hid.emit('/dev/hidraw3', Uint8Array.of(0x03, 0x04, 0x02, 0x00, 0xd2, 0x04)); // 1234 g, stable
          return events('st-1-scale', 'weight').some((w) => w['grams'] === 1234);
        }, poll)
        .toBe(true);

      // Every device out, and back on other nodes (another USB port, another plug order).
      for (const p of ['/dev/hidraw1', '/dev/hidraw2', '/dev/hidraw3']) hid.unplug(p);
      await expect.poll(() => ['st-1-scanner', 'st-1-wedge', 'st-1-scale'].map((id) => state(id)?.['state']), poll).toEqual(['offline', 'offline', 'offline']);
      expect(String(state('st-1-scanner')?.['reason'])).toMatch(/unplugged|not plugged in/);
      hid.plug(info(0x0922, 0x8003, '/dev/hidraw5', 0x8d, 0x20));
      hid.plug(info(0x0c2e, 0x0b6a, '/dev/hidraw6', 0x8c, 0x02));
      hid.plug(info(0x05e0, 0x1200, '/dev/hidraw7', 0x01, 0x06));
      await expect.poll(() => [state('st-1-scanner')?.['state'], state('st-1-wedge')?.['state']], poll).toEqual(['online', 'online']);
      hid.emit('/dev/hidraw6', encodeHidPosReports('YT9876543210'));
      for (const [m, k] of [
        [0x02, 0x1c],
        [0, 0x1e],
        [0, 0x28],
      ] as const) {
        hid.emit('/dev/hidraw7', Uint8Array.of(m, 0, k, 0, 0, 0, 0, 0));
        hid.emit('/dev/hidraw7', new Uint8Array(8));
      }
      await expect.poll(() => events('st-1-scanner', 'scan').map((s) => s['code']), poll).toEqual(['SF1234567890', 'YT9876543210']);
      await expect.poll(() => events('st-1-wedge', 'scan').map((s) => s['code']), poll).toEqual(['Y1']);
      await expect
        .poll(() => {
          hid.emit('/dev/hidraw5', Uint8Array.of(0x03, 0x04, 0x02, 0x00, 0xc4, 0x09)); // 2500 g
          return events('st-1-scale', 'weight').some((w) => w['grams'] === 2500);
        }, poll)
        .toBe(true);
    } finally {
      await host.stop();
    }
  });

  it('refuses a kernel node (/dev/hidrawN) as a device with PKL_CONFIG_INVALID, as an hid device or as a file', async () => {
    expect(() =>
      parseConfig({ devices: [{ id: 's', role: 'scanner', driver: { kind: 'scanner', wire: 'hid-pos', link: { type: 'hid', device: '/dev/hidraw2' } } }] }),
    ).toThrow(expect.objectContaining({ code: 'PKL_CONFIG_INVALID' }));
    const config = parseConfig({
      devices: [{ id: 'st-1-scanner', role: 'scanner', driver: { kind: 'scanner', wire: 'hid-keyboard', link: { type: 'file', path: '/dev/hidraw2' } } }],
    });
    const host = new DriverHost({ config, store, mqttUrl: url, logger: createLogger('silent'), hidBinding: new MockHidBinding() });
    await expect(host.start()).rejects.toMatchObject({
      code: 'PKL_CONFIG_INVALID',
      details: { reason: expect.stringMatching(/changes on replug; configure it by identity/) },
    });
    await host.stop();
  });
});
