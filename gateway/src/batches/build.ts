/**
 * Building batches from the pending orders: by rules (structure, carrier, shop, ship-by
 * cut-off, maximum size) or by hand (the order ids a supervisor picked). Pure; the invariant
 * every caller relies on: an order is in at most one open or working batch.
 */
import type { ErrorCode, ErrorDetails } from '../../../contracts/errors.js';
import { compositionKey } from '../station/decide/composition.js';
import type { Order } from '../station/domain.js';
import type { Batch, BatchMode } from './batch.js';
import { type Classified, classifyOrders, SAME_COMPOSITION, type Structure } from './structure.js';

export interface BatchRule {
  /** Structures this rule batches (default: the three same-composition ones). */
  structures?: Structure[];
  carrier?: string;
  shop?: string;
  /** Only orders whose ship-by deadline is at or before this time (epoch ms); orders without one are left out. */
  shipByBefore?: number;
  /** Orders per batch (a composition with more is split into several batches). */
  maxSize: number;
  mode?: BatchMode;
  weigh?: boolean;
}

export interface BuildInput {
  /** Orders that may be batched (pending: not shipped, not intercepted, not being packed). */
  pending: readonly Order[];
  /** Orders already in an open or working batch: never batched again. */
  taken: ReadonlySet<string>;
  rules: readonly BatchRule[];
  minGroup: number;
  prepackStock?: ReadonlyMap<string, number>;
  newId: () => string;
  at: number;
}

/** Sequence within a batch: earliest ship-by first (no deadline last), then order id. */
function bySequence(a: Order, b: Order): number {
  const da = a.shipBy ?? Number.POSITIVE_INFINITY;
  const db = b.shipBy ?? Number.POSITIVE_INFINITY;
  if (da !== db) return da < db ? -1 : 1;
  return a.orderId < b.orderId ? -1 : a.orderId > b.orderId ? 1 : 0;
}

export function buildBatches(input: BuildInput): Batch[] {
  const free = input.pending.filter((o) => !input.taken.has(o.orderId)).sort(bySequence);
  const classes = new Map<string, Classified>();
  for (const c of classifyOrders(free, { minGroup: input.minGroup, prepackStock: input.prepackStock })) classes.set(c.orderId, c);
  const used = new Set<string>();
  const out: Batch[] = [];
  for (const rule of input.rules) {
    const structures = rule.structures ?? SAME_COMPOSITION;
    const size = Math.max(1, Math.floor(rule.maxSize));
    // Same-composition structures group by composition (one scan picks any of them); the
    // ordinary ones by structure only. Carrier and shop always split a group: one courier
    // pickup and one shop's labels per batch.
    const groups = new Map<string, Order[]>();
    for (const o of free) {
      if (used.has(o.orderId)) continue;
      const c = classes.get(o.orderId)!;
      if (!structures.includes(c.structure)) continue;
      if (rule.carrier !== undefined && o.carrier !== rule.carrier) continue;
      if (rule.shop !== undefined && o.shop !== rule.shop) continue;
      if (rule.shipByBefore !== undefined && (o.shipBy === null || o.shipBy > rule.shipByBefore)) continue;
      const same = SAME_COMPOSITION.includes(c.structure);
      const key = [c.structure, same ? c.composition : '', o.carrier ?? '', o.shop].join('|');
      let g = groups.get(key);
      if (g === undefined) groups.set(key, (g = []));
      g.push(o);
    }
    for (const group of groups.values()) {
      const first = group[0]!;
      const c = classes.get(first.orderId)!;
      const same = SAME_COMPOSITION.includes(c.structure);
      for (let i = 0; i < group.length; i += size) {
        const chunk = group.slice(i, i + size);
        for (const o of chunk) used.add(o.orderId);
        out.push({
          batchId: input.newId(),
          structure: c.structure,
          composition: same ? c.composition : null,
          carrier: first.carrier,
          shop: first.shop,
          orders: chunk.map((o) => o.orderId),
          state: 'open',
          stationId: null,
          mode: rule.mode ?? (same ? 'postprint' : 'preprint'),
          weigh: rule.weigh ?? true,
          createdAt: input.at,
          updatedAt: input.at,
        });
      }
    }
  }
  return out;
}

export type ManualBuild = { ok: true; batch: Batch } | { ok: false; code: ErrorCode; details: ErrorDetails };

/** A batch of the orders a supervisor picked, in the order given. */
export function manualBatch(input: {
  orders: readonly (Order | null)[];
  orderIds: readonly string[];
  taken: ReadonlySet<string>;
  mode?: BatchMode;
  weigh?: boolean;
  batchId: string;
  at: number;
}): ManualBuild {
  const seen = new Set<string>();
  const picked: Order[] = [];
  for (let i = 0; i < input.orderIds.length; i++) {
    const id = input.orderIds[i]!;
    const o = input.orders[i] ?? null;
    if (o === null) return { ok: false, code: 'PKL_ORDER_NOT_FOUND', details: { barcode: id } };
    if (input.taken.has(id)) return { ok: false, code: 'PKL_BATCH_ORDER_TAKEN', details: { orderId: id } };
    if (seen.has(id)) continue;
    seen.add(id);
    picked.push(o);
  }
  if (picked.length === 0) return { ok: false, code: 'PKL_BATCH_EMPTY', details: {} };
  const keys = new Set(picked.map((o) => compositionKey(o)));
  const carriers = new Set(picked.map((o) => o.carrier));
  const shops = new Set(picked.map((o) => o.shop));
  const composition = keys.size === 1 ? [...keys][0]! : null;
  return {
    ok: true,
    batch: {
      batchId: input.batchId,
      structure: 'manual',
      composition,
      carrier: carriers.size === 1 ? ([...carriers][0] ?? null) : null,
      shop: shops.size === 1 ? ([...shops][0] ?? null) : null,
      orders: picked.map((o) => o.orderId),
      state: 'open',
      stationId: null,
      mode: input.mode ?? (composition !== null ? 'postprint' : 'preprint'),
      weigh: input.weigh ?? true,
      createdAt: input.at,
      updatedAt: input.at,
    },
  };
}
