/**
 * The HID device suite, run against any {@link HidRig}: a HID POS scanner, a keyboard-wedge
 * scanner and a HID POS scale configured by identity (vid:pid), each driven through the real
 * driver, HidTransport and a real MQTT broker (aedes); unplugged and replugged on another node;
 * retained state offline/online with the reason. Time to come back is measured and printed
 * (never asserted: shared machines); HID links poll enumeration at most
 * HID_RECONNECT_BACKOFF.maxMs apart while the device is missing.
 */
import { createServer, type AddressInfo, type Server } from 'node:net';
import { Aedes } from 'aedes';
import { connectAsync, type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HID_RECONNECT_BACKOFF, HidTransport } from '../../src/hid/hid-transport.js';
import { USAGE_PAGE } from '../../src/hid/definitions.js';
import { parseHidIdentity } from '../../src/hid/identity.js';
import {
  HID_POS_SCANNER_REPORT_DESCRIPTOR,
  KEYBOARD_REPORT_DESCRIPTOR,
  SCALE_REPORT_DESCRIPTOR,
  SCALE_WITHOUT_CONTROL_DESCRIPTOR,
} from '../../src/hid/testing.js';
import { ScaleDriver } from '../../src/scale/driver.js';
import { findScaleDefinition } from '../../src/scale/index.js';
import { encodeHidPosReports } from '../../src/scanner/hid-pos.js';
import { ScannerDriver } from '../../src/scanner/scanner-driver.js';
import type { HidRig, PluggedHid } from './hid-rig.js';

interface Msg {
  topic: string;
  payload: Record<string, unknown>;
}

const poll = { timeout: 10_000, interval: 20 };

/** Boot reports typing `text` (US layout; '\n' = Enter), press + release per key (HID 1.11 App. B.1). */
function typed(text: string): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (const ch of text) {
    let mods = 0;
    let usage: number;
    if (ch === '\n') usage = 0x28;
    else if (/[A-Z]/.test(ch)) [mods, usage] = [0x02, 0x04 + ch.charCodeAt(0) - 65];
    else if (ch === '0') usage = 0x27;
    else usage = 0x1e + ch.charCodeAt(0) - 49; // '1'..'9'
    out.push(Uint8Array.of(mods, 0, usage, 0, 0, 0, 0, 0), new Uint8Array(8));
  }
  return out;
}

/** HID POS scale data report (report id 3): status, unit, exponent, weight LE (HID POS Usage Tables page 0x8D). */
const weighing = (grams: number) => Uint8Array.of(0x03, 0x04 /* weight stable */, 0x02 /* gram */, 0x00, grams & 0xff, grams >> 8);

export function hidDeviceSuite(rigName: string, makeRig: () => HidRig): void {
  describe(`USB HID devices by identity, with hotplug (${rigName})`, () => {
    let broker: Aedes;
    let server: Server;
    let url: string;
    let watcher: MqttClient;
    const msgs: Msg[] = [];
    const stops: Array<() => Promise<void>> = [];
    let rig: HidRig;

    beforeAll(async () => {
      rig = makeRig();
      broker = await Aedes.createBroker();
      server = createServer(broker.handle);
      await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
      url = `mqtt://127.0.0.1:${(server.address() as AddressInfo).port}`;
      watcher = await connectAsync(url, { clientId: 'hid-watcher' });
      watcher.on('message', (topic, buf) => msgs.push({ topic, payload: JSON.parse(buf.toString()) as Record<string, unknown> }));
      await watcher.subscribeAsync(['dev/+/evt/+', 'dev/+/state'], { qos: 1 });
    });

    afterAll(async () => {
      for (const s of stops.splice(0).reverse()) await s().catch(() => undefined);
      await watcher?.endAsync(true);
      await new Promise<void>((r) => broker.close(() => r()));
      server?.close();
    });

    const of = (id: string, suffix: string) => msgs.filter((m) => m.topic === `dev/${id}/${suffix}`).map((m) => m.payload);
    const lastState = (id: string) => of(id, 'state').at(-1);

    /** Unplug, wait for offline, replug (a new node), measure until online again. */
    async function replug(id: string, plugged: PluggedHid, plugAgain: () => Promise<PluggedHid>): Promise<PluggedHid> {
      await plugged.unplug();
      await expect.poll(() => lastState(id), poll).toMatchObject({ state: 'offline', reason: expect.stringMatching(/unplugged|not plugged in/) });
      const t0 = performance.now();
      const again = await plugAgain();
      await expect.poll(() => lastState(id)?.['state'], poll).toBe('online');
      console.log(
        `${rigName}: ${id} back online ${Math.round(performance.now() - t0)} ms after replug (enumeration polled ≤ ${HID_RECONNECT_BACKOFF.maxMs} ms apart)`,
      );
      return again;
    }

    it('HID POS scanner (page 0x8C) by vid:pid: scans with AIM symbology; unplug → offline with reason; replug on another node → online, scans again', async () => {
      const id = 'hid-pos-scan';
      const dev = { vendorId: 0x0c2e, productId: 0x0b6a, name: 'Voyager 1250g HID POS', descriptor: HID_POS_SCANNER_REPORT_DESCRIPTOR };
      let plugged = await rig.plug(dev);
      const driver = new ScannerDriver({
        deviceId: id,
        wire: 'hid-pos',
        transport: () => new HidTransport({ binding: rig.binding, identity: parseHidIdentity('0c2e:0b6a'), usagePage: USAGE_PAGE.barCodeScanner }),
        mqtt: { url, deviceId: id, secret: 'x' },
        backoff: HID_RECONNECT_BACKOFF,
      });
      await driver.start();
      stops.push(() => driver.stop());
      await expect.poll(() => lastState(id)?.['state'], poll).toBe('online');
      plugged.emit(encodeHidPosReports('4006381333931', ']E0'));
      await expect.poll(() => of(id, 'evt/scan').map((p) => [p['code'], p['symbology']]), poll).toEqual([['4006381333931', ']E0']]);

      plugged = await replug(id, plugged, () => rig.plug(dev));
      plugged.emit(encodeHidPosReports('SF1234567890'));
      await expect.poll(() => of(id, 'evt/scan').map((p) => p['code']), poll).toEqual(['4006381333931', 'SF1234567890']);
      await plugged.unplug();
    });

    it('keyboard-wedge scanner by vid:pid: a scan cut off by the unplug is dropped and counted, never glued to the next one after the replug', async () => {
      const id = 'wedge-scan';
      const dev = { vendorId: 0x05e0, productId: 0x1200, name: 'Symbol keyboard wedge', descriptor: KEYBOARD_REPORT_DESCRIPTOR };
      let plugged = await rig.plug(dev);
      const driver = new ScannerDriver({
        deviceId: id,
        wire: 'hid-keyboard',
        transport: () => new HidTransport({ binding: rig.binding, identity: parseHidIdentity('05e0:1200'), usagePage: USAGE_PAGE.genericDesktop }),
        mqtt: { url, deviceId: id, secret: 'x' },
        backoff: HID_RECONNECT_BACKOFF,
      });
      await driver.start();
      stops.push(() => driver.stop());
      await expect.poll(() => lastState(id)?.['state'], poll).toBe('online');
      for (const r of typed('SF1234')) plugged.emit(r); // cable pulled before the Enter suffix
      plugged = await replug(id, plugged, () => rig.plug(dev));
      expect(driver.stats().incomplete).toBe(1);
      // Cut off without an unplug (scanner reset): the idle gap drops it, whole reports leave no bytes behind.
      for (const r of typed('YT98')) plugged.emit(r);
      await expect.poll(() => driver.stats().incomplete, poll).toBe(2);
      for (const r of typed('SF1234567890\n')) plugged.emit(r);
      await expect.poll(() => of(id, 'evt/scan').map((p) => p['code']), poll).toEqual(['SF1234567890']);
      await plugged.unplug();
    });

    it('HID POS scale by vid:pid: weights; zero goes out as the Scale Control Report its descriptor declares; replug on another node', async () => {
      const id = 'hid-scale';
      const dev = { vendorId: 0x0922, productId: 0x8003, name: 'Dymo M10', descriptor: SCALE_REPORT_DESCRIPTOR };
      let plugged = await rig.plug(dev);
      const definition = findScaleDefinition('hid-pos-scale')!;
      const driver = new ScaleDriver({
        definition,
        transport: () => new HidTransport({ binding: rig.binding, identity: parseHidIdentity('0922:8003'), usagePage: USAGE_PAGE.scale }),
        mqtt: { url, deviceId: id, secret: 'x' },
        backoff: HID_RECONNECT_BACKOFF,
        silenceMs: 60_000,
        weightGate: { heartbeatMs: 200, minIntervalMs: 50 },
      });
      await driver.start();
      stops.push(() => driver.stop());
      // A HID POS scale reports while the load changes and then periodically: emit until the driver is reading.
      const weighs = (g: number) => () => {
        plugged.emit(weighing(g));
        return of(id, 'evt/weight').some((w) => w['grams'] === g && w['stable'] === true);
      };
      await expect.poll(weighs(1234), poll).toBe(true);
      expect(lastState(id)?.['state']).toBe('online');

      await watcher.publishAsync(`dev/${id}/cmd/zero`, JSON.stringify({ request_id: 'z1' }), { qos: 1 });
      if (rig.seesWrites) await expect.poll(() => plugged.writes().map((w) => Array.from(w)), poll).toEqual([[0x02, 0x02]]);
      else await expect.poll(() => driver.stats().commandsSent, poll).toBeGreaterThanOrEqual(1);

      let timer: NodeJS.Timeout | undefined;
      plugged = await replug(id, plugged, async () => {
        const p = await rig.plug(dev);
        timer = setInterval(() => p.emit(weighing(2500)), 50); // the scale reports; online comes with its first frame
        return p;
      });
      await expect.poll(() => of(id, 'evt/weight').some((w) => w['grams'] === 2500), poll).toBe(true);
      clearInterval(timer);
      await plugged.unplug();
    });

    it('a HID POS scale without a Zero Scale output refuses zero with PKL_SCALE_COMMAND_UNSUPPORTED and writes nothing', async () => {
      const id = 'hid-scale-nozero';
      const dev = { vendorId: 0x1446, productId: 0x6a73, name: 'Stamps.com scale', descriptor: SCALE_WITHOUT_CONTROL_DESCRIPTOR };
      const plugged = await rig.plug(dev);
      const driver = new ScaleDriver({
        definition: findScaleDefinition('hid-pos-scale')!,
        transport: () => new HidTransport({ binding: rig.binding, identity: parseHidIdentity('1446:6a73'), usagePage: USAGE_PAGE.scale }),
        mqtt: { url, deviceId: id, secret: 'x' },
        backoff: HID_RECONNECT_BACKOFF,
        silenceMs: 60_000,
      });
      await driver.start();
      stops.push(() => driver.stop());
      await expect
        .poll(() => {
          plugged.emit(weighing(10));
          return lastState(id)?.['state'];
        }, poll)
        .toBe('online');
      await watcher.publishAsync(`dev/${id}/cmd/zero`, JSON.stringify({ request_id: 'z2' }), { qos: 1 });
      await expect.poll(() => of(id, 'state').some((s) => String(s['reason'] ?? s['notice'] ?? '').includes('PKL_SCALE_COMMAND_UNSUPPORTED')), poll).toBe(true);
      expect(driver.stats().commandsSent).toBe(0);
      if (rig.seesWrites) expect(plugged.writes()).toEqual([]);
      await plugged.unplug();
    });
  });
}
