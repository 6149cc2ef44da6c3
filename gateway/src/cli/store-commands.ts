/**
 * `packline store compact`: switches a database created before incremental vacuum (too large
 * to switch at start, storage/retention-vacuum.ts) with one full VACUUM, and gives every free
 * page back to the file system. VACUUM rewrites the whole file and needs the only connection:
 * the gateway must be stopped, and the disk needs the database's size free again.
 */
import { statfsSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import Database from 'better-sqlite3';
import { PacklineError } from '../../../contracts/errors.js';
import { convertToIncremental } from '../storage/retention-vacuum.js';
import { configureWriterConnection, migrate } from '../storage/schema.js';
import { DB_FILE } from '../storage/sqlite-store.js';
import { configFromOptions, type GlobalOptions } from './options.js';
import { readRunningFile } from './running-file.js';

const mb = (b: number): string => `${(b / 1_048_576).toFixed(1)} MB`;

export function registerStoreCommands(program: Command): void {
  const store = program.command('store').description('maintenance of the local database');
  store
    .command('compact')
    .description('switch the database to incremental vacuum and give free pages back to the disk (one full VACUUM; stop the gateway first)')
    .action(() => {
      const config = configFromOptions(program.opts<GlobalOptions>());
      const dataDir = resolve(config.dataDir);
      const running = readRunningFile(dataDir);
      if (running !== null) {
        throw new PacklineError('PKL_STORE_UNAVAILABLE', {
          reason: `the gateway (pid ${running.pid}) runs on ${dataDir}: stop it first, VACUUM needs the only connection`,
        });
      }
      const path = join(dataDir, DB_FILE);
      const before = statSync(path).size;
      const fs = statfsSync(dataDir);
      if (fs.bavail * fs.bsize < before * 1.1) {
        throw new PacklineError('PKL_DISK_FULL', { dataDir, reason: `VACUUM needs about ${mb(before)} free; ${mb(fs.bavail * fs.bsize)} free` });
      }
      const db = new Database(path, { fileMustExist: true });
      try {
        configureWriterConnection(db);
        migrate(db);
        const r = convertToIncremental(db);
        db.pragma('wal_checkpoint(TRUNCATE)');
        process.stdout.write(`compacted ${path}: ${mb(before)} → ${mb(statSync(path).size)} in ${(r.ms / 1000).toFixed(1)} s; auto_vacuum is incremental\n`);
      } finally {
        db.close();
      }
    });
}
