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
import type { PackedGlyph, TrueTypeFont } from './truetype.js';

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
  for (const ch of text) w += font.advance(ch.codePointAt(0) ?? 0x20, px);
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

/** ASCII of the hex digits of every byte value, for writing `^GF` data straight into a buffer. */
const HEX_HI = Uint8Array.from({ length: 256 }, (_, v) => (HEX[v] as string).charCodeAt(0));
const HEX_LO = Uint8Array.from({ length: 256 }, (_, v) => (HEX[v] as string).charCodeAt(1));
const COLON = 0x3a;
const COMMA = 0x2c;

/** A rasterised text line: its `^GFA` field and its height in dots. */
export interface GraphicLine {
  field: string;
  height: number;
}

/**
 * `toGraphicField(drawLine(font, text, px, template))`, cut at `clipWidth` dots when the line
 * is wider — the same bytes (a property test holds it to the pair), drawn without a byte per
 * pixel: the glyphs' rows are cached packed 8 pixels to a byte (truetype.ts) and shifted into place, and the
 * hex is written into a byte buffer. The label's text is rasterised on the station step's path
 * (the weight step renders the label), where the per-pixel version cost ~0.5 ms per label.
 */
export function graphicLine(font: TrueTypeFont, text: string, px: number, template: string, clipWidth = Number.POSITIVE_INFINITY): GraphicLine {
  const glyphs: PackedGlyph[] = [];
  let full = 0;
  for (const ch of text) {
    const cp = ch.codePointAt(0) ?? 0x20;
    if (cp !== 0x20 && cp !== 0x3000 && !font.hasGlyph(cp)) {
      throw new PacklineError('PKL_TEMPLATE_GLYPH_MISSING', { font: font.name, char: ch, template });
    }
    const g = font.packedGlyph(cp, px);
    glyphs.push(g);
    full += g.advance;
  }
  const height = font.lineHeight(px);
  const width = Math.min(Math.max(1, full), clipWidth);
  const bytesPerRow = Math.ceil(width / 8);
  // One spare byte per row: a glyph's shifted last byte may spill (zero bits) past the row.
  const stride = bytesPerRow + 1;
  const rows = new Uint8Array(stride * height);
  let x0 = 0;
  for (let k = 0; k < glyphs.length && x0 < width; k++) {
    const p = glyphs[k] as PackedGlyph;
    const shift = x0 & 7;
    const at = x0 >> 3;
    // Bytes of this glyph that land inside the row (a cut line drops the rest).
    const n = Math.min(p.bytesPerRow, bytesPerRow - at);
    const h = Math.min(p.height, height);
    for (let y = 0; y < h; y++) {
      const src = y * p.bytesPerRow;
      const dst = y * stride + at;
      if (shift === 0) {
        for (let i = 0; i < n; i++) rows[dst + i]! |= p.rows[src + i]!;
      } else {
        for (let i = 0; i < n; i++) {
          const b = p.rows[src + i]!;
          rows[dst + i]! |= b >> shift;
          rows[dst + i + 1]! |= (b << (8 - shift)) & 0xff;
        }
      }
    }
    x0 += p.advance;
  }
  // Bits past the cut are not part of the image.
  const tail = width & 7;
  if (tail !== 0) {
    const mask = (0xff << (8 - tail)) & 0xff;
    for (let y = 0; y < height; y++) rows[y * stride + bytesPerRow - 1]! &= mask;
  }
  return { field: encodeGraphicField(rows, stride, bytesPerRow, height), height };
}

/** `^GFA` data of packed rows (same compression as {@link toGraphicField}). */
function encodeGraphicField(rows: Uint8Array, stride: number, bytesPerRow: number, height: number): string {
  const total = bytesPerRow * height;
  // Worst case: every byte as two hex digits plus a `,` per row.
  const out = Buffer.allocUnsafe(total * 2 + height);
  let o = 0;
  for (let y = 0; y < height; y++) {
    const base = y * stride;
    if (y > 0) {
      let same = true;
      const prev = base - stride;
      for (let i = 0; i < bytesPerRow; i++) {
        if (rows[base + i] !== rows[prev + i]) {
          same = false;
          break;
        }
      }
      if (same) {
        out[o++] = COLON;
        continue;
      }
    }
    let last = bytesPerRow - 1;
    while (last >= 0 && rows[base + last] === 0) last--;
    for (let i = 0; i <= last; i++) {
      const v = rows[base + i]!;
      out[o++] = HEX_HI[v]!;
      out[o++] = HEX_LO[v]!;
    }
    if (last < bytesPerRow - 1) out[o++] = COMMA;
  }
  return `^GFA,${total},${total},${bytesPerRow},${out.toString('latin1', 0, o)}`;
}
