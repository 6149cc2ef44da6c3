/**
 * The printer test page (docs/printing.md): what an installer prints to check a printer
 * end to end — the printer and gateway ids, the time, a Code 128 barcode (the job id: scan it
 * to test the station's scanner too), a 1-dot frame around the whole print area (a side that
 * does not print means the label stock or the width setting is off) and a Chinese line that
 * proves the UTF-8 encoding and the printer's CJK font.
 *
 * ZPL references are to the ZPL II Programming Guide (Zebra P1012728), TSPL ones to the
 * TSPL/TSPL2 Programming Manual (TSC), one section per command, as in gateway/src/label/.
 * Pure: the caller supplies the ids, the time and the printer's geometry.
 */
import { PacklineError } from '../../../contracts/errors.js';
import { DEFAULT_CJK_FONT, escapeFieldData } from '../label/zpl-label.js';
import { DEFAULT_TSPL_CJK_FONT, escapeTsplString } from '../label/tspl-label.js';

export interface TestPageInfo {
  printerId: string;
  gatewayId: string;
  /** The print job id; also the barcode's content. Letters, digits, `_`, `.` and `-`. */
  jobId: string;
  /** When it was sent (epoch ms). */
  at: number;
  /** The site's offset from UTC in minutes (China: 480), so the time reads as on the wall clock. */
  utcOffsetMin?: number;
}

export interface TestPageGeometry {
  /** Print width in dots; default the carrier label's 76 mm at 8 dots/mm (zpl-label.ts). */
  widthDots?: number;
  /** Label length in dots; default the carrier label's 130 mm at 8 dots/mm. */
  heightDots?: number;
  /** Dots per millimetre of the printer (8 = 203 dpi), for the size shown on the page. */
  dpmm?: number;
  /** Printer font with CJK glyphs: `device:name.ext` for ZPL (`^CW`), a file name for TSPL. */
  cjkFont?: string;
}

export const TEST_PAGE_WIDTH_DOTS = 608;
export const TEST_PAGE_HEIGHT_DOTS = 1040;

/**
 * The line that must print in Chinese ("Chinese test: font OK, one two three"); 13 characters,
 * so at 28 dots it fits a 2-inch (54 mm) printer too.
 */
export const TEST_PAGE_CHINESE = '中文测试：字体正常 一二三';

const MARGIN = 24;
/**
 * Code 128 content as ^BC and BARCODE "128" take it literally: `>` starts a ZPL invocation
 * code (^BC, "Code 128 invocation characters") and `"` would end a TSPL string, so only ids
 * made of the config's id characters are accepted.
 */
const JOB_ID_RE = /^[A-Za-z0-9_.-]{1,64}$/;

/** `2026-11-27 18:05:09 +08:00`: the wall-clock time at the site, with its offset. */
export function formatLocalTime(at: number, utcOffsetMin = 0): string {
  const d = new Date(at + utcOffsetMin * 60_000);
  const p = (n: number) => String(n).padStart(2, '0');
  const sign = utcOffsetMin < 0 ? '-' : '+';
  const off = Math.abs(utcOffsetMin);
  return (
    `${d.getUTCFullYear()}-${p(d.getUTCMonth() + 1)}-${p(d.getUTCDate())} ` +
    `${p(d.getUTCHours())}:${p(d.getUTCMinutes())}:${p(d.getUTCSeconds())} ${sign}${p(Math.floor(off / 60))}:${p(off % 60)}`
  );
}

/** Code 128 modules of `n` characters in one subset: start, data, check (11 each), stop (13). */
function code128Modules(n: number): number {
  return 11 * (n + 2) + 13;
}

function checked(info: TestPageInfo, g: TestPageGeometry) {
  if (!JOB_ID_RE.test(info.jobId)) {
    throw new PacklineError('PKL_LABEL_TEMPLATE_ERROR', { reason: `job id ${JSON.stringify(info.jobId.slice(0, 80))} is not a plain id` });
  }
  const width = g.widthDots ?? TEST_PAGE_WIDTH_DOTS;
  const height = g.heightDots ?? TEST_PAGE_HEIGHT_DOTS;
  // ^PW and ^LL take 2 to 32000 dots; narrower than ~30 mm nothing useful fits.
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 240 || height < 400 || width > 32000 || height > 32000) {
    throw new PacklineError('PKL_LABEL_TEMPLATE_ERROR', { reason: `test page of ${width}×${height} dots is out of range` });
  }
  const dpmm = g.dpmm ?? 8;
  // The widest module that keeps the barcode inside the frame (2 dots as on the label, else 1).
  const module = code128Modules(info.jobId.length) * 2 <= width - 2 * MARGIN ? 2 : 1;
  const mm = (dots: number) => Math.round((dots / dpmm) * 10) / 10;
  const lines = [`Printer: ${info.printerId}`, `Gateway: ${info.gatewayId}`, `Time: ${formatLocalTime(info.at, info.utcOffsetMin)}`, `Job: ${info.jobId}`];
  const area = [`Print area ${width} x ${height} dots`, `= ${mm(width)} x ${mm(height)} mm at ${dpmm} dots/mm`];
  return { width, height, module, lines, area, mm };
}

/** The test page as ZPL II (`^CI28` UTF-8, the CJK font bound to letter J as on the labels). */
export function renderZplTestPage(info: TestPageInfo, g: TestPageGeometry = {}): string {
  const { width, height, module, lines, area } = checked(info, g);
  const font = g.cjkFont ?? DEFAULT_CJK_FONT;
  if (!/^[A-Z]:[A-Za-z0-9_]{1,16}\.[A-Za-z]{3}$/.test(font)) {
    throw new PacklineError('PKL_LABEL_TEMPLATE_ERROR', { reason: `bad font name ${JSON.stringify(font)}` });
  }
  // ^A0: the resident scalable font (CG Triumvirate), present on every ZPL printer, for the
  // Latin lines, so they print even where the CJK font is missing.
  const latin = (y: number, size: number, value: string) => `^FO${MARGIN},${y}^A0N,${size},${size}^FH^FD${escapeFieldData(value)}^FS`;
  const out = [
    // ^XA Start Format; ^CI28 Unicode UTF-8; ^PW Print Width and ^LL Label Length in dots.
    '^XA',
    '^CI28',
    `^PW${width}`,
    `^LL${height}`,
    // ^LH Label Home: origin of every ^FO; ^CW binds the CJK font to letter J for ^AJ.
    '^LH0,0',
    `^CWJ,${font}`,
    // ^GB Graphic Box width,height,thickness: a 1-dot frame on the edge of the print area.
    `^FO0,0^GB${width},${height},1^FS`,
    latin(24, 40, 'PACKLINE TEST PAGE'),
    ...lines.map((l, i) => latin(80 + i * 36, 28, l)),
    // ^BY module width, ratio, height; ^BC Code 128: orientation N, height 100, text below,
    // no text above, no UCC check digit.
    `^FO${MARGIN},240^BY${module},3,100^BCN,100,Y,N,N^FD${info.jobId}^FS`,
    `^FO${MARGIN},390^GB${width - 2 * MARGIN},2,2^FS`,
    `^FO${MARGIN},410^AJN,28,28^FH^FD${escapeFieldData(TEST_PAGE_CHINESE)}^FS`,
    latin(460, 24, `^CI28 UTF-8, font J = ${font}`),
    ...area.map((l, i) => latin(496 + i * 32, 24, l)),
    // ^PQ Print Quantity: one; ^XZ End Format.
    '^PQ1',
    '^XZ',
  ];
  return `${out.join('\n')}\n`;
}

/** The test page as TSPL/TSPL2 (CR LF lines, `CODEPAGE UTF-8`, the labels' CJK font). */
export function renderTsplTestPage(info: TestPageInfo, g: TestPageGeometry = {}): string {
  const { width, height, module, lines, area, mm } = checked(info, g);
  const font = g.cjkFont ?? DEFAULT_TSPL_CJK_FONT;
  if (!/^[A-Za-z0-9_]{1,20}(?:\.[A-Za-z0-9]{1,4})?$/.test(font)) {
    throw new PacklineError('PKL_LABEL_TEMPLATE_ERROR', { reason: `bad font name ${JSON.stringify(font)}` });
  }
  // TEXT x,y,"font",rotation,x-mul,y-mul,"content". Font "3" is the resident 16×24 dot
  // font and "2" the 12×20 one (manual, TEXT font table), present on every TSPL printer.
  const text = (y: number, f: string, value: string) => `TEXT ${MARGIN},${y},"${f}",0,1,1,"${escapeTsplString(value)}"`;
  const out = [
    // SIZE m mm,n mm; GAP 2 mm (the e-waybill roll); DIRECTION 1,0; CODEPAGE UTF-8; CLS.
    `SIZE ${mm(width)} mm,${mm(height)} mm`,
    'GAP 2 mm,0 mm',
    'DIRECTION 1,0',
    'CODEPAGE UTF-8',
    'CLS',
    // BOX x_start,y_start,x_end,y_end,line thickness: the 1-dot frame of the print area.
    `BOX 0,0,${width - 1},${height - 1},1`,
    text(24, '3', 'PACKLINE TEST PAGE'),
    ...lines.map((l, i) => text(80 + i * 36, '2', l)),
    // BARCODE x,y,"128",height,human readable,rotation,narrow,wide,"content".
    `BARCODE ${MARGIN},240,"128",100,1,0,${module},${module},"${info.jobId}"`,
    // BAR x,y,width,height: a 2-dot rule.
    `BAR ${MARGIN},390,${width - 2 * MARGIN},2`,
    text(410, font, TEST_PAGE_CHINESE),
    text(460, '2', `CODEPAGE UTF-8, font ${font}`),
    ...area.map((l, i) => text(496 + i * 32, '2', l)),
    // PRINT m: print the buffer once.
    'PRINT 1',
  ];
  return `${out.join('\r\n')}\r\n`;
}

export function renderTestPage(format: 'zpl' | 'tspl', info: TestPageInfo, g: TestPageGeometry = {}): string {
  return format === 'tspl' ? renderTsplTestPage(info, g) : renderZplTestPage(info, g);
}
