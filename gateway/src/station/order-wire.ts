/**
 * The wire order (contracts/orders.ts OrderInWire, snake_case) mapped to the flow's `Order`
 * row. One mapping for every way an order arrives: the HTTP import (`POST /api/v1/orders`)
 * and the cloud's change feed (gateway/src/sync/change-applier.ts).
 */
import type { OrderInWire } from '../../../contracts/orders.js';
import type { Order } from './domain.js';

/** Shop recorded for an import that names none (offline demo). */
export const DEFAULT_SHOP = 'local';

export function orderFromWire(w: OrderInWire, now: number): Order {
  const f = w.flags ?? {};
  const p = w.print_data ?? null;
  return {
    orderId: w.order_id,
    shop: w.shop ?? DEFAULT_SHOP,
    barcodes: w.barcodes ?? [],
    lines: w.lines.map((l) => ({
      sku: l.sku,
      barcode: l.barcode,
      name: l.name,
      qty: l.qty,
      unitGrams: l.unit_grams,
    })),
    packagingGrams: w.packaging_grams ?? null,
    flags: {
      refundRequested: f.refund_requested ?? false,
      refunded: f.refunded ?? false,
      cancelled: f.cancelled ?? false,
      platformClosed: f.platform_closed ?? false,
      shipped: f.shipped ?? false,
    },
    carrier: w.carrier ?? null,
    waybill: w.waybill ?? null,
    printData:
      p === null
        ? null
        : {
            receiverName: p.receiver_name,
            receiverPhone: p.receiver_phone,
            receiverAddress: p.receiver_address,
            ...(p.sender_name !== undefined && { senderName: p.sender_name }),
            ...(p.routing_code !== undefined && { routingCode: p.routing_code }),
            ...(p.sort_code !== undefined && { sortCode: p.sort_code }),
          },
    shipBy: w.ship_by ?? null,
    revision: w.revision ?? 0,
    updatedAt: now,
    ...(w.presale === true && { presale: true as const }),
  };
}
