/**
 * Test floors for the picking core: a grid of locations, stock per SKU, orders. Deterministic
 * from a seed (simulators' xorshift would be a cross-package import; a small LCG is enough here).
 */
import type { Order, OrderLine } from '../../station/domain.js';
import { PICK_EVENT, type PickEvent, pickEvent } from '../events.js';
import { PickingState } from '../state.js';

export function rng(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 4294967296;
  };
}

export interface FloorSpec {
  aisles: number;
  bays: number;
  levels: number;
  skus: number;
  /** Units per pick face. */
  perFace: number;
  capacity: number;
  trigger: number;
  /** Reserve locations (aisle 0) holding this many of every SKU; 0 = none. */
  reserve: number;
}

export const locCode = (a: number, b: number, l: number) => `A${String(a).padStart(2, '0')}-${String(b).padStart(2, '0')}-${l}`;
export const skuCode = (i: number) => `SKU${String(i).padStart(5, '0')}`;
export const barcodeOf = (sku: string) => `69${sku.slice(3).padStart(11, '0')}`;

/** The inbound-feed events that set up a floor: every SKU on one pick face, round robin. */
export function floorEvents(spec: FloorSpec): PickEvent[] {
  const out: PickEvent[] = [];
  const faces: string[] = [];
  for (let a = 1; a <= spec.aisles; a++)
    for (let b = 1; b <= spec.bays; b++)
      for (let l = 1; l <= spec.levels; l++) {
        const code = locCode(a, b, l);
        faces.push(code);
        out.push(
          pickEvent(PICK_EVENT.locationUpserted, `location:${code}`, {
            code,
            zone: a <= spec.aisles / 2 ? 'Z1' : 'Z2',
            aisle: a,
            bay: b,
            level: l,
            walk_seq: null,
            kind: 'pick',
            capacity: spec.capacity,
            trigger: spec.trigger,
          }),
        );
      }
  for (let i = 0; i < spec.skus; i++) {
    const code = faces[i % faces.length] as string;
    out.push(pickEvent(PICK_EVENT.stockSet, `location:${code}`, { location: code, sku: skuCode(i), qty: spec.perFace, revision: 1 }));
  }
  if (spec.reserve > 0) {
    const code = 'R00-01-1';
    out.push(
      pickEvent(PICK_EVENT.locationUpserted, `location:${code}`, {
        code,
        zone: 'R',
        aisle: 0,
        bay: 1,
        level: 1,
        walk_seq: null,
        kind: 'reserve',
        capacity: null,
        trigger: null,
      }),
    );
    for (let i = 0; i < spec.skus; i++)
      out.push(pickEvent(PICK_EVENT.stockSet, `location:${code}`, { location: code, sku: skuCode(i), qty: spec.reserve, revision: 1 }));
  }
  return out;
}

export function stateOf(events: readonly PickEvent[]): PickingState {
  const s = new PickingState();
  for (const e of events) s.apply(e);
  return s;
}

export function makePickOrder(id: string, lines: Array<[sku: string, qty: number]>, extra: Partial<Order> = {}): Order {
  const ol: OrderLine[] = lines.map(([sku, qty]) => ({ sku, barcode: barcodeOf(sku), name: sku, qty, unitGrams: 100 }));
  return {
    orderId: id,
    shop: 'shop-a',
    barcodes: [],
    lines: ol,
    packagingGrams: null,
    flags: { refundRequested: false, refunded: false, cancelled: false, platformClosed: false, shipped: false },
    carrier: 'SF',
    waybill: null,
    printData: null,
    shipBy: null,
    revision: 1,
    updatedAt: 0,
    ...extra,
  };
}

/** `n` orders of 1–`maxLines` distinct SKUs, 1–3 units each. */
export function randomOrders(n: number, skus: number, maxLines: number, rand: () => number, prefix = 'O'): Order[] {
  const out: Order[] = [];
  for (let i = 0; i < n; i++) {
    const k = 1 + Math.floor(rand() * maxLines);
    const chosen = new Set<number>();
    while (chosen.size < Math.min(k, skus)) chosen.add(Math.floor(rand() * skus));
    out.push(
      makePickOrder(
        `${prefix}${i}`,
        [...chosen].map((s) => [skuCode(s), 1 + Math.floor(rand() * 3)]),
        { carrier: rand() < 0.5 ? 'SF' : 'YTO', shop: rand() < 0.5 ? 'shop-a' : 'shop-b', shipBy: 1_000_000 + Math.floor(rand() * 10) * 3_600_000 },
      ),
    );
  }
  return out;
}
