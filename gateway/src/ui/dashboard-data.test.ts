import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { GatewayLinkState, StationView } from '../../../contracts/payloads.js';
import { parseConfig } from '../config/load.js';
import { createLogger } from '../lib/logger.js';
import { openStore } from '../storage/sqlite-store.js';
import { aShipment } from '../storage/test-fixtures.js';
import { EVENT } from '../station/events.js';
import type { Store, WriteOp } from '../storage/types.js';
import { DashboardData } from './dashboard-data.js';
import { DeviceBoard } from './device-board.js';

const HOUR = 3_600_000;
const dirs: string[] = [];
const stores: Store[] = [];

afterEach(async () => {
  for (const s of stores.splice(0)) await s.stop();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

const config = parseConfig({
  dataDir: '/nonexistent',
  devices: [
    { id: 'st-1-scanner', role: 'scanner', station: 'st-1' },
    { id: 'st-1-scale', role: 'scale', station: 'st-1' },
    { id: 'st-1-printer', role: 'printer', station: 'st-1' },
    { id: 'line-1-dws', role: 'conveyor', station: 'line-1' },
  ],
  stations: [{ id: 'st-1', scanner: 'st-1-scanner', scale: 'st-1-scale', printer: 'st-1-printer' }],
  lines: [{ id: 'line-1', device: 'line-1-dws', chutes: { ZTO: 'C01' }, exceptionChute: 'EXC', defaultChute: 'DEFAULT' }],
});

const link: GatewayLinkState = { state: 'offline', since: 0, transport: 'https', backlog: 0, acked_seq: 0, failed: 0, last_error: 'ECONNREFUSED', ts: 0 };

async function rig(opts: { now?: () => number; view?: Partial<StationView> } = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'pkl-dash-'));
  dirs.push(dir);
  const store = openStore({ dataDir: dir, logger: createLogger('silent') });
  stores.push(store);
  await store.start();
  const online = new Set(['st-1-scanner', 'st-1-printer']);
  const devices = new DeviceBoard(config, (id) => online.has(id));
  const view = { station_id: 'st-1', shipment_id: null, ...opts.view } as StationView;
  const data = new DashboardData({
    config,
    store,
    stations: {
      list: () => [{ stationId: 'st-1', state: 'held', shipmentId: view.shipment_id, devices: {} as never }],
      view: (id) => (id === 'st-1' ? view : null),
    },
    sync: { linkState: () => ({ ...link, backlog: store.stats().lastSeq }) },
    devices,
    logger: createLogger('silent'),
    ...(opts.now ? { now: opts.now } : {}),
    tailEveryMs: 60_000,
  });
  return { store, data, devices };
}

const shipped = (id: string, extra: Record<string, unknown> = {}): WriteOp[] => [
  { op: 'shipment.put', shipment: aShipment({ shipmentId: id, state: 'shipped', stationId: (extra['line_id'] as string) ?? 'st-1' }) },
  { op: 'event', type: 'shipment.shipped', subject: `shipment:${id}`, data: { order_id: `O-${id}`, waybill: 'W', carrier: 'ZTO', ...extra } },
];

describe('DashboardData', () => {
  it('counts shipped parcels per station and line from the event log, then only the new events', async () => {
    const { store, data } = await rig();
    await store.write([
      ...shipped('S-1'),
      ...shipped('S-2'),
      ...shipped('S-3', { line_id: 'line-1' }),
      // The line sorts what it shipped and what a station shipped: its parcels per hour count
      // both, the total of parcels shipped counts each parcel once.
      { op: 'event', type: EVENT.parcelDiverted, subject: 'line:line-1', data: { seq: 1, barcode: 'O-3', chute: 'C01', reason: 'carrier' } },
      { op: 'event', type: EVENT.parcelDiverted, subject: 'line:line-1', data: { seq: 2, barcode: 'O-1', chute: 'C01', reason: 'carrier' } },
      { op: 'event', type: EVENT.parcelDiverted, subject: 'line:line-1', data: { seq: 3, barcode: null, chute: 'DEFAULT', reason: 'no_read' } },
    ]);
    await data.start();
    let snap = data.snapshot();
    const unit = (id: string) => snap.throughput.units.find((u) => u.id === id);
    expect(unit('st-1')?.last_hour).toBe(2);
    expect(unit('line-1')?.last_hour).toBe(2);
    expect(snap.throughput.last_hour).toBe(3);
    expect(unit('st-1')?.rate_per_hour).toBe(12); // 2 in the last 10 minutes → 12/h
    expect(unit('st-1')?.per_5min).toHaveLength(12);
    expect(unit('st-1')?.per_5min.at(-1)).toBe(2);
    expect(unit('st-1')?.state).toBe('held');

    await store.write(shipped('S-4'));
    snap = data.snapshot();
    expect(unit('st-1')?.last_hour).toBe(3);
    await data.stop();
  });

  it('starts one hour back: older events are not counted, and counts leave the window as time passes', async () => {
    let now = Date.now();
    const { store, data } = await rig({ now: () => now });
    await store.write(shipped('S-1'));
    now += 2 * HOUR; // the parcel was shipped two hours "ago"
    await data.start();
    expect(data.snapshot().throughput.last_hour).toBe(0);

    now -= 2 * HOUR;
    const fresh = await rig({ now: () => now });
    await fresh.store.write(shipped('S-1'));
    await fresh.data.start();
    expect(fresh.data.snapshot().throughput.last_hour).toBe(1);
    now += HOUR + 61_000;
    expect(fresh.data.snapshot().throughput.last_hour).toBe(0);
    await data.stop();
    await fresh.data.stop();
  });

  it('lists intercepts, weight holds (releasable when on screen), print failures and refused cancels', async () => {
    const { store, data } = await rig({ view: { shipment_id: 'S-H' } });
    await store.write([
      { op: 'shipment.put', shipment: aShipment({ shipmentId: 'S-I', state: 'intercepted', reasonCode: 'PKL_INTERCEPT_REFUNDED', orderId: 'O-I' }) },
      {
        op: 'event',
        type: 'shipment.intercepted',
        subject: 'shipment:S-I',
        data: { order_id: 'O-I', station_id: 'st-1', code: 'PKL_INTERCEPT_REFUNDED', checkpoint: 'scan' },
      },
      {
        op: 'shipment.put',
        shipment: aShipment({ shipmentId: 'S-H', state: 'held', reasonCode: 'PKL_WEIGHT_OUT_OF_TOLERANCE', actualGrams: 900, expectedGrams: 800 }),
      },
      { op: 'event', type: 'shipment.held', subject: 'shipment:S-H', data: { code: 'PKL_WEIGHT_OUT_OF_TOLERANCE', actual: 900 } },
      { op: 'event', type: 'shipment.exception', subject: 'shipment:S-X', data: { order_id: 'O-X', reason: 'cancel', request_id: 'r1', state: 'printed' } },
    ]);
    await data.start();
    const snap = data.snapshot();
    const byKind = (k: string) => snap.exceptions.items.filter((i) => i.kind === k);
    expect(byKind('intercept')).toHaveLength(1);
    expect(byKind('intercept')[0]?.message).toBe('Intercepted: order O-I was refunded');
    expect(byKind('intercept')[0]?.message_zh).toBe('拦截：订单 O-I 已退款');
    expect(byKind('hold')[0]).toMatchObject({ shipment_id: 'S-H', station_id: 'st-1', actions: ['release'] });
    expect(byKind('hold')[0]?.message).toContain('900 g');
    expect(byKind('refused_cancel')[0]?.order_id).toBe('O-X');
    expect(snap.exceptions.counts).toMatchObject({ intercept: 1, hold: 1, refused_cancel: 1, print_failure: 0 });
    expect(snap.throughput.intercepts_last_hour).toBe(1);
    expect(snap.throughput.holds_last_hour).toBe(1);
    await data.stop();
  });

  it('shows a cloud that answers outside the sync contract as an outage, with the cause', async () => {
    const { data } = await rig();
    const saved = { ...link };
    Object.assign(link, { state: 'contract_error', last_error: "the cloud's batch ack does not match the sync contract (/acked_seq: Expected integer)" });
    try {
      await data.start();
      expect(data.snapshot().sync).toMatchObject({ state: 'contract_error', outage: true, last_error: expect.stringMatching(/acked_seq/) });
    } finally {
      Object.assign(link, saved);
      await data.stop();
    }
  });

  it('reports the link outage, backlog and lag, coverage and the device grid', async () => {
    const { store, data, devices } = await rig();
    await store.write(shipped('S-1'));
    devices.update('st-1-printer', 'error', 'paper_out');
    // A hosted driver whose USB scanner was pulled: connected to the broker, device offline with the reason.
    devices.update('st-1-scanner', 'offline', 'hid 0c2e:0b6a (/dev/hidraw3): unplugged or read failed (could not read from HID device)');
    await data.start();
    const snap = data.snapshot();
    expect(snap.sync).toMatchObject({ state: 'offline', outage: true, backlog: 1, enabled: false });
    expect(snap.sync.lag_seconds).toBeGreaterThanOrEqual(0);
    expect(snap.waybill_coverage).toMatchObject({ open: 0, percent: 100, alarm: false });
    const dev = (id: string) => snap.devices.find((d) => d.device_id === id);
    expect(dev('st-1-printer')).toMatchObject({ status: 'fault', media: 'paper_out', reason: 'paper_out' });
    expect(dev('st-1-scanner')).toMatchObject({ status: 'offline', media: null, reason: expect.stringMatching(/unplugged/) });
    expect(dev('st-1-scale')?.status).toBe('offline');
    await data.stop();
  });
});
