/**
 * The recall list over a fake store: a pre-printed label joins it when its order is refunded
 * (before any scan), and when a station intercepts it; carrier-switch labels share the list;
 * PDAs get one task per label and a `closed` when it is pulled (by scan of the waybill or of
 * the order barcode); the pulls come back from the log after a restart.
 */
import { describe, expect, it } from 'vitest';
import { PreprintBook } from '../batches/preprint-book.js';
import type { CarrierRecall } from '../handover/carrier-holds.js';
import { encodeHlc } from '../lib/hlc.js';
import { createLogger } from '../lib/logger.js';
import type { Order, Shipment, StationWrite } from '../station/domain.js';
import { EVENT } from '../station/events.js';
import { anOrder, aShipment } from '../storage/test-fixtures.js';
import type { RawEventRow } from '../storage/types.js';
import { RecallService, type RecallStore } from './recall-service.js';

const NOW = 1_800_000_000_000;

function floor() {
  const orders = new Map<string, Order>();
  const shipments = new Map<string, Shipment>();
  const log: RawEventRow[] = [];
  for (const i of [1, 2]) {
    orders.set(`O${i}`, anOrder({ orderId: `O${i}`, waybill: `SF${i}`, carrier: 'SF', barcodes: [`PK${i}`] }));
    shipments.set(
      `S${i}`,
      aShipment({ shipmentId: `S${i}`, orderId: `O${i}`, state: 'printed', waybill: `SF${i}`, carrier: 'SF', labelJobId: `J${i}`, stationId: 'st-1' }),
    );
  }
  const store: RecallStore = {
    getOrder: (id) => orders.get(id) ?? null,
    getShipment: (id) => shipments.get(id) ?? null,
    findOrderByBarcode: (code) => [...orders.values()].find((o) => o.orderId === code || o.waybill === code || o.barcodes.includes(code)) ?? null,
    async write(ops: StationWrite[]) {
      const seqs: number[] = [];
      for (const op of ops) {
        if (op.op !== 'event') continue;
        const seq = log.length + 1;
        log.push({
          seq,
          hlc: encodeHlc({ wallMs: NOW, counter: seq }),
          boot: 1,
          clock_unsynced: 0,
          type: op.type,
          subject: op.subject,
          data: JSON.stringify(op.data),
        });
        seqs.push(seq);
      }
      return { seqs };
    },
    eventRowsOfTypes: (types, after, limit) => ({ rows: log.filter((r) => r.seq > after && types.includes(r.type)).slice(0, limit), scannedTo: log.length }),
    stats: () => ({ lastSeq: log.length }),
  };
  const preprints = new PreprintBook(() => 2);
  preprints.observe(
    [1, 2].map((i) => ({
      op: 'event' as const,
      type: EVENT.batchParcelSelected,
      subject: 'batch:B1',
      data: { order_id: `O${i}`, shipment_id: `S${i}`, seq: i, barcode: `SF${i}`, preprint: true },
    })),
  );
  const carrierRecalls: CarrierRecall[] = [];
  const tasks: Array<{ topic: string; body: Record<string, unknown> }> = [];
  let changed = 0;
  const committed: StationWrite[] = [];
  const make = () =>
    new RecallService({
      store,
      preprints,
      carriers: {
        recalls: (all = false) => carrierRecalls.filter((r) => all || r.pulledAt === null),
        pulled: async (waybill) => {
          const r = carrierRecalls.find((x) => x.waybill === waybill)!;
          r.pulledAt = NOW;
          return { ok: true, value: r };
        },
      },
      link: {
        publish: async (topic: string, payload: string | Buffer) => {
          tasks.push({ topic, body: JSON.parse(String(payload)) as Record<string, unknown> });
        },
      } as never,
      logger: createLogger('silent'),
      pdas: () => ['pda-1'],
      changed: () => {
        changed += 1;
      },
      committed: (writes) => {
        committed.push(...writes);
      },
      now: () => NOW,
    });
  const refund = (id: string) => orders.set(id, { ...orders.get(id)!, flags: { ...orders.get(id)!.flags, refunded: true } });
  return { orders, shipments, log, preprints, carrierRecalls, tasks, make, refund, committed, changed: () => changed };
}

describe('the recall list', () => {
  it('a refund after the print puts the label on the list at once, a task goes to the PDAs, the scan of the order barcode pulls it', async () => {
    const f = floor();
    const svc = f.make();
    await svc.start();
    expect(svc.list()).toEqual([]);
    f.refund('O1');
    svc.ordersChanged(['O1']);
    expect(svc.list()).toMatchObject([{ kind: 'preprint', waybill: 'SF1', orderId: 'O1', code: 'PKL_INTERCEPT_REFUNDED', batchId: 'B1', seq: 1 }]);
    expect(svc.view()).toMatchObject({ open: 1, items: [{ waybill: 'SF1', kind: 'preprint' }] });
    expect(f.changed()).toBe(1);
    expect(f.tasks.filter((t) => t.topic === 'dev/pda-1/cmd/task').map((t) => t.body)).toMatchObject([
      { v: 1, type: 'recall', task_id: 'recall:SF1', waybill: 'SF1', code: 'PKL_INTERCEPT_REFUNDED' },
    ]);
    // Order 2 is not intercepted: nothing to pull.
    svc.ordersChanged(['O2']);
    expect(svc.open()).toBe(1);
    const pulled = await svc.pulled('PK1', 'pda-1');
    expect(pulled).toMatchObject({ ok: true, value: { waybill: 'SF1', pulledAt: NOW } });
    expect(svc.open()).toBe(0);
    expect(svc.view()).toBeNull();
    expect(f.tasks.at(-1)?.body).toEqual({ v: 1, type: 'closed', task_id: 'recall:SF1' });
    // The label was never scanned: its order leaves the batch in the same unit (the batch can be done).
    expect(f.log.map((r) => r.type)).toEqual([EVENT.recallPulled, EVENT.batchOrderRemoved]);
    expect(f.log[1]).toMatchObject({ subject: 'batch:B1' });
    expect(JSON.parse(f.log[1]!.data)).toMatchObject({ order_id: 'O1', shipment_id: 'S1', seq: 1, by: 'recall_pulled' });
    expect(f.committed.map((w) => (w.op === 'event' ? w.type : w.op))).toEqual([EVENT.recallPulled, EVENT.batchOrderRemoved]);
    // Again: answered, nothing written.
    expect(await svc.pulled('SF1', 'pda-2')).toMatchObject({ ok: true });
    expect(f.log).toHaveLength(2);
    expect(await svc.pulled('NOPE', 'pda-1')).toMatchObject({ ok: false, code: 'PKL_RECALL_UNKNOWN' });
    // After a restart the pull is still there.
    const again = f.make();
    await again.start();
    expect(again.list(true)).toMatchObject([{ waybill: 'SF1', pulledAt: NOW }]);
    expect(again.open()).toBe(0);
  });

  it('a station intercepting a pre-printed shipment adds it; carrier-switch labels share the list', async () => {
    const f = floor();
    const svc = f.make();
    await svc.start();
    const s2 = { ...f.shipments.get('S2')!, state: 'intercepted' as const, reasonCode: 'PKL_INTERCEPT_CANCELLED' };
    f.shipments.set('S2', s2);
    svc.committed([{ op: 'shipment.put', shipment: s2 }]);
    f.carrierRecalls.push({
      kind: 'carrier_switch',
      waybill: 'ZTO9',
      orderId: 'O9',
      fromCarrier: 'ZTO',
      toCarrier: 'SF',
      switchId: 'r:O9',
      at: NOW + 1,
      pulledAt: null,
    });
    svc.ordersChanged(['O9']);
    expect(svc.list().map((r) => [r.kind, r.waybill, r.code])).toEqual([
      ['preprint', 'SF2', 'PKL_INTERCEPT_CANCELLED'],
      ['carrier_switch', 'ZTO9', 'PKL_CARRIER_HELD'],
    ]);
    expect(f.tasks.map((t) => t.body.task_id)).toEqual(['recall:SF2', 'recall:ZTO9']);
    expect(await svc.pulled('ZTO9', 'api')).toMatchObject({ ok: true, value: { kind: 'carrier_switch' } });
    expect(svc.list().map((r) => r.waybill)).toEqual(['SF2']);
  });

  it('a shipped pre-printed parcel is never on the list, even if its order is refunded later', async () => {
    const f = floor();
    const svc = f.make();
    await svc.start();
    const s1 = { ...f.shipments.get('S1')!, state: 'shipped' as const };
    f.shipments.set('S1', s1);
    svc.committed([{ op: 'shipment.put', shipment: s1 }]);
    f.refund('O1');
    svc.ordersChanged(['O1']);
    expect(svc.open()).toBe(0);
  });
});
