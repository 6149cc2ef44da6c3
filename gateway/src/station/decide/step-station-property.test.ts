/**
 * Property: whatever devices, operators and the cloud send, in whatever order, the station
 * machine never throws, never sends a label for an intercepted order, never prints one
 * shipment twice and never ships one order twice.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isErrorCode } from '../../../../contracts/errors.js';
import type { OrderFlags } from '../domain.js';
import { checkInterception } from './intercept.js';
import { Bench, line, makeOrder, SHIPMENT_CONFIG, STATION, World } from './testing/world.js';

const FLAGS: Array<keyof OrderFlags> = ['refundRequested', 'refunded', 'cancelled', 'platformClosed', 'shipped'];
const ORDERS = ['O1', 'O2', 'O3', 'O4'];
const CODES = ['PKO1', 'PKO1', 'PKO2', 'SFO3', 'O4', '690A', '690B', '690C', 'junk'];

const action = fc.oneof(
  { weight: 6, arbitrary: fc.record({ k: fc.constant('scan' as const), code: fc.constantFrom(...CODES) }) },
  {
    weight: 8,
    arbitrary: fc.record({
      k: fc.constant('weight' as const),
      grams: fc.oneof({ weight: 4, arbitrary: fc.constantFrom(0, 5, 500, 530, 1170, 1200) }, { weight: 1, arbitrary: fc.integer({ min: -100, max: 5000 }) }),
      stable: fc.constantFrom(true, true, true, false),
    }),
  },
  {
    weight: 3,
    arbitrary: fc.record({
      k: fc.constant('print' as const),
      // Mostly the latest job, mostly printed: a shipment ships only when the right printer
      // answers its current job, and the coverage check below needs that path reached.
      job: fc.constantFrom(0, 0, 0, 1, 2),
      ok: fc.constantFrom(true, true, false),
      printer: fc.constantFrom('prn-1', 'prn-1', 'prn-1', 'prn-2', 'prn-x'),
    }),
  },
  { weight: 1, arbitrary: fc.record({ k: fc.constant('override' as const), who: fc.constantFrom('王主管', '') }) },
  {
    weight: 3,
    arbitrary: fc.record({
      k: fc.constant('update' as const),
      order: fc.constantFrom(...ORDERS),
      flag: fc.option(fc.constantFrom(...FLAGS), { nil: null, freq: 2 }),
      waybill: fc.boolean(),
      /** false: the update reaches the cache but not the stations (a lost or late push). */
      notify: fc.boolean(),
    }),
  },
  { weight: 1, arbitrary: fc.record({ k: fc.constant('reset' as const) }) },
);

const step = fc.record({ station: fc.constantFrom(0, 0, 0, 1), dt: fc.integer({ min: -300, max: 2000 }), a: action });

function setup() {
  const world = new World();
  world.addOrder(makeOrder('O1', { lines: [line('A', 1, 470)] }));
  world.addOrder(makeOrder('O2', { lines: [line('A', 2, 470), line('B', 1, 200)] }));
  world.addOrder(makeOrder('O3', { waybill: null, printData: null, lines: [line('C', 1, 940)] }));
  world.addOrder(makeOrder('O4', { flags: { ...makeOrder('x').flags, refundRequested: true } }));
  const stations = [
    new Bench(world, { station: { ...STATION, verifyItems: 'multi_item' } }),
    new Bench(world, { station: { ...STATION, id: 'st-2', printer: 'prn-2', display: undefined, verifyItems: 'always' } }),
  ];
  return { world, stations };
}

describe('station machine properties', () => {
  it('never throws, never labels an intercepted order, never prints or ships twice', () => {
    // Coverage of the generator itself: the interesting paths must actually be reached.
    const reached = { print: 0, shipped: 0, intercepted: 0, held: 0 };
    fc.assert(
      fc.property(fc.array(step, { minLength: 10, maxLength: 80 }), (steps) => {
        const { world, stations } = setup();
        const jobs: string[] = [];
        const printedShipments = new Set<string>();
        let clock = 1_700_000_000_000;
        for (const { station, dt, a } of steps) {
          const b = stations[station] as Bench;
          clock += dt;
          const at = clock;
          let out;
          switch (a.k) {
            case 'scan':
              out = b.send({ kind: 'scan', code: a.code, at, deviceId: 'scan' });
              break;
            case 'weight':
              out = b.send({ kind: 'weight', grams: a.grams, stable: a.stable, at, deviceId: 'scale' });
              break;
            case 'print':
              out = b.send({
                kind: 'print_result',
                jobId: (a.job < 2 ? jobs[jobs.length - 1 - a.job] : undefined) ?? `J-${a.job}`,
                status: a.ok ? 'printed' : 'failed',
                at,
                deviceId: a.printer,
              });
              break;
            case 'override':
              out = b.send({ kind: 'supervisor_override', supervisor: a.who, at, deviceId: 'api' });
              break;
            case 'update': {
              const o = world.getOrder(a.order);
              if (o === null) throw new Error('missing order');
              world.patchOrder(a.order, {
                flags: a.flag === null ? o.flags : { ...o.flags, [a.flag]: !o.flags[a.flag] },
                ...(a.waybill && o.waybill === null ? { waybill: `YT${a.order}`, printData: makeOrder('x').printData } : {}),
              });
              // The runtime broadcasts updates to every station (unless this one got lost).
              if (a.notify) {
                for (const s of stations) out = s.send({ kind: 'order_updated', orderId: a.order, at, deviceId: 'cloud' });
              }
              break;
            }
            case 'reset':
              out = b.send({ kind: 'reset', at, deviceId: 'api' });
              break;
          }
          if (out === undefined) continue;
          if (!out.reply.ok) expect(isErrorCode(out.reply.code)).toBe(true);
          for (const c of out.commands) {
            if (c.kind !== 'print') continue;
            const sid = c.payload.shipment_id ?? '';
            expect(printedShipments.has(sid)).toBe(false);
            printedShipments.add(sid);
            reached.print++;
            jobs.push(c.payload.job_id);
            const s = world.getShipment(sid);
            const order = s && world.getOrder(s.orderId);
            if (!s || !order) throw new Error('print for an unknown shipment');
            // The order was not intercepted at the moment the label went out (world = after
            // this step's writes; exclude the shipment itself).
            const others = world.shipmentsForOrder(order.orderId).filter((x) => x.shipmentId !== sid);
            expect(checkInterception(order, { checkpoint: 'weighing', enabled: SHIPMENT_CONFIG.checkpoints, shipments: others })).toBeNull();
          }
        }
        for (const s of world.shipments.values()) if (s.state in reached) reached[s.state as keyof typeof reached]++;
        for (const orderId of ORDERS) {
          const shipped = world.shipmentsForOrder(orderId).filter((s) => s.state === 'shipped');
          expect(shipped.length).toBeLessThanOrEqual(1);
        }
        // An intercepted shipment never ships afterwards.
        const seen = new Map<string, string[]>();
        for (const u of world.units)
          for (const w of u) if (w.op === 'shipment.put') seen.set(w.shipment.shipmentId, [...(seen.get(w.shipment.shipmentId) ?? []), w.shipment.state]);
        for (const states of seen.values()) {
          const i = states.indexOf('intercepted');
          if (i >= 0) expect(states.slice(i)).not.toContain('shipped');
        }
      }),
      { numRuns: 1000 },
    );
    console.info('property coverage', reached);
    for (const n of Object.values(reached)) expect(n).toBeGreaterThan(0);
  });
});
