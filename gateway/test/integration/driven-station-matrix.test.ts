/**
 * The driven-station matrix: a packing station composed by configuration alone
 * (`devices[].driver`) from ANY serial scale protocol and ANY printer type, each device driven
 * by the gateway against its simulator on a real wire, ships a parcel end to end: serial scan →
 * stable weight within tolerance → label printed → shipment `shipped` (read back over HTTP).
 *
 * - Scale protocols: every serial scale definition in device-drivers (one station each, all on
 *   one gateway), scale on a pty pair, label on the ZPL raw-TCP printer simulator.
 * - Printer types: ZPL and TSPL raw TCP (printer simulators) and IPP (Debian's ippeveprinter,
 *   which needs dbus + avahi, see .ci/run), with a Toledo 8217 scale.
 *
 * The label's language follows the printer: a TSPL printer's station gets the TSPL label
 * (label/tspl-label.ts, chosen from the printer's driver definition by
 * label/label-format.ts), the others the ZPL one.
 *
 * Not in the matrix: the HID POS scale (USB HID reports, not a byte stream on a serial line; a
 * scale driver can only be configured on a serial or TCP link today).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { skipWithout } from '../../../test-peers/peers.js';
import { SCALE_DEFINITIONS } from '../../../device-drivers/src/scale/index.js';
import { DrivenFloor, IppEvePrinter, PRINTER_DEFINITION, waitFor } from './driven-station-helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'pkl-matrix-'));
const SERIAL_SCALES = SCALE_DEFINITIONS.filter((d) => d.transport === 'serial');
/** The scale the printer-type rows use. */
const PRINTER_ROW_SCALE = 'mettler-toledo-8217';

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe('every serial scale protocol, one station each on one gateway, ZPL printer', () => {
  let floor: DrivenFloor | undefined;

  beforeAll(async () => {
    floor = await DrivenFloor.start(
      join(dir, 'scales'),
      SERIAL_SCALES.map((d) => ({ scale: d.id, printer: 'zpl' as const })),
    );
  }, 60_000);
  afterAll(async () => {
    await floor?.stop();
  });

  it('covers every serial scale definition', () => {
    expect(SERIAL_SCALES.map((d) => d.protocol).sort()).toEqual([
      'aclas-os2x',
      'cas-22',
      'generic-line',
      'mt-sics',
      'toledo-8217',
      'toledo-continuous',
      'yaohua-a9',
    ]);
  });

  for (const [i, definition] of SERIAL_SCALES.entries()) {
    it(`${definition.protocol} (${definition.id}) × zpl`, async () => {
      const f = floor as DrivenFloor;
      const st = f.stations[i]!;
      const orderId = `O-SCL-${i + 1}`;
      const { waybill, loadGrams } = await f.packOnto(st, orderId);
      await waitFor(`${st.ids.station}: label with ${waybill}`, () => st.labels().some((l) => l.includes(waybill)));
      const shipment = await f.shipped(orderId);
      // Every simulated protocol carries whole grams at this load (kg with 3 decimals or grams).
      expect(shipment.actual_grams).toBe(loadGrams);
      expect(shipment.expected_grams).toBe(loadGrams - 3);
      expect(shipment.waybill).toBe(waybill);
      expect(st.labels()).toHaveLength(1);
    });
  }
});

// The IPP row needs ippeveprinter (a test peer); the rows share one floor, so the block goes together.
describe.skipIf(skipWithout(import.meta.url, 'ippeveprinter'))(`every printer type, ${PRINTER_ROW_SCALE} scale`, () => {
  let floor: DrivenFloor | undefined;
  let ipp: IppEvePrinter | undefined;

  beforeAll(async () => {
    ipp = await IppEvePrinter.start(join(dir, 'ipp-spool'));
    floor = await DrivenFloor.start(
      join(dir, 'printers'),
      (['zpl', 'tspl', 'ipp'] as const).map((printer) => ({ scale: PRINTER_ROW_SCALE, printer })),
      ipp,
    );
  }, 60_000);
  afterAll(async () => {
    await floor?.stop();
    await ipp?.stop();
  });

  const shipsOn = (index: number, orderId: string, checkLabel: (label: string, waybill: string) => void) => async () => {
    const f = floor as DrivenFloor;
    const st = f.stations[index]!;
    const { waybill, loadGrams } = await f.packOnto(st, orderId);
    await waitFor(`${st.ids.station}: label with ${waybill}`, () => st.labels().some((l) => l.includes(waybill)));
    const shipment = await f.shipped(orderId);
    expect(shipment.actual_grams).toBe(loadGrams);
    const label = st.labels().find((l) => l.includes(waybill)) ?? '';
    checkLabel(label, waybill);
  };
  const zplLabel = (label: string) => {
    expect(label.startsWith('^XA')).toBe(true);
  };

  it(`zpl (${PRINTER_DEFINITION.zpl}, raw TCP 9100 simulator)`, shipsOn(0, 'O-PRN-1', zplLabel));

  it(
    `tspl (${PRINTER_DEFINITION.tspl}, raw TCP simulator): the station renders TSPL for its TSPL printer`,
    shipsOn(1, 'O-PRN-2', (label, waybill) => {
      // One whole TSPL job (the simulator's line reader cut it at PRINT), with the waybill as a
      // Code 128 barcode and the Chinese text intact (CODEPAGE UTF-8), nothing of ZPL.
      expect(label.startsWith('SIZE 76 mm,130 mm\r\n')).toBe(true);
      expect(label).toContain('\r\nCODEPAGE UTF-8\r\n');
      expect(label).toContain(`\r\nBARCODE 24,150,"128",120,1,0,2,2,"${waybill}"\r\n`);
      expect(label).toContain('"订单 O-PRN-2"\r\n');
      expect(label.endsWith('\r\nPRINT 1\r\n')).toBe(true);
      expect(label).not.toContain('^XA');
      const f = floor as DrivenFloor;
      expect(f.stations[1]?.rawPrinter?.labels).toHaveLength(1);
    }),
  );

  it('ipp (ippeveprinter, IPP Everywhere)', shipsOn(2, 'O-PRN-3', zplLabel));
});
