/**
 * Event types written to the append-only event log (the cloud receives them through sync).
 * These names are a wire contract: never rename one, add a new one instead. Data keys are
 * snake_case like every other wire payload. Events stay compact (SD-card wear; the target is
 * ≤ 3 KB written per shipment in total): ids and figures only, never the label itself.
 * docs/shipment-flow.md lists the data of each type.
 */
import { SYNC_EVENT } from '../../../contracts/sync.js';
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
  parcelDiverted: 'parcel.diverted',
  /** Pre-shipment callback: reported shipped upstream at label time (contracts/sync.ts). */
  shipConfirmed: SYNC_EVENT.shipConfirmed,
} as const;

export type EventType = (typeof EVENT)[keyof typeof EVENT];

type Data = Record<string, string | number | boolean | null>;

/** Drops `undefined` and `null` members so events carry only what is known. */
function compact(data: Record<string, string | number | boolean | null | undefined>): Data {
  const out: Data = {};
  for (const [k, v] of Object.entries(data)) if (v !== undefined && v !== null) out[k] = v;
  return out;
}

export function shipmentEvent(
  type: EventType,
  shipmentId: string,
  data: Record<string, string | number | boolean | null | undefined>,
): StationWrite {
  return { op: 'event', type, subject: `shipment:${shipmentId}`, data: compact(data) };
}

export function lineEvent(
  type: EventType,
  lineId: string,
  data: Record<string, string | number | boolean | null | undefined>,
): StationWrite {
  return { op: 'event', type, subject: `line:${lineId}`, data: compact(data) };
}
