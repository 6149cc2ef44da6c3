/**
 * What a print-component document becomes on a gateway printer. Pure.
 *
 * The gateway cannot fetch or interpret platform templates (`templateURL` points at the
 * platform's cloud, and the gateway prints offline), so a document is printed in one of two ways:
 *
 * 1. **Standard label from plain data.** The document's `data` objects are read as the plain
 *    Cainiao standard-waybill data (`waybillCode`, `recipient{name, mobile, phone,
 *    address{province, city, district, town, detail}}`, `routingInfo{routeCode,
 *    sortation{name}, consolidation{name}}`, `cpCode`; e.g. github.com/garrettzxd/print-demo
 *    src/common/printData.js, template …/template/standard/101/…) and printed with the
 *    gateway's own 76 × 130 mm carrier label (label/: the same label a packing station
 *    prints), in the printer's language (ZPL or TSPL). A few extra keys fill the rest of that
 *    label: `carrier`, `orderId` (or `tradeNo` / `orderNo`), `items` (or a custom area's
 *    `item_name`), `grams`. Contents are read in order and the first non-empty value of a field
 *    wins, so the standard part and a custom area can both contribute. The sender is not on
 *    the gateway's label layout and is ignored.
 * 2. **Raw ZPL passthrough.** A content whose `data.zpl` is a string is printed as is, on ZPL
 *    printers only. It must be whole formats (`^XA … ^XZ`) and may not carry commands that
 *    change or query the printer rather than draw a label (see {@link checkRawZpl}).
 *
 * A document with `encryptedData` (a platform-encrypted waybill) fails with
 * PKL_PRINT_ENCRYPTED_DOCUMENT: only the platform's own component holds the key
 * (docs/printing-cainiao.md), and printing the custom area alone would give a parcel without its waybill.
 */
import type { ErrorCode, ErrorDetails } from '../../../../contracts/errors.js';
import { PacklineError } from '../../../../contracts/errors.js';
import type { LabelData } from '../../label/label-data.js';
import type { LabelFormat } from '../../label/label-format.js';
import { renderTsplLabel } from '../../label/tspl-label.js';
import { renderZplLabel } from '../../label/zpl-label.js';
import type { PrintContent, PrintDocument } from './protocol.js';

export type Printable = { ok: true; format: LabelFormat; data: string; kind: 'label' | 'raw-zpl' } | { ok: false; code: ErrorCode; details: ErrorDetails };

/** Longest raw ZPL accepted per document (a 76 × 130 mm label with a graphic stays well below). */
export const MAX_RAW_ZPL_BYTES = 256 * 1024;

/** The paper the gateway's label is laid out for (label/: 76 × 130 mm). */
export const LABEL_PAPER_MM = { width: 76, height: 130 } as const;

/**
 * ZPL commands refused in raw passthrough (ZPL II Programming Guide, one section per command):
 * - `^CC` / `^CT` / `^CD` change the format prefix, control prefix and delimiter — after them
 *   no scan of the text can tell commands from data, so they are never allowed;
 * - `^JU` Configuration Update (saves/restores settings), `^JB` Initialize Flash Memory, `^ID`
 *   Object Delete, `^JZ` Reprint After Error, `^JJ` Set Auxiliary Port, `^KP` Define Password,
 *   `^KN` Define Printer Name, `^KC`/`^KL` Set Client Identifier / Define Language, and the
 *   network `^N…` commands (`^NB ^NC ^ND ^NI ^NN ^NP ^NS ^NT ^NW`) change the printer, not the label;
 * - `^DB ^DF ^DG ^DT ^DU ^DY` (download fonts, formats, graphics, objects) and `^IS` Image Save
 *   store objects in the printer's memory, which a label from a web page has no business doing.
 * Every `~` (control-prefix) command is refused as well: they act immediately and outside the
 * format (`~JR` power-on reset, `~JA` cancel all, `~HS` host status, `~DG` download graphic…).
 */
const REFUSED_CARET = /\^(C[CTD]|J[UBZJ]|I[DS]|K[PNCL]|N[BCDINPSTW]|D[BFGTUY])/i;

/** The reason raw ZPL is refused, or null when it may be printed. */
export function checkRawZpl(zpl: string): string | null {
  if (Buffer.byteLength(zpl) > MAX_RAW_ZPL_BYTES) return `raw ZPL is larger than ${MAX_RAW_ZPL_BYTES} bytes`;
  const body = zpl.trim();
  if (body.includes('~')) return 'raw ZPL may not contain ~ control commands';
  if (!/^\^XA/i.test(body) || !/\^XZ$/i.test(body)) return 'raw ZPL must be whole formats, from ^XA to ^XZ';
  const refused = REFUSED_CARET.exec(body);
  if (refused) return `raw ZPL may not contain ^${refused[1]?.toUpperCase()} (it changes the printer, not the label)`;
  return null;
}

function obj(v: unknown): Record<string, unknown> | null {
  return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : null;
}

/** A scalar as label text: strings trimmed, finite numbers as written; anything else is absent. */
function text(v: unknown): string {
  if (typeof v === 'string') return v.trim();
  if (typeof v === 'number' && Number.isFinite(v)) return String(v);
  return '';
}

function first(...values: unknown[]): string {
  for (const v of values) {
    const t = text(v);
    if (t !== '') return t;
  }
  return '';
}

function addressLine(a: unknown): string {
  const o = obj(a);
  if (o === null) return text(a);
  return ['province', 'city', 'district', 'town', 'detail']
    .map((k) => text(o[k]))
    .filter((s) => s !== '')
    .join('');
}

/** Label fields one content's `data` provides (empty string = not provided). */
function fieldsOf(data: Record<string, unknown>): Record<Exclude<keyof LabelData, 'batch'>, string> {
  const recipient = obj(data.recipient) ?? {};
  const routing = obj(data.routingInfo) ?? {};
  const sortation = obj(routing.sortation) ?? {};
  const consolidation = obj(routing.consolidation) ?? {};
  const routeCode = text(routing.routeCode);
  const hub = text(consolidation.name);
  return {
    waybill: first(data.waybillCode),
    carrier: first(data.carrier, data.cpName, data.cpCode),
    receiverName: first(recipient.name),
    receiverPhone: first(recipient.mobile, recipient.phone),
    receiverAddress: addressLine(recipient.address),
    // 三段码 (routeCode) small, with the 集包地 (consolidation hub) when given; 大头笔 (sortation) big.
    routingCode: [routeCode, hub].filter((s) => s !== '').join(' '),
    sortCode: first(sortation.name),
    grams: first(data.grams),
    orderId: first(data.orderId, data.tradeNo, data.orderNo),
    items: first(data.items, data.item_name),
    shop: first(data.shopName, data.shop),
  };
}

/** The label of a plain-data document, or why there is none. */
export function labelDataOf(doc: PrintDocument): { ok: true; label: LabelData } | { ok: false; reason: string } {
  const merged: Record<string, string> = {};
  for (const c of doc.contents) {
    const data = obj(c.data);
    if (data === null) continue;
    for (const [k, v] of Object.entries(fieldsOf(data))) {
      if (merged[k] === undefined || merged[k] === '') merged[k] = v;
    }
  }
  const waybill = merged.waybill ?? '';
  if (waybill === '') return { ok: false, reason: `document ${doc.documentID} has no data.waybillCode and no data.zpl` };
  const grams = Number(merged.grams);
  return {
    ok: true,
    label: {
      waybill,
      carrier: merged.carrier ?? '',
      receiverName: merged.receiverName ?? '',
      receiverPhone: merged.receiverPhone ?? '',
      receiverAddress: merged.receiverAddress ?? '',
      routingCode: merged.routingCode ? merged.routingCode : null,
      sortCode: merged.sortCode ? merged.sortCode : null,
      grams: merged.grams && Number.isFinite(grams) && grams >= 0 ? grams : null,
      orderId: merged.orderId ?? '',
      items: merged.items ?? '',
    },
  };
}

function isEncrypted(c: PrintContent): boolean {
  return typeof c.encryptedData === 'string' && c.encryptedData !== '';
}

function rawZplOf(c: PrintContent): string | null {
  const z = obj(c.data)?.zpl;
  return typeof z === 'string' ? z : null;
}

/** Renders one document for a printer speaking `format`. */
export function renderDocument(doc: PrintDocument, format: LabelFormat): Printable {
  if (doc.contents.some(isEncrypted)) {
    return { ok: false, code: 'PKL_PRINT_ENCRYPTED_DOCUMENT', details: { documentID: doc.documentID } };
  }
  const raw = doc.contents.map(rawZplOf);
  if (raw.some((z) => z !== null)) {
    if (raw.some((z) => z === null)) {
      return templateError(`document ${doc.documentID} mixes raw ZPL (data.zpl) with other contents`);
    }
    if (format !== 'zpl') return templateError(`raw ZPL cannot print on a ${format.toUpperCase()} printer`);
    const parts = raw as string[];
    for (const z of parts) {
      const why = checkRawZpl(z);
      if (why !== null) return templateError(why);
    }
    return { ok: true, format: 'zpl', data: parts.map((z) => `${z.trim()}\n`).join(''), kind: 'raw-zpl' };
  }
  const label = labelDataOf(doc);
  if (!label.ok) return templateError(label.reason);
  try {
    const data = format === 'tspl' ? renderTsplLabel(label.label) : renderZplLabel(label.label);
    return { ok: true, format, data, kind: 'label' };
  } catch (err) {
    if (err instanceof PacklineError) return { ok: false, code: err.code, details: err.details ?? {} };
    throw err;
  }
}

function templateError(reason: string): Printable {
  return { ok: false, code: 'PKL_LABEL_TEMPLATE_ERROR', details: { reason } };
}
