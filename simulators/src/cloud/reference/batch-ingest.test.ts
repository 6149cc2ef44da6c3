import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { OrderInWire } from '../../../../contracts/orders.js';
import type { BatchBody, SyncEvent } from '../../../../contracts/sync.js';
import { type IngestOptions, ingestBatch, ingestRetry } from './batch-ingest.js';
import { CloudDb } from './cloud-db.js';
import { requestCancel, setOrderStatus, upsertOrders } from './cloud-orders.js';
import { DEFAULT_RULES, judgeEvent } from './event-rules.js';

const GW = 'gw-01';
let dir: string;
let db: CloudDb;
let blocked: Set<string>;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'ingest-'));
  db = new CloudDb(join(dir, 'cloud.db'));
  db.putGateway(GW, 'k', 0);
  blocked = new Set();
});
afterEach(() => {
  db.close();
  rmSync(dir, { recursive: true, force: true });
});

const ev = (seq: number, over: Partial<SyncEvent> = {}): SyncEvent => ({
  seq,
  hlc: `${1_767_000_000_000 + seq}.000000`,
  boot: 1,
  clock_unsynced: false,
  type: 'shipment.weighed',
  subject: `shipment:s${seq}`,
  data: { grams: seq },
  ...over,
});
const batch = (events: SyncEvent[]): BatchBody => ({
  v: 1,
  gateway_id: GW,
  first_seq: events[0]!.seq,
  last_seq: events[events.length - 1]!.seq,
  sent_at: 0,
  events,
});
const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => ev(from + i));
const opts = (over: Partial<IngestOptions> = {}): IngestOptions => ({
  judge: (e) => judgeEvent(db, DEFAULT_RULES, e, (s) => blocked.has(s)),
  maxNew: Number.POSITIVE_INFINITY,
  now: 5,
  ...over,
});
const order = (id: string): OrderInWire => ({ order_id: id, lines: [{ sku: 'A', barcode: '6900000000001', name: 'a', qty: 1, unit_grams: 10 }] });

describe('ingestBatch', () => {
  it('stores a contiguous batch and acks its last seq', () => {
    const r = ingestBatch(db, GW, batch(range(1, 5)), opts());
    expect(r.ack).toEqual({ acked_seq: 5, rejected: [] });
    expect(db.hwm(GW)).toBe(5);
    expect(db.event(GW, 3)).toMatchObject({ status: 'accepted', deliveries: 1, data: '{"grams":3}' });
  });

  it('answers a redelivery as duplicate, counts it and stores no second row', () => {
    ingestBatch(db, GW, batch(range(1, 5)), opts());
    const r = ingestBatch(db, GW, batch(range(2, 4)), opts());
    expect(r.ack).toEqual({ acked_seq: 5, rejected: [], duplicate: true });
    expect(r.redelivered).toBe(3);
    expect(db.event(GW, 3)!.deliveries).toBe(2);
    expect(db.event(GW, 5)!.deliveries).toBe(1);
    expect(db.stats().gateways[GW]).toMatchObject({ events: 5, redeliveries: 3, conflicts: 0 });
  });

  it('stores the new tail of an overlapping batch', () => {
    ingestBatch(db, GW, batch(range(1, 3)), opts());
    const r = ingestBatch(db, GW, batch(range(2, 6)), opts());
    expect(r.ack).toEqual({ acked_seq: 6, rejected: [] });
    expect(r).toMatchObject({ stored: 3, redelivered: 2 });
  });

  it('stores nothing after a gap and acks the hwm', () => {
    ingestBatch(db, GW, batch(range(1, 3)), opts());
    const r = ingestBatch(db, GW, batch(range(5, 8)), opts());
    expect(r.gap).toBe(true);
    expect(r.ack.acked_seq).toBe(3);
    expect(db.event(GW, 5)).toBeNull();
  });

  it('records a conflict when a redelivery differs, keeping the first content', () => {
    ingestBatch(db, GW, batch(range(1, 2)), opts());
    const r = ingestBatch(db, GW, batch([ev(2, { data: { grams: 99 } })]), opts());
    expect(r.conflicts).toBe(1);
    expect(db.event(GW, 2)!.data).toBe('{"grams":2}');
    expect(db.conflicts(GW)).toHaveLength(1);
  });

  it('stores at most maxNew new events (slow drain)', () => {
    const r = ingestBatch(db, GW, batch(range(1, 10)), opts({ maxNew: 4 }));
    expect(r.ack.acked_seq).toBe(4);
    expect(r.heldBack).toBe(6);
  });

  it('stores a rejected event, counts it in the ack, and repeats the rejection on redelivery', () => {
    blocked.add('shipment:s2');
    const r = ingestBatch(db, GW, batch(range(1, 3)), opts());
    expect(r.ack).toEqual({ acked_seq: 3, rejected: [{ seq: 2, code: 'TEST_REJECTED', reason: expect.any(String) }] });
    expect(db.event(GW, 2)!.status).toBe('rejected');
    expect(db.event(GW, 3)!.status).toBe('accepted');
    const again = ingestBatch(db, GW, batch(range(1, 3)), opts());
    expect(again.ack.rejected.map((x) => x.seq)).toEqual([2]);
  });

  it('rejects data that is not an object', () => {
    const r = ingestBatch(db, GW, batch([ev(1, { data: [1, 2] }), ev(2, { data: null }), ev(3)]), opts());
    expect(r.ack.rejected.map((x) => [x.seq, x.code])).toEqual([
      [1, 'PAYLOAD_INVALID'],
      [2, 'PAYLOAD_INVALID'],
    ]);
  });

  it('accepts batch events and rejects a per-parcel one without its order and place (PAYLOAD_INVALID)', () => {
    const r = ingestBatch(
      db,
      GW,
      batch([
        ev(1, { type: 'batch.created', subject: 'batch:B1', data: { structure: 'single_same_sku', orders: 2 } }),
        ev(2, { type: 'batch.parcel_selected', subject: 'batch:B1', data: { order_id: 'o1', seq: 1, shipment_id: 'S1', barcode: '690A' } }),
        ev(3, { type: 'batch.order_removed', subject: 'batch:B1', data: { order_id: 'o2', seq: 2, code: 'PKL_INTERCEPT_REFUNDED' } }),
        ev(4, { type: 'batch.parcel_selected', subject: 'batch:B1', data: { shipment_id: 'S2' } }),
        ev(5, { type: 'batch.order_removed', subject: 'shipment:S3', data: { order_id: 'o3', seq: 3 } }),
      ]),
      opts(),
    );
    expect(r.ack.rejected.map((x) => [x.seq, x.code])).toEqual([
      [4, 'PAYLOAD_INVALID'],
      [5, 'PAYLOAD_INVALID'],
    ]);
  });

  it('marks an order shipped, and refuses a shipment of a cancelled order (ORDER_CANCELLED)', () => {
    upsertOrders(db, [order('o1'), order('o2')], 1);
    setOrderStatus(db, 'o2', 'cancelled', 2);
    const r = ingestBatch(
      db,
      GW,
      batch([
        ev(1, { type: 'shipment.shipped', subject: 'shipment:a', data: { order_id: 'o1' } }),
        ev(2, { type: 'shipment.shipped', subject: 'shipment:b', data: { order_id: 'o2' } }),
        ev(3, { type: 'shipment.shipped', subject: 'shipment:c', data: { order_id: 'unknown' } }),
      ]),
      opts(),
    );
    expect(r.ack.rejected.map((x) => [x.seq, x.code])).toEqual([[2, 'ORDER_CANCELLED']]);
    expect(db.order('o1')!.shipped_by).toBe('gw-01:1');
    expect(db.order('o2')!.shipped_at).toBeNull();
  });

  it('closes a cancel request on the answer; an accepted cancel refuses a later shipment in the same batch', () => {
    upsertOrders(db, [order('o1'), order('o2')], 1);
    requestCancel(db, 'o1', 'r1', 'buyer', 2);
    requestCancel(db, 'o2', 'r2', undefined, 2);
    const r = ingestBatch(
      db,
      GW,
      batch([
        ev(1, { type: 'order.cancel_accepted', subject: 'order:o1', data: { request_id: 'r1', order_id: 'o1' } }),
        ev(2, { type: 'order.cancel_refused', subject: 'order:o2', data: { request_id: 'r2', order_id: 'o2', code: 'PKL_CANCEL_TOO_LATE' } }),
        ev(3, { type: 'shipment.shipped', subject: 'shipment:x', data: { order_id: 'o1' } }),
        ev(4, { type: 'shipment.shipped', subject: 'shipment:y', data: { order_id: 'o2' } }),
      ]),
      opts(),
    );
    expect(db.cancelRequest('r1')).toMatchObject({ state: 'accepted', answered_by: 'gw-01:1' });
    expect(db.cancelRequest('r2')).toMatchObject({ state: 'refused' });
    expect(r.ack.rejected.map((x) => [x.seq, x.code])).toEqual([[3, 'ORDER_CANCELLED']]);
  });
});

describe('ingestRetry', () => {
  it('accepts a rejected event once the rule is lifted, reports accepted ones again, ignores unknown seqs', () => {
    blocked.add('shipment:s2');
    ingestBatch(db, GW, batch(range(1, 3)), opts());
    const stillBlocked = ingestRetry(db, GW, { v: 1, gateway_id: GW, events: [ev(2)] }, opts());
    expect(stillBlocked.ack).toMatchObject({ acked_seq: 3, accepted: [], rejected: [{ seq: 2, code: 'TEST_REJECTED' }] });
    blocked.clear();
    const r = ingestRetry(db, GW, { v: 1, gateway_id: GW, events: [ev(1), ev(2), ev(9)] }, opts());
    expect(r.ack).toEqual({ acked_seq: 3, rejected: [], accepted: [1, 2] });
    expect(r.ignored).toEqual([1, 9]);
    expect(db.event(GW, 2)).toMatchObject({ status: 'accepted', code: null, retried_at: 5 });
  });
});

describe('orders and the change log', () => {
  it('bumps revisions and logs every change', () => {
    upsertOrders(db, [order('o1')], 1);
    expect(upsertOrders(db, [order('o1')], 2).upserted).toEqual(['o1']);
    expect(db.order('o1')!.revision).toBe(1);
    expect(upsertOrders(db, [{ ...order('o1'), revision: 1 }], 3).stale).toEqual(['o1']);
    const s = setOrderStatus(db, 'o1', 'refund_requested', 4)!;
    expect(s.revision).toBe(2);
    setOrderStatus(db, 'o1', 'refund_withdrawn', 5);
    expect(db.order('o1')).toMatchObject({ refund_requested: 0, revision: 3 });
    expect(JSON.parse(db.order('o1')!.wire)).toMatchObject({ revision: 3, flags: { refund_requested: false } });
    expect(setOrderStatus(db, 'nope', 'cancelled', 6)).toBeNull();
    expect(db.changes(0, 10).map((c) => c.kind)).toEqual(['order.upsert', 'order.upsert', 'order.status', 'order.status']);
    expect(requestCancel(db, 'o1', 'r1', undefined, 7)).toMatchObject({ ok: true, created: true });
    expect(requestCancel(db, 'o1', 'r1', undefined, 8)).toEqual({ ok: true, created: false, cursor: null });
    expect(requestCancel(db, 'o2', 'r1', undefined, 8)).toEqual({ ok: false, why: 'request_id_taken' });
    expect(db.changes(4, 10)).toHaveLength(1);
  });
});
