/**
 * The reference cloud over real HTTP on 127.0.0.1, driven by a hand-rolled client built from
 * contracts/sync.ts alone (gzip + signRequest), so what passes here is what the contract says
 * — not what cloud-sync happens to do. node:http with a fresh connection per request (no
 * keep-alive pool) makes "refused", "reset" and "answered" unambiguous.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { TypeCompiler } from '@sinclair/typebox/compiler';
import Database from 'better-sqlite3';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { OrderInWire } from '../../../contracts/orders.js';
import {
  BatchAck,
  type BatchBody,
  ChangesPage,
  SYNC_HEADERS,
  SYNC_LIMITS,
  SYNC_PATHS,
  SyncErrorBody,
  type SyncEvent,
  batchIdempotencyKey,
  signRequest,
} from '../../../contracts/sync.js';
import { checkSync } from '../../src/cloud/reference/checker.js';
import { ReferenceCloud } from '../../src/cloud/reference/reference-cloud.js';

const GW = 'gw-01';
const KEY = 'test-key-gw-01';
const isAck = TypeCompiler.Compile(BatchAck);
const isPage = TypeCompiler.Compile(ChangesPage);
const isError = TypeCompiler.Compile(SyncErrorBody);

interface Answer {
  status: number;
  body: any;
}

/** A transport failure: the cloud gave no answer. */
class NoAnswer extends Error {
  constructor(readonly code: string) {
    super(`no answer: ${code}`);
  }
}

let dir: string;
let cloud: ReferenceCloud;

function url(): URL {
  return new URL(cloud.url);
}

/** One HTTP exchange on a fresh connection. */
function exchange(method: string, path: string, headers: Record<string, string>, body: Uint8Array | null, timeoutMs = 10_000): Promise<Answer> {
  const u = url();
  return new Promise((resolve, reject) => {
    const req = request({ host: u.hostname, port: u.port, method, path, headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString();
        resolve({ status: res.statusCode ?? 0, body: text === '' ? null : JSON.parse(text) });
      });
      res.on('error', (e: NodeJS.ErrnoException) => reject(new NoAnswer(e.code ?? e.message)));
    });
    req.setTimeout(timeoutMs, () => req.destroy(Object.assign(new Error('timeout'), { code: 'TIMEOUT' })));
    req.on('error', (e: NodeJS.ErrnoException) => reject(new NoAnswer(e.code ?? e.message)));
    req.end(body ?? undefined);
  });
}

interface SignOpts {
  key?: string;
  gatewayId?: string;
  timestamp?: number;
  idempotencyKey?: string;
  /** Alter the body after signing. */
  tamper?: (b: Buffer) => Buffer;
}

/** Signs and sends, the way contracts/sync.ts describes (signature over the gzip bytes). */
function signed(method: 'GET' | 'POST', path: string, wire: Buffer | null, o: SignOpts = {}, timeoutMs?: number): Promise<Answer> {
  const gatewayId = o.gatewayId ?? GW;
  const timestamp = o.timestamp ?? Date.now();
  const body = wire ?? Buffer.alloc(0);
  const headers: Record<string, string> = {
    [SYNC_HEADERS.gateway]: gatewayId,
    [SYNC_HEADERS.timestamp]: String(timestamp),
    [SYNC_HEADERS.signature]: signRequest(o.key ?? KEY, {
      method,
      path,
      gatewayId,
      timestamp,
      ...(o.idempotencyKey !== undefined ? { idempotencyKey: o.idempotencyKey } : {}),
      body,
    }),
  };
  if (o.idempotencyKey !== undefined) headers[SYNC_HEADERS.idempotencyKey] = o.idempotencyKey;
  if (method === 'POST') {
    headers['content-type'] = 'application/json';
    headers['content-encoding'] = 'gzip';
  }
  const sent = wire === null ? null : (o.tamper?.(body) ?? body);
  return exchange(method, path, headers, sent, timeoutMs);
}

const ev = (seq: number, over: Partial<SyncEvent> = {}): SyncEvent => ({
  seq,
  hlc: `${1_767_000_000_000 + seq}.${String(seq % 1000).padStart(6, '0')}`,
  boot: 1,
  clock_unsynced: false,
  type: 'shipment.weighed',
  subject: `shipment:s${seq}`,
  data: { grams: 1000 + seq },
  ...over,
});
const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => ev(from + i));

function batchBody(events: SyncEvent[]): BatchBody {
  return { v: 1, gateway_id: GW, first_seq: events[0]!.seq, last_seq: events[events.length - 1]!.seq, sent_at: Date.now(), events };
}

function postBatch(events: SyncEvent[], o: SignOpts = {}, timeoutMs?: number): Promise<Answer> {
  const b = batchBody(events);
  return signed(
    'POST',
    SYNC_PATHS.batches(GW),
    gzipSync(JSON.stringify(b)),
    {
      idempotencyKey: batchIdempotencyKey(GW, b.first_seq, b.last_seq),
      ...o,
    },
    timeoutMs,
  );
}

function postRetry(events: SyncEvent[]): Promise<Answer> {
  return signed('POST', SYNC_PATHS.retries(GW), gzipSync(JSON.stringify({ v: 1, gateway_id: GW, events })));
}

function getChanges(after: string, limit: number): Promise<Answer> {
  const q = new URLSearchParams({ after, limit: String(limit) });
  return signed('GET', `${SYNC_PATHS.changes(GW)}?${q.toString()}`, null);
}

function admin(method: string, path: string, body?: unknown): Promise<Answer> {
  const data = body === undefined ? null : Buffer.from(JSON.stringify(body));
  return exchange(method, path, data === null ? {} : { 'content-type': 'application/json' }, data);
}

async function noAnswer(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (err) {
    if (err instanceof NoAnswer) return err.code;
    throw err;
  }
  throw new Error('the cloud answered');
}

async function waitFor<T>(fn: () => Promise<T | null | undefined | false>, timeoutMs = 20_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) throw new Error('waitFor: condition not met in time');
    await new Promise((r) => setTimeout(r, 20));
  }
}

const stored = (seq: number) => cloud.db.event(GW, seq);
const order = (id: string, extra: Partial<OrderInWire> = {}): OrderInWire => ({
  order_id: id,
  lines: [{ sku: 'SKU-1', barcode: '6901234567892', name: 'mug', qty: 1, unit_grams: 350 }],
  ...extra,
});

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'ref-cloud-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

let n = 0;
beforeEach(async () => {
  n += 1;
  cloud = new ReferenceCloud({ dbPath: join(dir, `cloud-${n}.db`), gateways: { [GW]: KEY, 'gw-02': 'other' }, seed: 7 });
  await cloud.start();
});
afterEach(async () => {
  await cloud.stop();
});

describe('batches', () => {
  it('stores a batch, then acks its last seq', async () => {
    const a = await postBatch(range(1, 5));
    expect(a.status).toBe(200);
    expect(isAck.Check(a.body)).toBe(true);
    expect(a.body).toEqual({ v: 1, acked_seq: 5, rejected: [] });
    expect(cloud.db.hwm(GW)).toBe(5);
    expect(stored(5)).toMatchObject({ status: 'accepted', deliveries: 1, subject: 'shipment:s5', data: '{"grams":1005}' });
    const c = await signed('GET', SYNC_PATHS.cursor(GW), null);
    expect(c.body).toEqual({ v: 1, acked_seq: 5 });
  });

  it('answers a redelivery as duplicate, counts the delivery and stores no second row', async () => {
    await postBatch(range(1, 5));
    const a = await postBatch(range(1, 5));
    expect(a.body).toEqual({ v: 1, acked_seq: 5, rejected: [], duplicate: true });
    expect(stored(3)!.deliveries).toBe(2);
    const rows = cloud.db.db.prepare('SELECT COUNT(*) FROM events WHERE gateway_id = ?').pluck().get(GW);
    expect(rows).toBe(5);
  });

  it('keeps the ack at the hwm when a batch starts after a gap', async () => {
    await postBatch(range(1, 3));
    const a = await postBatch(range(6, 8));
    expect(a.body).toEqual({ v: 1, acked_seq: 3, rejected: [] });
    expect(stored(6)).toBeNull();
    const resend = await postBatch(range(4, 8));
    expect(resend.body.acked_seq).toBe(8);
  });

  it('refuses a bad signature (401) and stores nothing', async () => {
    const a = await postBatch(range(1, 2), { key: 'wrong' });
    expect(a.status).toBe(401);
    expect(isError.Check(a.body)).toBe(true);
    expect(a.body.error.code).toBe('SYNC_UNAUTHORIZED');
    const tampered = await postBatch(range(1, 2), { tamper: (_b) => gzipSync(JSON.stringify(batchBody(range(1, 3)))) });
    expect(tampered.status).toBe(401);
    expect(cloud.db.hwm(GW)).toBe(0);
    expect(stored(1)).toBeNull();
  });

  it('refuses an unknown gateway, another gateway key, and a stale timestamp', async () => {
    const b = gzipSync(JSON.stringify({ ...batchBody(range(1, 1)), gateway_id: 'gw-99' }));
    expect((await signed('POST', SYNC_PATHS.batches('gw-99'), b, { gatewayId: 'gw-99' })).body.error.code).toBe('SYNC_UNAUTHORIZED');
    // gw-02 signs with its own valid key but names gw-01's path.
    expect((await postBatch(range(1, 1), { gatewayId: 'gw-02', key: 'other' })).status).toBe(401);
    const stale = await postBatch(range(1, 1), { timestamp: Date.now() - SYNC_LIMITS.signatureSkewMs - 60_000 });
    expect(stale.status).toBe(401);
    expect(stale.body.error.code).toBe('SYNC_STALE_REQUEST');
    expect(stored(1)).toBeNull();
  });

  it('verifies the signature before decompressing: a zip bomb with a bad signature is a 401, a signed one a 413', async () => {
    const bomb = gzipSync(Buffer.alloc(SYNC_LIMITS.maxBatchBytes + 1024, 0x20));
    expect(bomb.length).toBeLessThan(SYNC_LIMITS.maxWireBytes);
    const path = SYNC_PATHS.batches(GW);
    expect((await signed('POST', path, bomb, { key: 'wrong' })).status).toBe(401);
    const signedBomb = await signed('POST', path, bomb);
    expect(signedBomb.status).toBe(413);
    expect(signedBomb.body.error.code).toBe('SYNC_TOO_LARGE');
  });

  it('answers 413 above the wire limit and 400 for what is not a gzip BatchBody', async () => {
    const big = Buffer.alloc(SYNC_LIMITS.maxWireBytes + 1, 1);
    expect((await signed('POST', SYNC_PATHS.batches(GW), big)).status).toBe(413);
    const plain = await signed('POST', SYNC_PATHS.batches(GW), Buffer.from(JSON.stringify(batchBody(range(1, 1)))));
    expect([plain.status, plain.body.error.code]).toEqual([400, 'SYNC_MALFORMED']);
    const notJson = await signed('POST', SYNC_PATHS.batches(GW), gzipSync('{nope'));
    expect(notJson.status).toBe(400);
    const wrongShape = await signed('POST', SYNC_PATHS.batches(GW), gzipSync(JSON.stringify({ ...batchBody(range(1, 1)), v: 2 })));
    expect(wrongShape.status).toBe(400);
    const holes = { ...batchBody([ev(1), ev(3)]), last_seq: 3 };
    expect((await signed('POST', SYNC_PATHS.batches(GW), gzipSync(JSON.stringify(holes)))).status).toBe(400);
    expect(cloud.db.hwm(GW)).toBe(0);
  });

  it('stores a rejected event without blocking the ones after it; a retry after the rule is lifted accepts it', async () => {
    await cloud.setFaults({ rejectSubjects: '^shipment:s3$' });
    const a = await postBatch(range(1, 5));
    expect(a.body.acked_seq).toBe(5);
    expect(a.body.rejected).toEqual([{ seq: 3, code: 'TEST_REJECTED', reason: expect.any(String) }]);
    expect(stored(3)!.status).toBe('rejected');
    expect(stored(4)!.status).toBe('accepted');
    const still = await postRetry([ev(3)]);
    expect(still.body).toMatchObject({ acked_seq: 5, accepted: [], rejected: [{ seq: 3 }] });
    await cloud.clearFaults();
    const r = await postRetry([ev(3)]);
    expect(isAck.Check(r.body)).toBe(true);
    expect(r.body).toEqual({ v: 1, acked_seq: 5, rejected: [], accepted: [3] });
    expect(stored(3)).toMatchObject({ status: 'accepted', code: null });
  });

  it('refuses a shipment of an order the cloud cancelled (ORDER_CANCELLED) and marks shipped ones', async () => {
    await admin('POST', '/admin/orders', [order('o-1'), order('o-2')]);
    await admin('POST', '/admin/orders/o-2/status', { status: 'cancelled' });
    const a = await postBatch([
      ev(1, { type: 'shipment.shipped', subject: 'shipment:a', data: { order_id: 'o-1', waybill: 'SF1' } }),
      ev(2, { type: 'shipment.shipped', subject: 'shipment:b', data: { order_id: 'o-2', waybill: 'SF2' } }),
    ]);
    expect(a.body.rejected.map((r: any) => [r.seq, r.code])).toEqual([[2, 'ORDER_CANCELLED']]);
    expect((await admin('GET', '/admin/orders/o-1')).body.shipped_by).toBe('gw-01:1');
  });
});

describe('fault modes', () => {
  it('errorShare: 503 and nothing stored', async () => {
    await cloud.setFaults({ errorShare: 1 });
    const a = await postBatch(range(1, 3));
    expect(a.status).toBe(503);
    expect(isError.Check(a.body)).toBe(true);
    expect(stored(1)).toBeNull();
  });

  it('latency: still answers correctly', async () => {
    await cloud.setFaults({ latencyMs: 50, jitterMs: 20 });
    expect((await postBatch(range(1, 2))).body.acked_seq).toBe(2);
  });

  it('hang: no answer (the client times out) and nothing stored', async () => {
    await cloud.setFaults({ hang: true });
    expect(await noAnswer(postBatch(range(1, 2), {}, 300))).toBe('TIMEOUT');
    expect(stored(1)).toBeNull();
    expect(cloud.faults.counters.hangs).toBe(1);
  });

  it('resetShare: connection reset before anything is stored', async () => {
    await cloud.setFaults({ resetShare: 1 });
    expect(await noAnswer(postBatch(range(1, 2)))).toMatch(/ECONNRESET|socket hang up/);
    expect(stored(1)).toBeNull();
  });

  it('lostAckShare: stored, then the connection dropped; the resend is a harmless duplicate', async () => {
    await cloud.setFaults({ lostAckShare: 1 });
    expect(await noAnswer(postBatch(range(1, 4)))).toMatch(/ECONNRESET|socket hang up/);
    expect(cloud.db.hwm(GW)).toBe(4);
    await cloud.clearFaults();
    const again = await postBatch(range(1, 4));
    expect(again.body).toEqual({ v: 1, acked_seq: 4, rejected: [], duplicate: true });
    expect(stored(4)!.deliveries).toBe(2);
  });

  it('duplicateAckShare: stores the batch but replays the previous (stale) ack', async () => {
    await postBatch(range(1, 3));
    await cloud.setFaults({ duplicateAckShare: 1 });
    const a = await postBatch(range(4, 6));
    expect(a.body).toEqual({ v: 1, acked_seq: 3, rejected: [] });
    expect(cloud.db.hwm(GW)).toBe(6);
    await cloud.clearFaults();
    expect((await signed('GET', SYNC_PATHS.cursor(GW), null)).body.acked_seq).toBe(6);
  });

  it('slowDrain: stores only the first N new events of each batch and acks up to there', async () => {
    await cloud.setFaults({ slowDrain: { maxEventsPerBatch: 3 } });
    expect((await postBatch(range(1, 10))).body.acked_seq).toBe(3);
    expect((await postBatch(range(4, 10))).body.acked_seq).toBe(6);
    expect(stored(7)).toBeNull();
  });

  it('rejectShare: a seeded share of events is rejected, the same on every run', async () => {
    await cloud.setFaults({ rejectShare: 0.5 });
    const a = await postBatch(range(1, 40));
    const first = a.body.rejected.map((r: any) => r.seq);
    expect(first.length).toBeGreaterThan(5);
    expect(first.length).toBeLessThan(35);
    expect(a.body.acked_seq).toBe(40);
    // The same seed and request order on a fresh cloud rejects the same events.
    await cloud.stop();
    cloud = new ReferenceCloud({ dbPath: join(dir, `cloud-${n}-replay.db`), gateways: { [GW]: KEY }, seed: 7 });
    await cloud.start();
    await cloud.setFaults({ rejectShare: 0.5 });
    expect((await postBatch(range(1, 40))).body.rejected.map((r: any) => r.seq)).toEqual(first);
  });

  it('down: connections refused, then back on the same port', async () => {
    await postBatch(range(1, 2));
    const before = cloud.url;
    await cloud.setFaults({ down: true });
    expect(await noAnswer(postBatch(range(3, 4)))).toBe('ECONNREFUSED');
    expect(await noAnswer(admin('GET', '/admin/stats'))).toBe('ECONNREFUSED');
    await cloud.clearFaults();
    expect(cloud.url).toBe(before);
    expect((await postBatch(range(3, 4))).body.acked_seq).toBe(4);
  });

  it('down through the admin API answers first, then refuses, then comes back by itself', async () => {
    const put = await admin('PUT', '/admin/faults', { down: true, downForMs: 400 });
    expect(put.status).toBe(200);
    expect(put.body.faults.down).toBe(true);
    expect(await noAnswer(postBatch(range(1, 1)))).toBe('ECONNREFUSED');
    const back = await waitFor(async () => {
      try {
        return await postBatch(range(1, 1));
      } catch {
        return null;
      }
    });
    expect(back.body.acked_seq).toBe(1);
  });

  it('PUT /admin/faults replaces the settings and refuses a bad one', async () => {
    await admin('PUT', '/admin/faults', { errorShare: 1 });
    expect((await postBatch(range(1, 1))).status).toBe(503);
    expect((await admin('PUT', '/admin/faults', { rejectSubjects: '(' })).status).toBe(400);
    expect((await admin('PUT', '/admin/faults', { errorShare: 2 })).status).toBe(400);
    await admin('PUT', '/admin/faults', {});
    expect((await postBatch(range(1, 1))).status).toBe(200);
    const stats = (await admin('GET', '/admin/stats')).body;
    expect(stats.faults.counters.errors).toBe(1);
    expect(stats.gateways[GW]).toMatchObject({ hwm: 1, events: 1 });
  });
});

describe('change feed and admin', () => {
  it('pages with the cursor; an empty page returns the request cursor', async () => {
    const up = await admin(
      'POST',
      '/admin/orders',
      ['a', 'b', 'c', 'd', 'e'].map((id) => order(`o-${id}`)),
    );
    expect(up.body).toMatchObject({ upserted: 5, stale: [] });
    const seen: string[] = [];
    let after = '';
    let pages = 0;
    for (;;) {
      const p = await getChanges(after, 2);
      expect(p.status).toBe(200);
      expect(isPage.Check(p.body)).toBe(true);
      pages += 1;
      for (const c of p.body.changes) seen.push(c.order.order_id);
      after = p.body.next_cursor;
      if (!p.body.has_more) break;
    }
    expect(pages).toBe(3);
    expect(seen).toEqual(['o-a', 'o-b', 'o-c', 'o-d', 'o-e']);
    const empty = await getChanges(after, 2);
    expect(empty.body).toEqual({ v: 1, changes: [], next_cursor: after, has_more: false });
    expect((await getChanges('x1', 2)).status).toBe(400);
  });

  it('a status change and a cancel request appear in the feed; the gateway answer closes the request', async () => {
    await admin('POST', '/admin/orders', [order('o-9', { revision: 4 })]);
    const start = (await getChanges('', 100)).body.next_cursor;
    const s = await admin('POST', '/admin/orders/o-9/status', { status: 'refund_requested', at: 1_767_000_000_000 });
    expect(s.body).toMatchObject({ revision: 5 });
    const c = await admin('POST', '/admin/orders/o-9/cancel-request', { request_id: 'req-1', reason: 'buyer' });
    expect(c.status).toBe(201);
    const feed = await getChanges(start, 100);
    expect(isPage.Check(feed.body)).toBe(true);
    expect(feed.body.changes).toEqual([
      { cursor: expect.any(String), kind: 'order.status', order_id: 'o-9', status: 'refund_requested', revision: 5, at: 1_767_000_000_000 },
      { cursor: expect.any(String), kind: 'order.cancel_request', order_id: 'o-9', request_id: 'req-1', reason: 'buyer', at: expect.any(Number) },
    ]);
    expect((await admin('POST', '/admin/orders/nope/status', { status: 'cancelled' })).status).toBe(404);
    expect((await admin('POST', '/admin/orders/o-9/status', { status: 'lost' })).status).toBe(400);

    await postBatch([ev(1, { type: 'order.cancel_accepted', subject: 'order:o-9', data: { request_id: 'req-1', order_id: 'o-9', tag: 'owner_cancelled' } })]);
    const req = (await admin('GET', '/admin/cancel-requests/req-1')).body;
    expect(req).toMatchObject({ state: 'accepted', answered_by: 'gw-01:1', answer: { request_id: 'req-1' } });
    const events = (await admin('GET', `/admin/gateways/${GW}/events?after=0&limit=10`)).body;
    expect(events.events[0]).toMatchObject({ seq: 1, type: 'order.cancel_accepted', data: { order_id: 'o-9' } });
  });
});

describe('checker against a live run', () => {
  function gatewayDb(path: string, events: SyncEvent[]): Database.Database {
    const db = new Database(path);
    db.exec(`CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
             CREATE TABLE events (seq INTEGER PRIMARY KEY AUTOINCREMENT, hlc TEXT NOT NULL, boot INTEGER NOT NULL,
               clock_unsynced INTEGER NOT NULL, type TEXT NOT NULL, subject TEXT NOT NULL, data TEXT NOT NULL);`);
    const ins = db.prepare('INSERT INTO events(seq, hlc, boot, clock_unsynced, type, subject, data) VALUES (?, ?, ?, ?, ?, ?, ?)');
    for (const e of events) ins.run(e.seq, e.hlc, e.boot, e.clock_unsynced ? 1 : 0, e.type, e.subject, JSON.stringify(e.data));
    return db;
  }

  it('is ok after a flaky run, and reports a tampered cloud db', async () => {
    const events = range(1, 60);
    const gwPath = join(dir, `gateway-${n}.db`);
    const gw = gatewayDb(gwPath, events);
    await cloud.setFaults({ lostAckShare: 0.3, duplicateAckShare: 0.2, resetShare: 0.1, slowDrain: { maxEventsPerBatch: 7 } });
    // A minimal gateway loop: send from the acked cursor, advance only on a higher ack.
    let acked = 0;
    for (let i = 0; i < 200 && acked < events.length; i++) {
      try {
        const a = await postBatch(events.slice(acked, acked + 10));
        if (a.status === 200 && a.body.acked_seq > acked) acked = a.body.acked_seq;
      } catch (err) {
        if (!(err instanceof NoAnswer)) throw err;
      }
      gw.prepare("INSERT OR REPLACE INTO meta VALUES ('sync.acked_seq', ?)").run(String(acked));
    }
    gw.close();
    expect(acked).toBe(60);
    const good = checkSync({ gatewayDbPath: gwPath, cloud: cloud.db, gatewayId: GW });
    expect(good.problems).toEqual([]);
    expect(good.ok).toBe(true);
    expect(good.stats).toMatchObject({ gatewayEvents: 60, cloudEvents: 60, ackedSeq: 60 });
    expect(good.stats.duplicatesReceived).toBeGreaterThan(0);

    const dbPath = cloud.db.path;
    await cloud.stop();
    const tamper = new Database(dbPath);
    tamper.prepare('DELETE FROM events WHERE gateway_id = ? AND seq = 17').run(GW);
    tamper.prepare(`UPDATE events SET data = '{"grams":0}' WHERE gateway_id = ? AND seq = 30`).run(GW);
    tamper.close();
    const bad = checkSync({ gatewayDbPath: gwPath, cloud: dbPath, gatewayId: GW });
    expect(bad.ok).toBe(false);
    expect(bad.problems).toEqual(
      expect.arrayContaining([
        'cloud is missing seqs 17..17 (gap before 18)',
        'seq 17 (shipment.weighed) is acknowledged but not in the cloud',
        expect.stringContaining('seq 30: cloud content differs'),
      ]),
    );
    await cloud.start(); // afterEach stops it
  });
});

describe('main.ts', () => {
  it('prints its URL, serves, and stops on SIGTERM', async () => {
    const child = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        'simulators/src/cloud/reference/main.ts',
        '--port',
        '0',
        '--db',
        join(dir, 'main.db'),
        '--gateway',
        `${GW}:${KEY}`,
        '--log-level',
        'warn',
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let out = '';
    child.stdout.on('data', (c: Buffer) => {
      out += c.toString();
    });
    const line = await waitFor(async () => out.includes('\n') && out);
    const { url: base } = JSON.parse(line) as { url: string };
    const u = new URL(base);
    const stats = await new Promise<number>((resolve, reject) => {
      request({ host: u.hostname, port: u.port, path: '/admin/stats', agent: false }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      })
        .on('error', reject)
        .end();
    });
    expect(stats).toBe(200);
    child.kill('SIGTERM');
    const [code] = await once(child, 'exit');
    expect(code).toBe(0);
  });
});
