import { chmodSync, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createLogger } from '../lib/logger.js';
import { lockDownDataDir } from './file-modes.js';
import { DB_FILE, openStore } from './sqlite-store.js';

const dirs: string[] = [];
const mode = (p: string) => (statSync(p).mode & 0o777).toString(8);
const fresh = () => {
  const d = mkdtempSync(join(tmpdir(), 'pkl-modes-'));
  dirs.push(d);
  return d;
};
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe('data directory modes', () => {
  it('a fresh store under umask 022: directory 0700, database, WAL and SHM 0600', async () => {
    const dataDir = join(fresh(), 'data');
    const old = process.umask(0o022);
    try {
      const lines: string[] = [];
      const store = openStore({ dataDir, logger: createLogger('info', { write: (l: string) => void lines.push(l) }), minFreeMb: 0 });
      await store.start();
      await store.write([{ op: 'supervisor.put', supervisor: { name: 'li', secretHash: 'x', createdAt: 1, rotatedAt: 1 } }]);
      expect(mode(dataDir)).toBe('700');
      for (const f of [DB_FILE, `${DB_FILE}-wal`, `${DB_FILE}-shm`]) expect(mode(join(dataDir, f)), f).toBe('600');
      expect(lines.join('')).not.toContain('PKL_DATA_FILE_EXPOSED'); // nothing had to be fixed
      await store.stop();
    } finally {
      process.umask(old);
    }
  });

  it('narrows what an older version or a restore left readable, and reports each file', async () => {
    const dataDir = fresh();
    chmodSync(dataDir, 0o755);
    writeFileSync(join(dataDir, DB_FILE), '');
    chmodSync(join(dataDir, DB_FILE), 0o644);
    mkdirSync(join(dataDir, 'labels', 'st-1'), { recursive: true, mode: 0o755 });
    writeFileSync(join(dataDir, 'labels', 'st-1', 'J-1.zpl'), '^XA^FD138****5678^FS^XZ', { mode: 0o644 });
    mkdirSync(join(dataDir, 'previews'), { mode: 0o775 });
    writeFileSync(join(dataDir, 'previews', 'J-1.png'), 'png');
    chmodSync(join(dataDir, 'previews'), 0o775); // explicit: the umask narrows mkdir/write modes
    chmodSync(join(dataDir, 'previews', 'J-1.png'), 0o664);
    writeFileSync(join(dataDir, 'notes.txt'), 'not personal data', { mode: 0o644 });
    const found = lockDownDataDir(dataDir, DB_FILE);
    expect(found.map((e) => e.code)).toEqual(Array(7).fill('PKL_DATA_FILE_EXPOSED'));
    expect(found.map((e) => [String(e.details?.file).slice(dataDir.length), e.details?.mode]).sort()).toEqual(
      [
        ['', '0755'],
        [`/${DB_FILE}`, '0644'],
        ['/labels', '0755'],
        ['/labels/st-1', '0755'],
        ['/labels/st-1/J-1.zpl', '0644'],
        ['/previews', '0775'],
        ['/previews/J-1.png', '0664'],
      ].sort(),
    );
    expect(mode(dataDir)).toBe('700');
    expect(mode(join(dataDir, 'labels', 'st-1', 'J-1.zpl'))).toBe('600');
    expect(mode(join(dataDir, 'previews', 'J-1.png'))).toBe('600');
    expect(mode(join(dataDir, 'notes.txt'))).toBe('644'); // not ours to change
    expect(lockDownDataDir(dataDir, DB_FILE)).toEqual([]); // the second start finds nothing
  });

  it('an existing store found wide is narrowed at start with a PKL_DATA_FILE_EXPOSED warning', async () => {
    const dataDir = fresh();
    const first = openStore({ dataDir, logger: createLogger('silent'), minFreeMb: 0 });
    await first.start();
    await first.stop();
    chmodSync(dataDir, 0o755);
    chmodSync(join(dataDir, DB_FILE), 0o644);
    const lines: string[] = [];
    const store = openStore({ dataDir, logger: createLogger('info', { write: (l: string) => void lines.push(l) }), minFreeMb: 0 });
    await store.start();
    expect(mode(dataDir)).toBe('700');
    expect(mode(join(dataDir, DB_FILE))).toBe('600');
    const warned = lines.map((l) => JSON.parse(l) as { code?: string; file?: string }).filter((l) => l.code === 'PKL_DATA_FILE_EXPOSED');
    expect(warned.map((l) => l.file)).toEqual(expect.arrayContaining([dataDir, join(dataDir, DB_FILE)]));
    await store.stop();
  });
});
