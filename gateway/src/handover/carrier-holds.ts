/**
 * The courier overload plan (快递爆仓), pure: a supervisor holds a carrier that cannot take
 * more parcels (its parcels are not labelled: the label gate holds them with
 * PKL_CARRIER_HELD), releases it, or switches held orders to another carrier. A switch gives
 * the order a new waybill of the new carrier (a spare number from the site's pool,
 * `handover.waybillPool`), writes `order.carrier_switched` once per switch id, and, when a
 * label of the old waybill was already printed, puts that label on the carrier recall list
 * until someone reports it pulled. The recall list is kept here under its own name
 * (`carrier_switch` entries) so it can join the batch recall list of the batch pre-print.
 */
import type { ErrorCode, ErrorDetails } from '../../../contracts/errors.js';
import type { Order, Shipment } from '../station/domain.js';
import { EVENT } from '../station/events.js';
import type { WriteOp } from '../storage/types.js';

export interface CarrierHold {
  carrier: string;
  reason: string;
  by: string;
  at: number;
}

export interface CarrierRecall {
  /** Source of the entry, for a shared recall list (batch pre-print adds its own kinds). */
  kind: 'carrier_switch';
  waybill: string;
  orderId: string;
  fromCarrier: string;
  toCarrier: string;
  switchId: string;
  at: number;
  pulledAt: number | null;
}

export interface HoldState {
  holds: Map<string, CarrierHold>;
  /** Pool numbers given out (from the log), never given twice. */
  usedWaybills: Set<string>;
  /** Switch ids applied (a retried request changes nothing). */
  switches: Set<string>;
  /** Voided labels by old waybill. */
  recalls: Map<string, CarrierRecall>;
}

export function emptyHoldState(): HoldState {
  return { holds: new Map(), usedWaybills: new Set(), switches: new Set(), recalls: new Map() };
}

export type HoldDecision<T> = { ok: true; writes: WriteOp[]; value: T } | { ok: false; code: ErrorCode; details: ErrorDetails };

export function decideHold(st: HoldState, input: { carrier: string; reason: string; by: string; at: number }): HoldDecision<CarrierHold> {
  const hold: CarrierHold = { carrier: input.carrier, reason: input.reason, by: input.by, at: input.at };
  if (st.holds.has(input.carrier)) return { ok: true, writes: [], value: st.holds.get(input.carrier)! };
  return {
    ok: true,
    value: hold,
    writes: [
      { op: 'event', type: EVENT.carrierHeld, subject: `carrier:${input.carrier}`, data: { carrier: input.carrier, reason: input.reason, by: input.by } },
    ],
  };
}

export function decideRelease(st: HoldState, input: { carrier: string; by: string }): HoldDecision<null> {
  if (!st.holds.has(input.carrier)) return { ok: false, code: 'PKL_CARRIER_NOT_HELD', details: { carrier: input.carrier } };
  return {
    ok: true,
    value: null,
    writes: [{ op: 'event', type: EVENT.carrierReleased, subject: `carrier:${input.carrier}`, data: { carrier: input.carrier, by: input.by } }],
  };
}

/** The next spare number of the carrier's pool that no switch has used. */
export function nextPoolWaybill(st: HoldState, pool: readonly string[] | undefined, taken: ReadonlySet<string> = new Set()): string | null {
  for (const w of pool ?? []) if (!st.usedWaybills.has(w) && !taken.has(w)) return w;
  return null;
}

/** A shipment whose label of the order's current waybill was printed (or is printing). */
export function labelPrinted(shipments: readonly Shipment[], waybill: string | null): boolean {
  return (
    waybill !== null &&
    shipments.some((s) => s.waybill === waybill && s.labelJobId !== null && (s.state === 'labelling' || s.state === 'printed' || s.state === 'shipped'))
  );
}

export interface SwitchValue {
  switchId: string;
  orderId: string;
  fromCarrier: string;
  toCarrier: string;
  oldWaybill: string | null;
  newWaybill: string;
  recalled: boolean;
  duplicate: boolean;
}

/**
 * Switches one order of a held carrier to `to`. Refuses an order of a carrier that is not
 * held (nothing to switch), and one the pool has no number for. A handed-over parcel has left
 * and is not switched (PKL_HANDOVER_ALREADY).
 */
export function decideSwitch(
  st: HoldState,
  input: {
    order: Order;
    shipments: readonly Shipment[];
    to: string;
    switchId: string;
    by: string;
    at: number;
    pool: readonly string[] | undefined;
    taken?: ReadonlySet<string>;
    handedOver: string | null;
  },
): HoldDecision<SwitchValue> {
  const { order } = input;
  const from = order.carrier ?? 'none';
  if (st.switches.has(input.switchId)) {
    return {
      ok: true,
      writes: [],
      value: {
        switchId: input.switchId,
        orderId: order.orderId,
        fromCarrier: from,
        toCarrier: input.to,
        oldWaybill: null,
        newWaybill: order.waybill ?? '',
        recalled: false,
        duplicate: true,
      },
    };
  }
  if (order.carrier === null || !st.holds.has(order.carrier)) return { ok: false, code: 'PKL_CARRIER_NOT_HELD', details: { carrier: from } };
  if (input.handedOver !== null) return { ok: false, code: 'PKL_HANDOVER_ALREADY', details: { waybill: order.waybill, manifestId: input.handedOver } };
  const newWaybill = nextPoolWaybill(st, input.pool, input.taken);
  if (newWaybill === null) return { ok: false, code: 'PKL_SWITCH_NO_WAYBILL', details: { carrier: input.to, orderId: order.orderId } };
  const recalled = labelPrinted(input.shipments, order.waybill);
  const barcodes = order.barcodes.filter((b) => b !== order.waybill);
  const switched: Order = { ...order, carrier: input.to, waybill: newWaybill, barcodes: [...barcodes, newWaybill], updatedAt: input.at };
  return {
    ok: true,
    value: {
      switchId: input.switchId,
      orderId: order.orderId,
      fromCarrier: from,
      toCarrier: input.to,
      oldWaybill: order.waybill,
      newWaybill,
      recalled,
      duplicate: false,
    },
    writes: [
      { op: 'order.put', order: switched },
      {
        op: 'event',
        type: EVENT.carrierSwitched,
        subject: `order:${order.orderId}`,
        data: {
          order_id: order.orderId,
          from_carrier: from,
          to_carrier: input.to,
          old_waybill: order.waybill,
          new_waybill: newWaybill,
          source: 'pool',
          switch_id: input.switchId,
          old_label_printed: recalled,
          by: input.by,
        },
      },
    ],
  };
}

/**
 * The cloud moved a held order to another carrier (an `order.upsert` from the feed with a new
 * carrier and waybill, docs/sync.md §7.3): recorded as a switch with source `cloud`, once per
 * order revision. Null when it is not such a move (same carrier, still a held carrier, no
 * waybill, or a switch this gateway made itself).
 */
export function decideCloudSwitch(st: HoldState, input: { order: Order; heldFrom: string; by: string }): HoldDecision<SwitchValue> | null {
  const { order } = input;
  if (order.carrier === null || order.carrier === input.heldFrom || order.waybill === null) return null;
  if (st.holds.has(order.carrier) || st.usedWaybills.has(order.waybill)) return null;
  const switchId = `cloud:${order.orderId}:${order.revision}`;
  if (st.switches.has(switchId)) return null;
  return {
    ok: true,
    value: {
      switchId,
      orderId: order.orderId,
      fromCarrier: input.heldFrom,
      toCarrier: order.carrier,
      oldWaybill: null,
      newWaybill: order.waybill,
      recalled: false,
      duplicate: false,
    },
    writes: [
      {
        op: 'event',
        type: EVENT.carrierSwitched,
        subject: `order:${order.orderId}`,
        data: {
          order_id: order.orderId,
          from_carrier: input.heldFrom,
          to_carrier: order.carrier,
          old_waybill: null,
          new_waybill: order.waybill,
          source: 'cloud',
          switch_id: switchId,
          old_label_printed: false,
          by: input.by,
        },
      },
    ],
  };
}

export function decidePulled(st: HoldState, input: { waybill: string; by: string; at: number }): HoldDecision<CarrierRecall> {
  const r = st.recalls.get(input.waybill);
  if (r === undefined) return { ok: false, code: 'PKL_NOT_FOUND', details: { what: `recall of waybill ${input.waybill}` } };
  if (r.pulledAt !== null) return { ok: true, writes: [], value: r };
  return {
    ok: true,
    value: { ...r, pulledAt: input.at },
    writes: [
      { op: 'event', type: EVENT.recallPulled, subject: `order:${r.orderId}`, data: { order_id: r.orderId, waybill: r.waybill, kind: r.kind, by: input.by } },
    ],
  };
}

/** Rebuilds the state from the log (a restart), in seq order. */
export function foldHoldEvent(st: HoldState, e: { type: string; data: Record<string, unknown>; at: number }): void {
  const d = e.data;
  const carrier = typeof d.carrier === 'string' ? d.carrier : null;
  if (e.type === EVENT.carrierHeld && carrier !== null) {
    st.holds.set(carrier, { carrier, reason: String(d.reason ?? ''), by: String(d.by ?? ''), at: e.at });
  } else if (e.type === EVENT.carrierReleased && carrier !== null) {
    st.holds.delete(carrier);
  } else if (e.type === EVENT.carrierSwitched && typeof d.switch_id === 'string') {
    st.switches.add(d.switch_id);
    if (typeof d.new_waybill === 'string') st.usedWaybills.add(d.new_waybill);
    if (d.old_label_printed === true && typeof d.old_waybill === 'string') {
      st.recalls.set(d.old_waybill, {
        kind: 'carrier_switch',
        waybill: d.old_waybill,
        orderId: String(d.order_id ?? ''),
        fromCarrier: String(d.from_carrier ?? ''),
        toCarrier: String(d.to_carrier ?? ''),
        switchId: d.switch_id,
        at: e.at,
        pulledAt: null,
      });
    }
  } else if (e.type === EVENT.recallPulled && typeof d.waybill === 'string') {
    const r = st.recalls.get(d.waybill);
    if (r !== undefined) r.pulledAt = e.at;
  }
}

export const HOLD_LOG_TYPES: readonly string[] = [EVENT.carrierHeld, EVENT.carrierReleased, EVENT.carrierSwitched, EVENT.recallPulled];
