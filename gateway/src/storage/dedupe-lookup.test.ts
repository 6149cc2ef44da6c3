/**
 * The store's duplicate lookup with the key filter (dedupe-filter.ts): before the filter is
 * ready, after, across a restart, for keys in every place a key lives, and after retention
 * deleted rows — always the answer the SQL lookup gives.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { PacklineError } from '../../../contracts/errors.js';
import { createLogger } from '../lib/logger.js';
import { DB_FILE, openStore, type OpenStoreOptions, type SqliteStore } from './sqlite-store.js';
import { StoreReader } from './store-reader.js';
import type { WriteOp } from './types.js';

const dirs: string[] = [];
const stores: SqliteStore[] = [];

function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'packline-dedupe-'));
  dirs.push(d);
  return d;
}

async function started(over: Partial<OpenStoreOptions> & { dataDir: string }): Promise<SqliteStore> {
  const store = openStore({ logger: createLogger('silent'), ...over });
  stores.push(store);
  await store.start();
  return store;
}

const turn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));
async function filterReady(store: SqliteStore): Promise<void> {
  for (let i = 0; i < 100_000 && !store.dedupeFilterReady; i++) await turn();
  expect(store.dedupeFilterReady).toBe(true);
}

const ev = (n: number): WriteOp => ({ op: 'event', type: 'test.event', subject: `test:${n}`, data: { n } });
const key = (deviceId: string, msgId: string): WriteOp => ({ op: 'dedupe', deviceId, msgId });

async function duplicate(p: Promise<unknown>): Promise<void> {
  try {
    await p;
  } catch (err) {
    expect((err as PacklineError).code).toBe('PKL_DUPLICATE_MESSAGE');
    return;
  }
  throw new Error('expected PKL_DUPLICATE_MESSAGE');
}

/** What the SQL lookup alone says (a connection of its own, scanning the tail). */
function sqlSays(dir: string, keys: Array<[string, string]>): Array<number | null | undefined> {
  const db = new Database(join(dir, DB_FILE), { readonly: true });
  try {
    const r = new StoreReader(db);
    return keys.map(([d, m]) => r.dedupeSeq(d, m));
  } finally {
    db.close();
  }
}

afterEach(async () => {
  for (const s of stores.splice(0)) await s.stop();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe('SqliteStore: the duplicate lookup through the key filter', () => {
  it('finds keys of the dedupe table, event_dedupe and the unprojected tail before the filter is ready, after it, and after a restart', async () => {
    const dir = tempDir();
    const a = await started({ dataDir: dir });
    // Enough keys that a build of one row per chunk spans thousands of event-loop turns.
    const many: WriteOp[] = [];
    for (let i = 0; i < 3_000; i++) many.push(key('scale-1', `w-${i}`));
    await a.write(many);
    const projected = await a.write([ev(1), key('scanner-1', 'm-1')]);
    await a.stop();

    // A restart: the writer projects at open, so m-1 is in event_dedupe and w-* in dedupe.
    const b = await started({ dataDir: dir, dedupeFilterChunkRows: 1 });
    expect(b.dedupeFilterReady).toBe(false);
    expect(b.dedupeSeq('scanner-1', 'm-1')).toBe(projected.seqs[0]);
    expect(b.dedupeSeq('scale-1', 'w-2999')).toBeNull();
    expect(b.dedupeSeq('scale-1', 'never')).toBeUndefined();
    // Committed during the build: on an event row after the mark (the tail), and in the table.
    const tail = await b.write([ev(2), key('scanner-1', 'm-2')]);
    await b.write([key('printer-1', 'p-1')]);
    expect(b.dedupeFilterReady).toBe(false);
    await duplicate(b.write([ev(3), key('scanner-1', 'm-1')]));
    await duplicate(b.write([key('scale-1', 'w-0')]));

    await filterReady(b);
    expect(b.dedupeSeq('scanner-1', 'm-1')).toBe(projected.seqs[0]);
    expect(b.dedupeSeq('scanner-1', 'm-2')).toBe(tail.seqs[0]);
    expect(b.dedupeSeq('printer-1', 'p-1')).toBeNull();
    for (let i = 0; i < 3_000; i++) expect(b.dedupeSeq('scale-1', `w-${i}`)).toBeNull();
    expect(b.dedupeSeq('scale-1', 'never')).toBeUndefined();
    expect(b.dedupeSeq('scale-1', 'w-3000')).toBeUndefined();
    // New keys are answered from the filter: SQL only for its rare false positives (≤ 1 %).
    const sql = vi.spyOn(StoreReader.prototype, 'dedupeSeqProjected');
    for (let i = 0; i < 1_000; i++) expect(b.dedupeSeq('scanner-9', `fresh-${i}`)).toBeUndefined();
    expect(sql.mock.calls.length).toBeLessThan(30);
    sql.mockRestore();
    // Written after the filter was ready (an event key and a table key in one unit).
    const late = await b.write([ev(4), key('scanner-1', 'm-4'), key('scale-1', 'w-late')]);
    expect(b.dedupeSeq('scanner-1', 'm-4')).toBe(late.seqs[0]);
    expect(b.dedupeSeq('scale-1', 'w-late')).toBe(late.seqs[0]);
    // The writer refuses every one of them too.
    await duplicate(b.write([ev(5), key('scanner-1', 'm-2')]));
    await duplicate(b.write([ev(5), key('scanner-1', 'm-4')]));
    await duplicate(b.write([key('scale-1', 'w-late')]));
    await duplicate(b.write([key('printer-1', 'p-1')]));
    await b.stop();

    // Another restart: everything from before it, with the filter ready.
    const c = await started({ dataDir: dir });
    await filterReady(c);
    const probe: Array<[string, string]> = [
      ['scanner-1', 'm-1'],
      ['scanner-1', 'm-2'],
      ['scanner-1', 'm-4'],
      ['scale-1', 'w-late'],
      ['scale-1', 'w-17'],
      ['printer-1', 'p-1'],
      ['printer-1', 'p-2'],
    ];
    expect(probe.map(([d, m]) => c.dedupeSeq(d, m))).toEqual(sqlSays(dir, probe));
    expect(c.dedupeSeq('printer-1', 'p-2')).toBeUndefined();
    await duplicate(c.write([ev(6), key('scanner-1', 'm-1')]));
    await duplicate(c.write([key('scale-1', 'w-17')]));
    await c.write([ev(7), key('printer-1', 'p-2')]);
    expect(c.dedupeSeq('printer-1', 'p-2')).not.toBeUndefined();
  });

  it('after retention deleted rows, a key the filter still holds is answered as SQL answers it', async () => {
    const dir = tempDir();
    const a = await started({ dataDir: dir, dedupeMaxRows: 2 });
    await a.write([key('d', 'a')]);
    await a.write([key('d', 'b')]);
    await a.write([key('d', 'c')]);
    await a.write([ev(1), key('scanner-1', 'gone')]);
    await a.write([ev(2), key('scanner-1', 'kept')]);
    await a.stop();
    // A fresh start builds the filter with every key; then retention deletes some rows.
    const b = await started({ dataDir: dir, dedupeMaxRows: 2 });
    await filterReady(b);
    for (const m of ['a', 'b', 'c']) expect(b.dedupeSeq('d', m)).toBeNull();
    // The writer's dedupe-row bound (the first commit after a start prunes to the newest 2)
    // and an event deleted as the event retention deletes it (the trigger takes its
    // event_dedupe row along).
    await b.write([key('d', 'e')]);
    const admin = new Database(join(dir, DB_FILE));
    admin.pragma('busy_timeout = 5000');
    admin.prepare("DELETE FROM events WHERE dedupe_msg = 'gone'").run();
    admin.close();
    const probe: Array<[string, string]> = [
      ['d', 'a'],
      ['d', 'b'],
      ['d', 'c'],
      ['d', 'e'],
      ['scanner-1', 'gone'],
      ['scanner-1', 'kept'],
    ];
    const sql = sqlSays(dir, probe);
    expect(sql[0]).toBeUndefined();
    expect(sql[4]).toBeUndefined();
    expect(probe.map(([d, m]) => b.dedupeSeq(d, m))).toEqual(sql);
    // A deleted key is new again for the writer too.
    await b.write([ev(3), key('scanner-1', 'gone')]);
    await duplicate(b.write([ev(4), key('scanner-1', 'kept')]));
  });
});
