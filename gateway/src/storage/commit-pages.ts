/**
 * What the acknowledged steps of a shipment write, page by page: the real schema (schema.ts)
 * and the real unit applier (unit-applier.ts) apply the four units the station commits for
 * one shipment (order scan, item scan, weight → label, print result; station/decide), each in
 * its own transaction as the writer does at low rates, with the WAL's auto-checkpoint off.
 * Then the WAL is read frame by frame (sqlite.org/fileformat2.html §4.1: a 32-byte header,
 * then per frame a 24-byte header whose first field is the page number, then the page) and
 * each page image is attributed to the table or index that owns the page (the `dbstat`
 * virtual table, sqlite.org/dbstat.html). Byte and page counts are exact and independent of
 * CPU load: `npm run bench -- pages` prints them, commit-pages.test.ts holds the hot path to them.
 */
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { configureWriterConnection, migrate } from './schema.js';
import type { WriteOp } from './types.js';
import { UnitApplier } from './unit-applier.js';
import { EventProjector, TailKeys } from './event-projector.js';

const LABEL = `^XA^CI28^PW812^LL1218${'^FO40,40^A0N,40,40^FDPacking slip line^FS'.repeat(28)}^XZ`;

/** The units the station writes for one shipment (station/decide: scan, item, weight, print result). */
export function shipmentUnits(n: number, at: number): WriteOp[][] {
  const id = `S-gw1-1-${n.toString(36)}`;
  const job = `J-gw1-1-${n.toString(36)}`;
  const orderId = `O-${100000 + n}`;
  const station = `st-${n % 168}`;
  const dev = (role: string) => `${station}-${role}`;
  const base = {
    shipmentId: id,
    orderId,
    stationId: station,
    reasonCode: null,
    expectedGrams: 1250,
    actualGrams: null as number | null,
    carrier: null as string | null,
    waybill: null as string | null,
    labelJobId: null as string | null,
    operator: 'op-7',
    openedAt: at,
    shippedAt: null as number | null,
  };
  const subject = `shipment:${id}`;
  const printJob = {
    jobId: job,
    shipmentId: id,
    printerId: dev('printer'),
    format: 'zpl' as const,
    data: LABEL,
    state: 'sent' as const,
    reason: null,
    createdAt: at + 2,
    updatedAt: at + 2,
  };
  return [
    [
      { op: 'shipment.put', shipment: { ...base, state: 'verifying', scanned: {}, updatedAt: at } },
      { op: 'event', type: 'shipment.opened', subject, data: { order_id: orderId, station_id: station, operator: 'op-7' } },
      { op: 'dedupe', deviceId: dev('scanner'), msgId: `m-${n}-1` },
    ],
    [
      { op: 'shipment.put', shipment: { ...base, state: 'weighing', scanned: { '6901234567892': 1 }, updatedAt: at + 1 } },
      { op: 'event', type: 'shipment.item_scanned', subject, data: { barcode: '6901234567892', qty: 1, line_id: 'L1' } },
      { op: 'dedupe', deviceId: dev('scanner'), msgId: `m-${n}-2` },
    ],
    [
      {
        op: 'shipment.put',
        shipment: {
          ...base,
          state: 'labelling',
          scanned: { '6901234567892': 1 },
          actualGrams: 1262,
          carrier: 'SF',
          waybill: `SF${1e12 + n}`,
          labelJobId: job,
          updatedAt: at + 2,
        },
      },
      { op: 'event', type: 'shipment.weighed', subject, data: { grams: 1262, expected_grams: 1250, tolerance_grams: 50 } },
      { op: 'printjob.put', job: printJob },
      { op: 'event', type: 'shipment.label_queued', subject, data: { job_id: job, printer_id: dev('printer'), carrier: 'SF', waybill: `SF${1e12 + n}` } },
      { op: 'dedupe', deviceId: dev('scale'), msgId: `m-${n}-3` },
    ],
    [
      { op: 'printjob.put', job: { ...printJob, data: '', state: 'printed', updatedAt: at + 3 } },
      {
        op: 'shipment.put',
        shipment: {
          ...base,
          state: 'shipped',
          scanned: { '6901234567892': 1 },
          actualGrams: 1262,
          carrier: 'SF',
          waybill: `SF${1e12 + n}`,
          labelJobId: job,
          updatedAt: at + 3,
          shippedAt: at + 3,
        },
      },
      { op: 'event', type: 'shipment.shipped', subject, data: { waybill: `SF${1e12 + n}`, carrier: 'SF', grams: 1262 } },
      { op: 'dedupe', deviceId: dev('printer'), msgId: `m-${n}-4` },
    ],
  ] as WriteOp[][];
}

export interface CommitPages {
  pageSize: number;
  shipments: number;
  commits: number;
  walBytesPerShipment: number;
  framesPerCommit: number;
  /** Page images per shipment by owning B-tree (table or index name). */
  perShipment: Map<string, number>;
  /**
   * What a checkpoint then copies into the database file, per shipment, if one ran every
   * `everyShipments` shipments: each distinct page written in that window, once (a page
   * rewritten by many commits between two checkpoints is copied once). The checkpointer runs
   * every 1,000 ms by default (sqlite-store.ts), i.e. every 20 shipments at 20/s, 100 at 100/s.
   */
  checkpointKbPerShipment: Array<{ everyShipments: number; kb: number }>;
}

/**
 * `projectEvery`: the writer's event projector (event-projector.ts) rides on every commit that
 * finds this many shipments' events waiting — the writer projects after 1,000 ms or 256
 * events, i.e. every 20 shipments at 20/s (the default here), ~50 at 100/s.
 */
export interface MeasureOptions {
  shipments: number;
  warm: number;
  pageSize?: number;
  projectEvery?: number;
  /** auto_vacuum of the new database (schema.ts default INCREMENTAL: pointer-map pages on every allocation). */
  autoVacuum?: 'INCREMENTAL' | 'NONE';
  /**
   * A MODEL of the next step, not what the writer does: shipments and print jobs are not
   * written by the step's commit but by the projection batch (the last version of each row),
   * and the step carries its rows on its last event row instead (`carried`: as a column
   * would, the full rows as JSON; `carried-without-label`: the print job's label data left
   * out, as if it were rendered again from the order instead of stored). Measures what
   * projecting the tables would save before anyone builds it.
   */
  modelTableProjection?: 'carried' | 'carried-without-label';
}

export function measureCommitPages(opts: MeasureOptions): CommitPages {
  const dir = mkdtempSync(join(tmpdir(), 'packline-pages-'));
  try {
    const dbPath = join(dir, 'packline.db');
    const db = new Database(dbPath);
    configureWriterConnection(db, opts.pageSize, opts.autoVacuum);
    db.pragma('wal_autocheckpoint = 0');
    migrate(db);
    const pageSize = db.pragma('page_size', { simple: true }) as number;
    let t = Date.parse('2026-12-06T08:00:00Z');
    const tail = new TailKeys();
    const applier = new UnitApplier(db, dir, () => t, tail);
    const projector = new EventProjector(db);
    const projectEveryCommits = Math.max(1, Math.floor(opts.projectEvery ?? 20)) * 4;
    let sinceProjection = 0;
    const deferred = new Map<string, WriteOp>();
    const model = opts.modelTableProjection;
    const stepOps = (ops: WriteOp[]): WriteOp[] => {
      if (model === undefined) return ops;
      let rows: WriteOp[] = [];
      for (const o of ops) {
        if (o.op === 'shipment.put') deferred.set(`s:${o.shipment.shipmentId}`, o);
        else if (o.op === 'printjob.put') deferred.set(`j:${o.job.jobId}`, o);
        else continue;
        rows.push(o);
      }
      if (model === 'carried-without-label') rows = rows.map((o) => (o.op === 'printjob.put' ? { ...o, job: { ...o.job, data: '' } } : o));
      const kept = ops.filter((o) => o.op !== 'shipment.put' && o.op !== 'printjob.put');
      const last = kept.map((o) => o.op).lastIndexOf('event');
      return kept.map((o, i) => (i === last && o.op === 'event' ? { ...o, data: { ...(o.data as object), rows } } : o));
    };
    const commit = (ops: WriteOp[]): void => {
      db.exec('BEGIN IMMEDIATE');
      applier.syncClock();
      // As writer-worker.ts runBatch: the clock is not copied to meta per commit.
      const r = applier.apply(stepOps(ops), { boot: 1, clockUnsynced: false });
      if (r.folded) tail.add(r.folded.deviceId, r.folded.msgId, r.folded.seq);
      let mark: number | null = null;
      if (++sinceProjection >= projectEveryCommits) {
        sinceProjection = 0;
        mark = projector.projectInTransaction();
        if (deferred.size > 0) {
          applier.apply([...deferred.values()], { boot: 1, clockUnsynced: false });
          deferred.clear();
        }
      }
      db.exec('COMMIT');
      tail.batchCommitted();
      if (mark !== null) {
        projector.committed(mark);
        tail.projectedThrough(mark);
      }
    };
    // A database that has shipped for a while: B-trees a few levels deep.
    for (let n = 0; n < opts.warm; n++) {
      for (const u of shipmentUnits(n, t)) commit(u);
      t += 10;
    }
    db.pragma('wal_checkpoint(TRUNCATE)');
    let commits = 0;
    for (let n = opts.warm; n < opts.warm + opts.shipments; n++) {
      for (const u of shipmentUnits(n, t)) {
        commit(u);
        commits++;
      }
      t += 10;
    }
    const walBytes = statSync(`${dbPath}-wal`).size;
    const wal = readFileSync(`${dbPath}-wal`);
    const owner = new Map<number, string>();
    for (const r of db.prepare('SELECT name, pageno FROM dbstat').all() as Array<{ name: string; pageno: number }>) owner.set(r.pageno, r.name);
    db.close();
    const counts = new Map<string, number>();
    let frames = 0;
    // The pages of each commit, in order (a commit frame carries the database size, §4.1).
    const commitPages: number[][] = [[]];
    for (let off = 32; off + 24 + pageSize <= wal.length; off += 24 + pageSize) {
      const pgno = wal.readUInt32BE(off);
      if (pgno === 0) break;
      frames++;
      commitPages[commitPages.length - 1]!.push(pgno);
      if (wal.readUInt32BE(off + 4) !== 0) commitPages.push([]);
      const name = pgno === 1 ? 'page 1 (header, schema)' : (owner.get(pgno) ?? 'free or new pages');
      counts.set(name, (counts.get(name) ?? 0) + 1);
    }
    const perCommit = commits / opts.shipments;
    const checkpointKbPerShipment = [1, 2, 5, 10, 20, 25, 40, 50, 100, 200].map((everyShipments) => {
      const window = everyShipments * perCommit;
      let copied = 0;
      for (let c = 0; c < commits; c += window) copied += new Set(commitPages.slice(c, c + window).flat()).size;
      return { everyShipments, kb: (copied * pageSize) / opts.shipments / 1024 };
    });
    const perShipment = new Map([...counts.entries()].sort((a, b) => b[1] - a[1]).map(([k, v]) => [k, v / opts.shipments]));
    return {
      pageSize,
      shipments: opts.shipments,
      commits,
      walBytesPerShipment: walBytes / opts.shipments,
      framesPerCommit: frames / commits,
      perShipment,
      checkpointKbPerShipment,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
