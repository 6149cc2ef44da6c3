/**
 * Every event type of picking, stock and replenishment, in one place. They go to the same
 * append-only event log as the shipment flow (and upstream through sync); the picking state is
 * the fold of these events in log order (state.ts), so after a crash it is rebuilt exactly by
 * replaying them. Names are a wire contract: never rename one, add a new one instead. Data keys
 * are snake_case like every other wire payload; docs/picking.md lists each type's data.
 */

export const PICK_EVENT = {
  /** A location from the inbound feed (subject `location:{code}`). */
  locationUpserted: 'location.upserted',
  /** The cloud's stock figure for a SKU at a location (inbound feed); replaces the local one. */
  stockSet: 'stock.set',
  /** The local figure corrected on the floor (short pick, count); subject `location:{code}`. */
  stockCorrected: 'stock.corrected',
  /** A wave (or a one-order pick list) built, with its consolidated lines; subject `wave:{id}`. */
  waveBuilt: 'wave.built',
  waveReleased: 'wave.released',
  waveCancelled: 'wave.cancelled',
  waveClosed: 'wave.closed',
  /** A PDA accepted the task (pick start: the interception check ran). */
  pickStarted: 'pick.started',
  /** An order refused or pulled at pick start or during the wave (intercepted, flagged). */
  orderPulled: 'pick.order_pulled',
  pickConfirmed: 'pick.confirmed',
  pickShort: 'pick.short',
  /** A picked unit put to its order's slot at the put wall or the packing station. */
  unitSorted: 'pick.sorted',
  /** A supervisor decision on an order held short: ship what was picked, or cancel it. */
  shortReleased: 'pick.short_released',
  shortCancelled: 'pick.short_cancelled',
  replenishmentRequested: 'replenishment.requested',
  replenishmentTasked: 'replenishment.tasked',
  replenishmentConfirmed: 'replenishment.confirmed',
} as const;

export type PickEventType = (typeof PICK_EVENT)[keyof typeof PICK_EVENT];

export const PICK_EVENT_TYPES: readonly string[] = Object.values(PICK_EVENT);

export function isPickEventType(type: string): type is PickEventType {
  return PICK_EVENT_TYPES.includes(type);
}

/** A demand of one order on one consolidated line: [order_id, units]. */
export type Demand = [orderId: string, qty: number];
/** One consolidated wave line on the wire: [line_no, location, sku, demands]. */
export type WaveLineWire = [lineNo: number, location: string, sku: string, demands: Demand[]];

export type ShortReason = 'not_there' | 'damaged' | 'fewer';
export const SHORT_REASONS: readonly ShortReason[] = ['not_there', 'damaged', 'fewer'];

/** The data of each event type (what the log stores and sync sends). */
export interface PickEventData {
  'location.upserted': {
    code: string;
    zone: string;
    aisle: number;
    bay: number;
    level: number;
    walk_seq: number | null;
    kind: 'pick' | 'reserve';
    capacity: number | null;
    trigger: number | null;
  };
  /** `as_of_seq`: the cloud's count includes this gateway's events up to that seq; later local moves are added on top. */
  'stock.set': { location: string; sku: string; qty: number; revision: number; as_of_seq?: number };
  'stock.corrected': { location: string; sku: string; from: number; to: number; reason: string };
  'wave.built': { wave_id: string; mode: 'wave' | 'order'; orders: string[]; lines: WaveLineWire[]; barcodes: Record<string, string[]> };
  'wave.released': { wave_id: string; device_id: string | null };
  'wave.cancelled': { wave_id: string; reason: string };
  'wave.closed': { wave_id: string };
  'pick.started': { wave_id: string; device_id: string; operator: string | null };
  'pick.order_pulled': { wave_id: string; order_id: string; code: string; returned: Array<[lineNo: number, qty: number]> };
  'pick.confirmed': { wave_id: string; line_no: number; location: string; sku: string; qty: number; device_id: string | null };
  'pick.short': {
    wave_id: string;
    line_no: number;
    location: string;
    sku: string;
    found: number;
    missing: number;
    reason: ShortReason;
    device_id: string | null;
  };
  'pick.sorted': { wave_id: string; order_id: string; sku: string; slot: number };
  'pick.short_released': { order_id: string; supervisor: string };
  'pick.short_cancelled': { order_id: string; supervisor: string };
  'replenishment.requested': { request_id: string; location: string; sku: string; qty: number };
  'replenishment.tasked': { request_id: string; from: string; device_id: string | null };
  'replenishment.confirmed': { request_id: string; from: string; to: string; sku: string; qty: number };
}

export type PickEvent = { [K in PickEventType]: { type: K; subject: string; data: PickEventData[K] } }[PickEventType];

/** The subject of a `stock.set`: one per location and SKU, so the last revision is one lookup. */
export function stockSubject(location: string, sku: string): string {
  return `stock:${location}/${sku}`;
}

export function pickEvent<K extends PickEventType>(type: K, subject: string, data: PickEventData[K]): PickEvent {
  return { type, subject, data } as PickEvent;
}
