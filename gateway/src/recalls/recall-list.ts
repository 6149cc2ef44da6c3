/**
 * The gateway's one recall list (待召回面单), pure: labels out on the floor that must be pulled
 * off their parcels. Two sources, one list, counted until someone reports each label pulled:
 *  - `preprint`: a label printed ahead for a batch (decide/preprint.ts) whose order was
 *    intercepted after it was printed (refund, cancel, close in the inbound feed) or that a
 *    station refused at its scan;
 *  - `carrier_switch`: the voided label of an order switched to another carrier
 *    (handover/carrier-holds.ts).
 * Entries are keyed by the label's waybill.
 */
import type { PreprintEntry } from '../batches/preprint-book.js';
import type { CarrierRecall } from '../handover/carrier-holds.js';
import type { Order, Shipment } from '../station/domain.js';

export type RecallKind = 'preprint' | 'carrier_switch';

export interface RecallEntry {
  kind: RecallKind;
  /** The label to pull (its waybill barcode). */
  waybill: string;
  orderId: string;
  /** Why: the interception code, or PKL_CARRIER_HELD for a carrier switch. */
  code: string;
  shipmentId: string | null;
  batchId: string | null;
  seq: number | null;
  stationId: string | null;
  fromCarrier: string | null;
  toCarrier: string | null;
  at: number;
  pulledAt: number | null;
  pulledBy: string | null;
}

const FLAG_CODES: ReadonlyArray<readonly [keyof Order['flags'], string]> = [
  ['shipped', 'PKL_INTERCEPT_ALREADY_SHIPPED'],
  ['refunded', 'PKL_INTERCEPT_REFUNDED'],
  ['refundRequested', 'PKL_INTERCEPT_REFUND_REQUESTED'],
  ['cancelled', 'PKL_INTERCEPT_CANCELLED'],
  ['platformClosed', 'PKL_INTERCEPT_PLATFORM_CLOSED'],
];

/** The interception code an order's flags give (the intercept check's priority), or null. */
export function flagCode(order: Order | null): string | null {
  if (order === null) return null;
  for (const [flag, code] of FLAG_CODES) if (order.flags[flag]) return code;
  return null;
}

/**
 * Whether a pre-printed label must be pulled, and why: its shipment was intercepted after the
 * label was queued, or the label is out (printed, or printing) and its order is intercepted
 * now. Null when the label goes out with its parcel (or never printed).
 */
export function preprintRecall(entry: PreprintEntry, shipment: Shipment | null, order: Order | null, at: number): RecallEntry | null {
  if (shipment === null || shipment.labelJobId === null || entry.waybill === null) return null;
  let code: string | null = null;
  if (shipment.state === 'intercepted') code = shipment.reasonCode ?? 'PKL_INTERCEPT_CANCELLED';
  else if (shipment.state === 'printed' || (shipment.state === 'labelling' && shipment.reasonCode !== 'PKL_PRINT_FAILED')) code = flagCode(order);
  if (code === null) return null;
  return {
    kind: 'preprint',
    waybill: entry.waybill,
    orderId: entry.orderId,
    code,
    shipmentId: entry.shipmentId,
    batchId: entry.batchId,
    seq: entry.seq,
    stationId: shipment.stationId,
    fromCarrier: null,
    toCarrier: null,
    at,
    pulledAt: null,
    pulledBy: null,
  };
}

export function carrierRecall(r: CarrierRecall): RecallEntry {
  return {
    kind: 'carrier_switch',
    waybill: r.waybill,
    orderId: r.orderId,
    code: 'PKL_CARRIER_HELD',
    shipmentId: null,
    batchId: null,
    seq: null,
    stationId: null,
    fromCarrier: r.fromCarrier,
    toCarrier: r.toCarrier,
    at: r.at,
    pulledAt: r.pulledAt,
    pulledBy: null,
  };
}

/** The label a scanned code names: its waybill, else the open entry of the order it identifies. */
export function findRecall(list: readonly RecallEntry[], code: string, orderOf: (code: string) => string | null): RecallEntry | null {
  const byWaybill = list.find((r) => r.waybill === code);
  if (byWaybill !== undefined) return byWaybill;
  const orderId = orderOf(code);
  if (orderId === null) return null;
  return list.find((r) => r.orderId === orderId && r.pulledAt === null) ?? list.find((r) => r.orderId === orderId) ?? null;
}

/** The wire form (HTTP, dashboard, PDA task). */
export function recallWire(r: RecallEntry) {
  return {
    kind: r.kind,
    waybill: r.waybill,
    order_id: r.orderId,
    code: r.code,
    shipment_id: r.shipmentId,
    batch_id: r.batchId,
    seq: r.seq,
    station_id: r.stationId,
    from_carrier: r.fromCarrier,
    to_carrier: r.toCarrier,
    at: r.at,
    pulled_at: r.pulledAt,
  };
}
