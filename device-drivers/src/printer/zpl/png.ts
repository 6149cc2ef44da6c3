/**
 * Renders a ZPL label to PNG, locally (no internet): zpl-renderer-js, the "zebrash" renderer
 * compiled to WebAssembly. Shared by the ZPL printer simulator (a PNG of every printed label)
 * and the gateway's label preview (which runs it in a worker thread, see
 * gateway/src/printing/label-preview.ts).
 *
 * The renderer sizes its canvas from the millimetres it is given and ignores the format's own
 * `^PW` / `^LL`, so the size is read from the format here: `^PW` print width and `^LL` label
 * length, in dots (ZPL II Programming Guide, ^PW and ^LL), at 8 dots/mm (203 dpi) unless said
 * otherwise; a format without them gets a 4×6 in shipping label.
 *
 * Known limits, found by rendering: the bundled fonts have no CJK glyphs, so Chinese text
 * shows as one box per character (the `^CI28` UTF-8 decoding itself is right: one box per
 * code point, not per byte); the printer uses its own font (`^CW`). A render takes the calling
 * thread for 100–500 ms (2 s for the first, the WebAssembly warming up) and the module costs
 * ~0.9 s to load and ~140 MB of memory, so it is imported only when the first label is drawn.
 */

export const DEFAULT_DOTS_PER_MM = 8;
const DEFAULT_WIDTH_MM = 101.6;
const DEFAULT_HEIGHT_MM = 152.4;

export interface PngSize {
  widthMm: number;
  heightMm: number;
  /** Dots per millimetre: 8 = 203 dpi, 12 = 300 dpi, 24 = 600 dpi. */
  dpmm: number;
}

function dots(zpl: string, command: 'PW' | 'LL'): number | null {
  const m = new RegExp(`\\^${command}(\\d{1,5})`).exec(zpl);
  return m ? Number(m[1]) : null;
}

/** The label's size in millimetres as its format declares it (`^PW`, `^LL`), at `dpmm`. */
export function labelSizeMm(zpl: string, dpmm = DEFAULT_DOTS_PER_MM): { widthMm: number; heightMm: number } {
  const w = dots(zpl, 'PW');
  const h = dots(zpl, 'LL');
  return {
    widthMm: w === null || w === 0 ? DEFAULT_WIDTH_MM : w / dpmm,
    heightMm: h === null || h === 0 ? DEFAULT_HEIGHT_MM : h / dpmm,
  };
}

/** The full size of a render: what is given, the rest from the format. */
export function pngSizeFor(zpl: string, size: Partial<PngSize> = {}): PngSize {
  const dpmm = size.dpmm ?? DEFAULT_DOTS_PER_MM;
  const declared = labelSizeMm(zpl, dpmm);
  return { widthMm: size.widthMm ?? declared.widthMm, heightMm: size.heightMm ?? declared.heightMm, dpmm };
}

/**
 * Renders the first label of `zpl` (`^XA`…`^XZ`) to PNG bytes. Blocks the calling thread for
 * the duration of the render (see above). Rejects when the renderer finds no label.
 */
export async function renderZplPng(zpl: string, size: Partial<PngSize> = {}): Promise<Buffer> {
  const { ready } = await import('zpl-renderer-js');
  const { api } = await ready;
  const s = pngSizeFor(zpl, size);
  return Buffer.from(await api.zplToBase64Async(zpl, s.widthMm, s.heightMm, s.dpmm), 'base64');
}
