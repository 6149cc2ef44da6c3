/**
 * The configured printers as the HTTP API sees them, and the test page (docs/printing.md):
 * a print job built by test-page.ts in the printer's own language, published on
 * `dev/{printerId}/cmd/print` like a label (docs/mqtt.md), with a fresh job id `T-…`.
 *
 * A test page is not a shipment's label, so it is not written to the store: nothing waits for
 * its result (the station machine answers the printer's print_result with
 * PKL_PRINT_JOB_UNKNOWN on `dev/{id}/err`, which changes nothing) and nothing re-issues it
 * after a restart.
 */
import { PacklineError } from '../../../contracts/errors.js';
import { topics } from '../../../contracts/topics.js';
import type { PrintCommand } from '../../../contracts/payloads.js';
import { printerDefinition } from '../../../device-drivers/src/printer/definitions.js';
import type { PublishOptions } from '../broker/link.js';
import type { Config, DeviceConfig } from '../config/schema.js';
import { DEFAULT_LABEL_FORMAT, type LabelFormat, hostedPrinterLanguage, stationLabelFormat } from '../label/label-format.js';
import type { Logger } from '../lib/logger.js';
import { TEST_PAGE_HEIGHT_DOTS, TEST_PAGE_WIDTH_DOTS, type TestPageGeometry, renderTestPage } from './test-page.js';

/** A configured printer (a device with role printer) as the API and preflight see it. */
export interface PrinterSummary {
  printerId: string;
  /** The station whose printer it is, or null. */
  stationId: string | null;
  /** The language it is sent: its station's label format, else its driver definition's, else ZPL. */
  format: 'zpl' | 'tspl';
  online: boolean;
}

/** Printers as the API and preflight see them. */
export interface PrinterFacade {
  list(): PrinterSummary[];
  /**
   * Publishes a test page print job (`dev/{id}/cmd/print`, job id `T-…`) and resolves once the
   * broker took it. PKL_DEVICE_UNKNOWN: not a configured printer; PKL_PRINTER_UNAVAILABLE: offline.
   */
  testPage(printerId: string): Promise<{ jobId: string; format: 'zpl' | 'tspl' }>;
}

export interface PrinterServiceDeps {
  config: Readonly<Config>;
  /** The store's boot counter: test page ids stay unique across restarts, as label ids do. */
  boot: number;
  publish(topic: string, payload: string, opts: PublishOptions): Promise<void>;
  isOnline(deviceId: string): boolean;
  logger: Logger;
  now?: () => number;
}

/** The language a printer is sent: its station's label format, else its driver's, else ZPL. */
export function printerFormat(config: Readonly<Config>, device: DeviceConfig): LabelFormat {
  const station = config.stations.find((s) => s.printer === device.id);
  if (station !== undefined) return stationLabelFormat(station, config.devices);
  return hostedPrinterLanguage(device) ?? DEFAULT_LABEL_FORMAT;
}

/**
 * The test page's size: the carrier label's 76 × 130 mm, narrowed to what a printer the gateway
 * drives can print (its definition's maximum width, e.g. 54 mm for a 2-inch Gprinter).
 */
export function printerGeometry(device: DeviceConfig): TestPageGeometry {
  const drv = device.driver;
  const def = drv?.kind === 'printer' ? printerDefinition(drv.definition) : undefined;
  if (def === undefined) return {};
  const dpmm = def.dpmm;
  const width = Math.min(Math.round((TEST_PAGE_WIDTH_DOTS / 8) * dpmm), Math.floor(def.maxWidthMm * dpmm));
  return { dpmm, widthDots: width, heightDots: Math.round((TEST_PAGE_HEIGHT_DOTS / 8) * dpmm) };
}

export function createPrinterService(deps: PrinterServiceDeps): PrinterFacade {
  const now = deps.now ?? Date.now;
  let counter = 0;
  // Job ids are at most 64 characters (print_result's job_id); the gateway id is cut to fit.
  const stem = `T-${deps.config.gatewayId.slice(0, 40)}-${deps.boot.toString(36)}`;
  const printers = () => deps.config.devices.filter((d) => d.role === 'printer');

  return {
    list(): PrinterSummary[] {
      return printers().map((d) => ({
        printerId: d.id,
        stationId: deps.config.stations.find((s) => s.printer === d.id)?.id ?? null,
        format: printerFormat(deps.config, d),
        online: deps.isOnline(d.id),
      }));
    },

    async testPage(printerId) {
      const device = printers().find((d) => d.id === printerId);
      if (device === undefined) throw new PacklineError('PKL_DEVICE_UNKNOWN', { deviceId: printerId });
      // Sent to an offline printer it would print whenever it came back, long after anyone
      // looked: refused instead, so the installer sees the printer is not connected.
      if (!deps.isOnline(printerId)) throw new PacklineError('PKL_PRINTER_UNAVAILABLE', { deviceId: printerId });
      const at = now();
      const jobId = `${stem}-${(counter++).toString(36)}`;
      const format = printerFormat(deps.config, device);
      const data = renderTestPage(
        format,
        { printerId, gatewayId: deps.config.gatewayId, jobId, at, utcOffsetMin: -new Date(at).getTimezoneOffset() },
        printerGeometry(device),
      );
      const command: PrintCommand = { job_id: jobId, format, data, copies: 1 };
      await deps.publish(topics.command(printerId, 'print'), JSON.stringify(command), { qos: 1 });
      deps.logger.info({ printerId, jobId, format }, 'test page sent');
      return { jobId, format };
    },
  };
}
