/**
 * The shipment flow's domain rows: orders from the cloud cache, shipments, print jobs, the
 * event log's entries, and the writes a station or line step produces. The store persists
 * them (storage/types.ts builds its write ops on these); nothing here does I/O.
 */

export interface OrderLine {
  sku: string;
  /** Item barcode scanned at verification (EAN/UPC or the merchant's own). */
  barcode: string;
  name: string;
  qty: number;
  unitGrams: number;
}

export interface OrderFlags {
  refundRequested: boolean;
  refunded: boolean;
  cancelled: boolean;
  platformClosed: boolean;
  /** Shipped elsewhere (another warehouse or a previous gateway shipment). */
  shipped: boolean;
}

/** What the label needs besides the waybill (from the carrier's e-waybill response). */
export interface PrintData {
  receiverName: string;
  receiverPhone: string;
  receiverAddress: string;
  senderName?: string;
  routingCode?: string;
  /** Big-character sort code printed on Chinese e-waybills (大头笔). */
  sortCode?: string;
}

export interface Order {
  orderId: string;
  shop: string;
  /** Extra barcodes that identify the order: platform order no., pick-slip no., waybill no. */
  barcodes: string[];
  lines: OrderLine[];
  /** Packaging (box, filler) weight in grams; null means use the configured default. */
  packagingGrams: number | null;
  flags: OrderFlags;
  carrier: string | null;
  waybill: string | null;
  printData: PrintData | null;
  /** Ship-by deadline, epoch ms. */
  shipBy: number | null;
  /** Monotonic revision from the cloud; an older revision never overwrites a newer one. */
  revision: number;
  updatedAt: number;
  /**
   * Set on an order as imported (never read back from the store): a presale order not paid
   * yet. Its presale state lives in the event log (`order.imported` data `presale`,
   * `order.paid`; gateway/src/presale/), not in the order row.
   */
  presale?: true;
}

export const SHIPMENT_STATES = ['verifying', 'weighing', 'held', 'intercepted', 'labelling', 'printed', 'shipped', 'abandoned'] as const;
export type ShipmentState = (typeof SHIPMENT_STATES)[number];
/** States a shipment never leaves; every other state is "open" (see Store.openShipments). */
export const FINAL_SHIPMENT_STATES: readonly ShipmentState[] = ['shipped', 'abandoned'];

export interface Shipment {
  shipmentId: string;
  orderId: string;
  /** Station or line id. */
  stationId: string;
  state: ShipmentState;
  /** Stable error code of the current hold or intercept, or null. */
  reasonCode: string | null;
  /** item barcode → scanned count. */
  scanned: Record<string, number>;
  expectedGrams: number | null;
  actualGrams: number | null;
  carrier: string | null;
  waybill: string | null;
  labelJobId: string | null;
  operator: string | null;
  openedAt: number;
  updatedAt: number;
  shippedAt: number | null;
}

export type PrintJobState = 'queued' | 'sent' | 'printing' | 'printed' | 'failed' | 'cancelled';

export interface PrintJob {
  jobId: string;
  shipmentId: string | null;
  printerId: string;
  format: 'zpl' | 'tspl';
  data: string;
  state: PrintJobState;
  reason: string | null;
  createdAt: number;
  updatedAt: number;
}

/** One entry of the append-only event log that cloud sync drains. */
export interface EventRecord {
  /** Gap-free per gateway, assigned at commit. */
  seq: number;
  /** Hybrid logical clock `wallMs.counter` encoded sortable (see hlc.ts). */
  hlc: string;
  /** Boot counter at the time of writing (the Pi has no RTC). */
  boot: number;
  /** True when the wall clock was not known to be synchronised when recorded. */
  clockUnsynced: boolean;
  type: string;
  /** The entity the event is about, e.g. `shipment:S-…`, `order:O-…`, `device:scale-1`. */
  subject: string;
  data: unknown;
}

/** The writes a station or line step produces; the runtime applies them as ONE atomic unit. */
export type StationWrite =
  | { op: 'shipment.put'; shipment: Shipment }
  | { op: 'printjob.put'; job: PrintJob }
  | { op: 'event'; type: string; subject: string; data: unknown }
  /** Records a device message id so a redelivery is applied once (also after a restart). */
  | { op: 'dedupe'; deviceId: string; msgId: string };
