import { describe, expect, it } from 'vitest';
import type { Shipment } from '../domain.js';
import { restoreStation } from './restore.js';
import { stepStation } from './step-station.js';
import { Bench, line, makeOrder, STATION, World } from './testing/world.js';

/** Runs a station to some point, then "restarts": rebuilds the state from the world's rows. */
function restart(b: Bench, at: number) {
  const open = [...b.world.shipments.values()].filter((s) => ['verifying', 'weighing', 'held', 'labelling', 'printed'].includes(s.state));
  const jobs = [...b.world.jobs.values()].filter((j) => j.state === 'queued' || j.state === 'sent');
  const r = restoreStation({ openShipments: open, pendingJobs: jobs, at }, b.ctx);
  b.world.apply(r.writes);
  b.state = r.state;
  return r;
}

describe('restore after a restart', () => {
  it('brings back a held shipment; a new weighing after the scale was empty releases it', () => {
    const b = new Bench(new World(), { station: { ...STATION, verifyItems: 'never' } });
    b.world.addOrder(makeOrder('O1'));
    b.scan('PKO1');
    b.place(900);
    const id = b.shipment.shipmentId;
    restart(b, b.clock + 1000);
    expect(b.shipment).toMatchObject({ shipmentId: id, state: 'held' });
    expect(b.state.armed).toBe(false);
    expect(b.weigh(500, true, b.clock + 2000).reply).toMatchObject({ code: 'PKL_WEIGHT_STALE' });
    b.place(500);
    expect(b.shipment.state).toBe('labelling');
  });

  it('keeps a printing label pending so its result still ships it', () => {
    const b = new Bench(new World(), { station: { ...STATION, verifyItems: 'never' } });
    b.world.addOrder(makeOrder('O1'));
    b.scan('PKO1');
    b.place(500);
    const jobId = b.jobId();
    restart(b, b.clock + 1000);
    expect(b.state.shipment).toBeNull();
    expect(Object.keys(b.state.pendingJobs)).toEqual([jobId]);
    b.printed(jobId);
    expect(b.world.shipmentsForOrder('O1')[0]?.state).toBe('shipped');
  });

  it('without item-scan events the shipment restores as of its last row', () => {
    const b = new Bench();
    b.world.addOrder(makeOrder('O1', { lines: [line('A', 2, 100)] }));
    b.scan('PKO1');
    b.scan('690A');
    restart(b, b.clock + 1000);
    expect(b.shipment).toMatchObject({ state: 'verifying', scanned: {} });
    expect(b.state.verify).toBe(true);
    b.scan('690A');
    b.scan('690A');
    expect(b.shipment.state).toBe('weighing');
  });

  it('rebuilds item counts from the acknowledged item-scan events: nothing is scanned twice', () => {
    const b = new Bench();
    b.world.addOrder(makeOrder('O1', { lines: [line('A', 2, 100), line('B', 1, 50)] }));
    b.scan('PKO1');
    b.scan('690A');
    const id = b.shipment.shipmentId;
    const open = [...b.world.shipments.values()].filter((s) => s.state === 'verifying');
    let r = restoreStation({ openShipments: open, pendingJobs: [], at: b.clock + 1000, itemScans: { [id]: { '690A': 1 } } }, b.ctx);
    b.state = r.state;
    expect(b.shipment).toMatchObject({ state: 'verifying', scanned: { '690A': 1 } });
    b.scan('690A');
    b.scan('690B');
    expect(b.shipment.state).toBe('weighing');
    // All items were acknowledged before the crash: the parcel goes straight to the scale,
    // and the weight lock still wants the scale seen empty first.
    r = restoreStation({ openShipments: open, pendingJobs: [], at: b.clock + 2000, itemScans: { [id]: { '690A': 2, '690B': 1 } } }, b.ctx);
    b.state = r.state;
    expect(b.shipment).toMatchObject({ state: 'weighing', scanned: { '690A': 2, '690B': 1 } });
    expect(b.state.armed).toBe(false);
    expect(b.state.readyAt).toBe(b.clock + 2000);
  });

  it('abandons older open shipments of the station and ignores other stations', () => {
    const world = new World();
    world.addOrder(makeOrder('O1'));
    const mk = (id: string, stationId: string, openedAt: number, state: Shipment['state']): Shipment => ({
      shipmentId: id,
      orderId: 'O1',
      stationId,
      state,
      reasonCode: null,
      scanned: {},
      expectedGrams: 500,
      actualGrams: null,
      carrier: 'SF',
      waybill: 'SFO1',
      labelJobId: null,
      operator: null,
      openedAt,
      updatedAt: openedAt,
      shippedAt: null,
    });
    const b = new Bench(world);
    const r = restoreStation(
      {
        openShipments: [mk('S-old', 'st-1', 1, 'verifying'), mk('S-new', 'st-1', 2, 'weighing'), mk('S-x', 'st-2', 3, 'held')],
        pendingJobs: [],
        at: 10,
      },
      b.ctx,
    );
    expect(r.state.shipment?.shipmentId).toBe('S-new');
    expect(r.state.readyAt).toBe(10);
    expect(r.writes).toEqual([
      { op: 'shipment.put', shipment: { ...mk('S-old', 'st-1', 1, 'verifying'), state: 'abandoned', reasonCode: 'PKL_SHIPMENT_ABANDONED', updatedAt: 10 } },
      { op: 'event', type: 'shipment.abandoned', subject: 'shipment:S-old', data: { by: 'restore', state: 'verifying' } },
    ]);
    // The restored state is a normal state for the machine.
    const step = stepStation(r.state, { kind: 'reset', at: 11, deviceId: 'api' }, b.ctx);
    expect(step.writes.map((w) => w.op)).toEqual(['shipment.put', 'event']);
  });
});
