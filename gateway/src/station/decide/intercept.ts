/**
 * The one interception check (拦截) used by every entry point: the packing station (open,
 * weighing, last gate before the label), the DWS line, and later the PDA pick start.
 *
 * Two kinds of rule:
 *  - Order flags from the cloud cache (refund requested, refunded, cancelled, platform closed,
 *    shipped elsewhere). The merchant decides at which checkpoints these run
 *    (`config.shipment.checkpoints`; guide §04-1 "检测点：开始配货、出库验货、打包登记、称重登记、直接发货").
 *  - The local duplicate-shipment guard: another shipment of the same order that already
 *    left or is being labelled. This is a safety invariant (never print twice), so it runs at
 *    every checkpoint regardless of configuration.
 */
import type { ErrorCode } from '../../../../contracts/errors.js';
import type { Checkpoint } from '../../config/schema.js';
import type { Order, Shipment } from '../domain.js';

export type InterceptCode = Extract<
  ErrorCode,
  'PKL_INTERCEPT_REFUND_REQUESTED' | 'PKL_INTERCEPT_REFUNDED' | 'PKL_INTERCEPT_CANCELLED' | 'PKL_INTERCEPT_PLATFORM_CLOSED' | 'PKL_INTERCEPT_ALREADY_SHIPPED'
>;

export interface Interception {
  code: InterceptCode;
  /** The checkpoint whose rule fired (the first of the gate's checkpoints that is enabled). */
  checkpoint: Checkpoint;
  /** The earlier shipment that makes this one a duplicate (ALREADY_SHIPPED by history only). */
  previousShipmentId?: string;
}

export interface InterceptCheck {
  /** The checkpoint(s) this gate represents; flag rules run if any of them is enabled. */
  checkpoint: Checkpoint | readonly Checkpoint[];
  /** `config.shipment.checkpoints`. */
  enabled: readonly Checkpoint[];
  /** All shipments of the order known locally (any station or line, any state). */
  shipments: readonly Shipment[];
  /** The shipment being checked; it never counts as its own duplicate. */
  selfShipmentId?: string | null;
}

/**
 * Whether a shipment means "this order has left or is leaving": shipped, printed, or being
 * labelled. A labelling shipment whose print failed did not produce a label and does not count
 * (otherwise one paper jam would block the order forever). The intercept record of a duplicate
 * scan does not count: it points at the shipment that did leave, which is in the list itself.
 */
export function isDispatched(s: Shipment): boolean {
  switch (s.state) {
    case 'shipped':
    case 'printed':
      return true;
    case 'labelling':
      return s.reasonCode !== 'PKL_PRINT_FAILED';
    default:
      return false;
  }
}

/** The earlier dispatched shipment of this order, if any (the duplicate guard). */
export function findDispatched(shipments: readonly Shipment[], selfShipmentId?: string | null): Shipment | null {
  for (const s of shipments) {
    if (s.shipmentId !== selfShipmentId && isDispatched(s)) return s;
  }
  return null;
}

/**
 * Flag rules in priority order: when several apply the operator sees the most final one
 * (a refund that completed says more than the request that preceded it).
 */
const FLAG_RULES: ReadonlyArray<readonly [keyof Order['flags'], InterceptCode]> = [
  ['shipped', 'PKL_INTERCEPT_ALREADY_SHIPPED'],
  ['refunded', 'PKL_INTERCEPT_REFUNDED'],
  ['refundRequested', 'PKL_INTERCEPT_REFUND_REQUESTED'],
  ['cancelled', 'PKL_INTERCEPT_CANCELLED'],
  ['platformClosed', 'PKL_INTERCEPT_PLATFORM_CLOSED'],
];

/** Only the configurable flag rules (no history); `null` when none applies or none is enabled. */
export function checkOrderFlags(order: Order, checkpoint: Checkpoint | readonly Checkpoint[], enabled: readonly Checkpoint[]): Interception | null {
  const gate = typeof checkpoint === 'string' ? [checkpoint] : checkpoint;
  const active = gate.find((c) => enabled.includes(c));
  if (active === undefined) return null;
  for (const [flag, code] of FLAG_RULES) {
    if (order.flags[flag]) return { code, checkpoint: active };
  }
  return null;
}

/** The full check: the duplicate guard first (always on), then the enabled flag rules. */
export function checkInterception(order: Order, check: InterceptCheck): Interception | null {
  const previous = findDispatched(check.shipments, check.selfShipmentId);
  if (previous !== null) {
    const gate = typeof check.checkpoint === 'string' ? [check.checkpoint] : check.checkpoint;
    const cp = gate.find((c) => check.enabled.includes(c)) ?? gate[0] ?? 'packing';
    return { code: 'PKL_INTERCEPT_ALREADY_SHIPPED', checkpoint: cp, previousShipmentId: previous.shipmentId };
  }
  return checkOrderFlags(order, check.checkpoint, check.enabled);
}

/** The last gate before a label leaves (and before a reprint or an unlabelled shipment). */
export const LABEL_GATE: Checkpoint = 'weighing';

/** Where a gate looks: the site's enabled checkpoints and every shipment of an order. */
export interface GateSite {
  enabled: readonly Checkpoint[];
  shipmentsForOrder(orderId: string): readonly Shipment[];
}

/** The interception gate as the station flow runs it (open, label gate, print result, plans). */
export function interceptAt(site: GateSite, order: Order, checkpoint: Checkpoint | readonly Checkpoint[], selfShipmentId?: string | null): Interception | null {
  return checkInterception(order, {
    checkpoint,
    enabled: site.enabled,
    shipments: site.shipmentsForOrder(order.orderId),
    selfShipmentId: selfShipmentId ?? null,
  });
}
