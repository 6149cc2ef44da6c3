/**
 * The carrier label as ZPL II, for a 76 × 130 mm one-part e-waybill (the size the platform
 * "standard template" uses; docs/printing.md) on a 203 dpi printer (8 dots/mm).
 *
 * Command references are to the ZPL II Programming Guide (Zebra P1012728), one section per
 * command. Text fields go through `^FH` so that field data can never end the field or start a
 * command: `^`, `~`, `\`, the hex indicator `_` itself and control characters are written as
 * `_XX` hex escapes; everything else (Chinese included) is sent as UTF-8 under `^CI28`.
 */
import { PacklineError } from '../../../contracts/errors.js';
import { batchLine, formatKg, type LabelData, maskPhone, type TemplateRenderer } from './label-data.js';
import type { TsplLabelOptions } from './tspl-label.js';

// The label's data is shared with the TSPL renderer; re-exported so existing imports keep working.
export { itemSummary, labelDataFor, type LabelData } from './label-data.js';

export interface LabelOptions {
  /**
   * Printer font holding CJK glyphs, bound to font letter J with `^CW`. Default `E:ANMDS.TTF`
   * is Zebra's Andale Mono Simplified Chinese font; sites whose printers carry another CJK
   * font (e.g. a downloaded SimSun) set its `device:name.ext` here.
   */
  cjkFont?: string;
  /** Options of the TSPL rendering (stations whose printer speaks TSPL); ignored here. */
  tspl?: TsplLabelOptions;
  /** The site's label templates per carrier (render.ts); ignored by renderZplLabel itself. */
  templates?: TemplateRenderer;
}

export const DEFAULT_CJK_FONT = 'E:ANMDS.TTF';

/** 76 mm × 8 dots/mm (203 dpi). */
const WIDTH_DOTS = 608;
/** 130 mm × 8 dots/mm. */
const LENGTH_DOTS = 1040;
const MARGIN = 24;
const INNER = WIDTH_DOTS - 2 * MARGIN;

/**
 * Waybill numbers are letters, digits and `-` (SF…, YT…, JT…, 7…); anything else is refused
 * rather than escaped because `^BC` gives `>` a meaning of its own (Code 128 invocation
 * characters, ^BC "Table: Code 128 invocation characters") and `^FH` is not used on barcodes.
 */
const WAYBILL_RE = /^[A-Za-z0-9-]{1,40}$/;
/** Longest text field in code points; ^FD allows 3072 bytes, the label area far less. */
const MAX_FIELD = 120;

/**
 * `^FH` escaping (ZPL II Prog. Guide, ^FH Field Hexadecimal Indicator: with `^FH` before `^FD`,
 * `_` followed by two hex digits is replaced by that byte). `^` (format prefix) and `~`
 * (control prefix) would start a command, `\` is an escape in some encodings' remaps, `_` is
 * the indicator itself, and control bytes are never meant as text.
 */
export function escapeFieldData(text: string, maxCodePoints = MAX_FIELD): string {
  let chars = Array.from(text);
  if (chars.length > maxCodePoints) chars = [...chars.slice(0, maxCodePoints - 1), '…'];
  let out = '';
  for (const ch of chars) {
    const cp = ch.codePointAt(0) ?? 0;
    if (ch === '^' || ch === '~' || ch === '\\' || ch === '_' || cp < 0x20 || cp === 0x7f) {
      out += `_${cp.toString(16).toUpperCase().padStart(2, '0')}`;
    } else {
      out += ch;
    }
  }
  return out;
}

/** One text field: `^FO` origin, `^AJ` the CJK font, `^FH` + escaped `^FD`, `^FS`. */
function text(x: number, y: number, size: number, value: string, block?: { lines: number }): string {
  // ^FO Field Origin; ^FB Field Block (width, max lines, extra line spacing, justification,
  // hanging indent) wraps long addresses; ^A Scalable/Bitmapped Font with the ^CW letter.
  const fb = block ? `^FB${INNER},${block.lines},4,L,0` : '';
  return `^FO${x},${y}${fb}^AJN,${size},${size}^FH^FD${escapeFieldData(value)}^FS`;
}

export function renderZplLabel(d: LabelData, options: LabelOptions = {}): string {
  if (!WAYBILL_RE.test(d.waybill)) {
    throw new PacklineError('PKL_LABEL_TEMPLATE_ERROR', {
      reason: `waybill ${JSON.stringify(d.waybill.slice(0, 48))} is not letters, digits and "-"`,
    });
  }
  const font = options.cjkFont ?? DEFAULT_CJK_FONT;
  if (!/^[A-Z]:[A-Za-z0-9_]{1,16}\.[A-Za-z]{3}$/.test(font)) {
    throw new PacklineError('PKL_LABEL_TEMPLATE_ERROR', { reason: `bad font name ${JSON.stringify(font)}` });
  }
  const lines = [
    // ^XA Start Format.
    '^XA',
    // ^CI Change International Font/Encoding: 28 = Unicode UTF-8, so Chinese field data prints.
    '^CI28',
    // ^PW Print Width and ^LL Label Length, in dots.
    `^PW${WIDTH_DOTS}`,
    `^LL${LENGTH_DOTS}`,
    // ^LH Label Home: origin of every ^FO.
    '^LH0,0',
    // ^CW Font Identifier: bind the CJK font to letter J for ^AJ.
    `^CWJ,${font}`,
    text(MARGIN, 20, 36, d.carrier),
  ];
  if (d.sortCode) lines.push(text(MARGIN, 64, 72, d.sortCode));
  lines.push(
    // ^BY Bar Code Field Default: module width 2 dots, wide:narrow 3 (ignored by Code 128), height.
    // ^BC Code 128: orientation N, height 120, interpretation line Y below (N above), no UCC
    // check digit, mode N (subsets chosen by the printer from the data).
    `^FO${MARGIN},150^BY2,3,120^BCN,120,Y,N,N^FD${d.waybill}^FS`,
    // ^GB Graphic Box used as a 2-dot rule (width, height, thickness).
    `^FO${MARGIN},320^GB${INNER},2,2^FS`,
    text(MARGIN, 336, 32, `收 ${d.receiverName} ${maskPhone(d.receiverPhone)}`),
    text(MARGIN, 376, 28, d.receiverAddress, { lines: 3 }),
    `^FO${MARGIN},480^GB${INNER},2,2^FS`,
  );
  if (d.routingCode) lines.push(text(MARGIN, 496, 28, d.routingCode));
  lines.push(text(MARGIN, 536, 28, `重量 ${formatKg(d.grams)}`), text(MARGIN, 576, 28, `订单 ${d.orderId}`), text(MARGIN, 616, 24, d.items, { lines: 4 }));
  // Pre-printed ahead for a batch: its id and sequence number, below the items.
  if (d.batch !== undefined) lines.push(`^FO${MARGIN},740^GB${INNER},2,2^FS`, text(MARGIN, 756, 36, batchLine(d.batch)));
  lines.push(
    // ^PQ Print Quantity: one label, no pause.
    '^PQ1',
    // ^XZ End Format.
    '^XZ',
  );
  return `${lines.join('\n')}\n`;
}
