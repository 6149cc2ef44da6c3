/**
 * Presale over a real store and the real feed applier: presale orders arrive by the feed and
 * by the HTTP import, `order.paid` is applied once however often it is delivered (also before
 * its order), a staged parcel whose order is cancelled by its owner goes on the unpack list
 * (the cancel rule accepts it: the staged shipment is closed), is marked unpacked once, and
 * everything comes back from the log after a restart.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Change } from '../../../contracts/sync.js';
import { SYNC_EVENT } from '../../../contracts/sync.js';
import { createStoreOrderService } from '../http/order-import.js';
import { createLogger } from '../lib/logger.js';
import { EVENT } from '../station/events.js';
import { orderFromWire } from '../station/order-wire.js';
import { openStore } from '../storage/sqlite-store.js';
import type { Store } from '../storage/types.js';
import { aShipment } from '../storage/test-fixtures.js';
import { StoreSyncAdapter } from '../sync/sync-store-adapter.js';
import { PresaleService } from './presale-service.js';

let dir: string;
let store: Store;
let adapter: StoreSyncAdapter;
let cursor = 0;
const page = (cs: Array<Record<string, unknown>>) =>
  adapter.applyChanges(
    cs.map((c) => ({ change: { cursor: String(++cursor), ...c } as Change })),
    String(cursor),
  );
const wire = (id: string, presale?: boolean) => ({
  order_id: id,
  lines: [{ sku: 'SKU-1', barcode: '6901234567892', name: 'Mug', qty: 1, unit_grams: 300 }],
  waybill: `WB-${id}`,
  revision: 1,
  ...(presale !== undefined && { presale }),
});
const CHECKPOINTS = ['packing', 'weighing', 'direct_shipment'] as const;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'packline-presale-'));
  store = openStore({ dataDir: dir, logger: createLogger('silent') });
  await store.start();
  adapter = new StoreSyncAdapter(
    store,
    () => undefined,
    () => 5_000,
  );
});

afterAll(async () => {
  await store.stop();
  rmSync(dir, { recursive: true, force: true });
});

const newService = () => new PresaleService({ store, logger: createLogger('silent'), checkpoints: CHECKPOINTS, now: () => 1_000 });

describe('presale service', () => {
  it('reads presale and payments from the feed and the import, applies a payment once, and rebuilds from the log', async () => {
    // Paid before its order arrives: kept in the log, holds when the order comes.
    await page([{ kind: 'order.paid', order_id: 'P4', at: 1 }]);
    await page([
      { kind: 'order.upsert', order: wire('P1', true) },
      { kind: 'order.upsert', order: wire('P2', true) },
      { kind: 'order.upsert', order: wire('N1') },
      { kind: 'order.upsert', order: wire('P4', true) },
      { kind: 'order.paid', order_id: 'P1', revision: 2, at: 2 },
      { kind: 'order.paid', order_id: 'P1', revision: 2, at: 2 },
    ]);
    // Redelivered: nothing new.
    await page([{ kind: 'order.paid', order_id: 'P1', revision: 2, at: 2 }]);
    await createStoreOrderService(store).import([orderFromWire({ ...wire('P3', true) }, 5)]);
    const paid = store.readEvents(0, 1000).filter((e) => e.type === EVENT.presalePaid);
    expect(paid.map((e) => [e.subject, (e.data as { cached: boolean }).cached])).toEqual([
      ['order:P4', false],
      ['order:P1', true],
    ]);
    const imported = store.readEvents(0, 1000).filter((e) => e.type === EVENT.orderImported);
    expect(imported.filter((e) => (e.data as { presale?: boolean }).presale === true).map((e) => e.subject)).toEqual([
      'order:P1',
      'order:P2',
      'order:P4',
      'order:P3',
    ]);

    const svc = newService();
    await svc.start();
    expect(['P1', 'P2', 'P3', 'P4', 'N1'].map((id) => svc.station.unpaid(id))).toEqual([false, true, true, false, false]);
    // Live: the payment of P2 reaches the service through the order-change signal.
    await page([{ kind: 'order.paid', order_id: 'P2', at: 3 }]);
    svc.ordersChanged(['P2']);
    expect(svc.station.unpaid('P2')).toBe(false);
  });

  it('a staged parcel cancelled before payment is accepted by the cancel rule, goes on the unpack list, is unpacked once, and survives a restart', async () => {
    const svc = newService();
    await svc.start();
    // The station's staging unit for P3 (station/decide/presale-stage.ts writes these).
    const staged = aShipment({ shipmentId: 'S-P3', orderId: 'P3', state: 'abandoned', reasonCode: 'PKL_PRESALE_STAGED', actualGrams: 400 });
    const writes = [
      { op: 'shipment.put' as const, shipment: staged },
      {
        op: 'event' as const,
        type: EVENT.presaleStaged,
        subject: 'presale:S-P3',
        data: { order_id: 'P3', staging_id: 'S-P3', shipment_id: 'S-P3', station_id: 'st-1', grams: 400 },
      },
    ];
    await store.write(writes);
    svc.committed(writes);
    expect(svc.counts()).toEqual({ staged: 1, ready: 0, unpack: 0 });
    expect(await svc.markUnpacked('S-P3', 'lee')).toMatchObject({ ok: false, code: 'PKL_PRESALE_NOT_UNPACKABLE' });
    await page([{ kind: 'order.cancel_request', order_id: 'P3', request_id: 'CR-P3', at: 4 }]);
    expect(store.lastEvent('order:P3', SYNC_EVENT.cancelAccepted)).not.toBeNull();
    svc.ordersChanged(['P3']);
    expect(svc.unpackList().map((r) => [r.stagingId, r.reason])).toEqual([['S-P3', 'PKL_INTERCEPT_CANCELLED']]);
    expect(svc.view()).toMatchObject({ staged: 0, ready: 0, unpack: 1, unpack_list: [{ staging_id: 'S-P3', order_id: 'P3' }] });
    expect(await svc.markUnpacked('S-P3', 'lee')).toMatchObject({ ok: true, value: { duplicate: false, parcel: { state: 'unpacked', unpackedBy: 'lee' } } });
    expect(await svc.markUnpacked('S-P3', 'lee')).toMatchObject({ ok: true, value: { duplicate: true } });
    // The screens' block follows at once (it is computed once per change).
    expect(svc.view()).toBeNull();
    expect(await svc.markUnpacked('S-NONE', 'lee')).toMatchObject({ ok: false, code: 'PKL_PRESALE_UNKNOWN' });
    expect(store.readEvents(0, 1000).filter((e) => e.type === EVENT.presaleUnpacked)).toHaveLength(1);
    const again = newService();
    await again.start();
    expect(again.get('S-P3')).toMatchObject({ state: 'unpacked', unpackedBy: 'lee' });
    expect(again.view()).toBeNull();
  });
});
