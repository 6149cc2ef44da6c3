/**
 * Which language a station's labels are rendered in. A station may say so (`labelFormat`);
 * otherwise its printer decides: a printer the gateway drives over raw TCP (`devices[].driver`
 * of kind `printer`) speaks its definition's language (device-drivers/src/printer/definitions.ts).
 * IPP printers and MQTT-native printers get ZPL, the format they have always been sent (the IPP
 * driver forwards either language as the document; an MQTT-native printer says nothing of its
 * language), unless the station says otherwise.
 */
import { printerDefinition } from '../../../device-drivers/src/printer/definitions.js';
import type { DeviceConfig, StationConfig } from '../config/schema.js';

export type LabelFormat = 'zpl' | 'tspl';

export const DEFAULT_LABEL_FORMAT: LabelFormat = 'zpl';

/**
 * The language of a printer the gateway drives over raw TCP, or null when nothing pins it (no
 * hosted driver, an IPP printer, or a definition id that config validation reports).
 */
export function hostedPrinterLanguage(device: DeviceConfig | undefined): LabelFormat | null {
  const drv = device?.driver;
  if (drv?.kind !== 'printer') return null;
  return printerDefinition(drv.definition)?.language ?? null;
}

/** The format of `station`'s labels: its own `labelFormat`, else its printer's, else ZPL. */
export function stationLabelFormat(station: StationConfig, devices: readonly DeviceConfig[]): LabelFormat {
  // A linear find per station step: negligible next to the step's store write.
  return station.labelFormat ?? hostedPrinterLanguage(devices.find((d) => d.id === station.printer)) ?? DEFAULT_LABEL_FORMAT;
}
