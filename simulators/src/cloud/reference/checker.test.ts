import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { SyncEvent } from '../../../../contracts/sync.js';
import { ingestBatch } from './batch-ingest.js';
import { checkSync } from './checker.js';
import { CloudDb } from './cloud-db.js';

interface Ev {
  type: string;
  subject: string;
  data: unknown;
}

let dir: string;
let gwPath: string;
let cloudPath: string;
const GW = 'gw-01';

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'checker-'));
  gwPath = join(dir, 'gateway.db');
  cloudPath = join(dir, 'cloud.db');
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

/** A gateway store with the schema the checker reads (gateway/src/storage/schema.ts). */
function writeGateway(events: Ev[], acked: number | null): SyncEvent[] {
  const db = new Database(gwPath);
  db.exec(`CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
           CREATE TABLE events (seq INTEGER PRIMARY KEY AUTOINCREMENT, hlc TEXT NOT NULL, boot INTEGER NOT NULL,
             clock_unsynced INTEGER NOT NULL, type TEXT NOT NULL, subject TEXT NOT NULL, data TEXT NOT NULL);`);
  const ins = db.prepare('INSERT INTO events(hlc, boot, clock_unsynced, type, subject, data) VALUES (?, 1, 0, ?, ?, ?)');
  const out: SyncEvent[] = [];
  events.forEach((e, i) => {
    const hlc = `${String(1_767_000_000_000 + i)}.000000`;
    ins.run(hlc, e.type, e.subject, JSON.stringify(e.data));
    out.push({ seq: i + 1, hlc, boot: 1, clock_unsynced: false, type: e.type, subject: e.subject, data: e.data });
  });
  if (acked !== null) db.prepare("INSERT INTO meta VALUES ('sync.acked_seq', ?)").run(String(acked));
  db.close();
  return out;
}

function plain(n: number): Ev[] {
  return Array.from({ length: n }, (_, i) => ({ type: 'shipment.weighed', subject: `shipment:s${i}`, data: { grams: 100 + i } }));
}

/** Delivers events to a real cloud store through the ingest path. */
function deliver(cloud: CloudDb, events: SyncEvent[]): void {
  const body = { v: 1 as const, gateway_id: GW, first_seq: events[0]!.seq, last_seq: events[events.length - 1]!.seq, sent_at: 0, events };
  ingestBatch(cloud, GW, body, { judge: () => null, maxNew: Number.POSITIVE_INFINITY, now: 1 });
}

function newCloud(): CloudDb {
  const c = new CloudDb(cloudPath);
  c.putGateway(GW, 'k', 0);
  return c;
}

describe('checkSync', () => {
  it('is ok when every acknowledged event arrived once, redeliveries counted, unsent events allowed', () => {
    const evs = writeGateway(plain(12), 10);
    const cloud = newCloud();
    deliver(cloud, evs.slice(0, 6));
    deliver(cloud, evs.slice(3, 10)); // 4..6 redelivered
    const r = checkSync({ gatewayDbPath: gwPath, cloud, gatewayId: GW });
    expect(r.problems).toEqual([]);
    expect(r.ok).toBe(true);
    expect(r.stats).toMatchObject({ gatewayEvents: 12, cloudEvents: 10, ackedSeq: 10, cloudHwm: 10, duplicatesReceived: 3, rejected: 0 });
    cloud.close();
  });

  it('reads a cloud db by path and treats a missing cursor as 0', () => {
    writeGateway(plain(3), null);
    newCloud().close();
    const r = checkSync({ gatewayDbPath: gwPath, cloud: cloudPath, gatewayId: GW });
    expect(r.ok).toBe(true);
    expect(r.stats.ackedSeq).toBe(0);
  });

  it('reports an acknowledged event missing from the cloud (and the gap it leaves)', () => {
    const evs = writeGateway(plain(6), 6);
    const cloud = newCloud();
    deliver(cloud, evs);
    cloud.db.prepare('DELETE FROM events WHERE gateway_id = ? AND seq = 4').run(GW);
    const r = checkSync({ gatewayDbPath: gwPath, cloud, gatewayId: GW });
    expect(r.ok).toBe(false);
    expect(r.problems.some((p) => p.includes('seq 4') && p.includes('not in the cloud'))).toBe(true);
    expect(r.problems.some((p) => p.includes('missing seqs 4..4'))).toBe(true);
    cloud.close();
  });

  it('reports a gap at the end of the cloud log below its hwm', () => {
    const evs = writeGateway(plain(6), 4);
    const cloud = newCloud();
    deliver(cloud, evs);
    cloud.db.prepare('DELETE FROM events WHERE gateway_id = ? AND seq = 6').run(GW);
    const r = checkSync({ gatewayDbPath: gwPath, cloud, gatewayId: GW });
    expect(r.problems).toEqual(['cloud hwm is 6 but it holds seqs only up to 5']);
    cloud.close();
  });

  it('reports content that differs between the gateway and the cloud', () => {
    const evs = writeGateway(plain(3), 3);
    const cloud = newCloud();
    deliver(cloud, evs);
    cloud.db.prepare(`UPDATE events SET data = '{"grams":999}' WHERE gateway_id = ? AND seq = 2`).run(GW);
    const r = checkSync({ gatewayDbPath: gwPath, cloud, gatewayId: GW });
    expect(r.problems).toEqual([expect.stringContaining('seq 2: cloud content differs')]);
    cloud.close();
  });

  it('ignores key order inside data', () => {
    const evs = writeGateway([{ type: 't', subject: 's', data: { a: 1, b: 2 } }], 1);
    const cloud = newCloud();
    deliver(cloud, evs);
    cloud.db.prepare(`UPDATE events SET data = '{"b":2,"a":1}'`).run();
    expect(checkSync({ gatewayDbPath: gwPath, cloud, gatewayId: GW }).ok).toBe(true);
    cloud.close();
  });

  it("reports a cloud hwm below the gateway's acknowledged cursor", () => {
    const evs = writeGateway(plain(8), 7);
    const cloud = newCloud();
    deliver(cloud, evs.slice(0, 5));
    const r = checkSync({ gatewayDbPath: gwPath, cloud, gatewayId: GW });
    expect(r.ok).toBe(false);
    expect(r.problems).toContain("cloud hwm 5 is below the gateway's acknowledged cursor 7");
    expect(r.problems.filter((p) => p.includes('acknowledged but not in the cloud'))).toHaveLength(2);
    cloud.close();
  });

  it('reports a seq the cloud holds that the gateway never wrote', () => {
    const evs = writeGateway(plain(3), 3);
    const cloud = newCloud();
    deliver(cloud, [...evs, { ...evs[2]!, seq: 4, subject: 'shipment:ghost' }]);
    const r = checkSync({ gatewayDbPath: gwPath, cloud, gatewayId: GW });
    expect(r.problems).toEqual(['cloud holds seq 4, which the gateway never wrote']);
    cloud.close();
  });

  it('reports a redelivery that carried other content (a conflict)', () => {
    const evs = writeGateway(plain(3), 3);
    const cloud = newCloud();
    deliver(cloud, evs);
    deliver(cloud, [{ ...evs[0]!, data: { grams: 1 } }]);
    const r = checkSync({ gatewayDbPath: gwPath, cloud, gatewayId: GW });
    expect(r.problems).toEqual(['seq 1: the cloud received 1 redelivery(ies) with different content']);
    expect(r.stats.conflicts).toBe(1);
    cloud.close();
  });

  it('reports an event stored twice by a cloud without the (gateway_id, seq) key', () => {
    writeGateway(plain(2), 2);
    const db = new Database(cloudPath);
    db.exec(`CREATE TABLE gateways (id TEXT, key TEXT, hwm INTEGER, created_at INTEGER);
             CREATE TABLE events (gateway_id TEXT, seq INTEGER, hlc TEXT, boot INTEGER, clock_unsynced INTEGER, type TEXT,
               subject TEXT, data TEXT, hash TEXT, status TEXT, code TEXT, reason TEXT, received_at INTEGER,
               deliveries INTEGER, retried_at INTEGER);
             CREATE TABLE conflicts (id INTEGER PRIMARY KEY, gateway_id TEXT, seq INTEGER, stored_hash TEXT,
               received_hash TEXT, received TEXT, at INTEGER);`);
    db.prepare("INSERT INTO gateways VALUES (?, 'k', 2, 0)").run(GW);
    const ins = db.prepare(`INSERT INTO events VALUES (?, ?, ?, 1, 0, 'shipment.weighed', ?, ?, 'h', 'accepted', NULL, NULL, 0, 1, NULL)`);
    ins.run(GW, 1, '1767000000000.000000', 'shipment:s0', '{"grams":100}');
    ins.run(GW, 2, '1767000000001.000000', 'shipment:s1', '{"grams":101}');
    ins.run(GW, 2, '1767000000001.000000', 'shipment:s1', '{"grams":101}');
    db.close();
    const r = checkSync({ gatewayDbPath: gwPath, cloud: cloudPath, gatewayId: GW });
    expect(r.problems).toEqual(['seq 2 is stored 2 times in the cloud']);
  });

  it('reports a cloud that does not know the gateway', () => {
    writeGateway(plain(1), 0);
    const cloud = new CloudDb(cloudPath);
    const r = checkSync({ gatewayDbPath: gwPath, cloud, gatewayId: GW });
    expect(r.problems).toEqual(['the cloud does not know gateway gw-01']);
    cloud.close();
  });

  describe('intercepted orders', () => {
    const opened = (sh: string, order: string): Ev => ({ type: 'shipment.opened', subject: `shipment:${sh}`, data: { order_id: order, station_id: 'st-01' } });
    const label = (sh: string): Ev => ({ type: 'shipment.label_queued', subject: `shipment:${sh}`, data: { job_id: `j-${sh}`, printer_id: 'p1' } });
    const shipped = (sh: string, order: string): Ev => ({ type: 'shipment.shipped', subject: `shipment:${sh}`, data: { order_id: order, job_id: `j-${sh}` } });
    const status = (order: string, s: string): Ev => ({
      type: 'order.status_applied',
      subject: `order:${order}`,
      data: { order_id: order, status: s, revision: 2 },
    });

    function run(events: Ev[]) {
      const evs = writeGateway(events, events.length);
      const cloud = newCloud();
      deliver(cloud, evs);
      const r = checkSync({ gatewayDbPath: gwPath, cloud, gatewayId: GW });
      cloud.close();
      return r;
    }

    it('flags a label queued after the order was cancelled (shipment → order through shipment.opened)', () => {
      const r = run([opened('s1', 'o1'), status('o1', 'cancelled'), label('s1')]);
      expect(r.ok).toBe(false);
      expect(r.problems).toEqual(['order o1 was cancelled at seq 2 but shipment s1 got shipment.label_queued at seq 3']);
      expect(r.stats.interceptViolations).toBe(1);
    });

    it('flags a parcel shipped after the gateway accepted a cancel', () => {
      const r = run([{ type: 'order.cancel_accepted', subject: 'order:o2', data: { request_id: 'r1', order_id: 'o2' } }, shipped('line-1', 'o2')]);
      expect(r.problems).toEqual(['order o2 was cancel_accepted at seq 1 but shipment line-1 got shipment.shipped at seq 2']);
    });

    it.each(['refund_requested', 'refunded', 'closed', 'shipped_elsewhere'])('flags shipping after %s', (s) => {
      const r = run([status('o3', s), opened('s3', 'o3'), label('s3'), shipped('s3', 'o3')]);
      expect(r.stats.interceptViolations).toBe(2);
    });

    it('allows shipping after a refund request was withdrawn, and shipping before the status arrived', () => {
      const r = run([
        status('o4', 'refund_requested'),
        status('o4', 'refund_withdrawn'),
        opened('s4', 'o4'),
        label('s4'),
        shipped('s4', 'o4'),
        opened('s5', 'o5'),
        label('s5'),
        shipped('s5', 'o5'),
        status('o5', 'cancelled'),
        { type: 'shipment.intercepted', subject: 'shipment:s6', data: { order_id: 'o5', code: 'PKL_ORDER_CANCELLED' } },
      ]);
      expect(r.problems).toEqual([]);
      expect(r.ok).toBe(true);
    });

    it('does not confuse orders', () => {
      const r = run([opened('s7', 'o7'), status('o8', 'cancelled'), label('s7'), shipped('s7', 'o7')]);
      expect(r.ok).toBe(true);
    });
  });

  describe('handovers and carrier switches', () => {
    const handed = (sh: string, m: string): Ev => ({
      type: 'shipment.handed_over',
      subject: `shipment:${sh}`,
      data: { order_id: `o-${sh}`, manifest_id: m, carrier: 'ZTO', waybill: `W-${sh}`, handed_over_at: 1 },
    });
    const switched = (order: string, id: string): Ev => ({
      type: 'order.carrier_switched',
      subject: `order:${order}`,
      data: { order_id: order, from_carrier: 'ZTO', to_carrier: 'SF', switch_id: id, new_waybill: `SF-${id}` },
    });

    function run(events: Ev[]) {
      const evs = writeGateway(events, events.length);
      const cloud = newCloud();
      deliver(cloud, evs);
      const r = checkSync({ gatewayDbPath: gwPath, cloud, gatewayId: GW });
      cloud.close();
      return r;
    }

    it('counts each parcel handed over and each switch once', () => {
      const r = run([handed('s1', 'M-1'), handed('s2', 'M-1'), switched('o9', 'r1:o9')]);
      expect(r.problems).toEqual([]);
      expect(r.stats.handovers).toBe(2);
      expect(r.stats.carrierSwitches).toBe(1);
    });

    it('flags a parcel handed over twice and a switch applied twice', () => {
      const r = run([handed('s1', 'M-1'), handed('s1', 'M-2'), switched('o9', 'r1:o9'), switched('o9', 'r1:o9')]);
      expect(r.problems).toEqual(['shipment:s1 was handed over at seq 1 and again at seq 2', 'carrier switch r1:o9 applied at seq 3 and again at seq 4']);
    });
  });

  describe('presale', () => {
    const imported = (o: string, presale: boolean): Ev => ({
      type: 'order.imported',
      subject: `order:${o}`,
      data: { order_id: o, revision: 1, lines: 1, source: 'cloud', ...(presale && { presale: true }) },
    });
    const paid = (o: string): Ev => ({ type: 'order.paid', subject: `order:${o}`, data: { order_id: o, at: 1, cached: true } });
    const parcel = (type: string, stg: string, o: string): Ev => ({ type, subject: `presale:${stg}`, data: { order_id: o, staging_id: stg } });
    const label = (sh: string, o: string): Ev => ({
      type: 'shipment.label_queued',
      subject: `shipment:${sh}`,
      data: { order_id: o, job_id: 'j', waybill: 'w', carrier: 'SF' },
    });

    function run(events: Ev[]) {
      const evs = writeGateway(events, events.length);
      const cloud = newCloud();
      deliver(cloud, evs);
      const r = checkSync({ gatewayDbPath: gwPath, cloud, gatewayId: GW });
      cloud.close();
      return r;
    }

    it('counts staged, released, unpacked and paid once each when the rules held', () => {
      const r = run([
        imported('p1', true),
        imported('p2', true),
        parcel('presale.staged', 'S1', 'p1'),
        parcel('presale.staged', 'S2', 'p2'),
        paid('p1'),
        parcel('presale.released', 'S1', 'p1'),
        label('S9', 'p1'),
        parcel('presale.unpacked', 'S2', 'p2'),
      ]);
      expect(r.problems).toEqual([]);
      expect(r.stats).toMatchObject({ presaleStaged: 2, presaleReleased: 1, presaleUnpacked: 1, presalePaid: 1 });
    });

    it('flags a release before payment, a carrier label for an unpaid order, a parcel released and unpacked, staged twice', () => {
      const r = run([
        imported('p1', true),
        parcel('presale.staged', 'S1', 'p1'),
        parcel('presale.released', 'S1', 'p1'),
        label('S9', 'p1'),
        parcel('presale.unpacked', 'S1', 'p1'),
        parcel('presale.staged', 'S1', 'p1'),
      ]);
      expect(r.problems).toEqual([
        'presale:S1 (order p1) was released at seq 3 before its payment',
        'order p1 is presale and unpaid but shipment:S9 got a carrier label at seq 4',
        'presale:S1 was unpacked at seq 5 after being released',
        'presale:S1 was staged twice (again at seq 6)',
      ]);
    });
  });
});
