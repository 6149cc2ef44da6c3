/**
 * Decision record 0002: which SQLite writer. Compares
 *   (a) better-sqlite3 12 in a worker thread with group commit (gateway/src/storage), and
 *   (b) the async `sqlite3` package (node-sqlite3: statements run on the libuv pool),
 * both WAL + synchronous=FULL, for durable single-row transactions with 1 and 50 concurrent
 * writers: transactions/s, p50/p99 write latency, commits (≈ WAL fsyncs), and main-thread
 * event-loop delay (monitorEventLoopDelay) during the run.
 *
 *   node --import tsx bench/sqlite-drivers.ts [--seconds 3] [--dir /path/on/target/disk]
 *
 * node-sqlite3 is not a dependency: install it in a scratch dir (`npm i sqlite3@5` in
 * /tmp/sqlite3-bench, a ~1-2 min source build) or point SQLITE3_DIR at another install.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { createLogger } from '../gateway/src/lib/logger.js';
import { openStore } from '../gateway/src/storage/sqlite-store.js';

const { values } = parseArgs({
  options: { seconds: { type: 'string', default: '3' }, dir: { type: 'string' } },
});
const SECONDS = Number(values.seconds);
const BASE = values.dir ?? tmpdir();
const SQLITE3_DIR = process.env.SQLITE3_DIR ?? '/tmp/sqlite3-bench';

interface Row {
  driver: string;
  writers: number;
  txPerSec: number;
  p50Ms: number;
  p99Ms: number;
  commits: number;
  loopP99Ms: number;
  loopMaxMs: number;
}

type WriteFn = (i: number) => Promise<void>;

function pct(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

/** `writers` async loops call `write` until the time is up; measures latency and loop delay. */
async function drive(writers: number, write: WriteFn): Promise<{ lat: number[]; elapsed: number; loopP99: number; loopMax: number }> {
  const lat: number[] = [];
  const h = monitorEventLoopDelay({ resolution: 1 });
  h.enable();
  const t0 = performance.now();
  const end = t0 + SECONDS * 1000;
  let n = 0;
  await Promise.all(
    Array.from({ length: writers }, async () => {
      while (performance.now() < end) {
        const s = performance.now();
        await write(n++);
        lat.push(performance.now() - s);
      }
    }),
  );
  const elapsed = (performance.now() - t0) / 1000;
  h.disable();
  lat.sort((a, b) => a - b);
  return { lat, elapsed, loopP99: h.percentile(99) / 1e6, loopMax: h.max / 1e6 };
}

const payload = (i: number): unknown => ({ shipmentId: `S-${i}`, grams: 512, station: 'st-1' });

async function benchBetterSqlite(writers: number): Promise<Row> {
  const dir = mkdtempSync(join(BASE, 'bench-bs3-'));
  const store = openStore({ dataDir: dir, logger: createLogger('silent'), minFreeMb: 0 });
  await store.start();
  try {
    const r = await drive(writers, async (i) => {
      await store.write([{ op: 'event', type: 'bench', subject: `shipment:S-${i}`, data: payload(i) }]);
    });
    const st = store.stats();
    return {
      driver: 'better-sqlite3 12 worker + group commit',
      writers,
      txPerSec: r.lat.length / r.elapsed,
      p50Ms: pct(r.lat, 50),
      p99Ms: pct(r.lat, 99),
      commits: st.commits,
      loopP99Ms: r.loopP99,
      loopMaxMs: r.loopMax,
    };
  } finally {
    await store.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

interface Sqlite3Db {
  run(sql: string, params: unknown[], cb: (err: Error | null) => void): void;
  exec(sql: string, cb: (err: Error | null) => void): void;
  close(cb: (err: Error | null) => void): void;
}
interface Sqlite3Module {
  Database: new (file: string, cb: (err: Error | null) => void) => Sqlite3Db;
  VERSION: string;
}

function loadSqlite3(): Sqlite3Module | null {
  try {
    return createRequire(join(SQLITE3_DIR, 'package.json'))('sqlite3') as Sqlite3Module;
  } catch {
    return null;
  }
}

async function benchNodeSqlite3(sqlite3: Sqlite3Module, writers: number): Promise<Row> {
  const dir = mkdtempSync(join(BASE, 'bench-ns3-'));
  const db = await new Promise<Sqlite3Db>((resolve, reject) => {
    const d = new sqlite3.Database(join(dir, 'bench.db'), (err) => (err ? reject(err) : resolve(d)));
  });
  const exec = (sql: string): Promise<void> => new Promise((resolve, reject) => db.exec(sql, (err) => (err ? reject(err) : resolve())));
  await exec(`PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; PRAGMA busy_timeout = 5000;
    CREATE TABLE events (seq INTEGER PRIMARY KEY AUTOINCREMENT, hlc TEXT NOT NULL, boot INTEGER NOT NULL,
      clock_unsynced INTEGER NOT NULL, type TEXT NOT NULL, subject TEXT NOT NULL, data TEXT NOT NULL);`);
  let commits = 0;
  try {
    // Each INSERT in autocommit mode is its own durable transaction (one WAL fsync). One
    // connection cannot interleave BEGIN…COMMIT from concurrent callers, so this is the
    // natural way to use it; batching would mean re-building group commit on top of it.
    const r = await drive(
      writers,
      (i) =>
        new Promise<void>((resolve, reject) =>
          db.run(
            'INSERT INTO events (hlc, boot, clock_unsynced, type, subject, data) VALUES (?, 1, 0, ?, ?, ?)',
            [String(Date.now()), 'bench', `shipment:S-${i}`, JSON.stringify(payload(i))],
            (err) => (err ? reject(err) : (commits++, resolve())),
          ),
        ),
    );
    return {
      driver: `sqlite3 ${sqlite3.VERSION} (node-sqlite3 5, async)`,
      writers,
      txPerSec: r.lat.length / r.elapsed,
      p50Ms: pct(r.lat, 50),
      p99Ms: pct(r.lat, 99),
      commits,
      loopP99Ms: r.loopP99,
      loopMaxMs: r.loopMax,
    };
  } finally {
    await new Promise<void>((resolve) => db.close(() => resolve()));
    rmSync(dir, { recursive: true, force: true });
  }
}

const f = (v: number, d = 1): string => (Number.isFinite(v) ? v.toFixed(d) : 'n/a');

async function main(): Promise<void> {
  const rows: Row[] = [];
  const sqlite3 = loadSqlite3();
  for (const writers of [1, 50]) {
    rows.push(await benchBetterSqlite(writers));
    if (sqlite3) rows.push(await benchNodeSqlite3(sqlite3, writers));
  }
  console.log(`# SQLite writer bench: ${SECONDS} s per run, dir ${BASE}, node ${process.version}`);
  console.log('| driver | writers | tx/s | p50 ms | p99 ms | commits | units/commit | loop p99 ms | loop max ms |');
  console.log('|---|---|---|---|---|---|---|---|---|');
  for (const r of rows) {
    const units = r.txPerSec * SECONDS;
    console.log(
      `| ${r.driver} | ${r.writers} | ${f(r.txPerSec, 0)} | ${f(r.p50Ms, 2)} | ${f(r.p99Ms, 2)} | ${r.commits} | ${f(units / Math.max(r.commits, 1), 1)} | ${f(r.loopP99Ms, 2)} | ${f(r.loopMaxMs, 2)} |`,
    );
  }
  if (!sqlite3) {
    console.log(
      `\nnode-sqlite3 not found under ${SQLITE3_DIR}: run \`mkdir -p ${SQLITE3_DIR} && cd ${SQLITE3_DIR} && npm i sqlite3@5\` ` +
        '(builds from source, ~1-2 min) or set SQLITE3_DIR, then re-run to get the comparison rows.',
    );
  }
}

await main();
