/**
 * The carrier label as TSPL/TSPL2, for TSC printers and the many TSPL-compatible ones (Gprinter,
 * Xprinter…): the same data at the same positions as zpl-label.ts, a 76 × 130 mm one-part
 * e-waybill (docs/printing.md) on a 203 dpi printer (8 dots/mm).
 *
 * Command references are to the TSPL/TSPL2 Programming Manual (TSC), by command name: "Setup
 * and System Commands" (SIZE, GAP, DIRECTION, CODEPAGE, CLS, PRINT) and "Label Formatting
 * Commands" (BAR, BARCODE, BLOCK, TEXT). A command is one line ended by CR LF (TSPL/TSPL2
 * Programming Manual, "Command syntax"), so data must never carry CR or LF: see {@link escapeTsplString}.
 */
import { PacklineError } from '../../../contracts/errors.js';
import { batchLine, formatKg, type LabelData, maskPhone } from './label-data.js';

export interface TsplLabelOptions {
  /**
   * Printer font for every text field (it must hold the Chinese glyphs), as TEXT and BLOCK
   * name it. Default `TSS24.BF2`: the manual's TEXT font table lists it as the Simplified
   * Chinese 24 × 24 font (GB code), resident on TSC models sold with the Chinese font option
   * (`TST24.BF2` in the same table is Traditional Chinese, Big5). A printer without it prints
   * no Chinese: its site downloads a CJK font into the printer (TSC Console, or the manual's
   * DOWNLOAD command; a 24-dot `.BF2` bitmap font or a `.TTF` TrueType font) and names that
   * file here. Whether a resident GB font is reached through `CODEPAGE UTF-8` depends on the
   * firmware (not verified on hardware); a downloaded TrueType font is the safe choice.
   */
  cjkFont?: string;
}

export const DEFAULT_TSPL_CJK_FONT = 'TSS24.BF2';

/** 76 mm × 8 dots/mm (203 dpi); the positions below are zpl-label.ts's, dot for dot. */
const WIDTH_DOTS = 608;
const MARGIN = 24;
const INNER = WIDTH_DOTS - 2 * MARGIN;
/** Extra dots between the lines of a BLOCK, as the ZPL label's ^FB line spacing. */
const LINE_SPACE = 4;

/**
 * Waybill numbers are letters, digits and `-`; anything else is refused rather than escaped:
 * BARCODE "128" encodes the content as given (the manual's "128M" would give `!` a meaning of
 * its own), and a `"` would end the content string.
 */
const WAYBILL_RE = /^[A-Za-z0-9-]{1,40}$/;
/** A font name is one quoted parameter: a file name (`TSS24.BF2`, `SIMSUN.TTF`) or a number. */
const FONT_RE = /^[A-Za-z0-9_]{1,20}(?:\.[A-Za-z0-9]{1,4})?$/;
/** Longest text field in code points, as for the ZPL label. */
const MAX_FIELD = 120;

/** Line and paragraph breaks: shown as one space, never sent (CR LF would end the command). */
const BREAKS = new Set([0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x85, 0x2028, 0x2029]);

/**
 * Text for a TSPL double-quoted string parameter (TEXT, BLOCK). The manual's TEXT notes give
 * one escape: a `"` inside the content is written `\["]`. Everything else is kept out rather
 * than escaped, since TSPL strings have no general escape:
 * - CR, LF (and tab, VT, FF, NEL, U+2028/9): a run of them becomes one space — a CR LF would end
 *   the command line and let the data write the next command (e.g. its own `PRINT`);
 * - every other control character (C0, DEL, C1) is dropped: `<ESC>` starts the immediate
 *   `<ESC>!` commands (`<ESC>!R` reset, `<ESC>!?` status), which a printer obeys wherever
 *   they appear in the stream;
 * - `\` becomes `＼` (U+FF3C, in GB2312): `\[` opens the manual's escape notation and no
 *   escape for a plain backslash is defined;
 * - lone UTF-16 surrogates are dropped (no UTF-8 form).
 * Chinese and other printable text is sent as UTF-8 (`CODEPAGE UTF-8`). Truncates by code
 * point like the ZPL label's escapeFieldData, before escaping, so an escape is never cut.
 */
export function escapeTsplString(text: string, maxCodePoints = MAX_FIELD): string {
  let chars = Array.from(text);
  if (chars.length > maxCodePoints) chars = [...chars.slice(0, maxCodePoints - 1), '…'];
  let out = '';
  let inBreak = false;
  for (const ch of chars) {
    const cp = ch.codePointAt(0) ?? 0;
    if (BREAKS.has(cp)) {
      if (!inBreak) out += ' ';
      inBreak = true;
      continue;
    }
    inBreak = false;
    if (ch === '"') out += '\\["]';
    else if (ch === '\\') out += '＼';
    else if (cp < 0x20 || (cp >= 0x7f && cp <= 0x9f) || (cp >= 0xd800 && cp <= 0xdfff)) continue;
    else out += ch;
  }
  return out;
}

/**
 * TEXT/BLOCK x- and y-multiplication for a field `dots` high in the ZPL label. Manual, TEXT
 * parameters: for a bitmap font it is a whole enlargement factor (1–10) of the font cell — the
 * largest that keeps the field within the ZPL field's height, so no field grows into the next;
 * for a TrueType font (`.TTF`, or font "0") it is the size in points (1 pt = 1/72 inch).
 */
function scaleFor(font: string, dots: number): { mul: number; lineDots: number } {
  if (/\.TTF$/i.test(font) || font === '0') {
    const points = Math.round((dots * 72) / 203);
    return { mul: points, lineDots: dots };
  }
  const cell = Number(/(\d{2})\.BF2$/i.exec(font)?.[1] ?? 24);
  const mul = Math.min(10, Math.max(1, Math.floor(dots / cell)));
  return { mul, lineDots: cell * mul };
}

export function renderTsplLabel(d: LabelData, options: TsplLabelOptions = {}): string {
  if (!WAYBILL_RE.test(d.waybill)) {
    throw new PacklineError('PKL_LABEL_TEMPLATE_ERROR', {
      reason: `waybill ${JSON.stringify(d.waybill.slice(0, 48))} is not letters, digits and "-"`,
    });
  }
  const font = options.cjkFont ?? DEFAULT_TSPL_CJK_FONT;
  if (!FONT_RE.test(font)) {
    throw new PacklineError('PKL_LABEL_TEMPLATE_ERROR', { reason: `bad font name ${JSON.stringify(font)}` });
  }
  // TEXT x,y,"font",rotation,x-multiplication,y-multiplication,"content".
  const text = (y: number, dots: number, value: string): string => {
    const { mul } = scaleFor(font, dots);
    return `TEXT ${MARGIN},${y},"${font}",0,${mul},${mul},"${escapeTsplString(value)}"`;
  };
  // BLOCK x,y,width,height,"font",rotation,x-mul,y-mul,space,align,"content": wraps within the
  // box and cuts what does not fit (like ^FB's maximum lines); space = extra dots between lines,
  // align 1 = left.
  const block = (y: number, dots: number, lines: number, value: string): string => {
    const { mul, lineDots } = scaleFor(font, dots);
    const height = lines * (lineDots + LINE_SPACE);
    return `BLOCK ${MARGIN},${y},${INNER},${height},"${font}",0,${mul},${mul},${LINE_SPACE},1,"${escapeTsplString(value)}"`;
  };
  // BAR x,y,width,height: a filled rectangle, here a 2-dot rule (the ZPL label's ^GB).
  const rule = (y: number): string => `BAR ${MARGIN},${y},${INNER},2`;
  const lines = [
    // SIZE m mm,n mm: label width and length (metric form: a space before "mm").
    'SIZE 76 mm,130 mm',
    // GAP m mm,n mm: gap between die-cut labels and its offset; 2 mm is the common e-waybill
    // roll (docs/devices/printers.md example).
    'GAP 2 mm,0 mm',
    // DIRECTION n,m: print direction 1 (as in TSC's manual examples), no mirror.
    'DIRECTION 1,0',
    // CODEPAGE UTF-8: string content is UTF-8, so Chinese is sent as is (no GB18030 transcoding).
    'CODEPAGE UTF-8',
    // CLS: clear the image buffer (after SIZE, before drawing).
    'CLS',
    text(20, 36, d.carrier),
  ];
  if (d.sortCode) lines.push(text(64, 72, d.sortCode));
  lines.push(
    // BARCODE x,y,"128",height,human readable,rotation,narrow,wide,"content": Code 128 with
    // automatic subset switching, 120 dots high, text below (1), unrotated, 2-dot narrow module
    // (the ZPL label's ^BY2; wide is unused by Code 128).
    `BARCODE ${MARGIN},150,"128",120,1,0,2,2,"${d.waybill}"`,
    rule(320),
    text(336, 32, `收 ${d.receiverName} ${maskPhone(d.receiverPhone)}`),
    block(376, 28, 3, d.receiverAddress),
    rule(480),
  );
  if (d.routingCode) lines.push(text(496, 28, d.routingCode));
  lines.push(text(536, 28, `重量 ${formatKg(d.grams)}`), text(576, 28, `订单 ${d.orderId}`), block(616, 24, 4, d.items));
  // Pre-printed ahead for a batch: its id and sequence number, below the items.
  if (d.batch !== undefined) lines.push(rule(740), text(756, 36, batchLine(d.batch)));
  lines.push(
    // PRINT m: print the buffer once (one label set; the driver repeats the job for copies).
    'PRINT 1',
  );
  return `${lines.join('\r\n')}\r\n`;
}
