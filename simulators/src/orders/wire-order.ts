/**
 * The order as it crosses the gateway's import API (`POST /api/v1/orders`, a JSON array):
 * snake_case wire fields mirroring gateway/src/storage/types.ts `Order`.
 */
export interface WireOrderLine {
  sku: string;
  barcode: string;
  name: string;
  qty: number;
  unit_grams: number;
}

export interface WireOrderFlags {
  refund_requested: boolean;
  refunded: boolean;
  cancelled: boolean;
  platform_closed: boolean;
  shipped: boolean;
}

export interface WirePrintData {
  receiver_name: string;
  receiver_phone: string;
  receiver_address: string;
  routing_code?: string;
  sort_code?: string;
}

export interface WireOrder {
  order_id: string;
  shop: string;
  /** Extra barcodes identifying the order (pick-slip no. etc.). */
  barcodes: string[];
  lines: WireOrderLine[];
  packaging_grams: number | null;
  flags: WireOrderFlags;
  carrier: string | null;
  waybill: string | null;
  print_data: WirePrintData | null;
  /** Epoch ms. */
  ship_by: number | null;
  revision: number;
}

/** Packaging weight the gateway assumes when an order has none (config shipment.defaultPackagingGrams). */
export const DEFAULT_PACKAGING_GRAMS = 30;

/** What the parcel of `order` should weigh: items plus packaging. */
export function expectedGrams(order: WireOrder, defaultPackaging = DEFAULT_PACKAGING_GRAMS): number {
  const items = order.lines.reduce((sum, l) => sum + l.qty * l.unit_grams, 0);
  return items + (order.packaging_grams ?? defaultPackaging);
}

/** An order a packing station can ship without any hold: waybilled, not intercepted, with items. */
export function isShippable(order: WireOrder): boolean {
  const f = order.flags;
  return order.waybill !== null && order.lines.length > 0 && !f.refund_requested && !f.refunded && !f.cancelled && !f.platform_closed && !f.shipped;
}
