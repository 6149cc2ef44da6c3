/**
 * The handover service over a fake store: "expected" counts every shipped parcel of the
 * look-back however many pages the store needs (it answers at most 1000 rows a page), and the
 * state comes back from the log after a restart.
 */
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../config/load.js';
import { createLogger } from '../lib/logger.js';
import { encodeHlc } from '../lib/hlc.js';
import type { Shipment, StationWrite } from '../station/domain.js';
import type { RawEventRow } from '../storage/types.js';
import { anOrder, aShipment } from '../storage/test-fixtures.js';
import { HandoverService, type HandoverStore } from './handover-service.js';

const NOW = new Date(2026, 10, 11, 12, 0).getTime();

function fakeStore(shipments: Shipment[]): HandoverStore & { log: RawEventRow[] } {
  const log: RawEventRow[] = [];
  return {
    log,
    getOrder: () => null,
    findOrderByBarcode: (code) => {
      const s = shipments.find((x) => x.waybill === code);
      return s ? anOrder({ orderId: s.orderId, carrier: s.carrier, waybill: s.waybill }) : null;
    },
    getShipment: (id) => shipments.find((s) => s.shipmentId === id) ?? null,
    listShipments: (q) => {
      const rows = shipments
        .filter(
          (s) =>
            (q.state === undefined || s.state === q.state) &&
            (q.orderId === undefined || s.orderId === q.orderId) &&
            (q.before === undefined || s.updatedAt < q.before),
        )
        .sort((a, b) => b.updatedAt - a.updatedAt || (a.shipmentId < b.shipmentId ? 1 : -1));
      return rows.slice(0, Math.min(q.limit ?? 100, 1000));
    },
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
    eventRowsOfTypes: (types, after, limit) => {
      const rows = log.filter((r) => r.seq > after && types.includes(r.type)).slice(0, limit);
      return { rows, scannedTo: log.length };
    },
    stats: () => ({ lastSeq: log.length }),
  };
}

function service(store: HandoverStore): HandoverService {
  const config = parseConfig({});
  return new HandoverService({ config, store, link: { publish: async () => undefined }, logger: createLogger('silent'), boot: 1, now: () => NOW });
}

describe('handover service', () => {
  // 2 500 parcels shipped over the last hours, several in the same millisecond.
  const shipped = Array.from({ length: 2500 }, (_, i) =>
    aShipment({
      shipmentId: `S-${i}`,
      orderId: `O-${i}`,
      state: 'shipped',
      carrier: i % 5 === 0 ? 'SF' : 'ZTO',
      waybill: `W${i}`,
      shippedAt: NOW - 1000 - Math.floor(i / 3) * 1000,
      updatedAt: NOW - 1000 - Math.floor(i / 3) * 1000,
    }),
  );

  it('counts every shipped parcel across store pages, and rebuilds manifests from the log', async () => {
    const store = fakeStore(shipped);
    const a = service(store);
    await a.start();
    expect(a.status()).toMatchObject({ pending: 2500, overdue: 0 });
    const opened = await a.open('SF', 'pda');
    expect(opened.ok && opened.value.expected).toBe(500);
    if (!opened.ok) return;
    expect((await a.scan(opened.value.manifestId, 'W0', 'pda')).ok).toBe(true);
    expect((await a.scan(opened.value.manifestId, 'W5', 'pda')).ok).toBe(true);
    expect(a.get(opened.value.manifestId)).toMatchObject({ count: 2, expected: 500 });

    const b = service(store);
    await b.start();
    expect(b.get(opened.value.manifestId)).toMatchObject({ state: 'open', count: 2, expected: 500 });
    const closed = await b.close(opened.value.manifestId, 'lee');
    expect(closed).toMatchObject({ ok: true, value: { state: 'closed', count: 2 } });
    expect(store.log.filter((r) => r.type === 'shipment.handed_over').map((r) => r.subject)).toEqual(['shipment:S-0', 'shipment:S-5']);
    expect(b.status().pending).toBe(2498);
    // A parcel shipped since: counted at once, from its `shipment.shipped` event in the log.
    shipped.push(
      aShipment({ shipmentId: 'S-new', orderId: 'O-new', state: 'shipped', carrier: 'SF', waybill: 'WN', shippedAt: NOW - 10, updatedAt: NOW - 10 }),
    );
    await store.write([
      { op: 'event', type: 'shipment.shipped', subject: 'shipment:S-new', data: { order_id: 'O-new', carrier: 'SF', waybill: 'WN', grams: 100 } },
    ]);
    expect(b.status().carriers.find((c) => c.carrier === 'SF')?.pending).toBe(499);
  });
});
