import { describe, expect, it } from 'vitest';
import { type PrinterHealth, PrintRouter } from './print-router.js';

const ok: PrinterHealth = { online: true, fault: null, inFlight: 0 };

function health(over: Record<string, Partial<PrinterHealth>>) {
  return (id: string): PrinterHealth => ({ ...ok, ...over[id] });
}

const router = new PrintRouter({
  channels: [
    { id: 1, printers: ['p1', 'p2', 'p3'] },
    { id: 7, printers: ['sf-1'] },
  ],
  routes: [{ channel: 7, carrier: 'SF' }],
  queueLimit: 3,
});
const req = { channel: 1, stationPrinter: 'p2', carrier: 'ZTO', shop: 'shop-a' };

describe('PrintRouter', () => {
  it("prints on the station's own printer while it is healthy", () => {
    expect(router.route(req, health({}))).toEqual({ ok: true, printerId: 'p2', channel: 1, failover: false });
  });

  it('fails over to the least-loaded healthy printer of the channel', () => {
    const h = health({ p2: { fault: 'media_empty' }, p1: { inFlight: 2 }, p3: { inFlight: 1 } });
    expect(router.route(req, h)).toEqual({ ok: true, printerId: 'p3', channel: 1, failover: true });
    expect(router.route(req, health({ p2: { online: false } }))).toMatchObject({ printerId: 'p1', failover: true });
  });

  it('never sends a re-dispatch back to the printer that failed it', () => {
    expect(router.route(req, health({}), ['p2'])).toMatchObject({ printerId: 'p1', failover: true });
  });

  it('routes by carrier rule to another channel', () => {
    expect(router.route({ ...req, carrier: 'SF' }, health({}))).toEqual({ ok: true, printerId: 'sf-1', channel: 7, failover: false });
  });

  it('refuses with back-pressure when every healthy printer is at the queue limit', () => {
    const h = health({ p1: { inFlight: 3 }, p2: { inFlight: 3 }, p3: { inFlight: 5 } });
    expect(router.route(req, h)).toMatchObject({ ok: false, code: 'PKL_PRINT_QUEUE_FULL', channel: 1 });
  });

  it('says no printer is available when the whole channel is down', () => {
    const h = health({ p1: { online: false }, p2: { fault: 'head_open' }, p3: { online: false } });
    expect(router.route(req, h)).toMatchObject({ ok: false, code: 'PKL_PRINTER_UNAVAILABLE', details: { printers: 'p1,p2,p3' } });
  });

  it('a station whose channel has no configured printers uses its own printer alone', () => {
    const bare = new PrintRouter({ channels: [], routes: [], queueLimit: 10 });
    expect(bare.route({ ...req, channel: 4 }, health({}))).toMatchObject({ ok: true, printerId: 'p2', failover: false });
    expect(bare.route({ ...req, channel: 4 }, health({ p2: { online: false } }))).toMatchObject({ ok: false, code: 'PKL_PRINTER_UNAVAILABLE' });
  });
});
