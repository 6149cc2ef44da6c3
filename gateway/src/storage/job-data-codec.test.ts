/** Print job data stored deflated (job-data-codec.ts): what goes in comes out, through the store too. */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { createLogger } from '../lib/logger.js';
import { COMPRESS_FROM_CHARS, decodeJobData, encodeJobData } from './job-data-codec.js';
import { DB_FILE, openStore } from './sqlite-store.js';
import { anOrder, aPrintJob, aShipment } from './test-fixtures.js';
import type { Store } from './types.js';

/** The shipped ZTO label as the printer gets it (printing/golden/templates/). */
const LABEL = readFileSync(new URL('../printing/golden/templates/zto-76x130.zpl', import.meta.url), 'utf8');

const dirs: string[] = [];
const stores: Store[] = [];
afterEach(async () => {
  for (const s of stores.splice(0)) await s.stop();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe('encodeJobData / decodeJobData', () => {
  it('a real label is stored as DEFLATE bytes several times smaller, and read back the same', () => {
    const stored = encodeJobData(LABEL);
    expect(Buffer.isBuffer(stored)).toBe(true);
    expect((stored as Buffer).length * 3).toBeLessThan(Buffer.byteLength(LABEL));
    expect(decodeJobData(stored)).toBe(LABEL);
  });

  it('short data (a test page, an emptied job) stays text', () => {
    expect(encodeJobData('')).toBe('');
    expect(encodeJobData('^XA^FDx^FS^XZ')).toBe('^XA^FDx^FS^XZ');
    expect(decodeJobData('^XA^XZ')).toBe('^XA^XZ');
  });

  it('any text round-trips (CJK, TSPL quotes, data that does not compress)', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme', maxLength: 3 * COMPRESS_FROM_CHARS }), (s) => {
        expect(decodeJobData(encodeJobData(s))).toBe(s);
      }),
      { numRuns: 200 },
    );
  });
});

describe('the store keeps a label deflated and hands it out as text', () => {
  it('written, read by id and for its shipment and as pending, and after a restart; the row holds a BLOB', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'packline-jobdata-'));
    dirs.push(dir);
    const open = async () => {
      const store = openStore({ dataDir: dir, logger: createLogger('silent') });
      stores.push(store);
      await store.start();
      return store;
    };
    const store = await open();
    await store.write([
      { op: 'order.put', order: anOrder({ orderId: 'O-1' }) },
      { op: 'shipment.put', shipment: aShipment({ shipmentId: 'S-1', orderId: 'O-1' }) },
      { op: 'printjob.put', job: aPrintJob({ jobId: 'J-1', shipmentId: 'S-1', data: LABEL, state: 'sent' }) },
      { op: 'printjob.put', job: aPrintJob({ jobId: 'J-2', shipmentId: null, data: '^XA^XZ', state: 'sent' }) },
    ]);
    expect(store.getPrintJob('J-1')?.data).toBe(LABEL);
    expect(store.pendingPrintJobs().find((j) => j.jobId === 'J-1')?.data).toBe(LABEL);
    expect(store.getPrintJob('J-2')?.data).toBe('^XA^XZ');
    await store.stop();
    const raw = new Database(join(dir, DB_FILE), { readonly: true });
    try {
      const types = raw.prepare('SELECT job_id, typeof(data) AS t, length(data) AS n FROM print_jobs ORDER BY job_id').all();
      expect(types).toEqual([
        { job_id: 'J-1', t: 'blob', n: expect.any(Number) },
        { job_id: 'J-2', t: 'text', n: 6 },
      ]);
      expect((types[0] as { n: number }).n * 3).toBeLessThan(Buffer.byteLength(LABEL));
    } finally {
      raw.close();
    }
    const again = await open();
    expect(again.getPrintJob('J-1')?.data).toBe(LABEL);
  });
});
