import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database, { type Database as Db } from 'better-sqlite3';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createLogger } from '../lib/logger.js';
import { EventProjector, META_PROJECTED_THROUGH, TailKeys } from './event-projector.js';
import { RetentionPruner } from './retention-pruner.js';
import { META_ACKED_SEQ_KEY } from './retention-meta.js';
import { configureWriterConnection, MIGRATIONS, migrate, SCHEMA_VERSION } from './schema.js';
import { openStore } from './sqlite-store.js';
import { StoreReader } from './store-reader.js';
import type { Store, WriteOp } from './types.js';
import { UnitApplier } from './unit-applier.js';

const dirs: string[] = [];
const dbs: Db[] = [];
const stores: Store[] = [];

function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'packline-projector-'));
  dirs.push(d);
  return d;
}

function openDb(dir = tempDir()): { db: Db; dir: string } {
  const db = new Database(join(dir, 'packline.db'));
  dbs.push(db);
  configureWriterConnection(db);
  migrate(db);
  return { db, dir };
}

afterEach(async () => {
  for (const s of stores.splice(0)) await s.stop();
  for (const db of dbs.splice(0)) if (db.open) db.close();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** As the writer: one unit per transaction, a folded key known to the tail once committed. */
function writerLike(db: Db, dir: string, tail?: TailKeys) {
  const applier = new UnitApplier(db, dir, Date.now, tail);
  const projector = new EventProjector(db);
  return {
    projector,
    commit(ops: WriteOp[], project = false) {
      const r = db.transaction(() => {
        applier.syncClock();
        const res = applier.apply(ops, { boot: 1, clockUnsynced: false });
        if (res.folded) tail?.add(res.folded.deviceId, res.folded.msgId, res.folded.seq);
        const mark = project ? projector.projectInTransaction() : null;
        return { res, mark };
      })();
      tail?.batchCommitted();
      if (r.mark !== null) {
        projector.committed(r.mark);
        tail?.projectedThrough(r.mark);
      }
      return r.res;
    },
  };
}

const step = (shipment: string, n: number, device?: string): WriteOp[] => [
  { op: 'event', type: n % 2 === 0 ? 'shipment.item_scanned' : 'shipment.weighed', subject: `shipment:${shipment}`, data: { n } },
  ...(device === undefined ? [] : [{ op: 'dedupe' as const, deviceId: device, msgId: `${shipment}-${n}` }]),
];

const sideSubjects = (db: Db) => db.prepare('SELECT subject, seq FROM event_subjects ORDER BY seq').all();
const logSubjects = (db: Db, through: number) => db.prepare('SELECT subject, seq FROM events WHERE seq <= ? ORDER BY seq').all(through);

describe('event lookups projected in batches (schema v6)', () => {
  it('an acknowledged step writes no lookup row; readers see the projected part and the tail alike', () => {
    const { db, dir } = openDb();
    const w = writerLike(db, dir, new TailKeys());
    const r = new StoreReader(db);
    w.commit(step('S-1', 1, 'scan-1'));
    w.commit(step('S-2', 1, 'scan-2'));
    w.commit(step('S-1', 2, 'scan-1'));
    expect(sideSubjects(db)).toEqual([]);
    expect(db.prepare('SELECT count(*) FROM event_dedupe').pluck().get()).toBe(0);
    // Before the projection: everything from the tail.
    expect(r.eventsForSubject('shipment:S-1', 100).map((e) => e.seq)).toEqual([1, 3]);
    expect(r.lastEvent('shipment:S-1', 'shipment.weighed')?.seq).toBe(1);
    expect(r.dedupeSeq('scan-1', 'S-1-2')).toBe(3);
    expect(r.dedupeSeqProjected('scan-1', 'S-1-2')).toBeUndefined();
    // Projection with the next step; one more step stays in the tail.
    w.commit(step('S-2', 2, 'scan-2'), true);
    w.commit(step('S-1', 3, 'scan-1'));
    expect(Number(r.getMeta(META_PROJECTED_THROUGH))).toBe(4);
    expect(sideSubjects(db)).toEqual(logSubjects(db, 4));
    expect(r.eventsForSubject('shipment:S-1', 100).map((e) => e.seq)).toEqual([1, 3, 5]);
    expect(r.eventsForSubject('shipment:S-1', 2).map((e) => e.seq)).toEqual([1, 3]);
    expect(r.lastEvent('shipment:S-1', 'shipment.weighed')?.seq).toBe(5);
    expect(r.lastEvent('shipment:S-1', 'shipment.item_scanned')?.seq).toBe(3);
    expect(r.lastEvent('shipment:S-2', 'shipment.weighed')?.seq).toBe(2);
    expect(r.dedupeSeq('scan-1', 'S-1-2')).toBe(3);
    expect(r.dedupeSeqProjected('scan-1', 'S-1-2')).toBe(3);
    expect(r.dedupeSeq('scan-1', 'S-1-3')).toBe(5);
    expect(r.dedupeSeq('scan-1', 'nope')).toBeUndefined();
  });

  it('a redelivery is refused whether its key is in the writer’s memory, the side table, or (without memory) the tail', () => {
    const { db, dir } = openDb();
    const tail = new TailKeys();
    const w = writerLike(db, dir, tail);
    w.commit(step('S-1', 1, 'scan-1'));
    expect(tail.size).toBe(1);
    const dup = () => w.commit(step('S-9', 9).concat([{ op: 'dedupe', deviceId: 'scan-1', msgId: 'S-1-1' }]));
    expect(dup).toThrow(expect.objectContaining({ code: 'PKL_DUPLICATE_MESSAGE' }));
    // The CLI's applier has no memory of the tail: it scans it.
    const cli = new UnitApplier(db, dir);
    expect(() =>
      db.transaction(() =>
        cli.apply(
          [
            { op: 'event', type: 't', subject: 'x', data: {} },
            { op: 'dedupe', deviceId: 'scan-1', msgId: 'S-1-1' },
          ],
          { boot: 1, clockUnsynced: false },
        ),
      )(),
    ).toThrow(expect.objectContaining({ code: 'PKL_DUPLICATE_MESSAGE' }));
    w.commit(step('S-2', 1, 'scan-2'), true);
    expect(tail.size).toBe(0);
    expect(dup).toThrow(expect.objectContaining({ code: 'PKL_DUPLICATE_MESSAGE' }));
    expect(db.prepare('SELECT count(*) FROM events').pluck().get()).toBe(2);
  });

  it('a unit rolled back after its key was noted leaves nothing in the writer’s memory', () => {
    const tail = new TailKeys();
    tail.add('d', 'm', 5);
    expect(tail.has('d', 'm')).toBe(true);
    tail.batchRolledBack();
    expect(tail.has('d', 'm')).toBe(false);
    tail.add('d', 'm', 5);
    tail.batchCommitted();
    tail.projectedThrough(4);
    expect(tail.has('d', 'm')).toBe(true);
    tail.projectedThrough(5);
    expect(tail.has('d', 'm')).toBe(false);
  });

  it('after a crash at any point, the next start projects the rest: the side tables equal those of a run without crash', () => {
    // Seeded random steps; a "crash" closes the connection without projecting, then a new
    // projector (as the writer's start) catches up.
    let seed = 7;
    const rnd = () => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed / 2 ** 31;
    };
    for (let round = 0; round < 5; round++) {
      const dir = tempDir();
      let { db } = openDb(dir);
      let w = writerLike(db, dir, new TailKeys());
      for (let i = 0; i < 120; i++) {
        const s = `S-${Math.floor(rnd() * 15)}`;
        w.commit(step(s, i, rnd() < 0.7 ? `dev-${Math.floor(rnd() * 4)}` : undefined), rnd() < 0.1);
        if (rnd() < 0.05) {
          db.close();
          db = openDb(dir).db;
          w = writerLike(db, dir, new TailKeys());
          w.projector.projectNow();
          const last = db.prepare('SELECT max(seq) FROM events').pluck().get() as number;
          expect(Number(new StoreReader(db).getMeta(META_PROJECTED_THROUGH))).toBe(last);
        }
      }
      w.projector.projectNow();
      const last = db.prepare('SELECT max(seq) FROM events').pluck().get() as number;
      expect(sideSubjects(db)).toEqual(logSubjects(db, last));
      expect(db.prepare('SELECT device_id, msg_id, seq FROM event_dedupe ORDER BY seq').all()).toEqual(
        db.prepare('SELECT dedupe_device AS device_id, dedupe_msg AS msg_id, seq FROM events WHERE dedupe_device IS NOT NULL ORDER BY seq').all(),
      );
      db.close();
    }
  });
});

describe('seq without AUTOINCREMENT (schema v6)', () => {
  it('a seq is never handed out twice, also after retention deleted the newest events', () => {
    const { db, dir } = openDb();
    const w = writerLike(db, dir, new TailKeys());
    for (let i = 0; i < 5; i++) w.commit(step(`S-${i}`, i));
    db.prepare('INSERT INTO meta (key, value) VALUES (?, ?)').run(META_ACKED_SEQ_KEY, '5');
    const pruned = new RetentionPruner(db).step({ now: Date.now() + 1e9, windows: { ordersMs: 0, eventsMs: 0 }, batchRows: 100, vacuumPages: 0 });
    expect(pruned.events).toBe(5);
    expect(db.prepare('SELECT count(*) FROM events').pluck().get()).toBe(0);
    expect(new StoreReader(db).lastSeq()).toBe(5);
    expect(w.commit(step('S-9', 9)).seqs).toEqual([6]);
    expect(new StoreReader(db).lastSeq()).toBe(6);
    // And the lookups of the pruned events went with them.
    w.projector.projectNow();
    expect(sideSubjects(db)).toEqual([{ subject: 'shipment:S-9', seq: 6 }]);
  });

  it('a savepoint rolled back leaves no gap', () => {
    const { db, dir } = openDb();
    const w = writerLike(db, dir, new TailKeys());
    w.commit(step('S-1', 1));
    expect(() => w.commit([...step('S-2', 1), { op: 'device.delete', deviceId: 'nobody' }])).toThrow();
    expect(w.commit(step('S-3', 1)).seqs).toEqual([2]);
  });

  it('migration 6 keeps a v5 log, its keys and its seq floor, and fills the lookups', () => {
    const dir = tempDir();
    const v5 = new Database(join(dir, 'packline.db'));
    configureWriterConnection(v5);
    for (const m of MIGRATIONS.filter((x) => x.version <= 5)) v5.exec(m.sql);
    v5.pragma('user_version = 5');
    const ins = v5.prepare(
      "INSERT INTO events (hlc, boot, clock_unsynced, type, subject, data, dedupe_device, dedupe_msg) VALUES ('1.0', 1, 0, 't', ?, '{}', ?, ?)",
    );
    for (let i = 1; i <= 6; i++) ins.run(`s:${i % 2}`, i % 3 === 0 ? 'dev' : null, i % 3 === 0 ? `m${i}` : null);
    // Retention had deleted the two newest (as it could before v6): the floor must stay 6.
    v5.prepare('DELETE FROM events WHERE seq > 4').run();
    v5.close();
    const { db } = openDb(dir);
    expect(db.pragma('user_version', { simple: true })).toBe(SCHEMA_VERSION);
    const r = new StoreReader(db);
    expect(r.readEvents(0, 10).map((e) => e.seq)).toEqual([1, 2, 3, 4]);
    expect(r.eventsForSubject('s:1', 10).map((e) => e.seq)).toEqual([1, 3]);
    expect(r.dedupeSeq('dev', 'm3')).toBe(3);
    expect(Number(r.getMeta(META_PROJECTED_THROUGH))).toBe(4);
    expect(r.lastSeq()).toBe(6);
    const w = writerLike(db, dir, new TailKeys());
    expect(w.commit(step('S-1', 1)).seqs).toEqual([7]);
    expect(() => w.commit([...step('S-2', 1), { op: 'dedupe', deviceId: 'dev', msgId: 'm3' }])).toThrow(
      expect.objectContaining({ code: 'PKL_DUPLICATE_MESSAGE' }),
    );
    expect(() => db.prepare("UPDATE events SET type = 'x' WHERE seq = 1").run()).toThrow(/append-only/);
    expect(db.prepare("SELECT count(*) FROM sqlite_master WHERE name IN ('events_subject', 'events_dedupe')").pluck().get()).toBe(0);
  });
});

describe('the store reads its own writes before the projection', () => {
  it('a duplicate is known and a subject’s events are listed as soon as the write resolves, then from the side tables, and after a restart', async () => {
    const dir = tempDir();
    const store = openStore({ dataDir: dir, logger: createLogger('silent') });
    stores.push(store);
    await store.start();
    const { seqs } = await store.write(step('S-1', 1, 'scan-1'));
    const seq = seqs[0]!;
    // No projection yet (it waits up to PROJECT_INTERVAL_MS or 256 events).
    expect(Number(store.getMeta(META_PROJECTED_THROUGH) ?? 0)).toBeLessThan(seq);
    expect(store.dedupeSeq('scan-1', 'S-1-1')).toBe(seq);
    expect(store.hasDedupe('scan-1', 'S-1-1')).toBe(true);
    expect(store.eventsForSubject('shipment:S-1', 10).map((e) => e.seq)).toEqual([seq]);
    expect(store.lastEvent('shipment:S-1', 'shipment.weighed')?.seq).toBe(seq);
    expect(store.stats().lastSeq).toBe(seq);
    await expect(store.write(step('S-1', 1, 'scan-1'))).rejects.toMatchObject({ code: 'PKL_DUPLICATE_MESSAGE' });
    // The writer projects on its own once the floor is quiet.
    await vi.waitFor(() => expect(Number(store.getMeta(META_PROJECTED_THROUGH))).toBe(seq), { timeout: 10_000, interval: 50 });
    expect(store.dedupeSeq('scan-1', 'S-1-1')).toBe(seq);
    expect(store.eventsForSubject('shipment:S-1', 10).map((e) => e.seq)).toEqual([seq]);
    await store.write(step('S-1', 2, 'scan-1'));
    // One in the side table, one in the tail: both listed, in order.
    expect(store.eventsForSubject('shipment:S-1', 10).map((e) => e.seq)).toEqual([seq, seq + 1]);
    expect(store.lastEvent('shipment:S-1', 'shipment.item_scanned')?.seq).toBe(seq + 1);
    expect(store.lastEvent('shipment:S-1', 'shipment.weighed')?.seq).toBe(seq);
    await store.stop();
    const again = openStore({ dataDir: dir, logger: createLogger('silent') });
    stores.push(again);
    await again.start();
    // Stop projected the rest; a redelivery after the restart is refused with its seq.
    expect(Number(again.getMeta(META_PROJECTED_THROUGH))).toBe(again.stats().lastSeq);
    expect(again.dedupeSeq('scan-1', 'S-1-2')).toBe(seq + 1);
    await expect(again.write(step('S-1', 2, 'scan-1'))).rejects.toMatchObject({ code: 'PKL_DUPLICATE_MESSAGE' });
  });
});
