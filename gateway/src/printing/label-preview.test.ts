import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { PacklineError } from '../../../contracts/errors.js';
import { LabelPreview } from './label-preview.js';
import { renderZplTestPage } from './test-page.js';

// Safety net only: a cold worker loads a 9 MB WebAssembly module before its first render.
vi.setConfig({ testTimeout: 60_000, hookTimeout: 60_000 });

const golden = readFileSync(new URL('../label/golden/sf-basic.zpl', import.meta.url), 'utf8');
const testPage = (widthDots?: number) =>
  renderZplTestPage(
    { printerId: 'prn-1', gatewayId: 'gw-test', jobId: 'T-gw-test-1-0', at: Date.UTC(2026, 10, 27) },
    widthDots === undefined ? {} : { widthDots },
  );

/** The PNG signature (RFC 2083 §12.11) and the IHDR width and height (big-endian at 16 and 20). */
function pngInfo(png: Buffer): { signature: string; width: number; height: number } {
  return { signature: png.subarray(0, 8).toString('hex'), width: png.readUInt32BE(16), height: png.readUInt32BE(20) };
}
const PNG_SIGNATURE = '89504e470d0a1a0a';

async function codeOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return 'resolved';
  } catch (err) {
    return err instanceof PacklineError ? err.code : String(err);
  }
}

describe('LabelPreview', () => {
  const preview = new LabelPreview();
  beforeAll(() => preview.start());
  afterAll(() => preview.stop());

  it('draws the carrier label as a PNG of ^PW × ^LL dots at 8 dots/mm', async () => {
    const png = await preview.renderLabelPng('zpl', golden);
    expect(pngInfo(png)).toEqual({ signature: PNG_SIGNATURE, width: 608, height: 1040 });
    expect(preview.workerRunning).toBe(true);
  });

  it('follows the label: a 54 mm test page, and an explicit size', async () => {
    expect(pngInfo(await preview.renderLabelPng('zpl', testPage(432)))).toEqual({ signature: PNG_SIGNATURE, width: 432, height: 1040 });
    // ^PW/^LL count dots: on a 12 dots/mm (300 dpi) printer the same format is 608 × 1040 dots.
    expect(pngInfo(await preview.renderLabelPng('zpl', testPage(), { dpmm: 12 }))).toMatchObject({ width: 608, height: 1040 });
    // A given size wins over ^PW/^LL.
    expect(pngInfo(await preview.renderLabelPng('zpl', testPage(), { widthMm: 50, heightMm: 30 }))).toMatchObject({ width: 400, height: 240 });
    expect(pngInfo(await preview.renderLabelPng('zpl', testPage(), { widthMm: 76, heightMm: 130, dpmm: 12 }))).toMatchObject({ width: 912, height: 1560 });
  });

  it('refuses TSPL with PKL_PREVIEW_UNSUPPORTED and non-labels with PKL_PREVIEW_FAILED', async () => {
    expect(await codeOf(preview.renderLabelPng('tspl', 'SIZE 76 mm,130 mm\r\nCLS\r\nPRINT 1\r\n'))).toBe('PKL_PREVIEW_UNSUPPORTED');
    expect(await codeOf(preview.renderLabelPng('zpl', 'hello'))).toBe('PKL_PREVIEW_FAILED');
    expect(await codeOf(preview.renderLabelPng('zpl', '^XA^PW30000^LL30000^XZ'))).toBe('PKL_PREVIEW_FAILED');
  });

  it('bounds the renders waiting: one in progress, maxQueued waiting, the rest PKL_OVERLOADED', async () => {
    const small = new LabelPreview({ maxQueued: 1 });
    await small.start();
    try {
      const first = small.renderLabelPng('zpl', testPage());
      const second = small.renderLabelPng('zpl', testPage());
      const third = small.renderLabelPng('zpl', testPage());
      expect(await codeOf(third)).toBe('PKL_OVERLOADED');
      expect(pngInfo(await first).signature).toBe(PNG_SIGNATURE);
      expect(pngInfo(await second).signature).toBe(PNG_SIGNATURE);
      // Room again once the queue drained.
      expect(pngInfo(await small.renderLabelPng('zpl', testPage())).width).toBe(608);
      expect(small.counters).toMatchObject({ rendered: 3, workersStarted: 1 });
    } finally {
      await small.stop();
    }
  });

  it('terminates a render that outlives its timeout and starts a fresh worker for the next', async () => {
    // 1 ms: the worker cannot even load the renderer in that time, so the first render times out.
    const impatient = new LabelPreview({ renderTimeoutMs: 1 });
    await impatient.start();
    try {
      expect(await codeOf(impatient.renderLabelPng('zpl', testPage()))).toBe('PKL_PREVIEW_FAILED');
      expect(impatient.workerRunning).toBe(false);
      expect(await codeOf(impatient.renderLabelPng('zpl', testPage()))).toBe('PKL_PREVIEW_FAILED');
      expect(impatient.counters).toMatchObject({ rendered: 0, failed: 2, workersStarted: 2 });
    } finally {
      await impatient.stop();
    }
  });

  it('stops the idle worker and rejects what is still queued on stop()', async () => {
    const idle = new LabelPreview({ idleMs: 5 });
    await idle.start();
    await idle.renderLabelPng('zpl', testPage());
    await vi.waitFor(() => expect(idle.workerRunning).toBe(false), { timeout: 10_000 });
    const pending = [idle.renderLabelPng('zpl', testPage()), idle.renderLabelPng('zpl', testPage())].map(codeOf);
    await idle.stop();
    expect(await Promise.all(pending)).toEqual(['PKL_PREVIEW_FAILED', 'PKL_PREVIEW_FAILED']);
    expect(await codeOf(idle.renderLabelPng('zpl', testPage()))).toBe('PKL_PREVIEW_FAILED');
  });

  it('keeps the main thread free while a label renders', async () => {
    // The renderer holds its thread for the whole render; in the worker, timers here still fire.
    let ticks = 0;
    const timer = setInterval(() => ticks++, 1);
    try {
      await preview.renderLabelPng('zpl', golden);
    } finally {
      clearInterval(timer);
    }
    expect(ticks).toBeGreaterThan(0);
  });
});
