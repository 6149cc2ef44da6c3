/**
 * Expected weight and the tolerance rule (guide: 称重校验; docs/shipment-flow.md).
 *
 *   expected = Σ(qty × unitGrams) + packaging        (packaging = order.packagingGrams ?? default)
 *   allowed  = max(toleranceGrams, tolerancePercent% × expected)
 *   accepted ⇔ |actual − expected| ≤ allowed         (inclusive: exactly at the limit passes)
 *
 * Why `max`: the absolute band is the floor that covers scale resolution and packaging
 * variance on light parcels (5 % of a 200 g parcel is 10 g, less than a sheet of bubble wrap);
 * the percent band takes over for heavy parcels where a fixed 50 g would reject normal
 * variance between units of the same SKU. Using `min` would make light parcels unshippable,
 * `sum` would let a missing light item pass on heavy parcels.
 */
import type { Config } from '../../config/schema.js';
import type { Order } from '../domain.js';

export type WeightConfig = Config['shipment']['weight'];

/**
 * Readings at or below this many grams (either sign) mean "scale empty": they arm the weight
 * lock and never count as a parcel weight. 20 g is above the drift of a zeroed parcel scale
 * (typically ±1–2 divisions of 2–5 g) and below any real parcel.
 */
export const EMPTY_SCALE_GRAMS = 20;

export function expectedGrams(order: Order, defaultPackagingGrams: number): number {
  let items = 0;
  for (const line of order.lines) items += line.qty * line.unitGrams;
  return items + (order.packagingGrams ?? defaultPackagingGrams);
}

export function allowedDeviation(expected: number, cfg: WeightConfig): number {
  return Math.max(cfg.toleranceGrams, (cfg.tolerancePercent * expected) / 100);
}

export interface WeightVerdict {
  ok: boolean;
  actual: number;
  expected: number;
  /** The allowed deviation in grams (rounded to 0.1 g for display only; the test is exact). */
  tolerance: number;
  diff: number;
}

export function judgeWeight(actual: number, expected: number, cfg: WeightConfig): WeightVerdict {
  const allowed = allowedDeviation(expected, cfg);
  const diff = actual - expected;
  return {
    ok: Math.abs(diff) <= allowed,
    actual,
    expected,
    tolerance: Math.round(allowed * 10) / 10,
    diff: Math.round(diff * 10) / 10,
  };
}

export function isEmptyReading(grams: number, emptyGrams = EMPTY_SCALE_GRAMS): boolean {
  return Math.abs(grams) <= emptyGrams;
}
