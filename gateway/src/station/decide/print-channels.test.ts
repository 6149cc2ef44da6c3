/**
 * The station flow with print channels (station/decide/print-router.ts through ctx.routePrinter):
 * routing at the label, failover of a label the printer could not print, back-pressure.
 */
import { describe, expect, it } from 'vitest';
import { type PrinterHealth, PrintRouter } from './print-router.js';
import { Bench, makeOrder, SHIPMENT_CONFIG, STATION, World } from './testing/world.js';

function bench(health: Record<string, Partial<PrinterHealth>>, queueLimit = 5) {
  const router = new PrintRouter({ channels: [{ id: 1, printers: ['prn-1', 'prn-2'] }], routes: [], queueLimit });
  const b = new Bench(new World(), {
    station: { ...STATION, verifyItems: 'never' },
    shipment: SHIPMENT_CONFIG,
    routePrinter: (job) =>
      router.route(
        { channel: 1, stationPrinter: 'prn-1', carrier: job.carrier, shop: job.shop },
        (id) => ({ online: true, fault: null, inFlight: 0, ...health[id] }),
        job.exclude ?? [],
      ),
  });
  b.world.addOrder(makeOrder('O1'));
  return b;
}

describe('print channels in the station flow', () => {
  it("labels go to the station's printer while it is healthy", () => {
    const b = bench({});
    b.scan('PKO1');
    b.place(500);
    expect(b.prints()[0]?.deviceId).toBe('prn-1');
  });

  it('a faulted printer is skipped at the label (failover at dispatch)', () => {
    const b = bench({ 'prn-1': { fault: 'media_empty' } });
    b.scan('PKO1');
    b.place(500);
    expect(b.prints()[0]?.deviceId).toBe('prn-2');
    expect(b.world.jobs.get(b.jobId())?.printerId).toBe('prn-2');
    expect(b.printed(b.jobId(), 'prn-2').reply).toEqual({ ok: true });
    expect(b.shipment.state).toBe('shipped');
  });

  it('a label the printer reports it could not print goes to another printer of the channel, once', () => {
    const b = bench({});
    b.scan('PKO1');
    b.place(500);
    const first = b.jobId();
    const failed = b.printFailed(first, 'paper out', 'prn-1');
    const moved = b.prints(failed);
    expect(moved).toHaveLength(1);
    expect(moved[0]?.deviceId).toBe('prn-2');
    const second = b.jobId(failed);
    expect(second).not.toBe(first);
    expect(b.world.jobs.get(first)).toMatchObject({ state: 'failed', reason: 'paper out' });
    expect(b.shipment).toMatchObject({ state: 'labelling', reasonCode: null, labelJobId: second });
    expect(b.world.eventTypes()).toContain('shipment.print_rerouted');
    // The first printer's late or repeated answer for the old job changes nothing.
    expect(b.printed(first, 'prn-1').reply).toMatchObject({ ok: false, code: 'PKL_PRINT_JOB_UNKNOWN' });
    b.printed(second, 'prn-2');
    expect(b.shipment.state).toBe('shipped');
    expect(b.world.eventTypes().filter((t) => t === 'shipment.shipped')).toHaveLength(1);
  });

  it('when the other printer fails it too, the shipment is tagged print failed (reprint from there)', () => {
    const b = bench({});
    b.scan('PKO1');
    b.place(500);
    const moved = b.printFailed(b.jobId(), 'paper out', 'prn-1');
    const out = b.printFailed(b.jobId(moved), 'head open', 'prn-2');
    expect(b.prints(out)).toHaveLength(0); // never back to the printer that failed first... nor a loop
    expect(b.shipment.reasonCode).toBe('PKL_PRINT_FAILED');
  });

  it('refuses a new scan when every printer of the channel is at its queue limit (back-pressure)', () => {
    const b = bench({ 'prn-1': { inFlight: 2 }, 'prn-2': { inFlight: 2 } }, 2);
    const r = b.scan('PKO1');
    expect(r.reply).toMatchObject({ ok: false, code: 'PKL_PRINT_QUEUE_FULL' });
    expect(r.writes).toEqual([]);
    expect(b.state.shipment).toBeNull();
  });

  it('with the whole channel down the label waits for the station printer, and the screen says so', () => {
    const b = bench({ 'prn-1': { online: false }, 'prn-2': { online: false } });
    b.scan('PKO1');
    const step = b.place(500);
    expect(b.prints(step)[0]?.deviceId).toBe('prn-1');
    expect(step.alert).toMatchObject({ code: 'PKL_PRINTER_UNAVAILABLE' });
  });
});
