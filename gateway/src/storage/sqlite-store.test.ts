import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { PacklineError, type ErrorCode } from '../../../contracts/errors.js';
import { createLogger } from '../lib/logger.js';
import { decodeHlc } from '../lib/hlc.js';
import { openAdminDb } from './admin-db.js';
import { SCHEMA_VERSION } from './schema.js';
import { DB_FILE, openStore, type OpenStoreOptions } from './sqlite-store.js';
import { aDevice, anOrder, aPrintJob, aShipment } from './test-fixtures.js';
import type { Store, WriteOp } from './types.js';

const dirs: string[] = [];
const stores: Store[] = [];

function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'packline-store-'));
  dirs.push(d);
  return d;
}

async function started(over: Partial<OpenStoreOptions> = {}): Promise<{ store: Store; dir: string }> {
  const dir = over.dataDir ?? tempDir();
  const store = openStore({ dataDir: dir, logger: createLogger('silent'), ...over });
  stores.push(store);
  await store.start();
  return { store, dir };
}

async function rejection(p: Promise<unknown>): Promise<PacklineError> {
  try {
    await p;
  } catch (err) {
    expect(err).toBeInstanceOf(PacklineError);
    return err as PacklineError;
  }
  throw new Error('expected a rejection');
}

async function expectCode(p: Promise<unknown>, code: ErrorCode): Promise<PacklineError> {
  const e = await rejection(p);
  expect(e.code).toBe(code);
  return e;
}

const ev = (n: number): WriteOp => ({ op: 'event', type: 'test.event', subject: `test:${n}`, data: { n } });

afterEach(async () => {
  for (const s of stores.splice(0)) await s.stop();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe('SqliteStore: schema and lifecycle', () => {
  it('creates the data dir, migrates to the latest schema in WAL mode, and counts boots', async () => {
    const dir = join(tempDir(), 'nested', 'data');
    const a = await started({ dataDir: dir });
    expect(a.store.boot).toBe(1);
    await a.store.stop();
    const raw = new Database(join(dir, DB_FILE), { readonly: true });
    expect(raw.pragma('user_version', { simple: true })).toBe(SCHEMA_VERSION);
    expect(raw.pragma('journal_mode', { simple: true })).toBe('wal');
    raw.close();
    const b = await started({ dataDir: dir });
    expect(b.store.boot).toBe(2);
    expect(b.store.stats().boot).toBe(2);
  });

  it('refuses a database from a newer build', async () => {
    const dir = tempDir();
    const raw = new Database(join(dir, DB_FILE));
    raw.pragma(`user_version = ${SCHEMA_VERSION + 1}`);
    raw.close();
    const store = openStore({ dataDir: dir, logger: createLogger('silent') });
    const e = await expectCode(store.start(), 'PKL_STORE_UNAVAILABLE');
    expect(e.message).toMatch(/newer than this build/);
    await expectCode(store.write([ev(1)]), 'PKL_STORE_UNAVAILABLE');
    await store.stop();
  });

  it('stop() drains queued writes before closing; write() after stop is refused', async () => {
    const { store, dir } = await started({ commitWindowMs: 20 });
    const writes = Array.from({ length: 40 }, (_, i) => store.write([ev(i)]));
    await store.stop();
    const results = await Promise.all(writes);
    expect(results.flatMap((r) => r.seqs)).toEqual(Array.from({ length: 40 }, (_, i) => i + 1));
    await expectCode(store.write([ev(99)]), 'PKL_STORE_UNAVAILABLE');
    expect(() => store.getOrder('x')).toThrow(PacklineError);
    const again = await started({ dataDir: dir });
    expect(again.store.readEvents(0, 100)).toHaveLength(40);
  });

  it('a writer crash rejects pending units with PKL_STORE_UNAVAILABLE and refuses later writes', async () => {
    // A long linger so the unit is certainly still queued when the writer dies.
    const { store } = await started({ commitWindowMs: 60_000 });
    const pending = store.write([ev(1)]);
    // Simulate the worker dying (as on an uncaught native error) before its commit window ends.
    await (store as unknown as { worker: { terminate(): Promise<number> } }).worker.terminate();
    await expectCode(pending, 'PKL_STORE_UNAVAILABLE');
    await expectCode(store.write([ev(2)]), 'PKL_STORE_UNAVAILABLE');
  });
});

describe('SqliteStore: write ops', () => {
  it('order.put stores an order findable by id, listed barcode and waybill', async () => {
    const { store } = await started();
    const order = anOrder();
    expect(await store.write([{ op: 'order.put', order }])).toEqual({ seqs: [] });
    expect(store.getOrder('O-1')).toEqual(order);
    expect(store.findOrderByBarcode('O-1')?.orderId).toBe('O-1');
    expect(store.findOrderByBarcode('PICK-9')).toEqual(order);
    expect(store.findOrderByBarcode('7312345678901')?.orderId).toBe('O-1');
    expect(store.findOrderByBarcode('nope')).toBeNull();
    expect(store.getOrder('nope')).toBeNull();
  });

  it('order.put with a lower revision does not overwrite; equal or higher does; barcodes follow', async () => {
    const { store } = await started();
    await store.write([{ op: 'order.put', order: anOrder({ revision: 5 }) }]);
    const stale = await store.write([{ op: 'order.put', order: anOrder({ revision: 4, shop: 'old', barcodes: ['X'] }) }]);
    expect(stale.stale).toEqual([0]);
    expect(store.getOrder('O-1')?.shop).toBe('shop-a');
    expect(store.findOrderByBarcode('X')).toBeNull();
    const newer = await store.write([{ op: 'order.put', order: anOrder({ revision: 6, shop: 'new', barcodes: ['Y'], waybill: null, printData: null }) }]);
    expect(newer.stale).toBeUndefined();
    const o = store.getOrder('O-1');
    expect(o).toMatchObject({ shop: 'new', revision: 6, barcodes: ['Y'], waybill: null, printData: null });
    expect(store.findOrderByBarcode('PICK-9')).toBeNull();
    expect(store.findOrderByBarcode('Y')?.orderId).toBe('O-1');
  });

  it('order.flags sets flags, honours revisions, and refuses an unknown order', async () => {
    const { store } = await started();
    await store.write([{ op: 'order.put', order: anOrder({ revision: 5 }) }]);
    await store.write([{ op: 'order.flags', orderId: 'O-1', flags: { refundRequested: true } }]);
    expect(store.getOrder('O-1')?.flags).toMatchObject({ refundRequested: true, cancelled: false });
    const r = await store.write([{ op: 'order.flags', orderId: 'O-1', flags: { cancelled: true }, revision: 4 }]);
    expect(r.stale).toEqual([0]);
    expect(store.getOrder('O-1')?.flags.cancelled).toBe(false);
    await store.write([{ op: 'order.flags', orderId: 'O-1', flags: { cancelled: true, shipped: true }, revision: 7 }]);
    expect(store.getOrder('O-1')).toMatchObject({ revision: 7, flags: { cancelled: true, shipped: true } });
    // An older full copy arriving afterwards must not undo the flags.
    await store.write([{ op: 'order.put', order: anOrder({ revision: 6 }) }]);
    expect(store.getOrder('O-1')?.flags.cancelled).toBe(true);
    const e = await expectCode(store.write([{ op: 'order.flags', orderId: 'O-2', flags: { refunded: true } }]), 'PKL_STORE_OP_INVALID');
    expect(e.message).toMatch(/O-2 is not in the cache/);
  });

  it('shipment.put upserts; queries find open, latest and paged shipments', async () => {
    const { store } = await started();
    await store.write([{ op: 'shipment.put', shipment: aShipment() }]);
    expect(store.getShipment('S-1')).toEqual(aShipment());
    const shipped = aShipment({ state: 'shipped', actualGrams: 801, waybill: 'W1', shippedAt: 5_000, updatedAt: 5_000 });
    await store.write([
      { op: 'shipment.put', shipment: shipped },
      {
        op: 'shipment.put',
        shipment: aShipment({ shipmentId: 'S-2', orderId: 'O-2', openedAt: 2_000, updatedAt: 2_000, state: 'held', reasonCode: 'PKL_WEIGHT_OUT_OF_TOLERANCE' }),
      },
      { op: 'shipment.put', shipment: aShipment({ shipmentId: 'S-3', stationId: 'st-2', openedAt: 3_000, updatedAt: 3_000 }) },
    ]);
    expect(store.getShipment('S-1')).toEqual(shipped);
    expect(store.openShipments().map((s) => s.shipmentId)).toEqual(['S-2', 'S-3']);
    expect(store.latestShipmentForOrder('O-1')?.shipmentId).toBe('S-3');
    expect(store.latestShipmentForOrder('O-9')).toBeNull();
    expect(store.listShipments({}).map((s) => s.shipmentId)).toEqual(['S-1', 'S-3', 'S-2']);
    expect(store.listShipments({ stationId: 'st-1' }).map((s) => s.shipmentId)).toEqual(['S-1', 'S-2']);
    expect(store.listShipments({ state: 'held' }).map((s) => s.shipmentId)).toEqual(['S-2']);
    expect(store.listShipments({ orderId: 'O-1', limit: 1 }).map((s) => s.shipmentId)).toEqual(['S-1']);
    expect(store.listShipments({ before: 5_000 }).map((s) => s.shipmentId)).toEqual(['S-3', 'S-2']);
  });

  it('printjob.put upserts; pendingPrintJobs lists the unfinished ones', async () => {
    const { store } = await started();
    await store.write([
      { op: 'printjob.put', job: aPrintJob() },
      { op: 'printjob.put', job: aPrintJob({ jobId: 'J-2', state: 'printed', format: 'tspl' }) },
      { op: 'printjob.put', job: aPrintJob({ jobId: 'J-3', state: 'sent', createdAt: 2_500 }) },
    ]);
    expect(store.getPrintJob('J-2')).toEqual(aPrintJob({ jobId: 'J-2', state: 'printed', format: 'tspl' }));
    expect(store.pendingPrintJobs().map((j) => j.jobId)).toEqual(['J-1', 'J-3']);
    await store.write([{ op: 'printjob.put', job: aPrintJob({ state: 'failed', reason: 'paper out' }) }]);
    expect(store.pendingPrintJobs().map((j) => j.jobId)).toEqual(['J-3']);
    expect(store.getPrintJob('J-1')?.reason).toBe('paper out');
    expect(store.getPrintJob('J-x')).toBeNull();
  });

  it('device.put / device.delete; deleting an unknown device is PKL_DEVICE_UNKNOWN', async () => {
    const { store } = await started();
    await store.write([
      { op: 'device.put', device: aDevice() },
      { op: 'device.put', device: aDevice({ deviceId: 'printer-1', role: 'printer', station: null, model: null }) },
    ]);
    expect(store.getDevice('scale-1')).toEqual(aDevice());
    expect(store.listDevices().map((d) => d.deviceId)).toEqual(['printer-1', 'scale-1']);
    await store.write([{ op: 'device.delete', deviceId: 'scale-1' }]);
    expect(store.getDevice('scale-1')).toBeNull();
    await expectCode(store.write([{ op: 'device.delete', deviceId: 'scale-1' }]), 'PKL_DEVICE_UNKNOWN');
  });

  it('meta.put stores values; store.* keys are reserved', async () => {
    const { store } = await started();
    await store.write([{ op: 'meta.put', key: 'sync.cursor', value: '42' }]);
    await store.write([{ op: 'meta.put', key: 'sync.cursor', value: '43' }]);
    expect(store.getMeta('sync.cursor')).toBe('43');
    expect(store.getMeta('missing')).toBeNull();
    expect(store.getMeta('store.boot')).toBe('1');
    await expectCode(store.write([{ op: 'meta.put', key: 'store.boot', value: '0' }]), 'PKL_STORE_OP_INVALID');
    expect(store.getMeta('store.boot')).toBe('1');
  });

  it('dedupe: a second unit with the same device message id is PKL_DUPLICATE_MESSAGE and applies nothing', async () => {
    const { store } = await started({ commitWindowMs: 10 });
    const unit = (n: number): WriteOp[] => [
      { op: 'dedupe', deviceId: 'scanner-1', msgId: 'm-1' },
      { op: 'shipment.put', shipment: aShipment({ shipmentId: `S-${n}` }) },
      ev(n),
    ];
    // Both are in flight before either commits (the race a hasDedupe() check cannot close).
    const [a, b] = await Promise.allSettled([store.write(unit(1)), store.write(unit(2))]);
    expect(a.status).toBe('fulfilled');
    expect(b.status).toBe('rejected');
    expect((b as PromiseRejectedResult).reason).toMatchObject({ code: 'PKL_DUPLICATE_MESSAGE' });
    expect(store.getShipment('S-2')).toBeNull();
    expect(store.hasDedupe('scanner-1', 'm-1')).toBe(true);
    expect(store.hasDedupe('scanner-1', 'm-2')).toBe(false);
    expect(store.readEvents(0, 10).map((e) => e.seq)).toEqual([1]);
    // The row keeps the seq its unit produced, for the duplicate's ack (docs/mqtt.md §5).
    expect(store.dedupeSeq('scanner-1', 'm-1')).toBe(1);
    expect(store.dedupeSeq('scanner-1', 'm-2')).toBeUndefined();
    await store.write([{ op: 'dedupe', deviceId: 'scanner-1', msgId: 'no-event' }]);
    expect(store.dedupeSeq('scanner-1', 'no-event')).toBeNull();
  });

  it('dedupe rows beyond the row bound are pruned (oldest first)', async () => {
    const { store } = await started({ dedupeMaxRows: 2 });
    // The first commit of a store prunes; the later ones are within the prune interval.
    await store.write([{ op: 'dedupe', deviceId: 'd', msgId: 'a' }]);
    await store.write([{ op: 'dedupe', deviceId: 'd', msgId: 'b' }]);
    await store.write([{ op: 'dedupe', deviceId: 'd', msgId: 'c' }]);
    await store.stop();
    const { store: again } = await started({ dataDir: dirs[dirs.length - 1], dedupeMaxRows: 2 });
    await again.write([{ op: 'dedupe', deviceId: 'd', msgId: 'd' }]);
    expect(['a', 'b', 'c', 'd'].filter((m) => again.hasDedupe('d', m)).length).toBeLessThanOrEqual(3);
    expect(again.hasDedupe('d', 'a')).toBe(false);
    expect(again.hasDedupe('d', 'd')).toBe(true);
  });
});

describe('SqliteStore: units, group commit and the event log', () => {
  it('rejects malformed units with PKL_STORE_OP_INVALID and changes nothing', async () => {
    const { store } = await started();
    const bad: unknown[] = [
      [],
      [{ op: 'nope' }],
      [{ op: 'shipment.put', shipment: { ...aShipment(), state: 'flying' } }],
      [{ op: 'order.put', order: { ...anOrder(), lines: [{ sku: 'a', barcode: 'b', name: 'c', qty: 0, unitGrams: 1 }] } }],
      [{ op: 'order.flags', orderId: 'O-1', flags: { bogus: true } }],
      [{ op: 'event', type: '', subject: 's', data: null }],
      [{ op: 'event', type: 't', subject: 's', data: { n: 10n } }],
      [{ op: 'printjob.put', job: { ...aPrintJob(), format: 'pdf' } }],
      [{ op: 'device.put', device: { ...aDevice(), secretHash: undefined } }],
      [
        { op: 'shipment.put', shipment: aShipment() },
        { op: 'event', type: 't', subject: 's', data: () => 1 },
      ],
    ];
    for (const ops of bad) await expectCode(store.write(ops as WriteOp[]), 'PKL_STORE_OP_INVALID');
    expect(store.getShipment('S-1')).toBeNull();
    expect(store.readEvents(0, 10)).toEqual([]);
    expect(store.stats().lastSeq).toBe(0);
  });

  it('a failing unit rolls back alone inside a shared commit; seqs stay gap-free', async () => {
    const { store } = await started({ commitWindowMs: 30 });
    await store.write([{ op: 'device.put', device: aDevice() }]);
    const commitsBefore = store.stats().commits;
    const results = await Promise.allSettled([
      store.write([{ op: 'shipment.put', shipment: aShipment({ shipmentId: 'S-a' }) }, ev(1)]),
      // Fails on its second op, after its first op and its event were applied.
      store.write([{ op: 'shipment.put', shipment: aShipment({ shipmentId: 'S-b' }) }, ev(2), { op: 'device.delete', deviceId: 'ghost' }]),
      store.write([ev(3), { op: 'shipment.put', shipment: aShipment({ shipmentId: 'S-c' }) }, ev(4)]),
    ]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect((results[1] as PromiseRejectedResult).reason).toMatchObject({ code: 'PKL_DEVICE_UNKNOWN' });
    expect((results[0] as PromiseFulfilledResult<{ seqs: number[] }>).value.seqs).toEqual([1]);
    expect((results[2] as PromiseFulfilledResult<{ seqs: number[] }>).value.seqs).toEqual([2, 3]);
    expect(store.getShipment('S-b')).toBeNull();
    expect(store.getShipment('S-a')).not.toBeNull();
    expect(store.getShipment('S-c')).not.toBeNull();
    expect(store.stats().commits).toBe(commitsBefore + 1);
    const more = await store.write([ev(5)]);
    expect(more.seqs).toEqual([4]);
    expect(store.readEvents(0, 100).map((e) => [e.seq, (e.data as { n: number }).n])).toEqual([
      [1, 1],
      [2, 3],
      [3, 4],
      [4, 5],
    ]);
  });

  it('group-commits concurrent writers: fewer commits than units, every promise resolved after its commit', async () => {
    const { store } = await started();
    const n = 60;
    const results = await Promise.all(Array.from({ length: n }, (_, i) => store.write([ev(i)])));
    const st = store.stats();
    expect(st.unitsWritten).toBe(n);
    expect(st.commits).toBeLessThan(n);
    expect(st.commits).toBeGreaterThanOrEqual(1);
    expect(st.pendingUnits).toBe(0);
    expect(results.map((r) => r.seqs[0])).toEqual(Array.from({ length: n }, (_, i) => i + 1));
    expect(st.lastSeq).toBe(n);
    expect(st.dbBytes).toBeGreaterThan(0);
  });

  it('events carry boot, a monotonic HLC and the clock-sync flag; readEvents pages by seq', async () => {
    let synced = false;
    const { store, dir } = await started({ clockSynced: () => synced });
    await store.write([ev(1), ev(2)]);
    synced = true;
    await store.write([ev(3)]);
    await store.stop();
    const { store: s2 } = await started({ dataDir: dir });
    await s2.write([ev(4), ev(5)]);
    const all = s2.readEvents(0, 100);
    expect(all.map((e) => e.seq)).toEqual([1, 2, 3, 4, 5]);
    expect(all.map((e) => e.boot)).toEqual([1, 1, 1, 2, 2]);
    expect(all.map((e) => e.clockUnsynced)).toEqual([true, true, false, false, false]);
    expect(all[0]).toMatchObject({ type: 'test.event', subject: 'test:1', data: { n: 1 } });
    for (let i = 1; i < all.length; i++) expect(all[i]!.hlc > all[i - 1]!.hlc).toBe(true);
    expect(() => decodeHlc(all[0]!.hlc)).not.toThrow();
    expect(s2.readEvents(2, 2).map((e) => e.seq)).toEqual([3, 4]);
    expect(s2.readEvents(4, 10).map((e) => e.seq)).toEqual([5]);
    expect(s2.readEvents(5, 10)).toEqual([]);
    expect(s2.readEvents(-3, 0).map((e) => e.seq)).toEqual([1]);
  });

  it('the event log is append-only', () => {
    const dir = tempDir();
    const admin = openAdminDb(dir);
    admin.write([ev(1)]);
    admin.close();
    const raw = new Database(join(dir, DB_FILE));
    expect(() => raw.prepare("UPDATE events SET type = 'x'").run()).toThrow(/append-only/);
    raw.close();
  });

  it('diskLow() turns true below minFreeMb and stats report the free space', async () => {
    const { store } = await started({ minFreeMb: Number.MAX_SAFE_INTEGER });
    expect(store.diskLow()).toBe(true);
    expect(store.stats().diskFreeMb).toBeGreaterThanOrEqual(0);
    const { store: roomy } = await started({ minFreeMb: 0 });
    expect(roomy.diskLow()).toBe(false);
  });
});

describe('openAdminDb (CLI) alongside a running store', () => {
  it('adds, lists and removes devices while the gateway runs; both share one gap-free event log', async () => {
    const { store, dir } = await started();
    await store.write([ev(1)]);
    const admin = openAdminDb(dir);
    try {
      expect(admin.putDevice(aDevice()).seqs).toEqual([2]);
      expect(store.getDevice('scale-1')).toEqual(aDevice());
      expect(admin.listDevices().map((d) => d.deviceId)).toEqual(['scale-1']);
      expect((await store.write([ev(3)])).seqs).toEqual([3]);
      expect(admin.removeDevice('scale-1').seqs).toEqual([4]);
      expect(() => admin.removeDevice('scale-1')).toThrow(expect.objectContaining({ code: 'PKL_DEVICE_UNKNOWN' }));
      expect(store.getDevice('scale-1')).toBeNull();
      const events = store.readEvents(0, 10);
      expect(events.map((e) => [e.seq, e.type])).toEqual([
        [1, 'test.event'],
        [2, 'device.registered'],
        [3, 'test.event'],
        [4, 'device.removed'],
      ]);
      expect(JSON.stringify(events[1]!.data)).not.toContain('scrypt');
      expect(events[1]!.boot).toBe(1);
      for (let i = 1; i < events.length; i++) expect(events[i]!.hlc > events[i - 1]!.hlc).toBe(true);
    } finally {
      admin.close();
    }
  });
});

describe('WAL checkpoints on their own thread (checkpoint-worker.ts)', () => {
  /** The database file alone, without its WAL: what a checkpoint has folded back in. */
  function eventsInMainFile(dir: string): number {
    const copy = join(tempDir(), 'copy.db');
    copyFileSync(join(dir, DB_FILE), copy);
    const db = new Database(copy, { readonly: true });
    try {
      // Before any checkpoint even the schema is still only in the WAL.
      const hasTable = db.prepare("SELECT 1 FROM sqlite_master WHERE name = 'events'").get() !== undefined;
      return hasTable ? (db.prepare('SELECT count(*) AS n FROM events').get() as { n: number }).n : 0;
    } finally {
      db.close();
    }
  }
  const someEvents = (n: number): WriteOp[] =>
    Array.from({ length: n }, (_, i) => ({ op: 'event', type: 'test.event', subject: `t:${i}`, data: { i } }) as WriteOp);

  it('folds committed pages into the database file without a commit doing it', async () => {
    const { store, dir } = await started({ checkpointIntervalMs: 20 });
    for (let k = 0; k < 5; k++) await store.write(someEvents(20));
    const s = store as unknown as { walCheckpoints: number };
    await expect.poll(() => s.walCheckpoints, { timeout: 10_000, interval: 20 }).toBeGreaterThan(0);
    await expect.poll(() => eventsInMainFile(dir), { timeout: 10_000, interval: 50 }).toBe(100);
    // Writes go on while the checkpointer runs; every acknowledged one is readable.
    for (let k = 0; k < 5; k++) await store.write(someEvents(20));
    expect(store.readEvents(0, 1000)).toHaveLength(200);
  });

  it('with it off (interval 0), a small WAL stays in the WAL: SQLite checkpoints only at 1,000 pages', async () => {
    const { store, dir } = await started({ checkpointIntervalMs: 0 });
    await store.write(someEvents(20));
    expect(eventsInMainFile(dir)).toBe(0);
    expect((store as unknown as { walCheckpoints: number }).walCheckpoints).toBe(0);
  });
});
