/**
 * An order's composition: which item barcodes in which quantities make up its parcel. Orders
 * of one composition pack identically, which is what a same-SKU batch (单品同品, 多品同品) and a
 * pre-pack (货品预包) rely on: any order of the composition can take the next parcel.
 */
import type { Order } from '../domain.js';

/** `barcode*qty` per distinct barcode, sorted, joined by `+` (e.g. `6901*2+6902*1`). */
export function compositionKey(order: Pick<Order, 'lines'>): string {
  const qty = new Map<string, number>();
  for (const l of order.lines) qty.set(l.barcode, (qty.get(l.barcode) ?? 0) + l.qty);
  return [...qty.entries()]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([b, q]) => `${b}*${q}`)
    .join('+');
}

/** Item barcodes of a composition key. */
export function compositionBarcodes(key: string): string[] {
  if (key === '') return [];
  return key.split('+').map((part) => part.slice(0, part.lastIndexOf('*')));
}

/** Units in the parcel (Σ qty). */
export function unitCount(order: Pick<Order, 'lines'>): number {
  let n = 0;
  for (const l of order.lines) n += l.qty;
  return n;
}
