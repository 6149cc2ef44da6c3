import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { DedupeFilter, DedupeKeys } from './dedupe-filter.js';
import { migrate } from './schema.js';

/** A small deterministic PRNG (mulberry32), so a failure reproduces. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const ALPHABET = 'ab\u0000|:-_0123456789xyz\u4e2d\u00e9';
function randomString(r: () => number, max: number): string {
  const n = Math.floor(r() * (max + 1));
  let s = '';
  for (let i = 0; i < n; i++) s += ALPHABET[Math.floor(r() * ALPHABET.length)];
  return s;
}

describe('DedupeFilter', () => {
  it('never says absent for a key it was given (random keys, separators anywhere)', () => {
    const r = rng(1);
    const f = new DedupeFilter(20_000);
    const keys: Array<[string, string]> = [];
    for (let i = 0; i < 20_000; i++) {
      const k: [string, string] = [randomString(r, 12), randomString(r, 24)];
      keys.push(k);
      f.add(k[0], k[1]);
    }
    for (const [d, m] of keys) expect(f.mayContain(d, m)).toBe(true);
  });

  it('keeps keys apart that differ only in where the device id ends', () => {
    const pairs: Array<[[string, string], [string, string]]> = [
      [
        ['ab', 'c'],
        ['a', 'bc'],
      ],
      [
        ['', 'abc'],
        ['abc', ''],
      ],
      [
        ['a\u0000', 'b'],
        ['a', '\u0000b'],
      ],
      [
        ['scale-1', '7'],
        ['scale-', '17'],
      ],
    ];
    for (const [x, y] of pairs) {
      // A tiny filter that would show a collision of the encoded keys: only x is added, so
      // y must be absent unless the two hashed the same input (checked over many sizes).
      let absentSomewhere = false;
      for (let cap = 1; cap <= 64; cap++) {
        const f = new DedupeFilter(cap);
        f.add(x[0], x[1]);
        expect(f.mayContain(x[0], x[1])).toBe(true);
        if (!f.mayContain(y[0], y[1])) absentSomewhere = true;
      }
      expect(absentSomewhere).toBe(true);
    }
    // And with many keys split at every position: each split is its own key.
    const f = new DedupeFilter(1_000);
    const whole = 'device-42message-0001';
    f.add(whole.slice(0, 9), whole.slice(9));
    let others = 0;
    for (let i = 0; i <= whole.length; i++) if (i !== 9 && f.mayContain(whole.slice(0, i), whole.slice(i))) others += 1;
    expect(others).toBe(0);
  });

  it('stays under 1 % false positives at capacity', () => {
    const capacity = 100_000;
    const f = new DedupeFilter(capacity);
    for (let i = 0; i < capacity; i++) f.add(`dev-${i % 504}`, `m-${i}`);
    expect(f.count).toBeGreaterThan(capacity * 0.99);
    let fp = 0;
    const probes = 100_000;
    for (let i = 0; i < probes; i++) if (f.mayContain(`dev-${i % 504}`, `other-${i}`)) fp += 1;
    expect(fp / probes).toBeLessThan(0.01);
    // ~1.25 MB per million keys.
    expect(f.bytes).toBe(Math.ceil((capacity * 10) / 32) * 4);
  });

  it('counts a key added twice once', () => {
    const f = new DedupeFilter(100);
    f.add('d', 'm');
    f.add('d', 'm');
    expect(f.count).toBe(1);
  });
});

describe('DedupeKeys (chunked build)', () => {
  const dbs: Database.Database[] = [];
  const all: DedupeKeys[] = [];
  afterEach(() => {
    for (const k of all.splice(0)) k.stop();
    for (const d of dbs.splice(0)) d.close();
  });

  function db(): Database.Database {
    const d = new Database(':memory:');
    migrate(d);
    dbs.push(d);
    return d;
  }

  function keys(
    d: Database.Database,
    minCapacity: number,
    chunkRows: number,
  ): { k: DedupeKeys; builds: Array<{ rows: number; capacity: number; chunks: number }> } {
    const builds: Array<{ rows: number; capacity: number; chunks: number }> = [];
    const k = new DedupeKeys(d, { minCapacity, chunkRows, onReady: (f) => builds.push(f) });
    all.push(k);
    return { k, builds };
  }

  const turn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));
  async function untilReady(k: DedupeKeys): Promise<void> {
    for (let i = 0; i < 10_000 && (!k.ready || k.rebuilding); i++) await turn();
  }

  it('reads the tail, event_dedupe and dedupe in chunks; keys committed during the build are added by the caller', async () => {
    const d = db();
    const ins = d.prepare('INSERT INTO event_dedupe (device_id, msg_id, seq) VALUES (?, ?, ?)');
    for (let i = 0; i < 250; i++) ins.run(`d${i % 7}`, `e${i}`, i + 1);
    d.prepare("INSERT OR REPLACE INTO meta (key, value) VALUES ('store.projected_through', '250')").run();
    const dd = d.prepare('INSERT INTO dedupe (device_id, msg_id, at) VALUES (?, ?, 0)');
    for (let i = 0; i < 120; i++) dd.run(`d${i % 5}`, `x${i}`);
    // Two events after the mark: their keys are in `events` only.
    const ev = d.prepare(
      "INSERT INTO events (seq, hlc, boot, clock_unsynced, type, subject, data, dedupe_device, dedupe_msg) VALUES (?, 'h', 1, 0, 't', 's', 'null', ?, ?)",
    );
    ev.run(251, 'dt', 'tail-1');
    ev.run(252, 'dt', 'tail-2');
    const { k, builds } = keys(d, 1_000, 50);
    k.start();
    expect(k.ready).toBe(false);
    expect(k.certainlyAbsent('nobody', 'n')).toBe(false);
    await turn();
    await turn();
    // A key "committed" behind the cursor, and one projected from the tail behind it.
    ins.run('d0', 'e0-late', 999);
    k.add('d0', 'e0-late');
    await untilReady(k);
    expect(builds[0]!.rows).toBe(250 + 120 + 2);
    expect(builds[0]!.chunks).toBeGreaterThan(5);
    for (let i = 0; i < 250; i++) expect(k.certainlyAbsent(`d${i % 7}`, `e${i}`)).toBe(false);
    for (let i = 0; i < 120; i++) expect(k.certainlyAbsent(`d${i % 5}`, `x${i}`)).toBe(false);
    expect(k.certainlyAbsent('dt', 'tail-1')).toBe(false);
    expect(k.certainlyAbsent('dt', 'tail-2')).toBe(false);
    expect(k.certainlyAbsent('d0', 'e0-late')).toBe(false);
    let absent = 0;
    for (let i = 0; i < 1_000; i++) if (k.certainlyAbsent('d0', `new-${i}`)) absent += 1;
    expect(absent).toBeGreaterThan(950);
  });

  it('rebuilds larger once more keys were added than it was sized for; the old filter answers meanwhile', async () => {
    const d = db();
    const ins = d.prepare('INSERT INTO dedupe (device_id, msg_id, at) VALUES (?, ?, 0)');
    for (let i = 0; i < 300; i++) ins.run('d', `k${i}`);
    const { k, builds } = keys(d, 100, 64);
    k.start();
    await untilReady(k);
    // The first build read 300 rows into a filter sized for 100: it rebuilt at 2 × 300.
    expect(builds.map((b) => b.capacity)).toEqual([100, 600]);
    for (let i = 300; i < 700; i++) {
      ins.run('d', `k${i}`);
      k.add('d', `k${i}`);
      // Never a false "absent", also while a rebuild runs.
      expect(k.certainlyAbsent('d', `k${i}`)).toBe(false);
      if (i % 50 === 0) await turn();
    }
    await untilReady(k);
    expect(builds.length).toBeGreaterThanOrEqual(3);
    expect(k.figures!.capacity).toBeGreaterThanOrEqual(1_200);
    for (let i = 0; i < 700; i++) expect(k.certainlyAbsent('d', `k${i}`)).toBe(false);
  });

  it('stops without touching a closed connection', async () => {
    const d = db();
    const { k } = keys(d, 10, 1);
    k.start();
    d.close();
    dbs.splice(dbs.indexOf(d), 1);
    await turn();
    await turn();
    expect(k.ready).toBe(false);
  });
});
