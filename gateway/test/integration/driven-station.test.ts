/**
 * A packing station made of real-wire devices by configuration alone: a serial barcode
 * scanner and an MT-SICS scale each on a serial line (pseudo-terminal pairs, the
 * simulated device on the far end) and a Zebra ZPL printer on raw TCP 9100 (the ZPL printer
 * simulator), all driven by drivers the gateway hosts. One parcel goes scan → weight → label →
 * shipped without any MQTT client in the test.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ZplPrinterSim } from '../../../simulators/src/printer/zpl-printer-sim.js';
import { PtyPair } from '../../../simulators/src/scale/pty-pair.js';
import { ScaleSimulator } from '../../../simulators/src/scale/scale-simulator.js';
import { parsePlaintextConfig } from '../support/plaintext.js';
import { Gateway } from '../../src/gateway.js';
import { createLogger } from '../../src/lib/logger.js';
import { floorConfig, importOrders, stationDevices, wireOrder, wireOrderGrams } from '../support/floor.js';
import { openSerialScanner, waitFor } from './driven-station-helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'pkl-driven-'));
const cleanup: Array<() => Promise<unknown>> = [];

afterAll(async () => {
  for (const c of cleanup.reverse()) await c().catch(() => undefined);
  rmSync(dir, { recursive: true, force: true });
});

describe('a station of driven devices', () => {
  it('ships a parcel scanned on a serial scanner, weighed on a serial MT-SICS scale, labelled on a ZPL printer', async () => {
    const pty = new PtyPair({ dir: join(dir, 'scale') });
    await pty.start();
    cleanup.push(() => pty.stop());
    const scanner = await openSerialScanner(join(dir, 'scanner'));
    cleanup.push(() => scanner.stop());
    const { pty: scannerPty, port: scannerPort } = scanner;
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
      if (d.id === st.scanner) d.driver = { kind: 'scanner', wire: 'serial', link: { type: 'serial', path: scannerPty.driverPath } };
    }
    const gateway = new Gateway(parsePlaintextConfig(raw), createLogger('silent'));
    await gateway.start();
    cleanup.push(() => gateway.stop());
    const info = gateway.info();

    const order = wireOrder('O-DRV-1', { items: [{ sku: 'K', barcode: '6903333333330', qty: 1, unit_grams: 620 }] });
    expect((await importOrders(info.httpUrl, info.tokens.admin, [order])).status).toBe(200);

    const station = () =>
      fetch(`${info.httpUrl}/api/v1/stations/${st.station}`, { headers: { authorization: `Bearer ${info.tokens.station}` } }).then(
        (r) => r.json() as Promise<{ state: string; order_id: string | null }>,
      );
    await waitFor('driven devices online', () =>
      fetch(`${info.httpUrl}/api/v1/stations`, { headers: { authorization: `Bearer ${info.tokens.station}` } })
        .then((r) => r.json() as Promise<{ stations: Array<{ devices: Record<string, { online: boolean }> }> }>)
        .then((b) => ['scanner', 'scale', 'printer'].every((k) => b.stations[0]?.devices[k]?.online === true)),
    );

    // The operator scans the order and its item with the serial scanner (CR LF terminated).
    scannerPort.write('O-DRV-1\r\n');
    await waitFor('order opened', async () => (await station()).order_id === 'O-DRV-1');
    scannerPort.write('6903333333330\r\n');
    await waitFor('items verified', async () => (await station()).state === 'weighing');

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
