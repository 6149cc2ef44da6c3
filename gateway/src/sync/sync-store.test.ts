/**
 * Cloud sync's gateway side on a real store: the ack cursor and "sync failed" tags, the
 * inbound change applier with the upstream cancel rule, the pull feed and reconciliation.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Change } from '../../../contracts/sync.js';
import { CHANGE_REJECT_CODES, SYNC_EVENT } from '../../../contracts/sync.js';
import { EVENT } from '../station/events.js';
import { createLogger } from '../lib/logger.js';
import { openStore } from '../storage/sqlite-store.js';
import { anOrder, aShipment } from '../storage/test-fixtures.js';
import type { Store } from '../storage/types.js';
import { SHIPMENT_EXCEPTION_EVENT, STATUS_APPLIED_EVENT } from './change-applier.js';
import { reconciliationReport } from './reconciliation.js';
import { shipmentFeed } from './shipment-feed.js';
import { META_ACKED_SEQ, META_INBOUND_CURSOR, StoreSyncAdapter } from './sync-store-adapter.js';

let dir: string;
let store: Store;
let touched: string[][];
let adapter: StoreSyncAdapter;
const apply = (cs: Change[], cursor: string) =>
  adapter.applyChanges(
    cs.map((change) => ({ change })),
    cursor,
  );

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'packline-sync-'));
  store = openStore({ dataDir: dir, logger: createLogger('silent') });
  await store.start();
  touched = [];
  adapter = new StoreSyncAdapter(
    store,
    (ids) => touched.push(ids),
    () => 5_000,
  );
});

afterEach(async () => {
  await store.stop();
  rmSync(dir, { recursive: true, force: true });
});

async function events(n: number, type = 'test.event'): Promise<void> {
  for (let i = 0; i < n; i++) await store.write([{ op: 'event', type, subject: `thing:${i}`, data: { i } }]);
}

const wireOrder = (id: string, revision: number, extra: object = {}) => ({
  order_id: id,
  lines: [{ sku: 'SKU-1', barcode: '6901234567892', name: 'Mug', qty: 1, unit_grams: 300 }],
  waybill: `WB-${id}`,
  revision,
  ...extra,
});

describe('outbox cursor and sync failures', () => {
  it('raises the cursor only forward and tags rejected events, resolving them on an accepted retry', async () => {
    await events(5);
    expect(adapter.ackedSeq()).toBe(0);
    await adapter.saveAck({ ackedSeq: 4, rejected: [{ seq: 2, code: 'ORDER_UNKNOWN', reason: 'no such order' }], accepted: [], at: 100 });
    expect(adapter.ackedSeq()).toBe(4);
    expect(store.getMeta(META_ACKED_SEQ)).toBe('4');
    await adapter.saveAck({ ackedSeq: 3, rejected: [], accepted: [], at: 101 });
    expect(adapter.ackedSeq()).toBe(4);
    expect(store.syncFailures()).toMatchObject([{ seq: 2, code: 'ORDER_UNKNOWN', state: 'failed', attempts: 1 }]);
    expect(store.openSyncFailureCount()).toBe(1);

    await store.write([{ op: 'syncfail.state', seq: 2, state: 'retry_requested', at: 200 }]);
    expect(adapter.retryRequested(10)).toEqual([2]);
    // Rejected again: attempts counted, back to failed.
    await adapter.saveAck({ ackedSeq: 4, rejected: [{ seq: 2, code: 'ORDER_UNKNOWN', reason: 'still' }], accepted: [], at: 300 });
    expect(store.getSyncFailure(2)).toMatchObject({ state: 'failed', attempts: 2, reason: 'still', lastFailedAt: 300 });
    await adapter.saveAck({ ackedSeq: 4, rejected: [], accepted: [2, 3], at: 400 });
    expect(store.getSyncFailure(2)).toMatchObject({ state: 'resolved', resolvedAt: 400 });
    expect(store.getSyncFailure(3)).toBeNull(); // never failed: nothing to resolve, nothing invented
    expect(store.openSyncFailureCount()).toBe(0);
  });

  it('the cursor survives a restart', async () => {
    await events(3);
    await adapter.saveAck({ ackedSeq: 3, rejected: [], accepted: [], at: 1 });
    await store.stop();
    store = openStore({ dataDir: dir, logger: createLogger('silent') });
    await store.start();
    expect(new StoreSyncAdapter(store).ackedSeq()).toBe(3);
  });

  it('refuses a state change of an event that never failed', async () => {
    await expect(store.write([{ op: 'syncfail.state', seq: 99, state: 'resolved', at: 1 }])).rejects.toMatchObject({ code: 'PKL_NOT_FOUND' });
  });

  it('streams raw rows whose data is the stored JSON text', async () => {
    await events(2);
    const rows = adapter.readEventRows(0, 10);
    expect(rows.map((r) => [r.seq, r.data])).toEqual([
      [1, '{"i":0}'],
      [2, '{"i":1}'],
    ]);
    expect(adapter.lastSeq()).toBe(2);
  });
});

describe('inbound changes', () => {
  it('quarantines a change the store refuses and applies the rest of the page, moving the cursor on', async () => {
    // A revision past 2^53 passes the wire schema (an integer) but not the store's own check.
    const page: Change[] = [
      { cursor: '7', kind: 'order.upsert', order: wireOrder('O-BIG', 1e300) },
      { cursor: '8', kind: 'order.upsert', order: wireOrder('O-OK', 1) },
    ];
    const r = await apply(page, '8');
    expect(r).toMatchObject({
      applied: 1,
      skipped: 0,
      quarantined: [{ cursor: '7', kind: 'order.upsert', order_id: 'O-BIG', code: CHANGE_REJECT_CODES.unapplicable }],
    });
    expect(store.getOrder('O-OK')).not.toBeNull();
    expect(store.getOrder('O-BIG')).toBeNull();
    expect(store.getMeta(META_INBOUND_CURSOR)).toBe('8');
    expect(store.lastEvent('order:O-BIG', SYNC_EVENT.changeRejected)?.data).toMatchObject({
      cursor: '7',
      code: CHANGE_REJECT_CODES.unapplicable,
      change: expect.stringContaining('O-BIG'),
    });
  });

  it('upserts orders and applies status changes once, storing the cursor in the same unit', async () => {
    const page: Change[] = [
      { cursor: '1', kind: 'order.upsert', order: wireOrder('O-1', 1) },
      { cursor: '2', kind: 'order.status', order_id: 'O-1', status: 'refund_requested', revision: 2, at: 10 },
      { cursor: '3', kind: 'order.status', order_id: 'O-404', status: 'cancelled', revision: 1, at: 10 },
    ];
    // O-404 is not cached: its cancel is held until the order arrives (applied counts it).
    expect(await apply(page, '3')).toEqual({ applied: 3, skipped: 0, quarantined: [] });
    expect(store.getOrder('O-1')).toMatchObject({ revision: 2, waybill: 'WB-O-1', flags: { refundRequested: true } });
    expect(store.getMeta(META_INBOUND_CURSOR)).toBe('3');
    expect(adapter.inboundCursor()).toBe('3');
    expect(touched).toEqual([['O-1']]);
    expect(store.lastEvent('order:O-1', STATUS_APPLIED_EVENT)?.data).toMatchObject({ status: 'refund_requested', revision: 2 });

    // The same page again (a crash before the cursor was known upstream): nothing changes.
    const before = store.stats().lastSeq;
    expect(await apply(page, '3')).toEqual({ applied: 0, skipped: 3, quarantined: [] });
    expect(store.stats().lastSeq).toBe(before);
    // An older revision never overwrites a newer one; a withdrawn refund clears the flag.
    await apply([{ cursor: '4', kind: 'order.upsert', order: wireOrder('O-1', 1) }], '4');
    expect(store.getOrder('O-1')?.flags.refundRequested).toBe(true);
    await apply([{ cursor: '5', kind: 'order.status', order_id: 'O-1', status: 'refund_withdrawn', revision: 3, at: 11 }], '5');
    expect(store.getOrder('O-1')?.flags.refundRequested).toBe(false);
  });

  it('accepts a cancel while nothing has started and tags the order owner-cancelled', async () => {
    await store.write([{ op: 'order.put', order: anOrder({ orderId: 'O-2' }) }]);
    await apply([{ cursor: '1', kind: 'order.cancel_request', order_id: 'O-2', request_id: 'R-1', at: 1 }], '1');
    expect(store.getOrder('O-2')?.flags.cancelled).toBe(true);
    expect(store.lastEvent('order:O-2', SYNC_EVENT.cancelAccepted)?.data).toMatchObject({ request_id: 'R-1', tag: 'owner_cancelled' });
    // Answered once per request id, also across pages.
    const r = await apply([{ cursor: '2', kind: 'order.cancel_request', order_id: 'O-2', request_id: 'R-1', at: 1 }], '2');
    expect(r).toEqual({ applied: 0, skipped: 1, quarantined: [] });
  });

  it('refuses a cancel once packing started and puts the shipment on the exception queue', async () => {
    await store.write([
      { op: 'order.put', order: anOrder({ orderId: 'O-3' }) },
      { op: 'shipment.put', shipment: aShipment({ shipmentId: 'S-3', orderId: 'O-3', state: 'weighing' }) },
    ]);
    await apply([{ cursor: '1', kind: 'order.cancel_request', order_id: 'O-3', request_id: 'R-9', at: 1 }], '1');
    expect(store.getOrder('O-3')?.flags.cancelled).toBe(false);
    expect(store.lastEvent('order:O-3', SYNC_EVENT.cancelRefused)?.data).toMatchObject({
      request_id: 'R-9',
      shipment_id: 'S-3',
      state: 'weighing',
      code: 'PKL_CANCEL_TOO_LATE',
    });
    expect(store.lastEvent('shipment:S-3', SHIPMENT_EXCEPTION_EVENT)).not.toBeNull();
    const report = reconciliationReport(store, 0, 10_000);
    expect(report.conflicts.filter((c) => c.kind === 'cancel_refused')).toMatchObject([{ shipment_id: 'S-3', order_id: 'O-3' }]);
  });

  it('accepts a cancel after an interception or an abandoned attempt (no work will continue)', async () => {
    await store.write([
      { op: 'order.put', order: anOrder({ orderId: 'O-4' }) },
      { op: 'shipment.put', shipment: aShipment({ shipmentId: 'S-4', orderId: 'O-4', state: 'abandoned' }) },
    ]);
    await apply([{ cursor: '1', kind: 'order.cancel_request', order_id: 'O-4', request_id: 'R-4', at: 1 }], '1');
    expect(store.getOrder('O-4')?.flags.cancelled).toBe(true);
  });
});

describe('pull feed and reconciliation', () => {
  async function ship(id: string, order: string): Promise<void> {
    await store.write([
      { op: 'order.put', order: anOrder({ orderId: order }) },
      { op: 'shipment.put', shipment: aShipment({ shipmentId: id, orderId: order, state: 'shipped', shippedAt: 9 }) },
      { op: 'event', type: EVENT.labelQueued, subject: `shipment:${id}`, data: { order_id: order } },
      { op: 'event', type: EVENT.shipped, subject: `shipment:${id}`, data: { order_id: order } },
    ]);
  }

  it('pages shipments in seq order with a cursor that skips unrelated events', async () => {
    await ship('S-1', 'O-1');
    await events(50);
    await ship('S-2', 'O-2');
    await ship('S-3', 'O-3');
    const seen: Array<[string, number, boolean]> = [];
    let cursor = 0;
    let pages = 0;
    for (;;) {
      const page = shipmentFeed(store, cursor, 2, 2);
      pages += 1;
      seen.push(...page.records.map((r): [string, number, boolean] => [r.shipment_id, r.seq, r.cloud_acked]));
      expect(page.next_cursor).toBeGreaterThanOrEqual(cursor);
      if (page.next_cursor === cursor) break;
      cursor = page.next_cursor;
    }
    // Each shipment once, at its latest outcome event, in seq order; only S-1 is acknowledged.
    expect(seen).toEqual([
      ['S-1', 2, true],
      ['S-2', 54, false],
      ['S-3', 56, false],
    ]);
    expect(pages).toBeGreaterThan(3); // the 50 unrelated events were skipped in bounded scans
    expect(cursor).toBe(store.stats().lastSeq);
    const first = shipmentFeed(store, 0, 10, 0).records[0];
    expect(first).toMatchObject({ state: 'shipped', order_id: 'O-1', shipped_at: 9, ship_confirmed_at: null });
  });

  it('reports a shipment whose order was intercepted after its label printed, and old unacknowledged events', async () => {
    await ship('S-7', 'O-7');
    await store.write([{ op: 'order.flags', orderId: 'O-7', flags: { refundRequested: true } }]);
    const report = reconciliationReport(store, 0, Date.now() + 3_600_000);
    expect(report.conflicts.map((c) => c.kind).sort()).toEqual(['not_acknowledged', 'shipped_while_intercepted']);
    expect(report.conflicts.find((c) => c.kind === 'shipped_while_intercepted')).toMatchObject({ shipment_id: 'S-7', order_id: 'O-7' });
    expect(reconciliationReport(store, store.stats().lastSeq, Date.now()).conflicts.map((c) => c.kind)).toEqual(['shipped_while_intercepted']);
  });

  it('counts open orders that can ship offline (have a waybill)', async () => {
    await store.write([
      { op: 'order.put', order: anOrder({ orderId: 'A' }) },
      { op: 'order.put', order: anOrder({ orderId: 'B', waybill: null }) },
      { op: 'order.put', order: anOrder({ orderId: 'C', flags: { ...anOrder().flags, cancelled: true } }) },
    ]);
    expect(store.waybillCoverage()).toEqual({ open: 2, withWaybill: 1 });
  });
});
