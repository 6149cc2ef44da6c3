import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database, { type Database as Db } from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { configureWriterConnection, MIGRATIONS, migrate, SCHEMA_VERSION } from './schema.js';
import { StoreReader } from './store-reader.js';
import { aShipment } from './test-fixtures.js';
import type { WriteOp } from './types.js';
import { encodeHlc } from '../lib/hlc.js';
import { META_HLC, UnitApplier } from './unit-applier.js';
import { EventProjector, TailKeys } from './event-projector.js';

const dirs: string[] = [];
const dbs: Db[] = [];

function openDb(dir = mkdtempSync(join(tmpdir(), 'packline-applier-'))): { db: Db; dir: string } {
  if (!dirs.includes(dir)) dirs.push(dir);
  const db = new Database(join(dir, 'packline.db'));
  dbs.push(db);
  configureWriterConnection(db);
  migrate(db);
  return { db, dir };
}

/** One unit in its own transaction, as the writer commits it. */
function commit(db: Db, applier: UnitApplier, ops: WriteOp[]) {
  return db.transaction(() => {
    applier.syncClock();
    return applier.apply(ops, { boot: 1, clockUnsynced: false });
  })();
}

const ev = (n: number): WriteOp => ({ op: 'event', type: 'test.event', subject: `test:${n}`, data: { n } });

afterEach(() => {
  for (const db of dbs.splice(0)) if (db.open) db.close();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe('UnitApplier: the HLC without a meta write per commit', () => {
  it('after a restart with the wall clock an hour behind, new stamps follow the last event, with no meta copy', () => {
    const { db, dir } = openDb();
    const t0 = Date.parse('2026-12-06T10:00:00Z');
    const a = new UnitApplier(db, dir, () => t0);
    commit(db, a, [ev(1), ev(2)]);
    commit(db, a, [ev(3)]);
    // The writer copies the clock to meta at most once a minute: a kill -9 may leave none.
    expect(a.readMeta(META_HLC)).toBeNull();
    db.close();
    const again = openDb(dir).db;
    const b = new UnitApplier(again, dir, () => t0 - 3_600_000);
    commit(again, b, [ev(4)]);
    const hlcs = again.prepare('SELECT hlc FROM events ORDER BY seq').pluck().all() as string[];
    expect(hlcs).toHaveLength(4);
    for (let i = 1; i < hlcs.length; i++) expect(hlcs[i]! > hlcs[i - 1]!).toBe(true);
  });

  it('a meta copy ahead of the last event (written by an older build) still raises the clock', () => {
    const { db, dir } = openDb();
    const t0 = Date.parse('2026-12-06T10:00:00Z');
    const a = new UnitApplier(db, dir, () => t0);
    commit(db, a, [ev(1)]);
    const ahead = encodeHlc({ wallMs: t0 + 5_000, counter: 0 });
    a.writeMeta(META_HLC, ahead);
    const b = new UnitApplier(db, dir, () => t0);
    commit(db, b, [ev(2)]);
    const last = db.prepare('SELECT hlc FROM events ORDER BY seq DESC LIMIT 1').pluck().get() as string;
    expect(last > ahead).toBe(true);
  });
});

describe('UnitApplier: device message keys on the event row (schema v5)', () => {
  const step = (n: number, msgId: string): WriteOp[] => [
    { op: 'shipment.put', shipment: aShipment({ shipmentId: `S-${n}` }) },
    ev(n),
    ev(n + 100),
    { op: 'dedupe', deviceId: 'scanner-1', msgId },
  ];

  it('stores the key on the unit’s last event, refuses a redelivery, and answers its seq', () => {
    const { db, dir } = openDb();
    const a = new UnitApplier(db, dir);
    expect(commit(db, a, step(1, 'm-1')).seqs).toEqual([1, 2]);
    expect(db.prepare('SELECT count(*) FROM dedupe').pluck().get()).toBe(0);
    expect(db.prepare('SELECT seq FROM events WHERE dedupe_msg = ?').pluck().all('m-1')).toEqual([2]);
    expect(() => commit(db, a, step(2, 'm-1'))).toThrow(expect.objectContaining({ code: 'PKL_DUPLICATE_MESSAGE' }));
    // Nothing of the refused unit applied.
    expect(db.prepare('SELECT count(*) FROM events').pluck().get()).toBe(2);
    expect(db.prepare('SELECT count(*) FROM shipments').pluck().get()).toBe(1);
    const r = new StoreReader(db);
    expect(r.hasDedupe('scanner-1', 'm-1')).toBe(true);
    expect(r.dedupeSeq('scanner-1', 'm-1')).toBe(2);
    expect(r.hasDedupe('scanner-1', 'm-2')).toBe(false);
    expect(r.dedupeSeq('scanner-1', 'm-2')).toBeUndefined();
    // The key is the store's: not part of an event as the outbox and the API read it.
    expect(Object.keys(r.readEventRows(0, 10)[1]!).sort()).toEqual(['boot', 'clock_unsynced', 'data', 'hlc', 'seq', 'subject', 'type']);
  });

  it('a unit without events, a second key in one unit, and rows from before v5 use the dedupe table — and refuse across both places', () => {
    const { db, dir } = openDb();
    const a = new UnitApplier(db, dir);
    commit(db, a, [{ op: 'dedupe', deviceId: 'scale-1', msgId: 'w-1' }]);
    commit(db, a, [ev(1), { op: 'dedupe', deviceId: 'scale-1', msgId: 'w-2' }, { op: 'dedupe', deviceId: 'printer-1', msgId: 'p-1' }]);
    // A row an older build wrote, with the seq of its unit.
    db.prepare('INSERT INTO dedupe (device_id, msg_id, at, seq) VALUES (?, ?, ?, ?)').run('scanner-1', 'old-1', Date.now(), 1);
    const r = new StoreReader(db);
    expect(r.dedupeSeq('scale-1', 'w-1')).toBeNull();
    expect(r.dedupeSeq('scale-1', 'w-2')).toBe(1);
    expect(r.dedupeSeq('printer-1', 'p-1')).toBe(1);
    expect(r.dedupeSeq('scanner-1', 'old-1')).toBe(1);
    for (const [deviceId, msgId] of [
      ['scale-1', 'w-1'],
      ['scale-1', 'w-2'],
      ['printer-1', 'p-1'],
      ['scanner-1', 'old-1'],
    ] as const) {
      expect(() => commit(db, a, [ev(9), { op: 'dedupe', deviceId, msgId }])).toThrow(expect.objectContaining({ code: 'PKL_DUPLICATE_MESSAGE' }));
      expect(() => commit(db, a, [{ op: 'dedupe', deviceId, msgId }])).toThrow(expect.objectContaining({ code: 'PKL_DUPLICATE_MESSAGE' }));
    }
    // The same key twice in one unit is a duplicate too.
    expect(() => commit(db, a, [ev(10), { op: 'dedupe', deviceId: 'x', msgId: 'y' }, { op: 'dedupe', deviceId: 'x', msgId: 'y' }])).toThrow(
      expect.objectContaining({ code: 'PKL_DUPLICATE_MESSAGE' }),
    );
    expect(db.prepare('SELECT count(*) FROM events').pluck().get()).toBe(1);
  });

  it('migration 5 keeps a v4 database’s events and dedupe rows', () => {
    const dir = mkdtempSync(join(tmpdir(), 'packline-applier-'));
    dirs.push(dir);
    const v4 = new Database(join(dir, 'packline.db'));
    configureWriterConnection(v4);
    for (const m of MIGRATIONS.filter((x) => x.version <= 4)) v4.exec(m.sql);
    v4.pragma('user_version = 4');
    v4.prepare("INSERT INTO events (hlc, boot, clock_unsynced, type, subject, data) VALUES ('1.0', 1, 0, 't', 's', '{}')").run();
    v4.prepare("INSERT INTO dedupe (device_id, msg_id, at, seq) VALUES ('d', 'm', 1, 1)").run();
    v4.close();
    const { db } = openDb(dir);
    expect(db.pragma('user_version', { simple: true })).toBe(SCHEMA_VERSION);
    const r = new StoreReader(db);
    expect(r.readEvents(0, 10).map((e) => e.seq)).toEqual([1]);
    expect(r.dedupeSeq('d', 'm')).toBe(1);
  });
});

describe('UnitApplier: the writer’s key filter (dedupe-filter.ts)', () => {
  const turn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));
  const dup = expect.objectContaining({ code: 'PKL_DUPLICATE_MESSAGE' });
  /** As the writer commits a unit: its folded key joins the tail keys once committed. */
  const tails = new Map<UnitApplier, TailKeys>();
  function commitW(db: Db, applier: UnitApplier, ops: WriteOp[]) {
    const r = commit(db, applier, ops);
    const tail = tails.get(applier);
    if (r.folded && tail) {
      tail.add(r.folded.deviceId, r.folded.msgId, r.folded.seq);
      tail.batchCommitted();
    }
    return r;
  }

  it('refuses every recorded key before its filter is ready and after, across a restart, and accepts a key retention deleted', async () => {
    const { db, dir } = openDb();
    const first = new UnitApplier(db, dir, Date.now, new TailKeys(), false);
    // A previous run's keys: in the dedupe table, projected into event_dedupe, and on an event
    // row after the mark (a crash before the projection), which the writer projects at open
    // right after it made its applier (writer-worker.ts).
    commit(db, first, [{ op: 'dedupe', deviceId: 'scale-1', msgId: 'w-1' }]);
    for (let i = 0; i < 200; i++) commit(db, first, [ev(i), { op: 'dedupe', deviceId: 'scanner-1', msgId: `m-${i}` }]);
    new EventProjector(db).projectNow();
    commit(db, first, [ev(500), { op: 'dedupe', deviceId: 'scanner-1', msgId: 'tail-1' }]);

    const tail = new TailKeys();
    const a = new UnitApplier(db, dir, Date.now, tail, { chunkRows: 7 });
    tails.set(a, tail);
    new EventProjector(db).projectNow();
    expect(a.dedupeFilterReady).toBe(false);
    const recorded: Array<[string, string]> = [
      ['scale-1', 'w-1'],
      ['scanner-1', 'm-0'],
      ['scanner-1', 'm-199'],
      ['scanner-1', 'tail-1'],
    ];
    for (const [deviceId, msgId] of recorded) expect(() => commitW(db, a, [ev(900), { op: 'dedupe', deviceId, msgId }])).toThrow(dup);
    // Recorded while the build runs (behind its cursor, once the first chunks were read).
    await turn();
    await turn();
    await turn();
    commitW(db, a, [ev(901), { op: 'dedupe', deviceId: 'scanner-1', msgId: 'during' }]);
    commitW(db, a, [{ op: 'dedupe', deviceId: 'scale-1', msgId: 'during-table' }]);
    for (let i = 0; i < 1_000 && !a.dedupeFilterReady; i++) await turn();
    expect(a.dedupeFilterReady).toBe(true);
    for (const [deviceId, msgId] of [...recorded, ['scanner-1', 'during'], ['scale-1', 'during-table']] as Array<[string, string]>) {
      expect(() => commitW(db, a, [ev(902), { op: 'dedupe', deviceId, msgId }])).toThrow(dup);
      expect(() => commitW(db, a, [{ op: 'dedupe', deviceId, msgId }])).toThrow(dup);
    }
    for (let i = 0; i < 200; i++) expect(() => commitW(db, a, [ev(903), { op: 'dedupe', deviceId: 'scanner-1', msgId: `m-${i}` }])).toThrow(dup);
    commitW(db, a, [ev(904), { op: 'dedupe', deviceId: 'scanner-1', msgId: 'after' }]);
    expect(() => commitW(db, a, [ev(905), { op: 'dedupe', deviceId: 'scanner-1', msgId: 'after' }])).toThrow(dup);
    // Retention deleted an event (the trigger takes its event_dedupe row): new again, as in SQL.
    db.prepare("DELETE FROM events WHERE dedupe_msg = 'm-5'").run();
    commitW(db, a, [ev(906), { op: 'dedupe', deviceId: 'scanner-1', msgId: 'm-5' }]);
    a.close();

    // A restart: a new applier builds its filter from what the last one committed.
    const b = new UnitApplier(db, dir, Date.now, new TailKeys());
    new EventProjector(db).projectNow();
    for (let i = 0; i < 1_000 && !b.dedupeFilterReady; i++) await turn();
    expect(b.dedupeFilterReady).toBe(true);
    for (const msgId of ['after', 'during', 'm-5', 'm-6']) expect(() => commitW(db, b, [ev(907), { op: 'dedupe', deviceId: 'scanner-1', msgId }])).toThrow(dup);
    commitW(db, b, [ev(908), { op: 'dedupe', deviceId: 'scanner-1', msgId: 'brand-new' }]);
    b.close();
  });
});
