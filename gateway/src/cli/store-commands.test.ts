import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { main } from '../cli.js';
import { migrate } from '../storage/schema.js';
import { DB_FILE } from '../storage/sqlite-store.js';
import { RUNNING_FILE } from './running-file.js';

const dirs: string[] = [];
afterEach(() => {
  vi.restoreAllMocks();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** A database as builds before incremental vacuum made it, with `rows` rows of 1 KB, most deleted again. */
function oldDatabase(rows: number): string {
  const dir = mkdtempSync(join(tmpdir(), 'packline-compact-'));
  dirs.push(dir);
  const db = new Database(join(dir, DB_FILE));
  db.pragma('page_size = 1024');
  db.pragma('journal_mode = WAL');
  migrate(db);
  const put = db.prepare('INSERT INTO meta (key, value) VALUES (?, ?)');
  db.transaction(() => {
    for (let i = 0; i < rows; i += 1) put.run(`k${i}`, 'x'.repeat(1000));
  })();
  db.prepare("DELETE FROM meta WHERE key <> 'k0'").run();
  db.pragma('wal_checkpoint(TRUNCATE)');
  db.close();
  return dir;
}

describe('packline store compact', () => {
  it('switches an old database to incremental vacuum and shrinks it, keeping its rows', async () => {
    const dir = oldDatabase(2000);
    const out = vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
    expect(await main(['node', 'packline', '-d', dir, 'store', 'compact'])).toBe(0);
    expect(String(out.mock.calls.at(-1)?.[0])).toMatch(/compacted .* MB → .* MB .*incremental/);
    const db = new Database(join(dir, DB_FILE), { readonly: true });
    try {
      expect(db.pragma('auto_vacuum', { simple: true })).toBe(2);
      expect(db.pragma('freelist_count', { simple: true })).toBe(0);
      expect(db.prepare("SELECT value FROM meta WHERE key = 'k0'").pluck().get()).toHaveLength(1000);
      expect(db.pragma('page_count', { simple: true }) as number).toBeLessThan(500);
    } finally {
      db.close();
    }
  });

  it('refuses while a gateway runs on the data directory', async () => {
    const dir = oldDatabase(1);
    writeFileSync(join(dir, RUNNING_FILE), JSON.stringify({ pid: process.pid }));
    const err = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
    expect(await main(['node', 'packline', '-d', dir, 'store', 'compact'])).not.toBe(0);
    expect(err.mock.calls.map((c) => String(c[0])).join('')).toMatch(/PKL_STORE_UNAVAILABLE|stop it first/);
  });
});
