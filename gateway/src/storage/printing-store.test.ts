/** Supervisors (migration 3, supervisor.put / supervisor.delete) and the print-exception query. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { type ErrorCode, PacklineError } from '../../../contracts/errors.js';
import { createLogger } from '../lib/logger.js';
import { openAdminDb } from './admin-db.js';
import { SCHEMA_VERSION } from './schema.js';
import { DB_FILE, openStore } from './sqlite-store.js';
import { FAILED_JOBS_SQL } from './store-reader.js';
import { anOrder, aPrintJob, aShipment } from './test-fixtures.js';
import type { PrintJob, Shipment, Store, SupervisorRecord, WriteOp } from './types.js';

const dirs: string[] = [];
const stores: Store[] = [];

async function started(): Promise<{ store: Store; dir: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'packline-printing-'));
  dirs.push(dir);
  const store = openStore({ dataDir: dir, logger: createLogger('silent') });
  stores.push(store);
  await store.start();
  return { store, dir };
}

afterEach(async () => {
  for (const s of stores.splice(0)) await s.stop();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

async function code(p: Promise<unknown>): Promise<ErrorCode> {
  try {
    await p;
  } catch (err) {
    expect(err).toBeInstanceOf(PacklineError);
    return (err as PacklineError).code;
  }
  throw new Error('expected a rejection');
}

const sup = (over: Partial<SupervisorRecord> = {}): SupervisorRecord => ({
  name: '李主管',
  secretHash: 'scrypt$16384$8$1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA',
  createdAt: 1_000,
  rotatedAt: 1_000,
  ...over,
});

describe('supervisors in the store', () => {
  it('migration 3 creates the table and the failed-jobs index', async () => {
    const { store, dir } = await started();
    await store.stop();
    const raw = new Database(join(dir, DB_FILE), { readonly: true });
    try {
      expect(SCHEMA_VERSION).toBeGreaterThanOrEqual(3);
      const names = raw.prepare("SELECT name FROM sqlite_master WHERE name IN ('supervisors','print_jobs_failed')").pluck().all();
      expect(names.sort()).toEqual(['print_jobs_failed', 'supervisors']);
    } finally {
      raw.close();
    }
  });

  it('puts, replaces, lists (without hashes) and deletes supervisors', async () => {
    const { store } = await started();
    await store.write([
      { op: 'supervisor.put', supervisor: sup() },
      { op: 'supervisor.put', supervisor: sup({ name: 'wang' }) },
    ]);
    expect(store.getSupervisor('李主管')).toEqual(sup());
    expect(store.getSupervisor('nobody')).toBeNull();
    await store.write([{ op: 'supervisor.put', supervisor: sup({ secretHash: 'scrypt$new', rotatedAt: 2_000 }) }]);
    expect(store.getSupervisor('李主管')).toMatchObject({ secretHash: 'scrypt$new', createdAt: 1_000, rotatedAt: 2_000 });
    const list = store.listSupervisors();
    expect(list).toEqual([
      { name: 'wang', createdAt: 1_000, rotatedAt: 1_000 },
      { name: '李主管', createdAt: 1_000, rotatedAt: 2_000 },
    ]);
    expect(JSON.stringify(list)).not.toContain('scrypt');
    await store.write([{ op: 'supervisor.delete', name: 'wang' }]);
    expect(store.getSupervisor('wang')).toBeNull();
    expect(await code(store.write([{ op: 'supervisor.delete', name: 'wang' }]))).toBe('PKL_NOT_FOUND');
  });

  it('refuses malformed supervisor ops and applies nothing of their unit', async () => {
    const { store } = await started();
    const bad: unknown[] = [
      { op: 'supervisor.put', supervisor: sup({ name: '' }) },
      { op: 'supervisor.put', supervisor: sup({ name: ' li' }) },
      { op: 'supervisor.put', supervisor: sup({ name: 'li\u0007' }) },
      { op: 'supervisor.put', supervisor: sup({ name: 'x'.repeat(65) }) },
      { op: 'supervisor.put', supervisor: sup({ secretHash: '' }) },
      { op: 'supervisor.put', supervisor: sup({ createdAt: 1.5 }) },
      { op: 'supervisor.put', supervisor: null },
      { op: 'supervisor.delete', name: '' },
    ];
    for (const op of bad) {
      const unit = [{ op: 'event', type: 't', subject: 's', data: {} }, op] as WriteOp[];
      expect(await code(store.write(unit)), JSON.stringify(op)).toBe('PKL_STORE_OP_INVALID');
    }
    expect(store.stats().lastSeq).toBe(0);
    expect(store.listSupervisors()).toEqual([]);
  });

  it('the CLI opener logs supervisor changes without the hash', async () => {
    const { store, dir } = await started();
    const db = openAdminDb(dir);
    try {
      db.putSupervisor(sup());
      db.putSupervisor(sup({ rotatedAt: 5_000 }));
      db.removeSupervisor('李主管');
      expect(() => db.removeSupervisor('李主管')).toThrow(PacklineError);
    } finally {
      db.close();
    }
    const events = store.eventsForSubject('supervisor:李主管', 10);
    expect(events.map((e) => e.type)).toEqual(['supervisor.added', 'supervisor.password_changed', 'supervisor.removed']);
    expect(JSON.stringify(events)).not.toContain('scrypt');
  });
});

describe('print exceptions', () => {
  const ship = (id: string, over: Partial<Shipment> = {}): Shipment =>
    aShipment({ shipmentId: id, orderId: `O-${id}`, state: 'shipped', waybill: `W-${id}`, labelJobId: `J-${id}-1`, updatedAt: 10_000, ...over });
  const job = (id: string, over: Partial<PrintJob>): PrintJob => aPrintJob({ jobId: id, printerId: 'prn-1', ...over });

  it('lists shipments whose label failed and was not printed since, newest failure first', async () => {
    const { store, dir } = await started();
    const writes: WriteOp[] = [
      // a: the station's label failed (row tagged PKL_PRINT_FAILED) → listed
      { op: 'shipment.put', shipment: ship('a', { state: 'labelling', reasonCode: 'PKL_PRINT_FAILED' }) },
      { op: 'printjob.put', job: job('J-a-1', { shipmentId: 'a', state: 'failed', reason: 'paper_out', createdAt: 100, updatedAt: 1_100 }) },
      // b: failed, then printed by a reprint → not listed
      { op: 'shipment.put', shipment: ship('b') },
      { op: 'printjob.put', job: job('J-b-1', { shipmentId: 'b', state: 'failed', reason: 'offline', createdAt: 100, updatedAt: 200 }) },
      { op: 'printjob.put', job: job('J-b-2', { shipmentId: 'b', state: 'printed', data: '', createdAt: 300, updatedAt: 400 }) },
      // c: shipped, then a reprint failed → listed (the reprint is what failed)
      { op: 'shipment.put', shipment: ship('c') },
      { op: 'printjob.put', job: job('J-c-1', { shipmentId: 'c', state: 'printed', data: '', createdAt: 100, updatedAt: 150 }) },
      { op: 'printjob.put', job: job('J-c-2', { shipmentId: 'c', state: 'failed', reason: 'head_open', createdAt: 500, updatedAt: 1_300 }) },
      // d: intercepted: no label wanted → not listed
      { op: 'shipment.put', shipment: ship('d', { state: 'intercepted', reasonCode: 'PKL_INTERCEPT_REFUNDED' }) },
      { op: 'printjob.put', job: job('J-d-1', { shipmentId: 'd', state: 'failed', reason: 'offline', updatedAt: 1_400 }) },
      // e: abandoned after the failure, the order left in another shipment (f) → not listed
      { op: 'shipment.put', shipment: ship('e', { state: 'abandoned', orderId: 'O-ef', reasonCode: 'PKL_SHIPMENT_ABANDONED' }) },
      { op: 'printjob.put', job: job('J-e-1', { shipmentId: 'e', state: 'failed', reason: 'offline', updatedAt: 1_500 }) },
      { op: 'shipment.put', shipment: ship('f', { orderId: 'O-ef' }) },
      // g: abandoned after the failure, order still not shipped → listed
      { op: 'shipment.put', shipment: ship('g', { state: 'abandoned', reasonCode: 'PKL_SHIPMENT_ABANDONED' }) },
      { op: 'printjob.put', job: job('J-g-1', { shipmentId: 'g', state: 'failed', reason: 'ribbon_out', updatedAt: 1_200 }) },
      // h: failed twice → listed once, with the newest failure
      { op: 'shipment.put', shipment: ship('h', { state: 'labelling', reasonCode: 'PKL_PRINT_FAILED' }) },
      { op: 'printjob.put', job: job('J-h-1', { shipmentId: 'h', state: 'failed', reason: 'offline', createdAt: 100, updatedAt: 900 }) },
      { op: 'printjob.put', job: job('J-h-2', { shipmentId: 'h', state: 'failed', reason: 'paper_out', createdAt: 950, updatedAt: 1_000 }) },
      // i: tagged, but its job row is gone → still listed, without a job
      { op: 'shipment.put', shipment: ship('i', { state: 'labelling', reasonCode: 'PKL_PRINT_FAILED', updatedAt: 800 }) },
      // j: printed fine → not listed
      { op: 'shipment.put', shipment: ship('j') },
      { op: 'printjob.put', job: job('J-j-1', { shipmentId: 'j', state: 'printed', data: '' }) },
    ];
    await store.write(writes);
    const list = store.printExceptions();
    expect(list.map((e) => [e.shipment.shipmentId, e.job?.jobId ?? null, e.job?.reason ?? null])).toEqual([
      ['c', 'J-c-2', 'head_open'],
      ['g', 'J-g-1', 'ribbon_out'],
      ['a', 'J-a-1', 'paper_out'],
      ['h', 'J-h-2', 'paper_out'],
      ['i', null, null],
    ]);
    expect(store.printExceptions({ limit: 2 }).map((e) => e.shipment.shipmentId)).toEqual(['c', 'g']);
    expect(store.printJobsForShipment('b').map((j) => j.jobId)).toEqual(['J-b-1', 'J-b-2']);
    // The CLI's connection answers the same.
    const db = openAdminDb(dir);
    try {
      expect(db.reader.printExceptions({ limit: 10 }).map((e) => e.shipment.shipmentId)).toEqual(['c', 'g', 'a', 'h', 'i']);
    } finally {
      db.close();
    }
  });

  it('reads failed jobs through the partial index, not a scan of every job', async () => {
    const { store, dir } = await started();
    await store.write([{ op: 'order.put', order: anOrder() }]);
    await store.stop();
    const raw = new Database(join(dir, DB_FILE), { readonly: true });
    try {
      const plan = raw.prepare(`EXPLAIN QUERY PLAN ${FAILED_JOBS_SQL}`).all(10) as Array<{ detail: string }>;
      expect(plan[0]?.detail).toBe('SCAN f USING INDEX print_jobs_failed');
    } finally {
      raw.close();
    }
  });
});
