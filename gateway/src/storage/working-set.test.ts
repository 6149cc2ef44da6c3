/**
 * The store's in-memory working set (working-set.ts) must answer exactly what SQLite answers
 * (orders, an order's shipments, shipments by id):
 * random units of order puts (new revisions, stale revisions, barcodes moving between
 * orders), flag changes and shipment puts, each followed by reads through the store (served
 * from memory once warm) compared with a fresh read-only connection of its own.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { createLogger } from '../lib/logger.js';
import { DB_FILE, openStore } from './sqlite-store.js';
import { StoreReader } from './store-reader.js';
import { anOrder, aShipment } from './test-fixtures.js';
import type { Store, WriteOp } from './types.js';

const dir = mkdtempSync(join(tmpdir(), 'packline-working-set-'));
let store: Store | null = null;

afterAll(async () => {
  await store?.stop();
  rmSync(dir, { recursive: true, force: true });
});

const ORDERS = ['O-1', 'O-2', 'O-3'];
const CODES = ['C-A', 'C-B', 'C-C', 'C-D'];
const SHIPMENTS = ['S-1', 'S-2', 'S-3', 'S-4'];

const opArb: fc.Arbitrary<WriteOp> = fc.oneof(
  fc
    .record({ id: fc.constantFrom(...ORDERS), rev: fc.integer({ min: 1, max: 6 }), codes: fc.subarray(CODES), waybill: fc.option(fc.constant('W-1')) })
    .map(({ id, rev, codes, waybill }): WriteOp => ({ op: 'order.put', order: anOrder({ orderId: id, revision: rev, barcodes: codes, waybill }) })),
  fc
    .record({ id: fc.constantFrom(...ORDERS), cancelled: fc.boolean(), rev: fc.option(fc.integer({ min: 1, max: 6 }), { nil: undefined }) })
    .map(({ id, cancelled, rev }): WriteOp => ({ op: 'order.flags', orderId: id, flags: { cancelled }, ...(rev === undefined ? {} : { revision: rev }) })),
  fc
    .record({
      sid: fc.constantFrom(...SHIPMENTS),
      oid: fc.constantFrom(...ORDERS),
      at: fc.integer({ min: 1, max: 5 }),
      state: fc.constantFrom('verifying' as const, 'weighing' as const, 'shipped' as const),
    })
    .map(
      ({ sid, oid, at, state }): WriteOp => ({
        op: 'shipment.put',
        shipment: aShipment({ shipmentId: sid, orderId: oid, updatedAt: at, state, scanned: { x: at } }),
      }),
    ),
);

describe('store working set', () => {
  it('answers getOrder and an order’s shipments exactly as SQLite does, across random commits', async () => {
    store = openStore({ dataDir: dir, logger: createLogger('silent') });
    await store.start();
    const s = store;
    const check = new Database(join(dir, DB_FILE), { readonly: true });
    const truth = new StoreReader(check);
    // Shipment puts of an order that does not exist fail the unit (foreign key); that is a
    // rejected unit, which must change nothing in memory either.
    await s.write(ORDERS.map((id) => ({ op: 'order.put', order: anOrder({ orderId: id, revision: 1, barcodes: [] }) })));
    await fc.assert(
      fc.asyncProperty(fc.array(fc.array(opArb, { minLength: 1, maxLength: 4 }), { minLength: 1, maxLength: 12 }), async (units) => {
        for (const ops of units) {
          // Warm the working set first, so the commit has cached copies to bring up to date.
          for (const id of ORDERS) {
            s.getOrder(id);
            s.listShipments({ orderId: id, limit: 1000 });
          }
          for (const id of SHIPMENTS) s.getShipment(id);
          await s.write(ops).catch(() => undefined);
          for (const id of ORDERS) {
            expect(s.getOrder(id)).toEqual(truth.getOrder(id));
            expect(s.listShipments({ orderId: id, limit: 1000 })).toEqual(truth.listShipments({ orderId: id, limit: 1000 }));
            expect(s.listShipments({ orderId: id, limit: 2 })).toEqual(truth.listShipments({ orderId: id, limit: 2 }));
          }
          for (const code of CODES) expect(s.findOrderByBarcode(code)).toEqual(truth.findOrderByBarcode(code));
          for (const id of SHIPMENTS) expect(s.getShipment(id)).toEqual(truth.getShipment(id));
        }
      }),
      { numRuns: 40 },
    );
    check.close();
  }, 120_000);
});
