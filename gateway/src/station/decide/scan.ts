/**
 * A scan at the station: the order's barcode opens a shipment (after the interception check
 * at the packing checkpoints), an item barcode counts toward verification, the open order's
 * own barcode re-runs the checks of its phase. Also the reset that clears the station.
 */
import type { ErrorCode, ErrorDetails } from '../../../../contracts/errors.js';
import type { Order, Shipment, ShipmentState } from '../domain.js';
import type { OrderPicking } from '../types.js';
import { EVENT } from '../events.js';
import { interceptAt } from './intercept.js';
import { interceptShipment, reevaluate } from './label-gate.js';
import { errorAlert, infoAlert } from './messages.js';
import { isActive, type Step } from './step.js';
import { identifiesOrder, needsVerification, neededByBarcode, packingCheckpoints, verificationComplete } from './verification.js';
import { expectedGrams } from './weight.js';

export function onScan(w: Step, code: string, operator: string | null): void {
  const cur = w.st.shipment;
  const curOrder = isActive(cur) ? w.ctx.getOrder(cur.orderId) : null;
  if (isActive(cur) && curOrder !== null) {
    if (identifiesOrder(curOrder, code)) {
      // The same order again: re-run the checks of the current phase and show where it stands.
      reevaluate(w, cur, curOrder, 'scan');
      return;
    }
    if (neededByBarcode(curOrder).has(code)) {
      onItem(w, cur, curOrder, code);
      return;
    }
  }
  const order = w.ctx.findOrderByBarcode(code);
  if (order !== null) {
    openOrder(w, order, operator);
    return;
  }
  if (isActive(cur)) {
    w.event(EVENT.itemRejected, cur.shipmentId, { barcode: code, code: 'PKL_ITEM_WRONG' });
    const details = { barcode: code, orderId: cur.orderId };
    w.refuse('PKL_ITEM_WRONG', details);
    w.show(errorAlert('PKL_ITEM_WRONG', details, 'warn'));
    return;
  }
  const details = { barcode: code };
  w.refuse('PKL_ORDER_NOT_FOUND', details);
  w.show(errorAlert('PKL_ORDER_NOT_FOUND', details, 'warn'));
}

function onItem(w: Step, cur: Shipment, order: Order, barcode: string): void {
  const needed = neededByBarcode(order).get(barcode) ?? 0;
  const have = cur.scanned[barcode] ?? 0;
  if (cur.state !== 'verifying') {
    if (!w.st.verify) return; // verification skipped for this order: item scans are not counted
    rejectExtra(w, cur, barcode, needed);
    return;
  }
  if (have >= needed) {
    rejectExtra(w, cur, barcode, needed);
    return;
  }
  const scanned = { ...cur.scanned, [barcode]: have + 1 };
  const complete = verificationComplete(order, scanned);
  w.event(EVENT.itemScanned, cur.shipmentId, {
    barcode,
    scanned: have + 1,
    qty: needed,
    complete: complete || undefined,
  });
  // Item scans are events only; the row is next written when the parcel is weighed, with the
  // final counts (SD-card wear: a row version is ~350 bytes). After a restart the counts are
  // rebuilt from these acknowledged events (restore.ts), so no item has to be scanned twice.
  w.st.shipment = { ...cur, scanned, state: complete ? 'weighing' : 'verifying', updatedAt: w.at };
  if (complete) {
    w.st.readyAt = w.at;
    w.show(infoAlert('place_on_scale', { orderId: order.orderId }));
  } else {
    w.show(infoAlert('item_counted', { barcode, scanned: have + 1, qty: needed }));
  }
}

function rejectExtra(w: Step, cur: Shipment, barcode: string, expected: number): void {
  w.event(EVENT.itemRejected, cur.shipmentId, { barcode, code: 'PKL_ITEM_EXTRA' });
  const details = { barcode, orderId: cur.orderId, expected };
  w.refuse('PKL_ITEM_EXTRA', details);
  w.show(errorAlert('PKL_ITEM_EXTRA', details, 'warn'));
}

/**
 * Takes the shipment on screen off the station before another one opens (or on reset).
 * Active ones and labelling ones whose print failed are abandoned; a labelling one whose job is
 * still out keeps waiting for its print result in `pendingJobs`.
 */
export function leaveCurrent(w: Step, by: 'scan' | 'reset', nextOrderId: string | null): boolean {
  const cur = w.st.shipment;
  if (cur === null) return false;
  const failedLabel = cur.state === 'labelling' && cur.labelJobId !== null && !(cur.labelJobId in w.st.pendingJobs);
  let abandoned = false;
  if (isActive(cur) || failedLabel) {
    w.put({ ...cur, state: 'abandoned', reasonCode: 'PKL_SHIPMENT_ABANDONED', updatedAt: w.at });
    w.event(EVENT.abandoned, cur.shipmentId, { by, state: cur.state, next_order_id: nextOrderId });
    abandoned = true;
  }
  w.st.shipment = null;
  w.st.verify = false;
  w.st.readyAt = null;
  return abandoned;
}

export function newShipment(w: Step, order: Order, state: ShipmentState, operator: string | null): Shipment {
  return {
    shipmentId: w.ctx.newId('S'),
    orderId: order.orderId,
    stationId: w.ctx.station.id,
    state,
    reasonCode: null,
    scanned: {},
    expectedGrams: expectedGrams(order, w.ctx.shipment.defaultPackagingGrams),
    actualGrams: null,
    carrier: order.carrier,
    waybill: order.waybill,
    labelJobId: null,
    operator,
    openedAt: w.at,
    updatedAt: w.at,
    shippedAt: null,
  };
}

function openOrder(w: Step, order: Order, operator: string | null): void {
  // A UPS shutdown is under way: no new parcel (the one on screen, if any, stays and finishes).
  const closing = w.ctx.newWorkRefusal?.() ?? null;
  if (closing !== null) {
    w.refuse(closing.code, closing.details);
    w.show(errorAlert(closing.code, closing.details, 'alert'));
    return;
  }
  // Back-pressure (print channels): every printer this label could go to already holds its
  // queue limit of unanswered labels. Refuse the scan (nothing changes) rather than pile up
  // parcels whose labels may never print; the operator scans again in a moment.
  const route = w.ctx.routePrinter?.({ carrier: order.carrier, shop: order.shop });
  if (route !== undefined && !route.ok && route.code === 'PKL_PRINT_QUEUE_FULL') {
    w.refuse(route.code, route.details);
    w.show(errorAlert(route.code, route.details, 'warn'));
    return;
  }
  const verify = needsVerification(order, w.ctx.station.verifyItems);
  const icpt = interceptAt(w.gate, order, packingCheckpoints(verify));
  // Picking: an order whose units are not all picked (or are held short) is not packed; the
  // interception check goes first, so a cancelled order is still recorded as intercepted.
  const unpicked = icpt === null ? notPicked(w.ctx.pickingState?.(order.orderId) ?? null, order.orderId) : null;
  if (unpicked !== null) {
    w.refuse(unpicked.code, unpicked.details);
    w.show(errorAlert(unpicked.code, unpicked.details, 'warn'));
    return;
  }
  const previous = w.st.shipment;
  const abandoned = leaveCurrent(w, 'scan', order.orderId);
  if (icpt !== null) {
    const s = newShipment(w, order, 'intercepted', operator);
    w.st.shipment = s;
    interceptShipment(w, s, icpt);
    return;
  }
  const s = newShipment(w, order, verify ? 'verifying' : 'weighing', operator);
  w.st.shipment = s;
  w.st.verify = verify;
  w.st.readyAt = verify ? null : w.at;
  w.put(s);
  w.event(EVENT.opened, s.shipmentId, {
    order_id: order.orderId,
    station_id: s.stationId,
    verify,
    expected_grams: s.expectedGrams,
    operator,
  });
  if (abandoned && previous !== null) {
    w.show(errorAlert('PKL_SHIPMENT_ABANDONED', { shipmentId: previous.shipmentId }, 'warn'));
  } else {
    w.show(infoAlert(verify ? 'scan_items' : 'place_on_scale', { orderId: order.orderId }));
  }
}

export function onReset(w: Step): void {
  leaveCurrent(w, 'reset', null);
  w.show(infoAlert('cleared', {}));
}

/** The refusal of an order picking still holds: being picked, or held short; null when it may be packed. */
export function notPicked(p: OrderPicking | null, orderId: string): { code: ErrorCode; details: ErrorDetails } | null {
  if (p === null || p.state === 'picked' || p.state === 'released_short') return null;
  if (p.state === 'short' && p.short !== null) return { code: 'PKL_PICK_SHORT', details: { orderId, sku: p.short.sku, location: p.short.location } };
  return { code: 'PKL_ORDER_NOT_PICKED', details: { orderId, waveId: p.waveId, slot: p.slot, reason: p.state } };
}
