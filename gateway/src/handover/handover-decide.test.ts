import { describe, expect, it } from 'vitest';
import type { Order, Shipment, StationWrite } from '../station/domain.js';
import { anOrder, aShipment } from '../storage/test-fixtures.js';
import { pendingHandover, lastCutoff, cutoffOn } from './handover-cutoff.js';
import {
  adopt,
  decideClose,
  decideOpen,
  decideScan,
  emptyHandoverState,
  foldHandoverEvent,
  type HandoverLookups,
  type HandoverState,
} from './handover-decide.js';
import { manifestHtml, manifestZpl } from './manifest-render.js';

function floor(orders: Order[], shipments: Shipment[]): HandoverLookups {
  return {
    findOrderByBarcode: (code) => orders.find((o) => o.orderId === code || o.barcodes.includes(code) || o.waybill === code) ?? null,
    getShipment: (id) => shipments.find((s) => s.shipmentId === id) ?? null,
    shipmentsForOrder: (id) => shipments.filter((s) => s.orderId === id),
  };
}

const shipped = (n: number, carrier = 'ZTO', over: Partial<Shipment> = {}): Shipment =>
  aShipment({ shipmentId: `S-${n}`, orderId: `O-${n}`, state: 'shipped', carrier, waybill: `W${n}000`, shippedAt: 10_000 + n, ...over });
const order = (n: number, carrier = 'ZTO', over: Partial<Order> = {}): Order =>
  anOrder({ orderId: `O-${n}`, barcodes: [`TB${n}`], carrier, waybill: `W${n}000`, ...over });

function opened(carrier = 'ZTO'): HandoverState {
  const st = emptyHandoverState();
  const d = decideOpen('M-1', carrier, 'pda-1', 1_000);
  if (!d.ok) throw new Error('open');
  adopt(st, d.value);
  return st;
}

function scan(st: HandoverState, look: HandoverLookups, code: string) {
  const d = decideScan(st, look, { manifestId: 'M-1', code, by: 'pda-1', at: 2_000 });
  if (d.ok) adopt(st, d.value.manifest);
  return d;
}

describe('handover decisions', () => {
  const look = floor(
    [
      order(1),
      order(2),
      order(3, 'SF'),
      order(4),
      order(5, 'ZTO', { flags: { refundRequested: false, refunded: true, cancelled: false, platformClosed: false, shipped: false } }),
    ],
    [shipped(1), shipped(2), shipped(3, 'SF'), aShipment({ shipmentId: 'S-4', orderId: 'O-4', state: 'weighing', carrier: 'ZTO' }), shipped(5)],
  );

  it('adds a shipped parcel of the carrier by its waybill, order barcode or shipment id, and counts a second scan once', () => {
    const st = opened();
    const a = scan(st, look, 'W1000');
    expect(a.ok && a.value.duplicate).toBe(false);
    expect(a.ok && a.writes[0]).toMatchObject({ type: 'handover.parcel_scanned', subject: 'manifest:M-1', data: { shipment_id: 'S-1', waybill: 'W1000' } });
    const again = scan(st, look, 'TB1');
    expect(again.ok && again.value.duplicate).toBe(true);
    expect(again.ok && again.writes).toEqual([]);
    expect(scan(st, look, 'S-2').ok).toBe(true);
    expect(st.manifests.get('M-1')?.parcels.map((p) => p.shipmentId)).toEqual(['S-1', 'S-2']);
  });

  it('refuses another carrier, a parcel not shipped, an intercepted order, an unknown code, with codes', () => {
    const st = opened();
    expect(scan(st, look, 'W3000')).toMatchObject({ ok: false, code: 'PKL_HANDOVER_WRONG_CARRIER', details: { carrier: 'SF', manifestCarrier: 'ZTO' } });
    expect(scan(st, look, 'TB4')).toMatchObject({ ok: false, code: 'PKL_HANDOVER_NOT_SHIPPED', details: { orderId: 'O-4', state: 'weighing' } });
    expect(scan(st, look, 'W5000')).toMatchObject({ ok: false, code: 'PKL_HANDOVER_INTERCEPTED', details: { orderId: 'O-5' } });
    expect(scan(st, look, 'nope')).toMatchObject({ ok: false, code: 'PKL_HANDOVER_PARCEL_UNKNOWN' });
    expect(st.manifests.get('M-1')?.parcels).toEqual([]);
  });

  it('refuses a parcel already on another manifest and scans into a closed or unknown manifest', () => {
    const st = opened();
    scan(st, look, 'W1000');
    const second = decideOpen('M-2', 'ZTO', 'api', 3_000);
    if (second.ok) adopt(st, second.value);
    expect(decideScan(st, look, { manifestId: 'M-2', code: 'W1000', by: 'x', at: 4_000 })).toMatchObject({
      ok: false,
      code: 'PKL_HANDOVER_ALREADY',
      details: { manifestId: 'M-1' },
    });
    const closed = decideClose(st, { manifestId: 'M-1', by: 'sup', at: 5_000, expected: 3 });
    if (closed.ok) adopt(st, closed.value);
    expect(decideScan(st, look, { manifestId: 'M-1', code: 'W2000', by: 'x', at: 6_000 })).toMatchObject({ ok: false, code: 'PKL_HANDOVER_MANIFEST_CLOSED' });
    expect(decideScan(st, look, { manifestId: 'M-9', code: 'W2000', by: 'x', at: 6_000 })).toMatchObject({ ok: false, code: 'PKL_HANDOVER_MANIFEST_UNKNOWN' });
    expect(decideClose(st, { manifestId: 'M-1', by: 'sup', at: 7_000, expected: 0 })).toMatchObject({ ok: false, code: 'PKL_HANDOVER_MANIFEST_CLOSED' });
  });

  it('closing writes the manifest event and one handed_over per parcel with the handover time', () => {
    const st = opened();
    scan(st, look, 'W1000');
    scan(st, look, 'W2000');
    const d = decideClose(st, { manifestId: 'M-1', by: 'sup', at: 9_000, expected: 2 });
    expect(d.ok).toBe(true);
    if (!d.ok) return;
    expect(d.writes.map((w) => (w.op === 'event' ? [w.type, w.subject] : w.op))).toEqual([
      ['handover.manifest_closed', 'manifest:M-1'],
      ['shipment.handed_over', 'shipment:S-1'],
      ['shipment.handed_over', 'shipment:S-2'],
    ]);
    expect(d.writes[1]).toMatchObject({ data: { order_id: 'O-1', manifest_id: 'M-1', carrier: 'ZTO', waybill: 'W1000', handed_over_at: 9_000 } });
  });

  it('the state folded from the log equals the state the decisions built', () => {
    const st = opened();
    const log: Array<{ type: string; subject: string; data: Record<string, unknown>; at: number }> = [];
    const keep = (writes: readonly StationWrite[], at: number) => {
      for (const w of writes) if (w.op === 'event') log.push({ type: w.type, subject: w.subject, data: w.data as Record<string, unknown>, at });
    };
    const o = decideOpen('M-1', 'ZTO', 'pda-1', 1_000);
    if (o.ok) keep(o.writes, 1_000);
    for (const code of ['W1000', 'W1000', 'W2000', 'W3000']) {
      const d = scan(st, look, code);
      if (d.ok) keep(d.writes, 2_000);
    }
    const c = decideClose(st, { manifestId: 'M-1', by: 'sup', at: 9_000, expected: 2 });
    if (c.ok) {
      adopt(st, c.value);
      keep(c.writes, 9_000);
    }
    const rebuilt = emptyHandoverState();
    for (const e of log) foldHandoverEvent(rebuilt, e);
    expect(rebuilt.manifests.get('M-1')).toEqual({ ...st.manifests.get('M-1'), closedBy: 'sup' });
    expect([...rebuilt.onManifest]).toEqual([...st.onManifest]);
  });
});

describe('handover cut-off', () => {
  const cfg = { cutoff: '18:00', cutoffByCarrier: { SF: '20:30' } };
  const day = (h: number, m = 0) => new Date(2026, 10, 11, h, m).getTime();

  it('is overdue when shipped before the last cut-off that has passed', () => {
    expect(lastCutoff(day(19), 'ZTO', cfg)).toBe(cutoffOn(day(19), '18:00'));
    expect(lastCutoff(day(19), 'SF', cfg)).toBe(new Date(2026, 10, 10, 20, 30).getTime());
    const list = [shipped(1, 'ZTO', { shippedAt: day(17) }), shipped(2, 'ZTO', { shippedAt: day(18, 30) }), shipped(3, 'SF', { shippedAt: day(17) })];
    const p = pendingHandover(list, new Map([['S-9', 'M-1']]), day(19), cfg);
    expect(p.map((x) => [x.shipmentId, x.overdue])).toEqual([
      ['S-1', true],
      ['S-2', false],
      ['S-3', false],
    ]);
    expect(pendingHandover(list, new Map([['S-1', 'M-1']]), day(19), cfg).map((x) => x.shipmentId)).toEqual(['S-2', 'S-3']);
  });
});

describe('manifest rendering', () => {
  const m = {
    manifestId: 'M-gw-1-0',
    carrier: '中通<ZTO>',
    state: 'closed' as const,
    openedAt: 1,
    openedBy: 'a',
    closedAt: 2,
    closedBy: 'b',
    parcels: [{ shipmentId: 'S-1', orderId: 'O-1', waybill: 'W1^XZ', scannedAt: 1, by: 'pda' }],
  };
  it('ZPL escapes field data and HTML escapes text', () => {
    const z = manifestZpl(m, 3);
    expect(z.startsWith('^XA')).toBe(true);
    expect(z.trimEnd().endsWith('^XZ')).toBe(true);
    expect(z.match(/\^XZ/g)?.length).toBe(1);
    const h = manifestHtml(m, 3, 'gw');
    expect(h).toContain('&#60;ZTO&#62;');
    expect(h).toContain('<b id="count">1</b>');
  });
});
