/**
 * `npm start`'s simulated floor against the real gateway: the cloud simulator imports
 * orders (some refunded or cancelled), two packing stations and a DWS line work through them
 * over real MQTT with their own credentials, and the printers write ZPL labels to disk. The
 * wire-protocol station (st-wire-1) ships too: its Toledo 8217 scale on a pty and its
 * ZPL printer on raw TCP are driven by the gateway (`devices[].driver`), planned as
 * `packline start --sim` plans them.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { type Floor, startFloor } from '../../../simulators/src/floor/floor.js';
import { parseConfig } from '../../src/config/load.js';
import { parsePlaintextConfig } from '../support/plaintext.js';
import { Gateway } from '../../src/gateway.js';
import { createLogger } from '../../src/lib/logger.js';
import { DEFAULT_SIM_WIRE_SCALE, SIM_WIRE_STATION_ID, type SimWireStation, simFloorScenario, withSimulatedFloor } from '../../src/sim/sim-config.js';

async function freePort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const p = (s.address() as net.AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return p;
}

const dir = mkdtempSync(join(tmpdir(), 'pkl-floor-'));
let gateway: Gateway | null = null;
let floor: Floor | null = null;

afterAll(async () => {
  await floor?.stop();
  await gateway?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('simulated floor on the real gateway', () => {
  it('ships parcels at both stations and the wire-protocol station, intercepts refunded orders and answers every DWS parcel', async () => {
    const wire: SimWireStation = {
      scaleDefinition: DEFAULT_SIM_WIRE_SCALE,
      scalePath: join(dir, 'wire', 'scale.driver'),
      indicatorPath: join(dir, 'wire', 'scale.indicator'),
      printerPort: await freePort(),
    };
    const config = parsePlaintextConfig(
      withSimulatedFloor(
        parseConfig({
          dataDir: join(dir, 'data'),
          log: { level: 'silent' },
          mqtt: { host: '127.0.0.1', port: 0 },
          http: { host: '127.0.0.1', port: 0 },
          storage: { minFreeMb: 0 },
          sim: { enabled: true, stations: 2, lines: 1, parcelEverySeconds: 0.1 },
        }),
        { wireStation: wire },
      ),
    );
    // The wire station is configured like a real site's: drivers for its scale and printer.
    const wireScale = config.devices.find((d) => d.id === `${SIM_WIRE_STATION_ID}-scale`);
    expect(wireScale?.driver).toEqual({ kind: 'scale', definition: DEFAULT_SIM_WIRE_SCALE, link: { type: 'serial', path: wire.scalePath } });
    gateway = new Gateway(config, createLogger('silent'));
    await gateway.start();
    const info = gateway.info();
    const labelsDir = join(dir, 'labels');
    floor = await startFloor({
      mqttUrl: info.mqttUrl as string,
      httpUrl: info.httpUrl,
      adminToken: info.tokens.admin,
      credentials: info.provisioningFile,
      labelsDir,
      scenario: simFloorScenario(config, wire),
    });
    expect(floor.stations.map((s) => s.stationId)).toEqual(['st-1', 'st-2']);
    expect(floor.wireStations.map((s) => s.stationId)).toEqual([SIM_WIRE_STATION_ID]);

    const counts = async () => {
      const res = await fetch(`${info.httpUrl}/api/v1/shipments?limit=200`, {
        headers: { authorization: `Bearer ${info.tokens.station}` },
      });
      const body = (await res.json()) as { shipments: Array<{ state: string; station_id: string }> };
      const by: Record<string, number> = {};
      for (const s of body.shipments) by[s.state] = (by[s.state] ?? 0) + 1;
      return { by, stations: new Set(body.shipments.filter((s) => s.state === 'shipped').map((s) => s.station_id)) };
    };
    const deadline = Date.now() + 60_000;
    let c = await counts();
    const mqttLabels = () => readdirSync(labelsDir).filter((f) => f.endsWith('.zpl')).length;
    // The wire station's own record of a printed label lands a moment after the gateway marks
    // the shipment shipped (the label, ~20 KB of ^GF graphics, is still arriving at its printer).
    const wirePrinted = () => floor?.stats().stations.find((s) => s.stationId === SIM_WIRE_STATION_ID)?.outcomes['printed'] ?? 0;
    while (
      Date.now() < deadline &&
      ((c.by.shipped ?? 0) < 6 ||
        (c.by.intercepted ?? 0) < 1 ||
        !c.stations.has(SIM_WIRE_STATION_ID) ||
        mqttLabels() < 4 ||
        (floor.stats().lines[0]?.parcels ?? 0) < 1 ||
        wirePrinted() < 1)
    ) {
      await new Promise((r) => setTimeout(r, 250));
      c = await counts();
    }
    expect(c.by.shipped ?? 0).toBeGreaterThanOrEqual(6);
    expect(c.by.intercepted ?? 0).toBeGreaterThanOrEqual(1);
    // Both packing stations and the DWS line shipped something.
    // Both packing stations shipped; the DWS line got an answer (a chute) for its parcels.
    expect([...c.stations].filter((id) => id.startsWith('st-')).sort(), JSON.stringify(c.by)).toEqual(['st-1', 'st-2', SIM_WIRE_STATION_ID]);

    const labels = readdirSync(labelsDir).filter((f) => f.endsWith('.zpl'));
    expect(labels.length).toBeGreaterThanOrEqual(4);
    const zpl = readFileSync(join(labelsDir, labels[0] as string), 'utf8');
    expect(zpl.startsWith('^XA')).toBe(true);
    expect(zpl).toContain('^GFA,'); // its Chinese drawn as graphics with the bundled font
    expect(zpl).not.toMatch(/\^CW|ANMDS/); // no printer font assumed
    expect(zpl.trimEnd().endsWith('^XZ')).toBe(true);

    // The wire station's labels came out of the ZPL printer simulator the gateway's driver prints to.
    const wireLabels = readdirSync(join(labelsDir, SIM_WIRE_STATION_ID)).filter((f) => f.endsWith('.zpl'));
    expect(wireLabels.length).toBeGreaterThanOrEqual(1);
    expect(readFileSync(join(labelsDir, SIM_WIRE_STATION_ID, wireLabels[0] as string), 'utf8')).toContain('^XA');

    const stats = floor.stats();
    expect(stats.stations.find((s) => s.stationId === SIM_WIRE_STATION_ID)?.outcomes['printed'] ?? 0).toBeGreaterThanOrEqual(1);
    expect(stats.totals.shipments).toBeGreaterThan(0);
    const line = stats.lines[0];
    expect(line?.parcels ?? 0).toBeGreaterThan(0);
    expect(line?.timedOut).toBe(0);
    expect(Object.values(line?.chutes ?? {}).reduce((a, b) => a + b, 0)).toBe(line?.parcels);
  });
});
