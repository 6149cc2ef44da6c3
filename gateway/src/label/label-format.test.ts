import { describe, expect, it } from 'vitest';
import { PacklineError } from '../../../contracts/errors.js';
import { parseConfig } from '../config/load.js';
import type { DeviceConfig } from '../config/schema.js';
import { hostedPrinterLanguage, stationLabelFormat } from './label-format.js';

const scanner: DeviceConfig = { id: 'scan-1', role: 'scanner' };
const scale: DeviceConfig = { id: 'scale-1', role: 'scale' };
const printers = {
  tspl: { id: 'prn-1', role: 'printer', driver: { kind: 'printer', definition: 'tsc-ttp-244', host: '10.0.0.9' } },
  zpl: { id: 'prn-1', role: 'printer', driver: { kind: 'printer', definition: 'zebra-zd420', host: '10.0.0.9' } },
  ipp: { id: 'prn-1', role: 'printer', driver: { kind: 'ipp-printer', uri: 'ipp://10.0.0.9:631/ipp/print' } },
  mqtt: { id: 'prn-1', role: 'printer' },
} satisfies Record<string, DeviceConfig>;

const station = { id: 'st-1', scanner: 'scan-1', scale: 'scale-1', printer: 'prn-1', channel: 1, verifyItems: 'always' as const };

function config(printer: DeviceConfig, labelFormat?: 'zpl' | 'tspl') {
  return { devices: [scanner, scale, printer], stations: [{ ...station, ...(labelFormat ? { labelFormat } : {}) }] };
}

describe('label format of a station', () => {
  it("follows a driven printer's definition; IPP and MQTT-native printers get ZPL", () => {
    expect(stationLabelFormat(station, [scanner, scale, printers.tspl])).toBe('tspl');
    expect(stationLabelFormat(station, [printers.zpl])).toBe('zpl');
    expect(stationLabelFormat(station, [printers.ipp])).toBe('zpl');
    expect(stationLabelFormat(station, [printers.mqtt])).toBe('zpl');
    expect(stationLabelFormat(station, [])).toBe('zpl');
    expect(hostedPrinterLanguage(printers.ipp)).toBeNull();
    expect(hostedPrinterLanguage({ ...printers.tspl, driver: { ...printers.tspl.driver, definition: 'acme-1' } })).toBeNull();
  });

  it('takes the station setting for printers that do not pin a language', () => {
    expect(stationLabelFormat({ ...station, labelFormat: 'tspl' }, [printers.ipp])).toBe('tspl');
    expect(stationLabelFormat({ ...station, labelFormat: 'tspl' }, [printers.mqtt])).toBe('tspl');
    const c = parseConfig(config(printers.ipp, 'tspl'));
    expect(stationLabelFormat(c.stations[0]!, c.devices)).toBe('tspl');
    expect(parseConfig(config(printers.tspl, 'tspl')).stations[0]?.labelFormat).toBe('tspl');
    expect(parseConfig(config(printers.tspl)).stations[0]?.labelFormat).toBeUndefined();
  });

  it('refuses at config load a labelFormat that contradicts the driven printer, naming the station', () => {
    for (const [printer, asked, speaks] of [
      [printers.tspl, 'zpl', 'tspl'],
      [printers.zpl, 'tspl', 'zpl'],
    ] as const) {
      let err: unknown;
      try {
        parseConfig(config(printer, asked));
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(PacklineError);
      expect((err as PacklineError).code).toBe('PKL_CONFIG_INVALID');
      expect(String((err as PacklineError).details?.reason)).toBe(
        `stations.0.labelFormat: station st-1 asks for ${asked} labels, but its printer "prn-1" (${printer.driver.definition}) speaks ${speaks}; drop labelFormat or set "${speaks}"`,
      );
    }
    expect(() => parseConfig({ ...config(printers.mqtt), stations: [{ ...station, labelFormat: 'epl' }] })).toThrow(PacklineError);
  });
});
