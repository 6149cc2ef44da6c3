/**
 * The worker thread of the label preview (label-preview.ts): renders one ZPL label at a time
 * to PNG with the WebAssembly renderer, which holds whatever thread runs it for 100–500 ms per
 * label. Messages: {@link RenderRequest} in, {@link RenderReply} out.
 */
import { parentPort } from 'node:worker_threads';
import { type PngSize, renderZplPng } from '../../../device-drivers/src/printer/zpl/png.js';

export interface RenderRequest {
  id: number;
  zpl: string;
  size: PngSize;
}

export type RenderReply = { id: number; ok: true; png: Uint8Array } | { id: number; ok: false; reason: string };

const port = parentPort;
if (port !== null) {
  port.on('message', (req: RenderRequest) => {
    renderZplPng(req.zpl, req.size).then(
      (png) => port.postMessage({ id: req.id, ok: true, png } satisfies RenderReply),
      (err: unknown) => port.postMessage({ id: req.id, ok: false, reason: err instanceof Error ? err.message : String(err) } satisfies RenderReply),
    );
  });
}
