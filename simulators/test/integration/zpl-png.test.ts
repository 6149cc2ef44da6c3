/**
 * The ZPL printer simulator renders what it prints to PNG (locally, no internet), at the size
 * the format declares with ^PW / ^LL.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ZplPrinterSim } from '../../src/printer/zpl-printer-sim.js';
import { labelSizeMm } from '../../src/printer/zpl-png.js';

const dir = mkdtempSync(join(tmpdir(), 'pkl-png-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('ZPL printer simulator PNG output', () => {
  it('reads the label size from ^PW/^LL and falls back to 4x6 in', () => {
    expect(labelSizeMm('^XA^PW608^LL1040^FDx^FS^XZ')).toEqual({ widthMm: 76, heightMm: 130 });
    expect(labelSizeMm('^XA^FDx^FS^XZ')).toEqual({ widthMm: 101.6, heightMm: 152.4 });
  });

  it('writes label-0001.png of the printed label over raw TCP', async () => {
    const sim = new ZplPrinterSim({ outDir: dir, printMs: 5 });
    const port = await sim.start();
    try {
      const zpl = '^XA^PW608^LL400^FO40,40^A0N,40,40^FDZTO 7312000100^FS^FO40,100^BY2^BCN,100,Y,N,N^FD7312000100^FS^XZ';
      await new Promise<void>((resolve, reject) => {
        const s = connect(port, '127.0.0.1', () => s.end(zpl, () => resolve()));
        s.on('error', reject);
      });
      await sim.waitForLabels(1);
      await sim.renderIdle();
      expect(sim.renderErrors).toEqual([]);
      expect(sim.pngs).toHaveLength(1);
      const png = readFileSync(sim.pngs[0] as string);
      expect(png.subarray(0, 8).toString('hex')).toBe('89504e470d0a1a0a'); // PNG signature (RFC 2083)
      // IHDR width/height (big-endian at 16/20): 76 mm × 8 dots/mm, 50 mm × 8 dots/mm.
      expect([png.readUInt32BE(16), png.readUInt32BE(20)]).toEqual([608, 400]);
    } finally {
      await sim.stop();
    }
  });
});
