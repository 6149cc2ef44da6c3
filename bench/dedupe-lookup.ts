/**
 * `node --import tsx bench/dedupe-lookup.ts [--keys 1000000] [--lookups 20000]`: the cost of
 * the store's duplicate lookup for a new device message key, with and without the key
 * filter (gateway/src/storage/dedupe-filter.ts), on a database holding `--keys` keys (80 % in
 * event_dedupe, 20 % in dedupe), and the filter's build time. A micro-benchmark of a few
 * seconds, not part of `npm run bench` or CI.
 *
 * "After a commit": another connection commits between every 4 lookups (one shipment's
 * worth at 100 shipments/s), so the reader's page cache is discarded before them, as on the
 * gateway's main thread (sqlite.org/wal.html: a reader that sees the WAL changed flushes its
 * cache). "Warm": no commits in between.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import Database from 'better-sqlite3';
import { DedupeFilter, DedupeKeys } from '../gateway/src/storage/dedupe-filter.js';
import { configureWriterConnection, migrate } from '../gateway/src/storage/schema.js';
import { StoreReader } from '../gateway/src/storage/store-reader.js';

const { values } = parseArgs({ options: { keys: { type: 'string', default: '1000000' }, lookups: { type: 'string', default: '20000' } } });
const KEYS = Number(values.keys);
const LOOKUPS = Number(values.lookups);
const DEVICES = 504;

const dir = mkdtempSync(join(tmpdir(), 'packline-dedupe-bench-'));
const path = join(dir, 'packline.db');
try {
  const w = new Database(path);
  configureWriterConnection(w);
  migrate(w);
  const t0 = performance.now();
  const ed = w.prepare('INSERT INTO event_dedupe (device_id, msg_id, seq) VALUES (?, ?, ?)');
  const dd = w.prepare('INSERT INTO dedupe (device_id, msg_id, at, seq) VALUES (?, ?, ?, ?)');
  w.transaction(() => {
    for (let i = 0; i < KEYS; i++) {
      const dev = `dev-${String(i % DEVICES).padStart(3, '0')}`;
      const msg = `0193a7c2-${i.toString(16).padStart(8, '0')}-7abc-9def-${(i * 2654435761) >>> 0}`;
      if (i % 5 === 4) dd.run(dev, msg, Date.now(), i + 1);
      else ed.run(dev, msg, i + 1);
    }
  })();
  const touch = w.prepare("INSERT INTO meta (key, value) VALUES ('bench.touch', ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value");
  console.log(`filled ${KEYS} keys in ${Math.round(performance.now() - t0)} ms`);

  const r = new Database(path, { readonly: true });
  const reader = new StoreReader(r);
  const newKey = (i: number): [string, string] => [`dev-${String(i % DEVICES).padStart(3, '0')}`, `0193a7c2-new-${i}-7abc-9def`];

  function lookups(label: string, fn: (d: string, m: string) => unknown, commits: boolean): number {
    let ms = 0;
    for (let i = 0; i < LOOKUPS; i++) {
      if (commits && i % 4 === 0) touch.run(String(i));
      const [d, m] = newKey(i);
      const s = performance.now();
      fn(d, m);
      ms += performance.now() - s;
    }
    const us = (ms * 1000) / LOOKUPS;
    console.log(`${label}: ${us.toFixed(2)} µs per lookup (${LOOKUPS} new keys)`);
    return us;
  }

  // Build time: in chunks between event-loop turns (the store, the writer), with the longest
  // chunk (what one turn is held), and all chunks back to back (what a synchronous build costs).
  for (const [label, chunkRows, chunkMs] of [
    ['default (≤ 20,000 rows, ≤ 3 ms)', 20_000, undefined],
    ['20,000 rows, no time budget', 20_000, 1e9],
  ] as const) {
    const times: number[] = [];
    await new Promise<void>((resolve) => {
      const opts: ConstructorParameters<typeof DedupeKeys>[1] = {
        minCapacity: Math.max(1_000_000, KEYS),
        chunkRows,
        run: (fn) => {
          const s = performance.now();
          fn();
          times.push(performance.now() - s);
        },
        onReady: (f) => {
          times.sort((a, b) => a - b);
          const busy = times.reduce((a, b) => a + b, 0);
          console.log(
            `build, ${label}: ${Math.round(f.ms)} ms wall, ${Math.round(busy)} ms in chunks, ${times.length} chunks, median ${times[times.length >> 1]!.toFixed(1)} ms, longest ${times[times.length - 1]!.toFixed(1)} ms; ${f.keys} keys, capacity ${f.capacity}, ${(k.figures!.bytes / 1e6).toFixed(2)} MB`,
          );
          k.stop();
          resolve();
        },
      };
      if (chunkMs !== undefined) opts.chunkMs = chunkMs;
      const k = new DedupeKeys(r, opts);
      k.start();
    });
  }
  // …and the hashing alone (no SQLite), for the share of the build that is the filter.
  {
    const f = new DedupeFilter(KEYS);
    const keys: Array<[string, string]> = [];
    for (let i = 0; i < Math.min(KEYS, 200_000); i++) keys.push([`dev-${i % DEVICES}`, `0193a7c2-${i.toString(16).padStart(8, '0')}-7abc-9def-${i}`]);
    const s = performance.now();
    for (let rep = 0; rep * keys.length < KEYS; rep++) for (const [d, m] of keys) f.add(d, `${m}${rep}`);
    console.log(`filter adds alone: ${Math.round(performance.now() - s)} ms for ${KEYS} keys (incl. a string concat each)`);
  }

  const ready = new DedupeKeys(r, { minCapacity: Math.max(1_000_000, KEYS), chunkRows: 20_000 });
  ready.start();
  while (!ready.ready) await new Promise((res) => setImmediate(res));

  console.log('--- before: SQL lookup (dedupeSeqProjected) ---');
  const beforeCold = lookups('after a commit', (d, m) => reader.dedupeSeqProjected(d, m), true);
  const beforeWarm = lookups('warm', (d, m) => reader.dedupeSeqProjected(d, m), false);
  console.log('--- after: filter, SQL only when it may contain the key ---');
  let fp = 0;
  const withFilter = (d: string, m: string) => {
    if (ready.certainlyAbsent(d, m)) return undefined;
    fp += 1;
    return reader.dedupeSeqProjected(d, m);
  };
  const afterCold = lookups('after a commit', withFilter, true);
  const fpCold = fp;
  fp = 0;
  lookups('warm', withFilter, false);
  console.log(`false positives: ${fpCold} of ${LOOKUPS} (${((100 * fpCold) / LOOKUPS).toFixed(2)} %)`);
  console.log(
    `per shipment (4 lookups): before ${(4 * beforeCold).toFixed(1)} µs after a commit (${(4 * beforeWarm).toFixed(1)} warm), after ${(4 * afterCold).toFixed(1)} µs`,
  );
  r.close();
  w.close();
} finally {
  rmSync(dir, { recursive: true, force: true });
}
