/**
 * The reference cloud's stock model (cloud-stock.ts) through the real ingest path, and the
 * checker's stock and picking checks (checker.ts 5 and 6) against a gateway log written here.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { SyncEvent } from '../../../../contracts/sync.js';
import { ingestBatch } from './batch-ingest.js';
import { checkSync } from './checker.js';
import { CloudDb } from './cloud-db.js';
import { putFloor } from './cloud-floor.js';
import { cloudStock } from './cloud-stock.js';

interface Ev {
  type: string;
  subject: string;
  data: unknown;
}

const GW = 'gw-01';
let dir: string;
let gwPath: string;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'cloud-stock-'));
  gwPath = join(dir, 'gateway.db');
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

function writeGateway(events: Ev[], acked: number): SyncEvent[] {
  const db = new Database(gwPath);
  db.exec(`CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
           CREATE TABLE events (seq INTEGER PRIMARY KEY AUTOINCREMENT, hlc TEXT NOT NULL, boot INTEGER NOT NULL,
             clock_unsynced INTEGER NOT NULL, type TEXT NOT NULL, subject TEXT NOT NULL, data TEXT NOT NULL);`);
  const ins = db.prepare('INSERT INTO events(hlc, boot, clock_unsynced, type, subject, data) VALUES (?, 1, 0, ?, ?, ?)');
  const out: SyncEvent[] = events.map((e, i) => {
    const hlc = `${String(1_767_000_000_000 + i)}.000000`;
    ins.run(hlc, e.type, e.subject, JSON.stringify(e.data));
    return { seq: i + 1, hlc, boot: 1, clock_unsynced: false, type: e.type, subject: e.subject, data: e.data };
  });
  db.prepare("INSERT INTO meta VALUES ('sync.acked_seq', ?)").run(String(acked));
  db.close();
  return out;
}

function deliver(cloud: CloudDb, events: SyncEvent[]): void {
  const body = { v: 1 as const, gateway_id: GW, first_seq: events[0]!.seq, last_seq: events[events.length - 1]!.seq, sent_at: 0, events };
  ingestBatch(cloud, GW, body, { judge: () => null, maxNew: Number.POSITIVE_INFINITY, now: 1 });
}

/** The cloud's counts as the gateway's log holds them once pulled (change-applier.ts). */
function countsAsPulled(cloud: CloudDb): Ev[] {
  return cloud
    .changes(0, 1000)
    .filter((c) => c.kind === 'stock.set')
    .map((c) => {
      const b = JSON.parse(c.body) as { location: string; sku: string; qty: number; revision: number; as_of_seq: number };
      return {
        type: 'stock.set',
        subject: `stock:${b.location}/${b.sku}`,
        data: { location: b.location, sku: b.sku, qty: b.qty, revision: b.revision, as_of_seq: b.as_of_seq },
      };
    });
}

const W = 'W-1';
/** A wave of two orders on two faces, picked, one order refunded mid-wave and pulled, a short, a replenishment. */
function pickingDay(): Ev[] {
  const s = `wave:${W}`;
  return [
    {
      type: 'wave.built',
      subject: s,
      data: {
        wave_id: W,
        mode: 'wave',
        orders: ['O-1', 'O-2'],
        lines: [
          [
            1,
            'A-1',
            'SKU-A',
            [
              ['O-1', 2],
              ['O-2', 1],
            ],
          ],
          [2, 'A-2', 'SKU-B', [['O-2', 4]]],
        ],
        barcodes: {},
      },
    },
    { type: 'pick.started', subject: s, data: { wave_id: W, device_id: 'pda-1', operator: null } },
    { type: 'pick.confirmed', subject: s, data: { wave_id: W, line_no: 1, location: 'A-1', sku: 'SKU-A', qty: 3, device_id: 'pda-1' } },
    { type: 'pick.confirmed', subject: s, data: { wave_id: W, line_no: 2, location: 'A-2', sku: 'SKU-B', qty: 1, device_id: 'pda-1' } },
    { type: 'order.status_applied', subject: 'order:O-2', data: { order_id: 'O-2', status: 'refunded', revision: 2 } },
    {
      type: 'pick.order_pulled',
      subject: s,
      data: {
        wave_id: W,
        order_id: 'O-2',
        code: 'PKL_INTERCEPT_REFUNDED',
        returned: [
          [1, 1],
          [2, 1],
        ],
      },
    },
    { type: 'stock.corrected', subject: 'location:A-1', data: { location: 'A-1', sku: 'SKU-A', from: 7, to: 0, reason: 'short_damaged' } },
    { type: 'replenishment.confirmed', subject: 'replenishment:R-1', data: { request_id: 'R-1', from: 'R-9', to: 'A-1', sku: 'SKU-A', qty: 10 } },
    { type: 'wave.closed', subject: s, data: { wave_id: W } },
  ];
}

describe('the reference cloud stock model and the checker', () => {
  it('applies each move once (redelivery included) and matches the gateway log', () => {
    const cloud = new CloudDb(join(dir, 'cloud.db'));
    cloud.putGateway(GW, 'k', 0);
    cloud.transaction(() =>
      putFloor(
        cloud,
        {
          gatewayId: GW,
          stock: [
            { location: 'A-1', sku: 'SKU-A', qty: 10 },
            { location: 'A-2', sku: 'SKU-B', qty: 5 },
            { location: 'R-9', sku: 'SKU-A', qty: 100 },
          ],
        },
        1,
      ),
    );
    const evs = writeGateway([...countsAsPulled(cloud), ...pickingDay()], 12);
    deliver(cloud, evs.slice(0, 8));
    deliver(cloud, evs.slice(2, 12)); // redelivers 3..8
    const stock = new Map(cloudStock(cloud.db).map((r) => [`${r.location}/${r.sku}`, r.qty]));
    // A-1 moves: −3 picked, +1 returned by the pull, −7 corrected (7 → 0), +10 replenished.
    expect(Object.fromEntries(stock)).toEqual({ 'A-1/SKU-A': 10 - 3 + 1 - 7 + 10, 'A-2/SKU-B': 5 - 1 + 1, 'R-9/SKU-A': 90 });
    const r = checkSync({ gatewayDbPath: gwPath, cloud, gatewayId: GW });
    expect(r.problems).toEqual([]);
    expect(r.stats).toMatchObject({ picks: { lines: 2, units: 4 }, stockCompared: 3, stockMismatches: 0, stockPendingCounts: 0 });
    cloud.close();
  });

  it('a count the gateway has not pulled is pending; a move applied twice, an over-pick and an unpulled intercepted order are problems', () => {
    const cloud = new CloudDb(join(dir, 'cloud.db'));
    cloud.putGateway(GW, 'k', 0);
    cloud.transaction(() => putFloor(cloud, { gatewayId: GW, stock: [{ location: 'A-1', sku: 'SKU-A', qty: 10 }] }, 1));
    const day = pickingDay().filter((e) => e.type !== 'pick.order_pulled');
    day.splice(3, 0, {
      type: 'pick.confirmed',
      subject: `wave:${W}`,
      data: { wave_id: W, line_no: 1, location: 'A-1', sku: 'SKU-A', qty: 1, device_id: 'pda-1' },
    });
    const evs = writeGateway([...countsAsPulled(cloud), ...day.slice(0, -1)], 0);
    deliver(cloud, evs);
    // A newer cloud count for another pair, not pulled by the gateway.
    cloud.transaction(() => putFloor(cloud, { gatewayId: GW, stock: [{ location: 'A-3', sku: 'SKU-C', qty: 4 }] }, 2));
    // A move the cloud applied twice (as a bug would).
    cloud.db.prepare("INSERT INTO stock_moves VALUES (?, 999, 0, 'A-1', 'SKU-A', -1, 'pick.confirmed')").run(GW);
    const r = checkSync({ gatewayDbPath: gwPath, cloud, gatewayId: GW });
    expect(r.stats.stockPendingCounts).toBe(1);
    expect(r.stats.stockMismatches).toBeGreaterThan(0);
    expect(r.problems.some((p) => p.startsWith('SKU-A at A-1: cloud holds'))).toBe(true);
    expect(r.problems.some((p) => p.includes('wave W-1 line 1: 4 units picked of 3'))).toBe(true);
    expect(r.problems.some((p) => p.includes('order O-2') && p.includes('never pulled from wave W-1'))).toBe(true);
    cloud.close();
  });
});
