/**
 * Every event type written to the append-only event log, in one place (the cloud receives
 * them through sync).
 * These names are a wire contract: never rename one, add a new one instead. Data keys are
 * snake_case like every other wire payload. Events stay compact (SD-card wear; the target is
 * ≤ 3 KB written per shipment in total): ids and figures only, never the label itself.
 * docs/shipment-flow.md lists the data of each type.
 */
import { BATCH_SYNC_EVENTS, PRESALE_SYNC_EVENTS, SYNC_EVENT } from '../../../contracts/sync.js';
import type { StationWrite } from './domain.js';

export const EVENT = {
  opened: 'shipment.opened',
  itemScanned: 'shipment.item_scanned',
  itemRejected: 'shipment.item_rejected',
  weighed: 'shipment.weighed',
  held: 'shipment.held',
  released: 'shipment.released',
  intercepted: 'shipment.intercepted',
  labelQueued: 'shipment.label_queued',
  shipped: 'shipment.shipped',
  printFailed: 'shipment.print_failed',
  /** A label the printer could not print went to another printer of the channel. */
  printRerouted: 'shipment.print_rerouted',
  abandoned: 'shipment.abandoned',
  /** Supervisor reprint audit (decide/reprint-plan.ts). */
  reprinted: 'shipment.reprinted',
  /** Supervisor audit of a shipment that left without a label printed here (decide/ship-unlabelled-plan.ts). */
  shippedUnlabelled: 'shipment.shipped_unlabelled',
  /** A cancel or refund that reached a shipment already on its way (sync/change-applier.ts). */
  exception: 'shipment.exception',
  parcelDiverted: 'parcel.diverted',
  /** PDA log-in at a station; subject `station:{id}`. */
  operatorLogin: 'station.operator_login',
  /** PDA task confirmation; subject `task:{id}`. */
  taskConfirmed: 'task.confirmed',
  /** An order arrived from the cloud feed; subject `order:{id}` (sync/change-applier.ts). */
  orderImported: 'order.imported',
  /** An order status change from the cloud feed was applied (sync/change-applier.ts). */
  orderStatusApplied: 'order.status_applied',
  /** A status change for an order not cached yet, held until it arrives (sync/change-applier.ts). */
  orderStatusHeld: 'order.status_held',
  /** A cloud change the gateway could not apply, quarantined (contracts/sync.ts). */
  changeRejected: SYNC_EVENT.changeRejected,
  /** Pre-shipment callback: reported shipped upstream at label time (contracts/sync.ts). */
  shipConfirmed: SYNC_EVENT.shipConfirmed,
  /** Cloud cancel requests (contracts/sync.ts). */
  cancelAccepted: SYNC_EVENT.cancelAccepted,
  cancelRefused: SYNC_EVENT.cancelRefused,
  /** Courier handover (gateway/src/handover/, docs/handover.md); subject `manifest:{id}` unless said. */
  handoverOpened: 'handover.manifest_opened',
  handoverScanned: 'handover.parcel_scanned',
  handoverClosed: SYNC_EVENT.manifestClosed,
  /** Subject `shipment:{id}`: the parcel left with its courier. */
  handedOver: SYNC_EVENT.handedOver,
  /** Carrier holds (courier overload); subject `carrier:{name}`. */
  carrierHeld: 'carrier.held',
  carrierReleased: 'carrier.released',
  /** Subject `order:{id}`: a held order moved to another carrier. */
  carrierSwitched: SYNC_EVENT.carrierSwitched,
  /** Subject `order:{id}`: a voided label (carrier switch) was pulled off its parcel. */
  recallPulled: 'order.label_recall_pulled',
  /** Consumables: a printer's label roll replaced; subject `device:{id}`. */
  rollChanged: 'printer.roll_changed',
  /** A UPS signal (NUT upsmon NOTIFYCMD); subject `gateway:{id}`. */
  powerEvent: 'gateway.power_event',
  /** Batches (gateway/src/batches/); subject `batch:{id}`. Built: data {structure, composition, carrier, shop, mode, orders}. */
  batchCreated: BATCH_SYNC_EVENTS.created,
  /** A station started working it: data {station_id, mode, weigh}. */
  batchStarted: BATCH_SYNC_EVENTS.started,
  /** The station stopped working it (it is open again): data {station_id}. */
  batchPaused: BATCH_SYNC_EVENTS.paused,
  batchCancelled: BATCH_SYNC_EVENTS.cancelled,
  /** Every order shipped or removed: data {shipped, removed}. */
  batchDone: BATCH_SYNC_EVENTS.done,
  /** Post-print picked an order for a scan: data {order_id, shipment_id, seq, barcode, prepack_job_id}. */
  batchParcelSelected: BATCH_SYNC_EVENTS.parcelSelected,
  /** An intercepted order left the batch before its turn: data {order_id, seq, code}. */
  batchOrderRemoved: BATCH_SYNC_EVENTS.orderRemoved,
  /** A pre-pack job (货品预包); subject `prepack:{id}`: data {composition, units, barcode_prefix}. */
  prepackCreated: BATCH_SYNC_EVENTS.prepackCreated,
  /** Presale (gateway/src/presale/): the payment applied from the feed; subject `order:{id}`, data {order_id, revision?, at, cached}. */
  presalePaid: PRESALE_SYNC_EVENTS.paid,
  /** Subject `presale:{staging_id}`: packed and weighed, staging label printed, no carrier label. */
  presaleStaged: PRESALE_SYNC_EVENTS.staged,
  /** Subject `presale:{staging_id}`: paid, taken off the presale shelf by a scan of its staging label. */
  presaleReleased: PRESALE_SYNC_EVENTS.released,
  /** Subject `presale:{staging_id}`: its order was stopped before payment and the parcel unpacked. */
  presaleUnpacked: PRESALE_SYNC_EVENTS.unpacked,
  /** A switched order's parcel got the new carrier's label (decide/relabel.ts): data {order_id, old_waybill, new_waybill, carrier, job_id, printer_id}. */
  relabelled: 'shipment.relabelled',
} as const;

export type EventType = (typeof EVENT)[keyof typeof EVENT];

type Data = Record<string, string | number | boolean | null>;

/** Drops `undefined` and `null` members so events carry only what is known. */
function compact(data: Record<string, string | number | boolean | null | undefined>): Data {
  const out: Data = {};
  for (const [k, v] of Object.entries(data)) if (v !== undefined && v !== null) out[k] = v;
  return out;
}

export function shipmentEvent(type: EventType, shipmentId: string, data: Record<string, string | number | boolean | null | undefined>): StationWrite {
  return { op: 'event', type, subject: `shipment:${shipmentId}`, data: compact(data) };
}

export function lineEvent(type: EventType, lineId: string, data: Record<string, string | number | boolean | null | undefined>): StationWrite {
  return { op: 'event', type, subject: `line:${lineId}`, data: compact(data) };
}

export function batchEvent(type: EventType, batchId: string, data: Record<string, string | number | boolean | null | undefined>): StationWrite {
  return { op: 'event', type, subject: `batch:${batchId}`, data: compact(data) };
}
