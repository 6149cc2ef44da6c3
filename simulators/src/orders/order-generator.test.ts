import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { PacklineError } from '../../../contracts/errors.js';
import { BARCODE_PATTERN } from '../../../contracts/payloads.js';
import { ean13CheckDigit, isValidEan13, makeEan13 } from '../lib/ean13.js';
import { CLEAN_SHARES, OrderGenerator, withFlags } from './order-generator.js';
import { expectedGrams, isShippable } from './wire-order.js';

const NOW = Date.UTC(2025, 10, 11, 8, 0, 0);

describe('EAN-13', () => {
  it('matches published check digits', () => {
    // GS1 examples: 400638133393-1, 590123412345-7; 690-prefixed 6901234567892 (GS1 China sample).
    expect(ean13CheckDigit('400638133393')).toBe(1);
    expect(ean13CheckDigit('590123412345')).toBe(7);
    expect(isValidEan13('6901234567892')).toBe(true);
    expect(isValidEan13('6901234567893')).toBe(false);
    expect(isValidEan13('690123456789')).toBe(false);
  });

  it('detects every single-digit error', () => {
    fc.assert(
      fc.property(fc.stringMatching(/^\d{12}$/), fc.integer({ min: 0, max: 12 }), fc.integer({ min: 1, max: 9 }), (body, pos, delta) => {
        const code = makeEan13(body);
        expect(isValidEan13(code)).toBe(true);
        const bad = code.slice(0, pos) + String((Number(code[pos]) + delta) % 10) + code.slice(pos + 1);
        expect(isValidEan13(bad)).toBe(false);
      }),
    );
  });
});

describe('OrderGenerator', () => {
  it('gives every SKU a valid, unique EAN-13 with a China GS1 prefix', () => {
    const gen = new OrderGenerator({ seed: 3, now: NOW, skuCount: 500 });
    const codes = gen.catalogue.map((s) => s.barcode);
    expect(new Set(codes).size).toBe(500);
    for (const c of codes) {
      expect(isValidEan13(c)).toBe(true);
      expect(c).toMatch(/^69[0-5]/);
    }
    for (const o of gen.batch(200)) for (const l of o.lines) expect(isValidEan13(l.barcode)).toBe(true);
  });

  it('is deterministic for a seed and differs between seeds', () => {
    const a = new OrderGenerator({ seed: 11, now: NOW }).batch(50);
    const b = new OrderGenerator({ seed: 11, now: NOW }).batch(50);
    const c = new OrderGenerator({ seed: 12, now: NOW }).batch(50);
    expect(a).toEqual(b);
    expect(JSON.stringify(a)).not.toBe(JSON.stringify(c));
  });

  it('produces well-formed orders', () => {
    const orders = new OrderGenerator({ seed: 5, now: NOW, idPrefix: 'T1' }).batch(1000);
    expect(new Set(orders.map((o) => o.order_id)).size).toBe(1000);
    const re = new RegExp(BARCODE_PATTERN);
    for (const o of orders) {
      expect(o.order_id.startsWith('T1')).toBe(true);
      expect(o.lines.length).toBeGreaterThanOrEqual(1);
      expect(o.lines.length).toBeLessThanOrEqual(4);
      expect(new Set(o.lines.map((l) => l.sku)).size).toBe(o.lines.length);
      for (const code of [o.order_id, ...o.barcodes]) expect(code).toMatch(re);
      for (const l of o.lines) {
        expect(l.qty).toBeGreaterThanOrEqual(1);
        expect(l.unit_grams).toBeGreaterThan(0);
      }
      expect(o.revision).toBe(1);
      expect(o.ship_by).toBeGreaterThan(NOW);
      if (o.waybill !== null) {
        expect(o.carrier).toMatch(/^(ZTO|YTO|STO|YUNDA|SF|JD|EMS)$/);
        expect(o.print_data?.receiver_name).toMatch(/^[\u4e00-\u9fff]{2,4}$/);
        expect(o.print_data?.receiver_phone).toMatch(/^1[3-9]\d{9}$/);
        expect(o.print_data?.receiver_address).toMatch(/[市区]/);
      }
      expect(expectedGrams(o)).toBe(o.lines.reduce((s, l) => s + l.qty * l.unit_grams, 0) + (o.packaging_grams ?? 30));
    }
    // All seven carriers and several line counts occur.
    expect(new Set(orders.map((o) => o.carrier)).size).toBe(7);
    expect(new Set(orders.map((o) => o.lines.length)).size).toBe(4);
  });

  it('waybill numbers have the carrier shapes', () => {
    const shapes: Record<string, RegExp> = {
      ZTO: /^7\d{13}$/,
      YTO: /^YT\d{13}$/,
      YUNDA: /^\d{13}$/,
      STO: /^77\d{11}$/,
      SF: /^SF\d{13}$/,
      JD: /^JDV[A-D]\d{11}$/,
      EMS: /^\d{13}$/,
    };
    for (const o of new OrderGenerator({ seed: 9, now: NOW }).batch(500)) {
      if (o.waybill) expect(o.waybill).toMatch(shapes[o.carrier as string] as RegExp);
    }
  });

  it('honours the configured shares', () => {
    const shares = { refundRequested: 0.1, cancelled: 0.05, platformClosed: 0.05, noWaybill: 0.2 };
    const orders = new OrderGenerator({ seed: 21, now: NOW, shares }).batch(10_000);
    const share = (f: (o: (typeof orders)[number]) => boolean) => orders.filter(f).length / orders.length;
    expect(share((o) => o.flags.refund_requested)).toBeCloseTo(0.1, 1);
    expect(share((o) => o.flags.cancelled)).toBeCloseTo(0.05, 1);
    expect(share((o) => o.flags.platform_closed)).toBeCloseTo(0.05, 1);
    expect(share((o) => o.waybill === null)).toBeCloseTo(0.2, 1);
    // Intercept flags are exclusive.
    expect(orders.every((o) => Number(o.flags.refund_requested) + Number(o.flags.cancelled) + Number(o.flags.platform_closed) <= 1)).toBe(true);
    expect(share((o) => o.waybill === null && o.print_data !== null)).toBe(0);
  });

  it('CLEAN_SHARES gives only shippable orders', () => {
    const orders = new OrderGenerator({ seed: 1, now: NOW, shares: CLEAN_SHARES }).batch(2000);
    expect(orders.every(isShippable)).toBe(true);
  });

  it('revisions go up when the cloud changes an order', () => {
    const gen = new OrderGenerator({ seed: 2, now: NOW, shares: { noWaybill: 1 } });
    const o = gen.next();
    expect(o.waybill).toBeNull();
    const w = gen.assignWaybill(o);
    expect(w.waybill).not.toBeNull();
    expect(w.print_data).not.toBeNull();
    expect(w.revision).toBe(2);
    const r = withFlags(w, { refund_requested: true });
    expect(r.flags.refund_requested).toBe(true);
    expect(r.revision).toBe(3);
    expect(isShippable(r)).toBe(false);
  });

  it('refuses bad options with PKL_CONFIG_INVALID', () => {
    const bad = [
      { seed: 1, shares: { refundRequested: 1.5 } },
      { seed: 1, shares: { refundRequested: 0.6, cancelled: 0.6 } },
      { seed: 1, idPrefix: 'has space' },
      { seed: 1, skuCount: 0 },
      { seed: Number.NaN },
    ];
    for (const opts of bad) {
      expect(() => new OrderGenerator(opts)).toThrow(PacklineError);
      try {
        new OrderGenerator(opts);
      } catch (err) {
        expect((err as PacklineError).code).toBe('PKL_CONFIG_INVALID');
      }
    }
  });
});
