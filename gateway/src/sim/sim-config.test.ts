import { describe, expect, it } from 'vitest';
import { parseConfig } from '../config/load.js';
import { parseScenario } from '../../../simulators/src/floor/scenario.js';
import { SIM_PICKER_ID, SIM_WIRE_STATION_ID, type SimWireStation, simFloorScenario, withSimulatedFloor } from './sim-config.js';

const base = () => parseConfig({ sim: { enabled: true, stations: 2, lines: 1 } });
const wire: SimWireStation = {
  scaleDefinition: 'mettler-toledo-8217',
  scalePath: '/tmp/x/scale.driver',
  indicatorPath: '/tmp/x/scale.indicator',
  printerPort: 40123,
};

describe('simulated floor config', () => {
  it('adds the wire station with drivers for its scale and printer, as a site config would', () => {
    const c = parseConfig(withSimulatedFloor(base(), { wireStation: wire }));
    expect(c.stations.map((s) => s.id)).toEqual(['st-1', 'st-2', SIM_WIRE_STATION_ID]);
    const byId = new Map(c.devices.map((d) => [d.id, d]));
    expect(byId.get(`${SIM_WIRE_STATION_ID}-scale`)?.driver).toEqual({
      kind: 'scale',
      definition: 'mettler-toledo-8217',
      link: { type: 'serial', path: wire.scalePath },
    });
    expect(byId.get(`${SIM_WIRE_STATION_ID}-printer`)?.driver).toEqual({ kind: 'printer', definition: 'zebra-zd420', host: '127.0.0.1', port: 40123 });
    expect(byId.get(`${SIM_WIRE_STATION_ID}-scanner`)?.driver).toBeUndefined();
  });

  it('gives the floor the MQTT stations and the far ends of the wire station', () => {
    const c = parseConfig(withSimulatedFloor(base(), { wireStation: wire }));
    const s = simFloorScenario(c, wire) as { stations: Array<{ id: string }>; wireStations: Array<Record<string, unknown>> };
    expect(s.stations.map((x) => x.id)).toEqual(['st-1', 'st-2']);
    expect(s.wireStations).toEqual([
      expect.objectContaining({
        id: SIM_WIRE_STATION_ID,
        scale: {
          protocol: 'toledo-8217',
          options: { unit: 'kg' },
          line: { baudRate: 9600, dataBits: 7, parity: 'even', stopBits: 1 },
          driverPath: wire.scalePath,
          devicePath: wire.indicatorPath,
        },
        printer: { port: 40123 },
      }),
    ]);
  });

  it('has no wire station unless asked, and refuses a scale model that is not serial', () => {
    expect(parseConfig(withSimulatedFloor(base())).stations.map((s) => s.id)).toEqual(['st-1', 'st-2']);
    expect(() => withSimulatedFloor(base(), { wireStation: { ...wire, scaleDefinition: 'hid-pos-scale' } })).toThrow(
      expect.objectContaining({ code: 'PKL_CONFIG_INVALID' }),
    );
  });

  it('gives the floor a picker whose picked orders the last order-by-order station packs; none with one station', () => {
    const c = parseConfig(withSimulatedFloor(base(), { wireStation: wire }));
    expect(c.devices.find((d) => d.id === SIM_PICKER_ID)).toMatchObject({ role: 'pda' });
    const s = parseScenario(simFloorScenario(c, wire));
    expect(s.pickers).toEqual([expect.objectContaining({ id: SIM_PICKER_ID, packAt: 'st-2', shop: 'tmall-flagship' })]);
    expect(s.stations.find((x) => x.id === 'st-2')?.postprint).toBe(false);
    const one = parseConfig(withSimulatedFloor(parseConfig({ sim: { enabled: true, stations: 1, lines: 0 } })));
    expect(one.devices.some((d) => d.role === 'pda')).toBe(false);
    expect(parseScenario(simFloorScenario(one)).pickers).toEqual([]);
    expect(() => parseScenario({ stations: [{ id: 'st-1', postprint: true }], pickers: [{ id: 'pda-1', packAt: 'st-1' }] })).toThrow(
      expect.objectContaining({ code: 'PKL_CONFIG_INVALID' }),
    );
  });
});
