/**
 * Label text as a ZPL graphic field (`^GF`), drawn on the gateway from a TrueType font.
 *
 * Why a graphic and not `^CI28` + a printer font: the Chinese must print on every ZPL printer a
 * site plugs in, and most label printers sold in China carry no CJK font (Zebra's Simplified
 * Chinese font is an option that must be downloaded and licensed per printer; clone printers
 * differ in which font names they accept). A graphic needs nothing from the printer, prints
 * the same glyphs on all of them, and is exactly what the PNG preview shows — the preview's
 * ZPL renderer (zpl-renderer-js) has no CJK font either, so `^CI28` text previews as boxes.
 * The cost: a bigger job (~20–30 KB per label with ZPL's row compression instead of ~0.6 KB) and
 * the rasterising on the gateway (cached per glyph and size, see bench/printing.ts).
 *
 * `^GF` (ZPL II Programming Guide, ^GF Graphic Field): `^GFA,b,c,d,data` — A = ASCII hex,
 * b = c = total bytes of the image, d = bytes per row; data compressed with the guide's "ZPL
 * compression scheme" (Alternative Data Compression Scheme for ~DG and ^GF): `,` fills the
 * rest of the row with zeros, `:` repeats the previous row.
 */
import { PacklineError } from '../../../contracts/errors.js';
import type { TrueTypeFont } from './truetype.js';

export interface TextBitmap {
  width: number;
  height: number;
  /** 1 = ink, row-major. */
  bits: Uint8Array;
}

/** Lays `text` out on one line at em size `px`; throws PKL_TEMPLATE_GLYPH_MISSING for a character the font lacks. */
export function drawLine(font: TrueTypeFont, text: string, px: number, template: string): TextBitmap {
  const glyphs = Array.from(text).map((ch) => {
    const cp = ch.codePointAt(0) ?? 0x20;
    if (cp !== 0x20 && cp !== 0x3000 && !font.hasGlyph(cp)) {
      throw new PacklineError('PKL_TEMPLATE_GLYPH_MISSING', { font: font.name, char: ch, template });
    }
    return font.glyph(cp, px);
  });
  const height = font.lineHeight(px);
  const width = Math.max(
    1,
    glyphs.reduce((w, g) => w + g.advance, 0),
  );
  const bits = new Uint8Array(width * height);
  let x0 = 0;
  for (const g of glyphs) {
    const gb = g.bits;
    for (let y = 0; y < g.height && y < height; y++) {
      const row = y * g.width;
      const out = y * width + x0;
      // Branch-free OR of the glyph's row (its bits are 0 or 1; glyphs may overlap by their bearings).
      for (let x = 0; x < g.width; x++) bits[out + x]! |= gb[row + x]! & 1;
    }
    x0 += g.advance;
  }
  return { width, height, bits };
}

/** Width in dots of `text` at `px` (for wrapping), without drawing. */
export function measure(font: TrueTypeFont, text: string, px: number): number {
  let w = 0;
  for (const ch of text) w += font.glyph(ch.codePointAt(0) ?? 0x20, px).advance;
  return w;
}

/**
 * Splits text into at most `maxLines` lines of at most `width` dots, breaking anywhere (CJK has
 * no spaces to break at); what does not fit ends in `…`.
 */
export function wrap(font: TrueTypeFont, text: string, px: number, width: number, maxLines: number): string[] {
  const lines: string[] = [];
  let cur = '';
  let curW = 0;
  const chars = Array.from(text);
  for (let i = 0; i < chars.length; i++) {
    const ch = chars[i] as string;
    const w = measure(font, ch, px);
    if (curW + w > width && cur !== '') {
      if (lines.length === maxLines - 1) {
        // Last line: cut and mark the cut.
        const ell = measure(font, '…', px);
        let cut = Array.from(cur);
        while (cut.length > 0 && measure(font, cut.join(''), px) + ell > width) cut = cut.slice(0, -1);
        lines.push(`${cut.join('')}…`);
        return lines;
      }
      lines.push(cur);
      cur = '';
      curW = 0;
    }
    cur += ch;
    curW += w;
  }
  if (cur !== '' || lines.length === 0) lines.push(cur);
  return lines;
}

/** Upper-case hex of every byte value: one lookup per byte instead of toString/toUpperCase/padStart. */
const HEX = Array.from({ length: 256 }, (_, v) => v.toString(16).toUpperCase().padStart(2, '0'));

/**
 * `^GFA` field data for a bitmap, with ZPL row compression. On the station step's path (a
 * label's text blocks are rasterised per shipment, bench core --cpu-prof): bytes are packed
 * straight from the row, rows compared as byte arrays, hex built from a table.
 */
export function toGraphicField(b: TextBitmap): string {
  const bytesPerRow = Math.ceil(b.width / 8);
  const total = bytesPerRow * b.height;
  let out = '';
  let previous = new Uint8Array(bytesPerRow);
  let row = new Uint8Array(bytesPerRow);
  for (let y = 0; y < b.height; y++) {
    row.fill(0);
    const base = y * b.width;
    let last = -1;
    for (let x = 0; x < b.width; x++) {
      if (b.bits[base + x] === 1) {
        const xb = x >> 3;
        row[xb]! |= 0x80 >> (x & 7);
        last = xb;
      }
    }
    if (y > 0) {
      let same = true;
      for (let i = 0; i < bytesPerRow; i++) {
        if (row[i] !== previous[i]) {
          same = false;
          break;
        }
      }
      if (same) {
        out += ':';
        continue;
      }
    }
    // Trailing zero bytes become `,` (fill the rest of the row with zeros).
    for (let i = 0; i <= last; i++) out += HEX[row[i]!];
    if (last < bytesPerRow - 1) out += ',';
    const t = previous;
    previous = row;
    row = t;
  }
  return `^GFA,${total},${total},${bytesPerRow},${out}`;
}
