/**
 * Orders on the HTTP wire (snake_case) and their mapping to the store's `Order` row.
 * Import is for the offline demo and for ERPs without a cloud connector: the cloud sync
 * normally delivers orders.
 */
import { type Static, Type } from '@sinclair/typebox';
import type { Order, Shipment } from '../../storage/types.js';
import { OrderInWire } from '../../../../contracts/orders.js';
import { Id, Nullable } from './common.js';

/** Largest import batch; with the 5 MB body limit this is ~500 bytes per order on average. */
export const MAX_IMPORT_ORDERS = 10_000;

export { OrderFlagsWire, OrderInWire, OrderLineWire, PrintDataWire } from '../../../../contracts/orders.js';

export const OrderImportBody = Type.Array(OrderInWire, { minItems: 1, maxItems: MAX_IMPORT_ORDERS });

export const OrderImportReply = Type.Object({
  imported: Type.Integer({ description: 'orders stored (new, or a newer revision)' }),
  skipped: Type.Integer({ description: 'orders whose revision was not newer than the stored one' }),
});

/** One order as returned, every field present. */
export const OrderOutWire = Type.Object({
  order_id: Type.String(),
  shop: Type.String(),
  barcodes: Type.Array(Type.String()),
  lines: Type.Array(
    Type.Object({
      sku: Type.String(),
      barcode: Type.String(),
      name: Type.String(),
      qty: Type.Integer(),
      unit_grams: Type.Number(),
    }),
  ),
  packaging_grams: Nullable(Type.Number()),
  flags: Type.Object({
    refund_requested: Type.Boolean(),
    refunded: Type.Boolean(),
    cancelled: Type.Boolean(),
    platform_closed: Type.Boolean(),
    shipped: Type.Boolean(),
  }),
  carrier: Nullable(Type.String()),
  waybill: Nullable(Type.String()),
  print_data: Nullable(
    Type.Object({
      receiver_name: Type.String(),
      receiver_phone: Type.String(),
      receiver_address: Type.String(),
      sender_name: Type.Optional(Type.String()),
      routing_code: Type.Optional(Type.String()),
      sort_code: Type.Optional(Type.String()),
    }),
  ),
  ship_by: Nullable(Type.Integer()),
  revision: Type.Integer(),
  updated_at: Type.Integer(),
  latest_shipment: Nullable(Type.Object({ shipment_id: Type.String(), state: Type.String() })),
});
export type OrderOutWire = Static<typeof OrderOutWire>;

export const OrderParams = Type.Object({ orderId: Id });

export { DEFAULT_SHOP, orderFromWire } from '../../station/order-wire.js';

export function orderToWire(o: Order, latest: Shipment | null): OrderOutWire {
  const p = o.printData;
  return {
    order_id: o.orderId,
    shop: o.shop,
    barcodes: o.barcodes,
    lines: o.lines.map((l) => ({
      sku: l.sku,
      barcode: l.barcode,
      name: l.name,
      qty: l.qty,
      unit_grams: l.unitGrams,
    })),
    packaging_grams: o.packagingGrams,
    flags: {
      refund_requested: o.flags.refundRequested,
      refunded: o.flags.refunded,
      cancelled: o.flags.cancelled,
      platform_closed: o.flags.platformClosed,
      shipped: o.flags.shipped,
    },
    carrier: o.carrier,
    waybill: o.waybill,
    print_data:
      p === null
        ? null
        : {
            receiver_name: p.receiverName,
            receiver_phone: p.receiverPhone,
            receiver_address: p.receiverAddress,
            ...(p.senderName !== undefined && { sender_name: p.senderName }),
            ...(p.routingCode !== undefined && { routing_code: p.routingCode }),
            ...(p.sortCode !== undefined && { sort_code: p.sortCode }),
          },
    ship_by: o.shipBy,
    revision: o.revision,
    updated_at: o.updatedAt,
    latest_shipment: latest === null ? null : { shipment_id: latest.shipmentId, state: latest.state },
  };
}

/**
 * Rules across fields and orders that a JSON Schema cannot say. A scan must resolve to
 * exactly one order and one order line, so within a batch no code may identify two orders
 * and no order may list the same item barcode twice. Returns the first problem, or null.
 */
export function batchProblem(batch: readonly OrderInWire[]): { field: string; reason: string } | null {
  const orderOf = new Map<string, string>();
  for (const [i, o] of batch.entries()) {
    const codes = [o.order_id, ...(o.barcodes ?? [])];
    for (const [j, code] of codes.entries()) {
      const other = orderOf.get(code);
      if (other === o.order_id && j > 0) continue; // an order may list its own id as a barcode
      if (other !== undefined) {
        const field = j === 0 ? `body.${i}.order_id` : `body.${i}.barcodes.${j - 1}`;
        return { field, reason: `${field} "${code}" already identifies order ${other} in this batch` };
      }
      orderOf.set(code, o.order_id);
    }
    const items = new Set<string>();
    for (const [j, line] of o.lines.entries()) {
      if (items.has(line.barcode)) {
        const field = `body.${i}.lines.${j}.barcode`;
        return { field, reason: `${field} "${line.barcode}" appears twice in order ${o.order_id}; use qty` };
      }
      items.add(line.barcode);
    }
  }
  return null;
}
