/**
 * The staging label of a presale parcel (预售订单打包): packed and weighed ahead of payment, it
 * gets this label instead of the carrier's e-waybill and waits on the presale shelf. Its one
 * barcode is the staging barcode; scanning it after the payment prints the carrier label
 * (docs/packing-modes.md "Presale"). No receiver, no waybill: nothing on it can be handed to a
 * courier by mistake, and a big "PRESALE - DO NOT SHIP" band says so.
 *
 * Pure. ZPL references are to the ZPL II Programming Guide (Zebra P1012728), one section per
 * command, as in zpl-label.ts; TSPL references are to the TSPL/TSPL2 Programming Manual (TSC)
 * by command name, as in tspl-label.ts. Both are 76 × 50 mm at 203 dpi (8 dots/mm), the small
 * shelf label most presale stations keep next to the e-waybill roll.
 */
import { PacklineError } from '../../../contracts/errors.js';
import { formatKg } from './label-data.js';
import type { LabelFormat } from './label-format.js';
import { escapeFieldData } from './zpl-label.js';

/** The staging barcode's prefix: a scan starting with it is looked up as a staging label. */
export const STAGING_BARCODE_PREFIX = 'STG-';

/** The staging barcode of a staged parcel (its staging id is the id of the shipment that packed it). */
export function stagingBarcode(stagingId: string): string {
  return `${STAGING_BARCODE_PREFIX}${stagingId}`;
}

/** The staging id a scanned code names, or null when it is not a staging barcode. */
export function parseStagingBarcode(code: string): string | null {
  return code.startsWith(STAGING_BARCODE_PREFIX) && code.length > STAGING_BARCODE_PREFIX.length ? code.slice(STAGING_BARCODE_PREFIX.length) : null;
}

export interface StagingLabelData {
  stagingId: string;
  orderId: string;
  shop: string;
  /** `SKU x qty`, one per order line. */
  items: ReadonlyArray<{ sku: string; qty: number }>;
  /** Weight taken at the station (grams), null when the station did not weigh it. */
  grams: number | null;
  stationId: string;
  /** When it was staged (epoch ms), printed as UTC so every station prints the same bytes. */
  at: number;
}

/** Item lines printed; the rest are counted. */
const ITEM_LINES = 3;

function stamp(ms: number): string {
  return `${new Date(ms).toISOString().slice(0, 16).replace('T', ' ')} UTC`;
}

/** Code 128 data (subset B: printable ASCII) for both languages: ids are letters, digits, `-`, `_`, `.`. */
function barcodeData(stagingId: string): string {
  const code = stagingBarcode(stagingId);
  if (!/^[A-Za-z0-9._-]{1,80}$/.test(code)) throw new PacklineError('PKL_LABEL_TEMPLATE_ERROR', { field: 'staging_id', reason: 'not a Code 128 id' });
  return code;
}

function itemLines(d: StagingLabelData): string[] {
  const lines = d.items.slice(0, ITEM_LINES).map((i) => `${i.sku} x ${i.qty}`);
  if (d.items.length > ITEM_LINES) lines.push(`+ ${d.items.length - ITEM_LINES} more lines`);
  return lines;
}

export function renderStagingZpl(d: StagingLabelData): string {
  const code = barcodeData(d.stagingId);
  const out = [
    '^XA', // ^XA start format
    '^CI28', // ^CI28 field data is UTF-8
    '^PW608', // ^PW print width: 76 mm
    '^LL400', // ^LL label length: 50 mm
    '^FO0,0^GB608,64,64^FS', // ^GB a filled box: the black band
    '^FO24,12^A0N,44,44^FR^FDPRESALE - DO NOT SHIP^FS', // ^FR reverses the text on the band
    `^FO24,80^A0N,30,30^FH^FD${escapeFieldData(`Order ${d.orderId}`)}^FS`, // ^FH: escapes as _hh (escapeFieldData)
    `^FO24,116^A0N,24,24^FH^FD${escapeFieldData(`Shop ${d.shop}   ${d.grams === null ? 'not weighed' : formatKg(d.grams)}`)}^FS`,
    `^FO24,148^BY2^BCN,90,Y,N,N^FD${code}^FS`, // ^BC Code 128, interpretation line below
  ];
  let y = 280;
  for (const line of itemLines(d)) {
    out.push(`^FO24,${y}^A0N,22,22^FH^FD${escapeFieldData(line)}^FS`);
    y += 24;
  }
  out.push(`^FO24,376^A0N,20,20^FH^FD${escapeFieldData(`${d.stationId} ${stamp(d.at)}`, 60)}^FS`, '^XZ');
  return `${out.join('\n')}\n`;
}

/** TSPL string content: no `"` and no CR/LF (one command per line, TSPL/TSPL2 "Command syntax"). */
function tsplText(text: string): string {
  return text.replace(/["\r\n]/g, ' ');
}

export function renderStagingTspl(d: StagingLabelData): string {
  const code = barcodeData(d.stagingId);
  const out = [
    'SIZE 76 mm,50 mm', // SIZE label width, length
    'GAP 2 mm,0 mm', // GAP between labels
    'DIRECTION 0', // DIRECTION print orientation
    'CODEPAGE UTF-8', // CODEPAGE field data is UTF-8
    'CLS', // CLS clear the image buffer
    'TEXT 24,16,"3",0,1,1,"PRESALE - DO NOT SHIP"',
    'REVERSE 0,0,608,64', // REVERSE inverts the band drawn so far: white text on black
    `TEXT 24,80,"3",0,1,1,"${tsplText(`Order ${d.orderId}`)}"`,
    `TEXT 24,116,"2",0,1,1,"${tsplText(`Shop ${d.shop}   ${d.grams === null ? 'not weighed' : formatKg(d.grams)}`)}"`,
    `BARCODE 24,148,"128",90,1,0,2,2,"${code}"`, // BARCODE Code 128, human readable below
  ];
  let y = 280;
  for (const line of itemLines(d)) {
    out.push(`TEXT 24,${y},"2",0,1,1,"${tsplText(line)}"`);
    y += 24;
  }
  out.push(`TEXT 24,376,"1",0,1,1,"${tsplText(`${d.stationId} ${stamp(d.at)}`)}"`, 'PRINT 1,1'); // PRINT one set, one copy
  return `${out.join('\r\n')}\r\n`;
}

export function renderStagingLabel(format: LabelFormat, d: StagingLabelData): string {
  return format === 'tspl' ? renderStagingTspl(d) : renderStagingZpl(d);
}
