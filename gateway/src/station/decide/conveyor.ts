/**
 * The DWS / sorter line decision: one parcel telegram in, one divert command out.
 *
 *   no-read (barcode null)            → defaultChute, reason `no_read`
 *   barcode matches no order           → defaultChute, reason `unknown`
 *   order intercepted (flags)          → exceptionChute, reason = the PKL_INTERCEPT_* code
 *   no waybill (direct shipment)       → exceptionChute, reason PKL_AWAITING_WAYBILL
 *   weight outside tolerance           → exceptionChute, reason PKL_WEIGHT_OUT_OF_TOLERANCE
 *                                        (only if line.checkWeight and the telegram has grams)
 *   carrier mapped in line.chutes      → that chute, reason `carrier`
 *   carrier not mapped                 → defaultChute, reason `unknown`
 *
 * A parcel already labelled at a packing station (or sorted before: recirculation) is sorted
 * without a new shipment row; any other parcel that passes is a direct shipment (直接发货) and
 * is recorded as a shipped line shipment. A repeated telegram (same `seq`, or same barcode,
 * within the duplicate window) gets the same divert again and writes nothing.
 */
import type { ErrorCode } from '../../../../contracts/errors.js';
import type { LineConfig } from '../../config/schema.js';
import type { Order, Shipment, ShipmentState, StationWrite } from '../domain.js';
import { EVENT, lineEvent, shipmentEvent } from '../events.js';
import { checkOrderFlags, findDispatched } from './intercept.js';
import type { Command, OrderLookups, ShipmentConfig } from '../types.js';
import { expectedGrams, judgeWeight } from './weight.js';

export interface ParcelInput {
  /** Gateway receive time, epoch ms. */
  at: number;
  deviceId: string;
  seq: number | null;
  /** `null` is a no-read. */
  barcode: string | null;
  grams: number | null;
}

export interface LineContext extends Pick<OrderLookups, 'findOrderByBarcode' | 'shipmentsForOrder'> {
  shipment: ShipmentConfig;
  newId(prefix: 'S'): string;
  /** Telegrams repeating a seq or barcode within this window are duplicates (default 10 s). */
  duplicateWindowMs?: number;
}

interface RecentParcel {
  at: number;
  seq: number | null;
  barcode: string | null;
  chute: string;
  reason: string;
}

export interface LineState {
  lineId: string;
  recent: RecentParcel[];
}

export interface DivertDecision {
  state: LineState;
  chute: string;
  /** `carrier`, `no_read`, `unknown` or an error code (DivertCommand.reason). */
  reason: string;
  /** The error code when the parcel went to the exception chute. */
  code: ErrorCode | null;
  duplicate: boolean;
  /** One atomic unit, like a station step. */
  writes: StationWrite[];
  /** Sent after the writes committed. */
  command: Extract<Command, { kind: 'divert' }>;
}

/** A sorter runs 1–3 parcels/s; a real repeat arrives within a second, a recirculated parcel
 *  after a full loop (well over 10 s), which must be decided afresh. */
export const DUPLICATE_WINDOW_MS = 10_000;
const MAX_RECENT = 512;

export function initialLineState(lineId: string): LineState {
  return { lineId, recent: [] };
}

export function decideDivert(state: LineState, parcel: ParcelInput, line: LineConfig, ctx: LineContext): DivertDecision {
  const window = ctx.duplicateWindowMs ?? DUPLICATE_WINDOW_MS;
  const recent = state.recent.filter((r) => parcel.at - r.at <= window && parcel.at >= r.at);
  const dup = recent.find((r) => (parcel.seq !== null && r.seq === parcel.seq) || (parcel.barcode !== null && r.barcode === parcel.barcode));
  const command = (chute: string, reason: string): DivertDecision['command'] => ({
    kind: 'divert',
    deviceId: line.device,
    payload: {
      ...(parcel.seq !== null ? { seq: parcel.seq } : {}),
      barcode: parcel.barcode,
      chute,
      reason,
    },
  });
  if (dup !== undefined) {
    return {
      state: { lineId: state.lineId, recent },
      chute: dup.chute,
      reason: dup.reason,
      code: null,
      duplicate: true,
      writes: [],
      command: command(dup.chute, dup.reason),
    };
  }
  const d = decide(parcel, line, ctx);
  recent.push({ at: parcel.at, seq: parcel.seq, barcode: parcel.barcode, chute: d.chute, reason: d.reason });
  const diverted = lineEvent(EVENT.parcelDiverted, line.id, {
    seq: parcel.seq,
    barcode: parcel.barcode,
    chute: d.chute,
    reason: d.reason,
    order_id: d.orderId,
    shipment_id: d.shipmentId,
    grams: parcel.grams,
  });
  return {
    state: { lineId: state.lineId, recent: recent.slice(-MAX_RECENT) },
    chute: d.chute,
    reason: d.reason,
    code: d.code,
    duplicate: false,
    writes: [...d.writes, diverted],
    command: command(d.chute, d.reason),
  };
}

interface Decision {
  chute: string;
  reason: string;
  code: ErrorCode | null;
  orderId: string | null;
  shipmentId: string | null;
  writes: StationWrite[];
}

function lineShipment(
  parcel: ParcelInput,
  line: LineConfig,
  order: Order,
  expected: number,
  ctx: LineContext,
  state: ShipmentState,
  reasonCode: string | null,
): Shipment {
  return {
    shipmentId: ctx.newId('S'),
    orderId: order.orderId,
    stationId: line.id,
    state,
    reasonCode,
    scanned: {},
    expectedGrams: expected,
    actualGrams: parcel.grams,
    carrier: order.carrier,
    waybill: order.waybill,
    labelJobId: null,
    operator: null,
    openedAt: parcel.at,
    updatedAt: parcel.at,
    shippedAt: state === 'shipped' ? parcel.at : null,
  };
}

function decide(parcel: ParcelInput, line: LineConfig, ctx: LineContext): Decision {
  const base = { orderId: null, shipmentId: null, writes: [] as StationWrite[], code: null };
  if (parcel.barcode === null) return { ...base, chute: line.defaultChute, reason: 'no_read' };
  const order = ctx.findOrderByBarcode(parcel.barcode);
  if (order === null) return { ...base, chute: line.defaultChute, reason: 'unknown' };

  const previous = findDispatched(ctx.shipmentsForOrder(order.orderId));
  const expected = expectedGrams(order, ctx.shipment.defaultPackagingGrams);
  const exception = (code: ErrorCode, state: ShipmentState, data: Record<string, number>): Decision => {
    const s = lineShipment(parcel, line, order, expected, ctx, state, code);
    const type = state === 'intercepted' ? EVENT.intercepted : EVENT.held;
    return {
      chute: line.exceptionChute,
      reason: code,
      code,
      orderId: order.orderId,
      shipmentId: s.shipmentId,
      writes: [
        { op: 'shipment.put', shipment: s },
        shipmentEvent(type, s.shipmentId, {
          order_id: order.orderId,
          station_id: line.id,
          code,
          checkpoint: state === 'intercepted' ? 'direct_shipment' : undefined,
          previous_shipment_id: previous?.shipmentId,
          ...data,
        }),
      ],
    };
  };

  // Interception: the order flags at the direct_shipment checkpoint. A station shipment of this
  // order is expected here (labelled parcels ride the line), so the duplicate guard is not a
  // reason to stop the parcel; it only decides whether this pass is the dispatch record.
  const icpt = checkOrderFlags(order, 'direct_shipment', ctx.shipment.checkpoints);
  if (icpt !== null && !(icpt.code === 'PKL_INTERCEPT_ALREADY_SHIPPED' && previous !== null)) {
    return exception(icpt.code, 'intercepted', {});
  }
  if (previous === null && order.waybill === null) return exception('PKL_AWAITING_WAYBILL', 'held', {});
  if (line.checkWeight && parcel.grams !== null) {
    const v = judgeWeight(parcel.grams, expected, ctx.shipment.weight);
    if (!v.ok) {
      const figures = { grams: parcel.grams, expected_grams: expected, tolerance: v.tolerance };
      if (previous === null) return exception('PKL_WEIGHT_OUT_OF_TOLERANCE', 'held', figures);
      // Already labelled at a station: the parcel is diverted; the station's record stays.
      return {
        chute: line.exceptionChute,
        reason: 'PKL_WEIGHT_OUT_OF_TOLERANCE',
        code: 'PKL_WEIGHT_OUT_OF_TOLERANCE',
        orderId: order.orderId,
        shipmentId: previous.shipmentId,
        writes: [],
      };
    }
  }
  const carrier = previous?.carrier ?? order.carrier;
  const chute = carrier === null ? undefined : line.chutes[carrier];
  if (chute === undefined) {
    return { ...base, orderId: order.orderId, shipmentId: previous?.shipmentId ?? null, chute: line.defaultChute, reason: 'unknown' };
  }
  if (previous !== null) {
    return { ...base, orderId: order.orderId, shipmentId: previous.shipmentId, chute, reason: 'carrier' };
  }
  const s = lineShipment(parcel, line, order, expected, ctx, 'shipped', null);
  return {
    chute,
    reason: 'carrier',
    code: null,
    orderId: order.orderId,
    shipmentId: s.shipmentId,
    writes: [
      { op: 'shipment.put', shipment: s },
      shipmentEvent(EVENT.shipped, s.shipmentId, {
        order_id: order.orderId,
        waybill: order.waybill,
        carrier: order.carrier,
        grams: parcel.grams,
        line_id: line.id,
      }),
    ],
  };
}
