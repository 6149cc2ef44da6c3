import { describe, expect, it } from 'vitest';
import { defaultScenario, parseScenario } from './scenario.js';

describe('scenario', () => {
  it('defaults to 2 packing stations, 1 DWS line and the cloud', () => {
    const s = defaultScenario();
    expect(s.stations.map((x) => x.id)).toEqual(['st-01', 'st-02']);
    expect(s.stations[0]?.verifyItems).toBe('always');
    expect(s.stations[0]?.scaleFaults).toEqual({ noiseGrams: 2, driftGramsPerParcel: 0, unstable: false });
    expect(s.lines).toHaveLength(1);
    expect(s.lines[0]?.defaultChute).toBe('DEFAULT');
    expect(s.cloud?.initialOrders).toBe(200);
  });

  it('is JSON-serialisable and parses back to itself', () => {
    const s = parseScenario({ stations: [{ id: 'a', printerFaults: { paperOut: true } }], cloud: null });
    expect(parseScenario(JSON.parse(JSON.stringify(s)))).toEqual(s);
    expect(s.cloud).toBeNull();
    expect(s.stations[0]?.printerFaults).toEqual({ paperOut: true, slowMs: 0 });
  });

  it('does not modify its input', () => {
    const input = { stations: [{ id: 'a' }] };
    parseScenario(input);
    expect(input).toEqual({ stations: [{ id: 'a' }] });
  });

  it('has no wire stations by default; one parses with a Toledo 8217 indicator unless told otherwise', () => {
    expect(defaultScenario().wireStations).toEqual([]);
    const s = parseScenario({ wireStations: [{ id: 'w', scale: { driverPath: '/tmp/a', devicePath: '/tmp/b' }, printer: { port: 9100 } }] });
    expect(s.wireStations[0]).toMatchObject({ id: 'w', verifyItems: 'always', scale: { protocol: 'toledo-8217' }, printer: { port: 9100 } });
  });

  it('refuses bad scenarios with PKL_CONFIG_INVALID naming the field', () => {
    const cases: [unknown, RegExp][] = [
      [[], /JSON object/],
      [{ stations: [{ id: 'a/b' }] }, /stations\.0\.id/],
      [{ lines: [{ id: 'l', noReadRate: 2 }] }, /lines\.0\.noReadRate/],
      [{ unknownField: 1 }, /scenario/],
      [{ stations: [{ id: 'x' }], lines: [{ id: 'x' }] }, /used twice/],
      [
        { wireStations: [{ id: 'w', scale: { protocol: 'hid-pos', driverPath: 'a', devicePath: 'b' }, printer: { port: 1 } }] },
        /wireStations\.0\.scale\.protocol/,
      ],
      [{ stations: [{ id: 'x' }], wireStations: [{ id: 'x', scale: { driverPath: 'a', devicePath: 'b' }, printer: { port: 1 } }] }, /used twice/],
    ];
    for (const [input, re] of cases) {
      expect(() => parseScenario(input)).toThrow(expect.objectContaining({ code: 'PKL_CONFIG_INVALID', message: expect.stringMatching(re) }));
    }
  });
});
