/**
 * A packing station made of real-wire devices by configuration alone: an MT-SICS scale on a
 * serial line (a socat pseudo-terminal pair with the scale simulator on the far end) and a
 * Zebra ZPL printer on raw TCP 9100 (the ZPL printer simulator), both driven by drivers the
 * gateway hosts; the scanner is an MQTT client. One parcel goes scan → weight → label → shipped.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ZplPrinterSim } from '../../../simulators/src/printer/zpl-printer-sim.js';
import { PtyPair } from '../../../simulators/src/scale/pty-pair.js';
import { ScaleSimulator } from '../../../simulators/src/scale/scale-simulator.js';
import { parseConfig } from '../../src/config/load.js';
import { Gateway } from '../../src/gateway.js';
import { createLogger } from '../../src/lib/logger.js';
import { device, floorConfig, importOrders, Inbox, replyTopics, stationDevices, wireOrder, wireOrderGrams } from '../support/floor.js';

const dir = mkdtempSync(join(tmpdir(), 'pkl-driven-'));
const cleanup: Array<() => Promise<unknown>> = [];

afterAll(async () => {
  for (const c of cleanup.reverse()) await c().catch(() => undefined);
  rmSync(dir, { recursive: true, force: true });
});

async function waitFor(what: string, fn: () => Promise<boolean> | boolean, timeoutMs = 20_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    if (await fn()) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out waiting for ${what}`);
}

describe('a station of driven devices', () => {
  it('ships a parcel weighed on a serial MT-SICS scale and labelled on a ZPL network printer', async () => {
    const pty = new PtyPair({ dir });
    await pty.start();
    cleanup.push(() => pty.stop());
    const scaleSim = new ScaleSimulator({ protocol: 'mt-sics', link: { kind: 'serial', path: pty.devicePath }, loadGrams: 0 });
    await scaleSim.start();
    cleanup.push(() => scaleSim.stop());
    const printerSim = new ZplPrinterSim({ printMs: 20, outDir: join(dir, 'labels') });
    const printerPort = await printerSim.start();
    cleanup.push(() => printerSim.stop());

    const st = stationDevices(1);
    const raw = floorConfig(join(dir, 'data'), { stations: 1, lines: 0 }) as { devices: Array<Record<string, unknown>> };
    for (const d of raw.devices) {
      if (d.id === st.scale) d.driver = { kind: 'scale', definition: 'mettler-toledo-mt-sics', link: { type: 'serial', path: pty.driverPath } };
      if (d.id === st.printer) d.driver = { kind: 'printer', definition: 'zebra-zd420', host: '127.0.0.1', port: printerPort };
    }
    const gateway = new Gateway(parseConfig(raw), createLogger('silent'));
    await gateway.start();
    cleanup.push(() => gateway.stop());
    const info = gateway.info();

    const order = wireOrder('O-DRV-1', { items: [{ sku: 'K', barcode: '6903333333330', qty: 1, unit_grams: 620 }] });
    expect((await importOrders(info.httpUrl, info.tokens.admin, [order])).status).toBe(200);

    // Both driven devices connect to the broker as themselves; the station shows them online.
    const scanner = await device(info.mqttUrl as string, st.scanner, info.issued.find((s) => s.deviceId === st.scanner)?.secret as string);
    cleanup.push(() => scanner.endAsync(true));
    const replies = await Inbox.open(scanner, replyTopics(st.scanner));
    await waitFor('driven devices online', () =>
      fetch(`${info.httpUrl}/api/v1/stations`, { headers: { authorization: `Bearer ${info.tokens.station}` } })
        .then((r) => r.json() as Promise<{ stations: Array<{ devices: Record<string, { online: boolean }> }> }>)
        .then((b) => b.stations[0]?.devices.scale?.online === true && b.stations[0]?.devices.printer?.online === true),
    );

    await scanner.publishAsync(`dev/${st.scanner}/evt/scan`, JSON.stringify({ msg_id: 'd1', code: 'O-DRV-1' }), { qos: 1 });
    expect((await replies.next((m) => m.payload.msg_id === 'd1')).topic).toMatch(/ack$/);
    await scanner.publishAsync(`dev/${st.scanner}/evt/scan`, JSON.stringify({ msg_id: 'd2', code: '6903333333330' }), { qos: 1 });
    expect((await replies.next((m) => m.payload.msg_id === 'd2')).topic).toMatch(/ack$/);

    // The parcel goes on the scale: the simulator's load changes, the MT-SICS driver reads it.
    scaleSim.setLoad(wireOrderGrams(order) + 3);
    const [label] = await printerSim.waitForLabels(1, 20_000);
    expect(label?.data ?? '').toContain(String(order.waybill));

    await waitFor('shipment shipped', async () => {
      const res = await fetch(`${info.httpUrl}/api/v1/shipments?order=O-DRV-1`, { headers: { authorization: `Bearer ${info.tokens.station}` } });
      const body = (await res.json()) as { shipments: Array<{ state: string; actual_grams: number | null }> };
      return body.shipments[0]?.state === 'shipped';
    });
  });
});
