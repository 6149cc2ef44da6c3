/**
 * A small TrueType reader and rasteriser: enough to turn label text (Chinese included) into a
 * 1-bit bitmap for ZPL `^GF` (see text-graphic.ts for why labels carry text as graphics).
 *
 * Reads a `.ttf` or the first font of a `.ttc` collection with TrueType outlines (`glyf`), e.g.
 * Debian's fonts-wqy-microhei (`/usr/share/fonts/truetype/wqy/wqy-microhei.ttc`). Table layouts
 * are from the OpenType specification (ISO/IEC 14496-22): "TTC Header", "Table Directory",
 * `head`, `hhea`, `hmtx`, `maxp`, `cmap` (formats 4 and 12), `loca`, `glyf` (simple and
 * composite glyphs). No hinting (the bytecode in `fpgm`/`prep` is ignored): at 24–72 dots the
 * unhinted outlines of a CJK sans font print legibly on a 203 dpi head. Quadratic curves are
 * flattened to lines and filled with the non-zero winding rule, sampled at pixel centres.
 */
import { fstatSync, openSync, readSync } from 'node:fs';
import { PacklineError } from '../../../contracts/errors.js';

interface Point {
  x: number;
  y: number;
  on: boolean;
}

/** A glyph outline in font units: closed contours of on/off-curve points. */
type Contours = Point[][];

export interface GlyphBitmap {
  /** Width and height in pixels; `bits[y * width + x]` is 1 for ink. */
  width: number;
  height: number;
  bits: Uint8Array;
  /** Advance to the next glyph, pixels. */
  advance: number;
}

/** A glyph as cached: its rows packed MSB first, 8 pixels to a byte (trailing bits zero). */
export interface PackedGlyph {
  width: number;
  height: number;
  advance: number;
  bytesPerRow: number;
  rows: Uint8Array;
}

/**
 * Glyphs kept per font: a label's text uses a few thousand distinct characters at 3–5 sizes
 * (~200 bytes each packed, so ≤ ~3 MB at this cap); past it the oldest are dropped and drawn
 * again when needed.
 */
export const GLYPH_CACHE_MAX = 16_384;

/** The tables {@link TrueTypeFont.load} reads at once (`glyf` is read per glyph). */
const RASTER_TABLES = ['head', 'hhea', 'hmtx', 'maxp', 'cmap', 'loca'];

export class TrueTypeFont {
  private readonly d: DataView;
  private readonly tables = new Map<string, number>();
  readonly unitsPerEm: number;
  readonly ascender: number;
  readonly descender: number;
  private readonly longLoca: boolean;
  private readonly numHMetrics: number;
  private readonly numGlyphs: number;
  private readonly cmap: (cp: number) => number;
  /** Which glyphs' outlines were read from the file (with {@link load}). */
  private glyfRead: Uint8Array | null = null;
  /** Key: px × 0x110000 + code point. */
  private readonly cache = new Map<number, PackedGlyph>();

  /**
   * @param bytes the font file, or (from {@link load}) a zero-filled buffer of its size holding
   *   only the tables read so far, with `readGlyph` filling a glyph's `glyf` bytes on first use.
   */
  constructor(
    bytes: Uint8Array,
    readonly name = 'font',
    private readonly readGlyph: ((offset: number, length: number) => void) | null = null,
  ) {
    this.d = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    let base = 0;
    if (this.tag(0) === 'ttcf') base = this.d.getUint32(12); // TTC Header: offset of font 0
    const n = this.d.getUint16(base + 4);
    for (let i = 0; i < n; i++) {
      const rec = base + 12 + 16 * i;
      this.tables.set(this.tag(rec), this.d.getUint32(rec + 8));
    }
    for (const t of ['head', 'hhea', 'hmtx', 'maxp', 'cmap', 'loca', 'glyf']) {
      if (!this.tables.has(t)) throw new PacklineError('PKL_TEMPLATE_FONT_INVALID', { font: name, reason: `no ${t} table (TrueType outlines needed)` });
    }
    const head = this.table('head');
    this.unitsPerEm = this.d.getUint16(head + 18);
    this.longLoca = this.d.getInt16(head + 50) === 1;
    const hhea = this.table('hhea');
    this.ascender = this.d.getInt16(hhea + 4);
    this.descender = this.d.getInt16(hhea + 6);
    this.numHMetrics = this.d.getUint16(hhea + 34);
    this.numGlyphs = this.d.getUint16(this.table('maxp') + 4);
    this.cmap = this.readCmap();
  }

  /**
   * Opens a font file and reads the tables the rasteriser needs (cmap, hmtx, loca and the
   * headers: ~0.4 MB of the bundled 5.2 MB); each glyph's outline is read from the file the
   * first time it is drawn (glyphs are cached, so that is once per character and size at
   * most). The buffer is the file's size but only the pages read are resident: the `glyf`
   * table (3.5 MB of the bundled font), `post`, `GPOS` and `vmtx` are never held whole.
   */
  static load(path: string): TrueTypeFont {
    let bytes: Uint8Array;
    let fd: number;
    const fail = (err: unknown) => new PacklineError('PKL_TEMPLATE_FONT_INVALID', { font: path, reason: (err as NodeJS.ErrnoException).code ?? String(err) });
    try {
      fd = openSync(path, 'r');
      bytes = new Uint8Array(fstatSync(fd).size);
    } catch (err) {
      throw fail(err);
    }
    const read = (offset: number, length: number) => {
      const end = Math.min(bytes.length, offset + length);
      let at = Math.max(0, offset);
      while (at < end) {
        const n = readSync(fd, bytes, at, end - at, at);
        if (n === 0) break;
        at += n;
      }
    };
    try {
      // Offset table (or TTC header, whose font 0 offset is at 12) and the table directory
      // (OpenType spec, "TTC Header", "Table Directory"), then the tables themselves.
      read(0, 16);
      const d = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
      const base = String.fromCharCode(...bytes.subarray(0, 4)) === 'ttcf' && bytes.length >= 16 ? d.getUint32(12) : 0;
      read(base, 12);
      const n = bytes.length >= base + 6 ? d.getUint16(base + 4) : 0;
      read(base + 12, 16 * n);
      for (let i = 0; i < n; i++) {
        const rec = base + 12 + 16 * i;
        if (rec + 16 > bytes.length) break;
        const tag = String.fromCharCode(...bytes.subarray(rec, rec + 4));
        if (RASTER_TABLES.includes(tag)) read(d.getUint32(rec + 8), d.getUint32(rec + 12));
      }
    } catch (err) {
      throw fail(err);
    }
    try {
      return new TrueTypeFont(bytes, path, (offset, length) => {
        try {
          read(offset, length);
        } catch (err) {
          throw fail(err);
        }
      });
    } catch (err) {
      if (err instanceof PacklineError) throw err;
      throw new PacklineError('PKL_TEMPLATE_FONT_INVALID', { font: path, reason: `not a TrueType font: ${String(err)}` });
    }
  }

  private tag(at: number): string {
    return String.fromCharCode(this.d.getUint8(at), this.d.getUint8(at + 1), this.d.getUint8(at + 2), this.d.getUint8(at + 3));
  }

  private table(t: string): number {
    return this.tables.get(t) as number;
  }

  /** cmap: the Unicode subtable, format 12 (full range) preferred over format 4 (BMP). */
  private readCmap(): (cp: number) => number {
    const cmap = this.table('cmap');
    const n = this.d.getUint16(cmap + 2);
    let f4 = -1;
    let f12 = -1;
    for (let i = 0; i < n; i++) {
      const platform = this.d.getUint16(cmap + 4 + 8 * i);
      const encoding = this.d.getUint16(cmap + 6 + 8 * i);
      const at = cmap + this.d.getUint32(cmap + 8 + 8 * i);
      const format = this.d.getUint16(at);
      const unicode = platform === 0 || (platform === 3 && (encoding === 1 || encoding === 10));
      if (!unicode) continue;
      if (format === 12) f12 = at;
      else if (format === 4) f4 = at;
    }
    const d = this.d;
    if (f12 >= 0) {
      const groups = d.getUint32(f12 + 12);
      return (cp) => {
        let lo = 0;
        let hi = groups - 1;
        while (lo <= hi) {
          const mid = (lo + hi) >> 1;
          const g = f12 + 16 + 12 * mid;
          const start = d.getUint32(g);
          const end = d.getUint32(g + 4);
          if (cp < start) hi = mid - 1;
          else if (cp > end) lo = mid + 1;
          else return d.getUint32(g + 8) + (cp - start);
        }
        return 0;
      };
    }
    if (f4 < 0) throw new PacklineError('PKL_TEMPLATE_FONT_INVALID', { font: this.name, reason: 'no Unicode cmap' });
    const segX2 = d.getUint16(f4 + 6);
    const ends = f4 + 14;
    const starts = ends + segX2 + 2;
    const deltas = starts + segX2;
    const ranges = deltas + segX2;
    return (cp) => {
      if (cp > 0xffff) return 0;
      for (let i = 0; i < segX2; i += 2) {
        if (cp > d.getUint16(ends + i)) continue;
        const start = d.getUint16(starts + i);
        if (cp < start) return 0;
        const delta = d.getInt16(deltas + i);
        const ro = d.getUint16(ranges + i);
        if (ro === 0) return (cp + delta) & 0xffff;
        const g = d.getUint16(ranges + i + ro + 2 * (cp - start));
        return g === 0 ? 0 : (g + delta) & 0xffff;
      }
      return 0;
    };
  }

  hasGlyph(cp: number): boolean {
    return this.cmap(cp) !== 0;
  }

  private advanceOf(glyph: number): number {
    const hmtx = this.table('hmtx');
    const i = Math.min(glyph, this.numHMetrics - 1);
    return this.d.getUint16(hmtx + 4 * i);
  }

  private outline(glyph: number, depth = 0): Contours {
    if (glyph >= this.numGlyphs || depth > 4) return [];
    const loca = this.table('loca');
    const off = this.longLoca ? this.d.getUint32(loca + 4 * glyph) : this.d.getUint16(loca + 2 * glyph) * 2;
    const next = this.longLoca ? this.d.getUint32(loca + 4 * glyph + 4) : this.d.getUint16(loca + 2 * glyph + 2) * 2;
    if (next <= off) return []; // empty glyph (space)
    const g = this.table('glyf') + off;
    if (this.readGlyph !== null) {
      this.glyfRead ??= new Uint8Array(this.numGlyphs);
      if (this.glyfRead[glyph] === 0) {
        this.readGlyph(g, next - off);
        this.glyfRead[glyph] = 1;
      }
    }
    const nContours = this.d.getInt16(g);
    return nContours >= 0 ? this.simple(g, nContours) : this.composite(g, depth);
  }

  private simple(g: number, nContours: number): Contours {
    const d = this.d;
    const endPts: number[] = [];
    for (let i = 0; i < nContours; i++) endPts.push(d.getUint16(g + 10 + 2 * i));
    const nPoints = (endPts.at(-1) ?? -1) + 1;
    let p = g + 10 + 2 * nContours;
    p += 2 + d.getUint16(p); // instructions
    const flags: number[] = [];
    while (flags.length < nPoints) {
      const f = d.getUint8(p++);
      flags.push(f);
      if (f & 8) {
        const repeat = d.getUint8(p++);
        for (let r = 0; r < repeat; r++) flags.push(f);
      }
    }
    const coords = (shortBit: number, sameBit: number): number[] => {
      const out: number[] = [];
      let v = 0;
      for (const f of flags.slice(0, nPoints)) {
        if (f & shortBit) {
          const dv = d.getUint8(p++);
          v += f & sameBit ? dv : -dv;
        } else if (!(f & sameBit)) {
          v += d.getInt16(p);
          p += 2;
        }
        out.push(v);
      }
      return out;
    };
    const xs = coords(2, 16);
    const ys = coords(4, 32);
    const contours: Contours = [];
    let start = 0;
    for (const end of endPts) {
      const c: Point[] = [];
      for (let i = start; i <= end; i++) c.push({ x: xs[i] as number, y: ys[i] as number, on: ((flags[i] as number) & 1) === 1 });
      contours.push(c);
      start = end + 1;
    }
    return contours;
  }

  private composite(g: number, depth: number): Contours {
    const d = this.d;
    let p = g + 10;
    const out: Contours = [];
    for (;;) {
      const flags = d.getUint16(p);
      const glyph = d.getUint16(p + 2);
      p += 4;
      let dx: number;
      let dy: number;
      if (flags & 1) {
        dx = d.getInt16(p);
        dy = d.getInt16(p + 2);
        p += 4;
      } else {
        dx = d.getInt8(p);
        dy = d.getInt8(p + 1);
        p += 2;
      }
      let [a, b, c, e] = [1, 0, 0, 1];
      const f2dot14 = (at: number) => d.getInt16(at) / 16384;
      if (flags & 8) {
        a = e = f2dot14(p);
        p += 2;
      } else if (flags & 0x40) {
        a = f2dot14(p);
        e = f2dot14(p + 2);
        p += 4;
      } else if (flags & 0x80) {
        [a, b, c, e] = [f2dot14(p), f2dot14(p + 2), f2dot14(p + 4), f2dot14(p + 6)];
        p += 8;
      }
      // ARGS_ARE_XY_VALUES (bit 1) assumed: point-matching offsets are rare in CJK fonts.
      for (const contour of this.outline(glyph, depth + 1)) {
        out.push(contour.map((pt) => ({ x: a * pt.x + c * pt.y + dx, y: b * pt.x + e * pt.y + dy, on: pt.on })));
      }
      if (!(flags & 0x20)) break; // MORE_COMPONENTS
    }
    return out;
  }

  /**
   * The glyph of `cp` at a pixel size (em height `px`), with its box placed on a line whose
   * height is the font's ascender − descender scaled to `px`. Cached per (code point, size).
   */
  glyph(cp: number, px: number): GlyphBitmap {
    const p = this.packedGlyph(cp, px);
    const bits = new Uint8Array(p.width * p.height);
    for (let y = 0; y < p.height; y++) {
      for (let x = 0; x < p.width; x++) bits[y * p.width + x] = (p.rows[y * p.bytesPerRow + (x >> 3)]! >> (7 - (x & 7))) & 1;
    }
    return { width: p.width, height: p.height, bits, advance: p.advance };
  }

  /** Advance of `cp` at `px`, pixels (for measuring text). */
  advance(cp: number, px: number): number {
    return this.packedGlyph(cp, px).advance;
  }

  /**
   * The glyph of `cp` at em height `px` as cached: packed rows, 8× smaller than a byte per
   * pixel and what graphicLine (text-graphic.ts) shifts into a label's line.
   */
  packedGlyph(cp: number, px: number): PackedGlyph {
    const key = px * 0x110000 + cp;
    const hit = this.cache.get(key);
    if (hit !== undefined) return hit;
    const g = this.rasterise(cp, px);
    const bytesPerRow = Math.ceil(g.width / 8);
    const rows = new Uint8Array(bytesPerRow * g.height);
    for (let y = 0; y < g.height; y++) {
      for (let x = 0; x < g.width; x++) if (g.bits[y * g.width + x] === 1) rows[y * bytesPerRow + (x >> 3)]! |= 0x80 >> (x & 7);
    }
    const packed: PackedGlyph = { width: g.width, height: g.height, advance: g.advance, bytesPerRow, rows };
    if (this.cache.size >= GLYPH_CACHE_MAX) this.cache.delete(this.cache.keys().next().value as number);
    this.cache.set(key, packed);
    return packed;
  }

  /** Draws a glyph from its outline (not cached). */
  private rasterise(cp: number, px: number): GlyphBitmap {
    const id = this.cmap(cp);
    const scale = px / this.unitsPerEm;
    const advance = Math.max(1, Math.round(this.advanceOf(id) * scale));
    const height = this.lineHeight(px);
    const baseline = Math.round(this.ascender * scale);
    const bits = new Uint8Array(advance * height);
    // Flatten to line segments in pixel space (y down).
    const edges: Array<[number, number, number, number]> = [];
    for (const contour of this.outline(id)) {
      const pts = expandImplied(contour);
      if (pts.length < 2) continue;
      const map = (pt: Point) => [pt.x * scale, baseline - pt.y * scale] as const;
      let startIdx = pts.findIndex((q) => q.on);
      if (startIdx < 0) continue;
      const n = pts.length;
      let [cx, cy] = map(pts[startIdx] as Point);
      for (let k = 1; k <= n; k++) {
        const q = pts[(startIdx + k) % n] as Point;
        if (q.on) {
          const [x, y] = map(q);
          edges.push([cx, cy, x, y]);
          [cx, cy] = [x, y];
        } else {
          const end = pts[(startIdx + k + 1) % n] as Point;
          const [qx, qy] = map(q);
          const [ex, ey] = map(end);
          const steps = 6;
          for (let s = 1; s <= steps; s++) {
            const t = s / steps;
            const x = (1 - t) * (1 - t) * cx + 2 * (1 - t) * t * qx + t * t * ex;
            const y = (1 - t) * (1 - t) * cy + 2 * (1 - t) * t * qy + t * t * ey;
            edges.push([cx, cy, x, y]);
            [cx, cy] = [x, y];
          }
          k++;
        }
      }
      startIdx = 0;
    }
    // Non-zero winding at each pixel centre, row by row.
    const crossings: Array<[number, number]> = [];
    for (let y = 0; y < height; y++) {
      const sy = y + 0.5;
      crossings.length = 0;
      for (const [x0, y0, x1, y1] of edges) {
        if (y0 === y1 || sy < Math.min(y0, y1) || sy >= Math.max(y0, y1)) continue;
        crossings.push([x0 + ((sy - y0) * (x1 - x0)) / (y1 - y0), y1 > y0 ? 1 : -1]);
      }
      if (crossings.length === 0) continue;
      crossings.sort((p, q) => p[0] - q[0]);
      let winding = 0;
      for (let i = 0; i < crossings.length - 1; i++) {
        winding += (crossings[i] as [number, number])[1];
        if (winding === 0) continue;
        const from = Math.max(0, Math.ceil((crossings[i] as [number, number])[0] - 0.5));
        const to = Math.min(advance - 1, Math.floor((crossings[i + 1] as [number, number])[0] - 0.5));
        for (let x = from; x <= to; x++) bits[y * advance + x] = 1;
      }
    }
    return { width: advance, height, bits, advance };
  }

  lineHeight(px: number): number {
    return Math.max(1, Math.round(((this.ascender - this.descender) * px) / this.unitsPerEm));
  }
}

/** Inserts the implied on-curve midpoint between two consecutive off-curve points. */
function expandImplied(contour: readonly Point[]): Point[] {
  const out: Point[] = [];
  const n = contour.length;
  for (let i = 0; i < n; i++) {
    const p = contour[i] as Point;
    const q = contour[(i + 1) % n] as Point;
    out.push(p);
    if (!p.on && !q.on) out.push({ x: (p.x + q.x) / 2, y: (p.y + q.y) / 2, on: true });
  }
  return out;
}
