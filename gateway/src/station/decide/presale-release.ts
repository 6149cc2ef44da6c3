/**
 * A scan of a presale parcel's staging label (docs/packing-modes.md "Presale"). Paid: the
 * parcel leaves the presale shelf — a new shipment opens with the weight taken at staging,
 * `presale.released` is written once for the staged parcel, and the label gate runs as for any
 * parcel (interception checked again, carrier hold, waybill, then the carrier label). Not paid
 * yet: refused, nothing written. Stopped before payment (refund, cancel…): refused with
 * PKL_PRESALE_UNPACK (the parcel is on the unpack list). Scanned again once labelled: refused
 * with PKL_PRESALE_RELEASED; never a second carrier label.
 */
import type { ErrorCode, ErrorDetails } from '../../../../contracts/errors.js';
import { EVENT } from '../events.js';
import type { StagedParcel } from '../types.js';
import { findDispatched, interceptAt, LABEL_GATE } from './intercept.js';
import { labelGate, reevaluate } from './label-gate.js';
import { errorAlert } from './messages.js';
import { presaleEvent } from './presale-stage.js';
import { leaveCurrent, newShipment } from './scan.js';
import { isActive, type Step } from './step.js';

function refuse(w: Step, code: ErrorCode, details: ErrorDetails, level: 'warn' | 'alert' = 'warn'): void {
  w.refuse(code, details);
  w.show(errorAlert(code, details, level));
}

export function onStagingScan(w: Step, parcel: StagedParcel, operator: string | null): void {
  const ids = { stagingId: parcel.stagingId, orderId: parcel.orderId };
  if (parcel.state === 'unpacked') return refuse(w, 'PKL_PRESALE_UNPACKED', ids, 'alert');
  const order = w.ctx.getOrder(parcel.orderId);
  if (order === null) return refuse(w, 'PKL_ORDER_NOT_FOUND', { barcode: parcel.orderId });
  const cur = w.st.shipment;
  if (isActive(cur) && cur.orderId === order.orderId) {
    // The release shipment is on screen (held for a waybill, a double read): where it stands.
    reevaluate(w, cur, order, 'scan');
    return;
  }
  const dispatched = findDispatched(w.ctx.shipmentsForOrder(order.orderId));
  if (dispatched !== null) return refuse(w, 'PKL_PRESALE_RELEASED', { stagingId: parcel.stagingId, shipmentId: dispatched.shipmentId });
  if (parcel.state === 'staged') {
    const icpt = interceptAt(w.gate, order, LABEL_GATE);
    if (icpt !== null) return refuse(w, 'PKL_PRESALE_UNPACK', { ...ids, reason: icpt.code }, 'alert');
    if (w.ctx.presale?.unpaid(order.orderId) === true) return refuse(w, 'PKL_PRESALE_UNPAID', ids);
  }
  const closing = w.ctx.newWorkRefusal?.() ?? null;
  if (closing !== null) return refuse(w, closing.code, closing.details, 'alert');
  leaveCurrent(w, 'scan', order.orderId);
  const fresh = newShipment(w, order, 'weighing', operator);
  // Weighed at staging: the parcel is not weighed again (it was sealed then).
  const s = { ...fresh, actualGrams: parcel.grams, expectedGrams: parcel.expectedGrams ?? fresh.expectedGrams };
  w.st.shipment = s;
  w.st.verify = false;
  w.st.readyAt = w.at;
  w.put(s);
  w.event(EVENT.opened, s.shipmentId, {
    order_id: order.orderId,
    station_id: s.stationId,
    verify: false,
    expected_grams: s.expectedGrams,
    operator,
    staging_id: parcel.stagingId,
  });
  if (parcel.state === 'staged') {
    w.writes.push(
      presaleEvent(EVENT.presaleReleased, parcel.stagingId, {
        order_id: order.orderId,
        staging_id: parcel.stagingId,
        shipment_id: s.shipmentId,
        station_id: s.stationId,
        operator,
      }),
    );
  }
  labelGate(w, s, order, { presaleRelease: true });
}
