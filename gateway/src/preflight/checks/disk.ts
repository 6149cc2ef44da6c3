/**
 * Disk free and the offline buffer it gives: with the WAN down every event stays in the
 * local log, so free space / (bytes per event × events per shipment × peak shipments per
 * hour) is how many hours the site can ship offline before the store refuses new work at
 * `storage.minFreeMb`. Bytes per event are measured from the store itself (database + WAL
 * size over the events it holds), which includes the orders and indexes it carries along.
 */
import type { CheckResult } from '../report.js';

/** Below this many events the measurement says more about the empty schema than about events. */
export const MIN_EVENTS_TO_MEASURE = 1_000;
/** Bytes per event assumed until the log holds enough to measure (bench/README.md: ~0.5 KB). */
export const DEFAULT_BYTES_PER_EVENT = 600;

export interface DiskInput {
  dataDir: string;
  freeBytes: number;
  /** Kept free by the store (storage.minFreeMb): not usable for events. */
  reserveBytes: number;
  storeBytes: number;
  events: number;
  peakShipmentsPerHour: number;
  eventsPerShipment: number;
  warnHours: number;
  failHours: number;
}

export function bytesPerEvent(storeBytes: number, events: number): number {
  return events >= MIN_EVENTS_TO_MEASURE ? storeBytes / events : DEFAULT_BYTES_PER_EVENT;
}

export function bufferHours(d: DiskInput): number {
  const perHour = bytesPerEvent(d.storeBytes, d.events) * d.eventsPerShipment * d.peakShipmentsPerHour;
  return Math.max(0, d.freeBytes - d.reserveBytes) / perHour;
}

export function checkDisk(d: DiskInput): CheckResult {
  const hours = bufferHours(d);
  const perEvent = bytesPerEvent(d.storeBytes, d.events);
  const mb = (b: number) => Math.round(b / 1_048_576);
  const data = {
    dataDir: d.dataDir,
    freeMb: mb(d.freeBytes),
    reserveMb: mb(d.reserveBytes),
    storeMb: mb(d.storeBytes),
    events: d.events,
    bytesPerEvent: Math.round(perEvent),
    measured: d.events >= MIN_EVENTS_TO_MEASURE,
    peakShipmentsPerHour: d.peakShipmentsPerHour,
    eventsPerShipment: d.eventsPerShipment,
    bufferHours: Math.round(hours * 10) / 10,
  };
  const detail =
    `${mb(d.freeBytes)} MB free on ${d.dataDir}: ${data.bufferHours} h of offline events at ${d.peakShipmentsPerHour} shipments/h ` +
    `(${Math.round(perEvent)} B/event${data.measured ? '' : ', assumed until the log holds more'}, ${d.eventsPerShipment} events/shipment)`;
  const title = 'Disk free and offline buffer';
  if (hours < d.failHours) return { id: 'disk', title, status: 'fail', detail: `${detail}; below ${d.failHours} h: free space now`, data };
  if (hours < d.warnHours) return { id: 'disk', title, status: 'warn', detail: `${detail}; below ${d.warnHours} h`, data };
  return { id: 'disk', title, status: 'pass', detail, data };
}
