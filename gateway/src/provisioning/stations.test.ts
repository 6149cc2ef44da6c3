import { describe, expect, it } from 'vitest';
import { parseConfig } from '../config/load.js';
import type { DeviceRecord } from '../storage/types.js';
import { displayTargets, resolveStations, stationSettingsProblem } from './stations.js';

const dev = (deviceId: string, role: string, station: string | null): DeviceRecord => ({
  deviceId,
  role,
  station,
  model: null,
  secretHash: 'x',
  createdAt: 0,
  rotatedAt: 0,
});

const config = parseConfig({
  devices: [
    { id: 'a-scanner', role: 'scanner', station: 'st-a' },
    { id: 'a-scale', role: 'scale', station: 'st-a' },
    { id: 'a-printer', role: 'printer', station: 'st-a' },
    { id: 'dws-1', role: 'conveyor', station: 'line-1' },
  ],
  stations: [{ id: 'st-a', scanner: 'a-scanner', scale: 'a-scale', printer: 'a-printer' }],
  lines: [{ id: 'line-1', device: 'dws-1', chutes: {}, exceptionChute: 'EXC', defaultChute: 'DEF' }],
});

describe('run-time stations', () => {
  it('take unnamed devices from those registered with --station, named ones as given; incomplete ones do not run', () => {
    const devices = [
      dev('b-scanner', 'scanner', 'st-b'),
      dev('b-scale', 'scale', 'st-b'),
      dev('b-printer-2', 'printer', 'st-b'),
      dev('b-printer-1', 'printer', 'st-b'),
      dev('b-pda', 'pda', 'st-b'),
      dev('c-scanner', 'scanner', 'st-c'),
      dev('dws-2', 'conveyor', 'line-1'),
    ];
    const r = resolveStations(
      config,
      [
        { stationId: 'st-b', settings: { printer: 'b-printer-2' }, createdAt: 1 },
        { stationId: 'st-c', settings: {}, createdAt: 2 },
        { stationId: 'st-a', settings: {}, createdAt: 3 }, // the config file wins
      ],
      devices,
    );
    expect(r.stations.map((s) => s.id)).toEqual(['st-a', 'st-b']);
    expect(r.stations[1]).toMatchObject({ scanner: 'b-scanner', scale: 'b-scale', printer: 'b-printer-2', channel: 1, verifyItems: 'always' });
    expect(r.provisioned.find((p) => p.stationId === 'st-c')).toMatchObject({ resolved: null, missing: ['scale', 'printer'] });
    expect(r.bindings.get('b-pda')?.owner).toEqual({ type: 'station', id: 'st-b' });
    expect(r.bindings.get('b-printer-1')?.owner).toEqual({ type: 'station', id: 'st-b' }); // registered for st-b
    expect(r.bindings.get('c-scanner')?.owner).toBeNull(); // its station does not run yet
    expect(r.bindings.get('dws-2')?.owner).toEqual({ type: 'line', id: 'line-1' });
    expect(r.bindings.get('a-scanner')?.owner).toEqual({ type: 'station', id: 'st-a' });
    expect(displayTargets(r.stations[1]!, r.bindings).sort()).toEqual(['b-pda', 'b-scanner']);
  });

  it('refuses ids and settings that cannot work', () => {
    expect(stationSettingsProblem('st-a', {}, config)).toMatch(/config file/);
    expect(stationSettingsProblem('line-1', {}, config)).toMatch(/line/);
    expect(stationSettingsProblem('bad/id', {}, config)).toMatch(/must match/);
    expect(stationSettingsProblem('st-z', { channel: 0 }, config)).toMatch(/channel/);
    expect(stationSettingsProblem('st-z', { scanner: 'x y' }, config)).toMatch(/scanner/);
    expect(stationSettingsProblem('st-z', { scanner: 's-1', channel: 3 }, config)).toBeNull();
  });
});
