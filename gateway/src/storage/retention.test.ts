import { mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { AckLedger } from '../../test/chaos/floor-load.js';
import { checkStore } from '../../test/chaos/invariants.js';
import { createLogger } from '../lib/logger.js';
import { shipmentFeed } from '../sync/shipment-feed.js';
import { META_ACKED_SEQ } from '../sync/sync-store-adapter.js';
import { META_ACKED_SEQ_KEY, META_EVENTS_PRUNED_THROUGH } from './retention-meta.js';
import { RetentionService, type RetentionSettings } from './retention.js';
import { migrate } from './schema.js';
import { DB_FILE, openStore, type SqliteStore } from './sqlite-store.js';
import { anOrder, aPrintJob, aShipment } from './test-fixtures.js';
import type { Order, OrderFlags, Shipment, ShipmentState, WriteOp } from './types.js';

const DAY = 86_400_000;
const dirs: string[] = [];
const stores: SqliteStore[] = [];

afterEach(async () => {
  for (const s of stores.splice(0)) await s.stop();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'packline-retention-'));
  dirs.push(d);
  return d;
}

async function started(dataDir = tempDir()): Promise<{ store: SqliteStore; dir: string }> {
  const store = openStore({ dataDir, logger: createLogger('silent') });
  stores.push(store);
  await store.start();
  return { store, dir: dataDir };
}

const NO_FLAGS: OrderFlags = { refundRequested: false, refunded: false, cancelled: false, platformClosed: false, shipped: false };

/** An order with one shipment in `state`, its print job and its events, as the station flow writes them. */
function parcel(id: string, o: { flags?: Partial<OrderFlags>; state?: ShipmentState | null; at: number; job?: 'printed' | 'queued' }): WriteOp[] {
  const order: Order = anOrder({ orderId: `O-${id}`, barcodes: [`TB-${id}`], flags: { ...NO_FLAGS, ...o.flags }, updatedAt: o.at });
  const ops: WriteOp[] = [{ op: 'order.put', order }];
  if (o.state === null) return ops;
  const sh: Shipment = aShipment({ shipmentId: `S-${id}`, orderId: `O-${id}`, state: o.state ?? 'shipped', openedAt: o.at, updatedAt: o.at });
  ops.push({ op: 'shipment.put', shipment: sh });
  ops.push({ op: 'printjob.put', job: aPrintJob({ jobId: `J-${id}`, shipmentId: `S-${id}`, state: o.job ?? 'printed', createdAt: o.at, updatedAt: o.at }) });
  ops.push({ op: 'event', type: 'shipment.opened', subject: `shipment:S-${id}`, data: { order_id: `O-${id}` } });
  ops.push({ op: 'event', type: `shipment.${o.state ?? 'shipped'}`, subject: `shipment:S-${id}`, data: { order_id: `O-${id}` } });
  return ops;
}

const SETTINGS: RetentionSettings = {
  enabled: true,
  ordersDays: 14,
  eventsDays: 7,
  labelFilesDays: 2,
  // Small batches, so the walk takes several steps and the cursors are exercised.
  batchRows: 3,
  filesPerStep: 1,
  stepEveryMs: 10,
  idleEveryMs: 1_000,
  vacuumPagesPerStep: 64,
};

async function drain(r: RetentionService): Promise<number> {
  let steps = 1;
  // busy turns false after a pass over orders and files that found nothing.
  while ((await r.step()).busy && steps < 500) steps += 1;
  expect(steps).toBeLessThan(500);
  return steps;
}

describe('retention against a real store and its writer', { timeout: 60_000 }, () => {
  it('prunes closed, acknowledged, old data only; keeps the log gap-free above its mark; the checkers, the feed and the working set agree', async () => {
    const { store, dir } = await started();
    const t0 = Date.now();
    let now = t0;
    // Cached before anything is pruned: the working set must drop it when its rows go.
    const write = (ops: WriteOp[]) => store.write(ops);
    const a = await write(parcel('A', { at: t0 })); // shipped, old by then: goes
    await write(parcel('B', { state: null, at: t0 })); // open, never packed: stays
    await write(parcel('C', { at: t0 })); // shipped, but a later event about it is not acknowledged: stays
    await write(parcel('D', { at: t0 + 35 * DAY })); // shipped, changed within the window: stays
    await write(parcel('E', { flags: { cancelled: true }, state: 'held', at: t0 })); // a held shipment: stays
    await write(parcel('F', { at: t0, job: 'queued' })); // a print job still queued: stays
    await write(parcel('G', { flags: { cancelled: true }, state: 'intercepted', at: t0 })); // intercepted, cancelled: goes
    await write(parcel('H', { flags: { refundRequested: true }, state: 'abandoned', at: t0 })); // refund only requested: stays
    await write([{ op: 'event', type: 'station.operator_login', subject: 'station:st-1', data: { operator: 'li' } }]);
    const login = await write([{ op: 'event', type: 'station.operator_login', subject: 'station:st-1', data: { operator: 'wang' } }]);
    const rejected = a.seqs[1]!;
    await write([{ op: 'syncfail.put', seq: rejected, code: 'SYNC_RULE', reason: 'test', at: t0 }]);
    const acked = store.stats().lastSeq;
    await write([{ op: 'meta.put', key: META_ACKED_SEQ, value: String(acked) }]);
    await write([{ op: 'event', type: 'shipment.exception', subject: 'shipment:S-C', data: {} }]);

    // Label files: one old, one new.
    mkdirSync(join(dir, 'labels', 'st-1'), { recursive: true });
    writeFileSync(join(dir, 'labels', 'st-1', 'old.zpl'), '^XA^XZ');
    writeFileSync(join(dir, 'labels', 'st-1', 'new.zpl'), '^XA^XZ');
    utimesSync(join(dir, 'labels', 'st-1', 'old.zpl'), new Date(t0 - 3 * DAY), new Date(t0 - 3 * DAY));

    expect(store.getOrder('O-A')?.orderId).toBe('O-A');
    expect(store.listShipments({ orderId: 'O-A' })).toHaveLength(1);
    expect(store.getShipment('S-A')?.state).toBe('shipped');

    const pruned: Record<string, number> = {};
    const r = new RetentionService({
      store,
      dataDir: dir,
      settings: SETTINGS,
      logger: createLogger('silent'),
      now: () => now,
      onPruned: (k, n) => (pruned[k] = (pruned[k] ?? 0) + n),
    });

    // Within every window: nothing goes (but the old label file, 2 days).
    await drain(r);
    for (const id of 'ABCDEFGH') expect(store.getOrder(`O-${id}`)).not.toBeNull();
    expect(store.getMeta(META_EVENTS_PRUNED_THROUGH)).toBeNull();
    expect(existsSync(join(dir, 'labels', 'st-1', 'old.zpl'))).toBe(false);
    expect(existsSync(join(dir, 'labels', 'st-1', 'new.zpl'))).toBe(true);

    now = t0 + 40 * DAY;
    await drain(r);
    const gone = ['A', 'G'];
    for (const id of 'ABCDEFGH') {
      const kept = !gone.includes(id);
      // Read through the store (the working set first): it must agree with SQLite.
      expect(store.getOrder(`O-${id}`) !== null, `order ${id}`).toBe(kept);
      expect(store.findOrderByBarcode(`TB-${id}`) !== null, `barcode of ${id}`).toBe(kept);
      if (id !== 'B') expect(store.getShipment(`S-${id}`) !== null, `shipment ${id}`).toBe(kept);
    }
    expect(store.listShipments({ orderId: 'O-A' })).toEqual([]);
    expect(store.printJobsForShipment('S-A')).toEqual([]);
    expect(store.getPrintJob('J-F')?.state).toBe('queued');

    // Events: the mark reached the ack and not beyond; kept below it only those with a reason.
    const mark = Number(store.getMeta(META_EVENTS_PRUNED_THROUGH));
    expect(mark).toBe(acked);
    const db = new Database(join(dir, DB_FILE), { readonly: true });
    try {
      const below = db.prepare('SELECT seq, subject, type FROM events WHERE seq <= ? ORDER BY seq').all(mark) as Array<{
        seq: number;
        subject: string;
        type: string;
      }>;
      expect(below.map((e) => e.subject).sort()).toEqual(
        // The rejected event (open sync failure), the held shipment's two, the latest login.
        [`shipment:S-A`, 'shipment:S-E', 'shipment:S-E', 'station:st-1'].sort(),
      );
      expect(below.find((e) => e.subject === 'station:st-1')?.seq).toBe(login.seqs[0]);
      expect(db.prepare('SELECT COUNT(*) FROM events WHERE seq > ?').pluck().get(mark)).toBe(1);
      // A new database is created with incremental vacuum, still with the small pages of configureWriterConnection.
      expect(db.pragma('auto_vacuum', { simple: true })).toBe(2);
      expect(db.pragma('page_size', { simple: true })).toBe(512);
    } finally {
      db.close();
    }
    expect(store.lastEvent('station:st-1', 'station.operator_login')?.data).toEqual({ operator: 'wang' });

    // The sync failure resolved: its event goes at the next pass, and the failure row with it.
    await write([{ op: 'syncfail.state', seq: rejected, state: 'resolved', at: t0 }]);
    await drain(r);
    expect(store.eventsForSubject('shipment:S-A', 10)).toEqual([]);
    expect(store.getSyncFailure(rejected)).toBeNull();

    // The chaos checkers: gap-free above the mark, nothing beyond the ack pruned.
    const ledger = new AckLedger();
    ledger.seqs.push(...Array.from({ length: acked }, (_, i) => i + 1));
    ledger.shipments.push({ shipmentId: 'S-A', orderId: 'O-A', jobId: 'J-A', seq: a.seqs[1]! });
    const check = checkStore(join(dir, DB_FILE), ledger);
    expect(check.violations).toEqual([]);
    expect(check.prunedThrough).toBe(mark);

    // The pull feed says where the log was pruned, and serves no pruned shipment.
    const page = shipmentFeed(store, 0, 100, acked);
    expect(page.pruned_through).toBe(mark);
    expect(page.records.map((x) => x.shipment_id)).not.toContain('S-A');
    expect(META_ACKED_SEQ_KEY).toBe(META_ACKED_SEQ);
    // Both label files by now (the new one is 40 days old too).
    expect(pruned).toMatchObject({ orders: 2, shipments: 2, print_jobs: 2, label_files: 2, sync_failures: 1 });
    expect(r.totals.events).toBe(pruned.events);
  });

  it('never moves the mark past the ack, and the checker flags a log pruned beyond it', async () => {
    const { store, dir } = await started();
    for (let i = 0; i < 10; i += 1) await store.write(parcel(`P${i}`, { at: Date.now() }));
    await store.write([{ op: 'meta.put', key: META_ACKED_SEQ, value: '7' }]);
    const r = new RetentionService({ store, dataDir: dir, settings: SETTINGS, logger: createLogger('silent'), now: () => Date.now() + 40 * DAY });
    await drain(r);
    expect(store.getMeta(META_EVENTS_PRUNED_THROUGH)).toBe('7');
    // Orders whose events are beyond the ack stay (P3's second event is seq 8).
    expect(store.getOrder('O-P4')).not.toBeNull();
    expect(store.getOrder('O-P0')).toBeNull();
    await store.stop();
    // A hole above the mark is what the checker exists to find.
    const db = new Database(join(dir, DB_FILE));
    db.prepare('DELETE FROM events WHERE seq = 12').run();
    db.close();
    expect(checkStore(join(dir, DB_FILE), new AckLedger()).violations.join('\n')).toMatch(/not gap-free above the pruned mark 7/);
  });

  it('gives pages back to the file system: the file shrinks after a large prune', async () => {
    const { store, dir } = await started();
    const t0 = Date.now();
    const big = 'x'.repeat(1500);
    for (let i = 0; i < 1500; i += 50) {
      const ops: WriteOp[] = [];
      for (let j = i; j < i + 50; j += 1) {
        ops.push(...parcel(`V${j}`, { at: t0 }));
        ops.push({
          op: 'printjob.put',
          job: aPrintJob({ jobId: `J-big-${j}`, shipmentId: `S-V${j}`, state: 'printed', data: big, createdAt: t0, updatedAt: t0 }),
        });
      }
      await store.write(ops);
    }
    await store.write([{ op: 'meta.put', key: META_ACKED_SEQ, value: String(store.stats().lastSeq) }]);
    const pages = () => {
      const db = new Database(join(dir, DB_FILE), { readonly: true });
      try {
        return db.pragma('page_count', { simple: true }) as number;
      } finally {
        db.close();
      }
    };
    const before = pages();
    const r = new RetentionService({
      store,
      dataDir: dir,
      settings: { ...SETTINGS, batchRows: 500, vacuumPagesPerStep: 1024 },
      logger: createLogger('silent'),
      now: () => t0 + 40 * DAY,
    });
    await drain(r);
    expect(store.getOrder('O-V0')).toBeNull();
    const after = pages();
    expect(r.totals.vacuum_pages).toBeGreaterThan(0);
    // Most of the file was those orders: it is a fraction of its size now.
    expect(after).toBeLessThan(before / 3);
  });

  it('switches an existing database without auto_vacuum to incremental at start (one VACUUM), keeping its rows', async () => {
    const dir = tempDir();
    const path = join(dir, DB_FILE);
    const db = new Database(path);
    // As builds before incremental vacuum created it.
    db.pragma('page_size = 1024');
    db.pragma('journal_mode = WAL');
    migrate(db);
    db.prepare("INSERT INTO meta (key, value) VALUES ('k', 'v')").run();
    expect(db.pragma('auto_vacuum', { simple: true })).toBe(0);
    db.close();
    const { store } = await started(dir);
    expect(store.getMeta('k')).toBe('v');
    const check = new Database(path, { readonly: true });
    try {
      expect(check.pragma('auto_vacuum', { simple: true })).toBe(2);
    } finally {
      check.close();
    }
  });
});
