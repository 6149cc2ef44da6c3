/**
 * Pending orders by structure (the merchant guide's peak-season advice: ship each structure
 * its own way): pre-packed (预包发货单), single-item same SKU (单品同品), multi-unit same
 * composition (多品同品), ordinary single-item (普通单品), ordinary multi-item (普通多品).
 * Pure: the same orders and pre-pack stock give the same classes.
 */
import { compositionKey, unitCount } from '../station/decide/composition.js';
import type { Order } from '../station/domain.js';

export const STRUCTURES = ['prepacked', 'single_same_sku', 'multi_same_composition', 'single', 'multi'] as const;
export type Structure = (typeof STRUCTURES)[number];

/** Structures whose every order packs identically: a scan of an item (or pre-pack) picks the order. */
export const SAME_COMPOSITION: readonly Structure[] = ['prepacked', 'single_same_sku', 'multi_same_composition'];

export interface Classified {
  orderId: string;
  structure: Structure;
  composition: string;
}

export interface ClassifyOptions {
  /**
   * Orders of one composition needed before they count as "same SKU / same composition"
   * (fewer go through the ordinary flow: a batch of one saves nothing).
   */
  minGroup: number;
  /** Compositions with pre-packed units in stock (pre-pack jobs), units left per composition. */
  prepackStock?: ReadonlyMap<string, number>;
}

export function classifyOrders(orders: readonly Order[], opts: ClassifyOptions): Classified[] {
  const byComposition = new Map<string, number>();
  const keys = orders.map((o) => compositionKey(o));
  for (const k of keys) byComposition.set(k, (byComposition.get(k) ?? 0) + 1);
  // Pre-packed units go to the earliest orders of their composition (in the order given).
  const stock = new Map(opts.prepackStock ?? []);
  return orders.map((o, i) => {
    const composition = keys[i]!;
    const left = stock.get(composition) ?? 0;
    if (left > 0) {
      stock.set(composition, left - 1);
      return { orderId: o.orderId, structure: 'prepacked', composition };
    }
    const units = unitCount(o);
    const shared = (byComposition.get(composition) ?? 0) >= Math.max(2, opts.minGroup);
    const structure: Structure = units <= 1 ? (shared ? 'single_same_sku' : 'single') : shared ? 'multi_same_composition' : 'multi';
    return { orderId: o.orderId, structure, composition };
  });
}
