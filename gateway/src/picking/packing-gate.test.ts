/**
 * Packing respects picking, end to end: the real station runtime asks the real picking runtime
 * (its fold of the log in the real SQLite store) at the order scan. An order of a wave still
 * being picked is refused; once its units are picked it opens. An order held short is refused
 * with the short pick code until a supervisor releases it.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../config/load.js';
import { createLogger } from '../lib/logger.js';
import { StationRuntime } from '../station/apply/station-runtime.js';
import type { DeviceEvent, Outcome } from '../station/ports.js';
import { openStore } from '../storage/sqlite-store.js';
import { anOrder } from '../storage/test-fixtures.js';
import { PICK_EVENT, pickEvent } from './events.js';
import { PickingRuntime } from './picking-runtime.js';

const dir = mkdtempSync(join(tmpdir(), 'pkl-pack-gate-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const config = parseConfig({
  dataDir: dir,
  devices: [
    { id: 'st-1-scanner', role: 'scanner', station: 'st-1' },
    { id: 'st-1-scale', role: 'scale', station: 'st-1' },
    { id: 'st-1-printer', role: 'printer', station: 'st-1' },
  ],
  stations: [{ id: 'st-1', scanner: 'st-1-scanner', scale: 'st-1-scale', printer: 'st-1-printer', verifyItems: 'never' }],
});

const link = { publish: async () => undefined };
const metrics = { shipment: () => undefined, observeScanToPrint: () => undefined };

function pda<K extends DeviceEvent['kind']>(kind: K, payload: DeviceEvent<K>['payload'], msgId: string): DeviceEvent {
  return { deviceId: 'pda-1', binding: { deviceId: 'pda-1', role: 'pda', owner: null }, kind, payload, msgId, at: Date.now() } as DeviceEvent;
}

const order = (orderId: string, barcode: string, sku: string) =>
  anOrder({ orderId, barcodes: [barcode], lines: [{ sku, barcode: `69${sku}`, name: sku, qty: 2, unitGrams: 100 }], packagingGrams: 0 });

describe('packing station over picking', () => {
  it('refuses an order until its wave picked it; a short one until a supervisor releases it', async () => {
    const store = openStore({ dataDir: dir, logger: createLogger('silent'), minFreeMb: 0 });
    await store.start();
    let refreshed: string[] = [];
    const picking = new PickingRuntime({
      store,
      link,
      logger: createLogger('silent'),
      checkpoints: [],
      idStem: 'gw-t',
      onStationSort: (id) => refreshed.push(id),
    });
    await picking.start();
    let n = 0;
    const stations = new StationRuntime({
      config,
      store,
      link,
      metrics,
      logger: createLogger('silent'),
      ids: { next: (prefix) => `${prefix}-t-${n++}` },
      isOnline: () => true,
      pickingState: (id) => picking.orderPicking(id),
      pickingView: (stationId, orderId) => picking.stationView(stationId, orderId),
    });
    await stations.start();
    const scan = (code: string) =>
      new Promise<Outcome>((res) =>
        stations.submit(
          {
            deviceId: 'st-1-scanner',
            binding: { deviceId: 'st-1-scanner', role: 'scanner', owner: { type: 'station', id: 'st-1' } },
            kind: 'scan',
            payload: { code },
            at: Date.now(),
          } as DeviceEvent,
          res,
        ),
      );
    const answer = (e: DeviceEvent) => new Promise<Outcome>((res) => picking.submit(e, res));

    const floor = [];
    for (const [loc, sku] of [
      ['L1', 'S1'],
      ['L2', 'S2'],
    ] as const) {
      floor.push(
        pickEvent(PICK_EVENT.locationUpserted, `location:${loc}`, {
          code: loc,
          zone: 'Z',
          aisle: 1,
          bay: 1,
          level: 1,
          walk_seq: null,
          kind: 'pick',
          capacity: 10,
          trigger: 0,
        }),
        pickEvent(PICK_EVENT.stockSet, `location:${loc}`, { location: loc, sku, qty: 10, revision: 0 }),
      );
    }
    expect(await picking.importFloor(floor)).toMatchObject({ ok: true });
    await store.write([
      { op: 'order.put', order: order('O1', 'TB1', 'S1') },
      { op: 'order.put', order: order('O2', 'TB2', 'S2') },
    ]);
    const built = await picking.build({}, false);
    if (!built.ok) throw new Error(built.code);
    // O3 arrives after the wave and never goes to picking: it is packed as before.
    await store.write([{ op: 'order.put', order: order('O3', 'TB3', 'S1') }]);
    const waveId = built.waves[0]?.wave_id as string;
    const slotOf = (o: string) => picking.wave(waveId)?.orders.find((x) => x.order_id === o)?.slot;
    expect((await picking.release(waveId, 'pda-1')).ok).toBe(true);
    expect(await answer(pda('pick_accept', { task_id: waveId }, 'm1'))).toMatchObject({ ok: true });

    expect(await scan('TB1')).toEqual({ ok: false, code: 'PKL_ORDER_NOT_PICKED', details: { orderId: 'O1', waveId, slot: slotOf('O1'), reason: 'picking' } });
    expect(store.openShipments()).toEqual([]);

    expect(await answer(pda('pick_line', { task_id: waveId, location: 'L1', item: '69S1', qty: 2 }, 'm2'))).toMatchObject({ ok: true });
    expect(await answer(pda('pick_short', { task_id: waveId, location: 'L2', item: '69S2', found: 1, reason: 'not_there' }, 'm3'))).toMatchObject({ ok: true });

    expect(await scan('TB2')).toEqual({ ok: false, code: 'PKL_PICK_SHORT', details: { orderId: 'O2', sku: 'S2', location: 'L2' } });
    expect(await scan('TB1')).toMatchObject({ ok: true });
    // The screen shows where the order's picked units wait: its slot in the wave.
    expect(stations.view('st-1')?.picking).toEqual({ order: { wave_id: waveId, order_id: 'O1', slot: slotOf('O1'), state: 'picked' }, sorted: null });
    // A PDA of the station sorts a picked unit (wave, then item): the station screen shows its slot.
    const stationPda = (payload: DeviceEvent<'pick_sort'>['payload'], msgId: string) =>
      ({
        deviceId: 'st-1-pda',
        binding: { deviceId: 'st-1-pda', role: 'pda', owner: { type: 'station', id: 'st-1' } },
        kind: 'pick_sort',
        payload,
        msgId,
        at: Date.now(),
      }) as DeviceEvent;
    refreshed = [];
    expect(await answer(stationPda({ task_id: waveId, item: '69S1' }, 's1'))).toMatchObject({ ok: true });
    expect(refreshed).toEqual(['st-1']);
    expect(stations.view('st-1')?.picking?.sorted).toMatchObject({ wave_id: waveId, order_id: 'O1', slot: slotOf('O1'), sku: 'S1', item: '69S1' });
    expect(await scan('TB3')).toMatchObject({ ok: true });
    // O3 was never in a wave: no order block; the last sort stays on the screen.
    expect(stations.view('st-1')?.picking).toMatchObject({ order: null, sorted: { order_id: 'O1' } });

    expect((await picking.decideShort('O2', 'release', 'sup-1')).ok).toBe(true);
    expect(await scan('TB2')).toMatchObject({ ok: true });

    await stations.stop();
    await picking.stop();
    await store.stop();
  });
});
