import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { PacklineError } from '../../../contracts/errors.js';
import { deserializeError, serializeError, toStoreError } from './sqlite-errors.js';

function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (err) {
    return err;
  }
  throw new Error('expected a throw');
}

describe('toStoreError', () => {
  it('maps a real SQLITE_FULL to PKL_DISK_FULL', () => {
    const db = new Database(':memory:');
    db.exec('CREATE TABLE t (v TEXT)');
    db.pragma('max_page_count = 2');
    const err = thrown(() => {
      for (let i = 0; i < 100; i++) db.prepare('INSERT INTO t VALUES (?)').run('x'.repeat(4000));
    });
    expect((err as { code: string }).code).toBe('SQLITE_FULL');
    const e = toStoreError(err, { dataDir: '/' });
    expect(e.code).toBe('PKL_DISK_FULL');
    expect(typeof e.details?.freeMb).toBe('number');
    db.close();
  });

  it('maps constraint violations to PKL_STORE_OP_INVALID and other SQLite errors to PKL_STORE_UNAVAILABLE', () => {
    const db = new Database(':memory:');
    db.exec("CREATE TABLE t (v TEXT NOT NULL CHECK (v <> 'bad'))");
    const c = toStoreError(
      thrown(() => db.prepare("INSERT INTO t VALUES ('bad')").run()),
      { op: 'x.put' },
    );
    expect(c.code).toBe('PKL_STORE_OP_INVALID');
    expect(c.details).toMatchObject({ op: 'x.put' });
    const u = toStoreError(thrown(() => db.prepare('SELECT * FROM missing').run()));
    expect(u.code).toBe('PKL_STORE_UNAVAILABLE');
    db.close();
  });

  it('passes PacklineErrors through and round-trips them across the worker boundary', () => {
    const orig = new PacklineError('PKL_DUPLICATE_MESSAGE', { msgId: 'm-1' });
    expect(toStoreError(orig)).toBe(orig);
    const back = deserializeError(structuredClone(serializeError(orig)));
    expect(back).toBeInstanceOf(PacklineError);
    expect(back.toWire()).toEqual(orig.toWire());
  });
});
