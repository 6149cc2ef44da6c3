/**
 * Renders a ZPL label to PNG, locally (no internet): zpl-renderer-js, the "zebrash" renderer
 * compiled to WebAssembly. Size comes from the format's own `^PW` (print width, dots) and
 * `^LL` (label length, dots) — ZPL II Programming Guide, ^PW and ^LL — at 8 dots/mm (203 dpi),
 * defaulting to a 4×6 in shipping label. Known limit: the bundled fonts have no CJK glyphs, so
 * Chinese text shows as boxes in the preview (the printer uses its own font, `^CW`).
 */
import { ready } from 'zpl-renderer-js';

const DOTS_PER_MM = 8;
const DEFAULT_WIDTH_MM = 101.6;
const DEFAULT_HEIGHT_MM = 152.4;

function dots(zpl: string, command: 'PW' | 'LL'): number | null {
  const m = new RegExp(`\\^${command}(\\d{2,5})`).exec(zpl);
  return m ? Number(m[1]) : null;
}

/** The label's size in millimetres as its format declares it. */
export function labelSizeMm(zpl: string): { widthMm: number; heightMm: number } {
  const w = dots(zpl, 'PW');
  const h = dots(zpl, 'LL');
  return {
    widthMm: w === null ? DEFAULT_WIDTH_MM : w / DOTS_PER_MM,
    heightMm: h === null ? DEFAULT_HEIGHT_MM : h / DOTS_PER_MM,
  };
}

export async function renderZplPng(zpl: string): Promise<Buffer> {
  const { api } = await ready;
  const { widthMm, heightMm } = labelSizeMm(zpl);
  return Buffer.from(await api.zplToBase64Async(zpl, widthMm, heightMm, DOTS_PER_MM), 'base64');
}
