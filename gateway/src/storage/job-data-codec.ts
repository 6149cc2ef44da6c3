/**
 * A print job's data (the label's ZPL or TSPL) as the `print_jobs.data` column holds it.
 *
 * A real label is 11–31 KB of text, nearly all of it the `^GF` hex of the text drawn as
 * graphics (label/text-graphic.ts): with 512-byte pages that is 20–60 overflow page images in
 * the WAL for one row, more than the rest of the shipment's steps together. Raw DEFLATE
 * (RFC 1951) at zlib level 1 shrinks it 3–4× (the shipped ZTO template: 22.1 → 6.5 KB) for
 * ~0.1–0.3 ms on the writer thread; the column then holds a BLOB (SQLite keeps a BLOB as it is
 * in a column of TEXT affinity: sqlite.org/datatype3.html §3), which a read tells apart from
 * the plain text older rows and short data keep.
 */
import { deflateRawSync, inflateRawSync } from 'node:zlib';

/** Data shorter than this is stored as text: the saving would not be a page. */
export const COMPRESS_FROM_CHARS = 1024;

/** What to store for `data`: its DEFLATE bytes when that is smaller, else the text itself. */
export function encodeJobData(data: string): string | Buffer {
  if (data.length < COMPRESS_FROM_CHARS) return data;
  const bytes = Buffer.from(data, 'utf8');
  const packed = deflateRawSync(bytes, { level: 1 });
  return packed.length < bytes.length ? packed : data;
}

/** The job's data from what the column holds (text as written, or DEFLATE bytes). */
export function decodeJobData(stored: string | Uint8Array): string {
  return typeof stored === 'string' ? stored : inflateRawSync(stored).toString('utf8');
}
