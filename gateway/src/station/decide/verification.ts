/** Item verification: which orders are verified by scan, and when a shipment's scans are complete. */
import type { Checkpoint } from '../../config/schema.js';
import type { Order } from '../domain.js';
import type { StationContext } from '../types.js';

/** Checkpoints the station passes while the parcel is packed (guide: 出库验货, 打包登记). */
export function packingCheckpoints(verify: boolean): Checkpoint[] {
  return verify ? ['packing', 'inspection'] : ['packing'];
}

/** Whether the station verifies this order's items by scan (station.verifyItems). */
export function needsVerification(order: Order, mode: StationContext['station']['verifyItems']): boolean {
  const total = order.lines.reduce((n, l) => n + l.qty, 0);
  if (total <= 0 || mode === 'never') return false;
  return mode === 'always' || total > 1;
}

/** item barcode → quantity the order needs (lines may share a barcode). */
export function neededByBarcode(order: Order): Map<string, number> {
  const m = new Map<string, number>();
  for (const l of order.lines) if (l.qty > 0) m.set(l.barcode, (m.get(l.barcode) ?? 0) + l.qty);
  return m;
}

export function verificationComplete(order: Order, scanned: Record<string, number>): boolean {
  for (const [barcode, qty] of neededByBarcode(order)) if ((scanned[barcode] ?? 0) < qty) return false;
  return true;
}

export function identifiesOrder(order: Order, code: string): boolean {
  return order.orderId === code || order.barcodes.includes(code);
}
