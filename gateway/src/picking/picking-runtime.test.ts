/**
 * The picking runtime over the real SQLite store: decisions are committed before the answer and
 * folded; events written by someone else (the cloud feed's stock counts) are folded before the
 * next decision and read; a new runtime on the same store (a restart) rebuilds the same state;
 * a redelivered PDA message applies once.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { DeviceEvent } from '../station/ports.js';
import { createLogger } from '../lib/logger.js';
import { openStore } from '../storage/sqlite-store.js';
import { PICK_EVENT, pickEvent, stockSubject } from './events.js';
import { PickingRuntime } from './picking-runtime.js';
import { type PickingSnapshot, readSnapshot } from './snapshot.js';

const dir = mkdtempSync(join(tmpdir(), 'pkl-pick-rt-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const sent: Array<{ topic: string; payload: Record<string, unknown> }> = [];
const link = {
  publish: async (topic: string, payload: string) => {
    sent.push({ topic, payload: JSON.parse(payload) as Record<string, unknown> });
  },
};

function pdaEvent<K extends DeviceEvent['kind']>(kind: K, payload: DeviceEvent<K>['payload'], msgId?: string): DeviceEvent {
  return { deviceId: 'pda-1', binding: { deviceId: 'pda-1', role: 'pda', owner: null }, kind, payload, msgId, at: Date.now() } as DeviceEvent;
}

describe('picking runtime', () => {
  it('commits, folds foreign events, rebuilds after a restart and applies a redelivery once', async () => {
    const store = openStore({ dataDir: dir, logger: createLogger('silent'), minFreeMb: 0 });
    await store.start();
    const rt = () => new PickingRuntime({ store, link, logger: createLogger('silent'), checkpoints: ['pick_start'], idStem: 'gw-t' });
    const a = rt();
    await a.start();
    expect(
      await a.importFloor([
        pickEvent(PICK_EVENT.locationUpserted, 'location:L1', {
          code: 'L1',
          zone: 'Z',
          aisle: 1,
          bay: 1,
          level: 1,
          walk_seq: null,
          kind: 'pick',
          capacity: 10,
          trigger: 2,
        }),
        pickEvent(PICK_EVENT.stockSet, 'location:L1', { location: 'L1', sku: 'S1', qty: 10, revision: 0 }),
      ]),
    ).toMatchObject({ ok: true });
    await store.write([
      {
        op: 'order.put',
        order: {
          orderId: 'O1',
          shop: 's',
          barcodes: [],
          lines: [{ sku: 'S1', barcode: '6900000000011', name: 'x', qty: 3, unitGrams: 1 }],
          packagingGrams: null,
          flags: { refundRequested: false, refunded: false, cancelled: false, platformClosed: false, shipped: false },
          carrier: 'SF',
          waybill: null,
          printData: null,
          shipBy: null,
          revision: 1,
          updatedAt: 0,
        },
      },
    ]);
    const built = await a.build({}, false);
    if (!built.ok) throw new Error(built.code);
    const waveId = built.waves[0]?.wave_id as string;
    expect((await a.release(waveId, 'pda-1')).ok).toBe(true);

    const answer = (e: DeviceEvent) =>
      new Promise<{ ok: boolean; code?: string }>((res) => a.submit(e, (o) => res(o.ok ? { ok: true } : { ok: false, code: o.code })));
    expect(await answer(pdaEvent('pick_accept', { task_id: waveId }, 'm1'))).toEqual({ ok: true });
    expect(sent.at(-1)?.payload).toMatchObject({ v: 1, type: 'pick', task_id: waveId });
    expect(await answer(pdaEvent('pick_line', { task_id: waveId, location: 'L9', item: '6900000000011', qty: 1 }, 'm2'))).toEqual({
      ok: false,
      code: 'PKL_PICK_WRONG_LOCATION',
    });
    expect(await answer(pdaEvent('pick_line', { task_id: waveId, location: 'L1', item: '6900000000011', qty: 1 }, 'm3'))).toEqual({ ok: true });
    // The same message again (a QoS 1 redelivery reaching the owner): applied once.
    expect(await answer(pdaEvent('pick_line', { task_id: waveId, location: 'L1', item: '6900000000011', qty: 1 }, 'm3'))).toEqual({ ok: true });
    expect(a.stock('L1')).toMatchObject({ stock: [{ sku: 'S1', qty: 9, reserved: 2 }] });

    // The cloud's count arrives through the feed (written by the sync applier, not by the runtime):
    // 20 as of before any local event, so the local pick is added on top.
    await store.write([
      { op: 'event', type: PICK_EVENT.stockSet, subject: stockSubject('L1', 'S1'), data: { location: 'L1', sku: 'S1', qty: 20, revision: 5, as_of_seq: 0 } },
    ]);
    expect(a.stock('L1')).toMatchObject({ stock: [{ sku: 'S1', qty: 19 }] });
    expect(await answer(pdaEvent('pick_line', { task_id: waveId, location: 'L1', item: '6900000000011', qty: 2 }, 'm4'))).toEqual({ ok: true });
    expect(a.wave(waveId)?.state).toBe('closed');
    expect(sent.at(-1)?.payload).toEqual({ v: 1, type: 'closed', task_id: waveId });
    const before = { stock: a.stock('L1'), wave: a.wave(waveId), reps: a.replenishments() };
    await a.stop();

    // A restart: the same state from the log.
    const b = rt();
    await b.start();
    expect({ stock: b.stock('L1'), wave: b.wave(waveId), reps: b.replenishments() }).toEqual(before);
    await b.stop();
    await store.stop();
  });

  it('builds with the configured wave rules where the request names none (config picking.waves)', async () => {
    const store = openStore({ dataDir: join(dir, 'cfg'), logger: createLogger('silent'), minFreeMb: 0 });
    await store.start();
    const rt = new PickingRuntime({
      store,
      link,
      logger: createLogger('silent'),
      checkpoints: [],
      idStem: 'gw-c',
      waveDefaults: { maxOrders: 2, groupBy: [] },
      pendingOrders: 100,
    });
    await rt.start();
    await rt.importFloor([
      pickEvent(PICK_EVENT.locationUpserted, 'location:L1', {
        code: 'L1',
        zone: 'Z',
        aisle: 1,
        bay: 1,
        level: 1,
        walk_seq: null,
        kind: 'pick',
        capacity: null,
        trigger: null,
      }),
      pickEvent(PICK_EVENT.stockSet, 'location:L1', { location: 'L1', sku: 'S1', qty: 100, revision: 0 }),
    ]);
    const flags = { refundRequested: false, refunded: false, cancelled: false, platformClosed: false, shipped: false };
    await store.write(
      ['O1', 'O2', 'O3'].map((orderId, i) => ({
        op: 'order.put' as const,
        order: {
          orderId,
          shop: 's',
          barcodes: [],
          lines: [{ sku: 'S1', barcode: '6900000000011', name: 'x', qty: 1, unitGrams: 1 }],
          packagingGrams: null,
          flags,
          carrier: i === 2 ? 'ZTO' : 'SF',
          waybill: null,
          printData: null,
          shipBy: null,
          revision: 1,
          updatedAt: 0,
        },
      })),
    );
    const preview = await rt.build({}, true);
    if (!preview.ok) throw new Error(preview.code);
    // Two orders at most, carriers mixed (no grouping); a request still names its own rules.
    expect(preview.waves[0]?.orders.map((o) => o.order_id)).toEqual(['O1', 'O2']);
    const own = await rt.build({ maxOrders: 3 }, true);
    if (!own.ok) throw new Error(own.code);
    expect(own.waves[0]?.orders).toHaveLength(3);
    await rt.stop();
    await store.stop();
  });

  it('restarts from its snapshot and the log after it; a snapshot of another log is ignored', async () => {
    const store = openStore({ dataDir: join(dir, 'snap'), logger: createLogger('silent'), minFreeMb: 0 });
    await store.start();
    const file = join(dir, 'snap', 'picking-state.json');
    const rt = (snapshotFile?: string) =>
      new PickingRuntime({
        store,
        link,
        logger: createLogger('silent'),
        checkpoints: [],
        idStem: 'gw-s',
        ...(snapshotFile && { snapshotFile, snapshotEvery: 1e9 }),
      });
    const a = rt(file);
    await a.start();
    await a.importFloor([
      pickEvent(PICK_EVENT.locationUpserted, 'location:L1', {
        code: 'L1',
        zone: 'Z',
        aisle: 1,
        bay: 1,
        level: 1,
        walk_seq: null,
        kind: 'pick',
        capacity: 10,
        trigger: 8,
      }),
      pickEvent(PICK_EVENT.stockSet, 'location:L1', { location: 'L1', sku: 'S1', qty: 10, revision: 0 }),
    ]);
    const flags = { refundRequested: false, refunded: false, cancelled: false, platformClosed: false, shipped: false };
    const line = { sku: 'S1', barcode: '6900000000011', name: 'x', qty: 3, unitGrams: 1 };
    const order = {
      shop: 's',
      barcodes: [],
      lines: [line],
      packagingGrams: null,
      flags,
      carrier: 'SF',
      waybill: null,
      printData: null,
      shipBy: null,
      revision: 1,
      updatedAt: 0,
    };
    await store.write([{ op: 'order.put', order: { ...order, orderId: 'O1' } }]);
    const built = await a.build({}, false);
    if (!built.ok) throw new Error(built.code);
    const waveId = built.waves[0]?.wave_id as string;
    await a.release(waveId, 'pda-1');
    const answer = (r: PickingRuntime, e: DeviceEvent) => new Promise<boolean>((res) => r.submit(e, (o) => res(o.ok)));
    expect(await answer(a, pdaEvent('pick_accept', { task_id: waveId }, 's1'))).toBe(true);
    expect(await answer(a, pdaEvent('pick_line', { task_id: waveId, location: 'L1', item: '6900000000011', qty: 1 }, 's2'))).toBe(true);
    await a.snapshotNow();
    const snap = readSnapshot(file) as PickingSnapshot;
    expect(snap.seq).toBeGreaterThan(0);
    // After the snapshot: one more pick (a replenishment request with it).
    expect(await answer(a, pdaEvent('pick_line', { task_id: waveId, location: 'L1', item: '6900000000011', qty: 2 }, 's3'))).toBe(true);
    await a.stop();
    // A clean stop wrote the snapshot again, with everything so far.
    expect((readSnapshot(file) as PickingSnapshot).seq).toBeGreaterThan(snap.seq);
    // After it, an event written by someone else (the cloud feed's count): the tail a restart folds.
    await store.write([
      { op: 'event', type: PICK_EVENT.stockSet, subject: stockSubject('L9', 'S9'), data: { location: 'L9', sku: 'S9', qty: 4, revision: 1 } },
    ]);
    const view = (r: PickingRuntime) => ({ l1: r.stock('L1'), l9: r.stock('L9'), wave: r.wave(waveId), reps: r.replenishments(), shorts: r.shorts() });

    const full = rt();
    await full.start();
    const expected = view(full);
    expect(expected.wave?.state).toBe('closed');
    expect(expected.l1).toMatchObject({ stock: [{ sku: 'S1', qty: 7 }] });

    const b = rt(file);
    await b.start();
    expect(view(b)).toEqual(expected);
    await b.stop();

    // The snapshot is what the restart starts from: a figure changed in it shows (and moves on with the log).
    const raw = JSON.parse(readFileSync(file, 'utf8')) as PickingSnapshot;
    const tampered = { ...raw, state: { ...raw.state, stock: raw.state.stock.map(([l, m]) => [l, m.map(([k, q]) => [k, l === 'L1' ? q + 100 : q])]) } };
    writeFileSync(file, JSON.stringify(tampered));
    const c = rt(file);
    await c.start();
    expect(c.stock('L1')).toMatchObject({ stock: [{ sku: 'S1', qty: 107 }] });
    await c.stop();

    // A snapshot whose last picking event is not in this log (another database): the whole log is replayed.
    writeFileSync(file, JSON.stringify({ ...tampered, pick_hlc: '1.000000' }));
    const d = rt(file);
    await d.start();
    expect(view(d)).toEqual(expected);
    await d.stop();
    await store.stop();
  });
});
