/** A supervisor releases a weight hold; the shipment goes on to the label gate. */
import { EVENT } from '../events.js';
import { labelGate } from './label-gate.js';
import { infoAlert } from './messages.js';
import { isActive, type Step } from './step.js';

export function onOverride(w: Step, supervisor: string, shipmentId: string | null, note: string | null): void {
  const cur = w.st.shipment;
  if (cur === null || !isActive(cur)) {
    w.refuse('PKL_NO_OPEN_SHIPMENT', { stationId: w.st.stationId });
    return;
  }
  if (shipmentId !== null && shipmentId !== cur.shipmentId) {
    w.refuse('PKL_SHIPMENT_NOT_FOUND', { shipmentId });
    return;
  }
  if (cur.state !== 'held' || cur.reasonCode !== 'PKL_WEIGHT_OUT_OF_TOLERANCE') {
    // Only a weight hold is a judgement call; intercepts and missing waybills are not.
    w.refuse('PKL_SHIPMENT_STATE', {
      shipmentId: cur.shipmentId,
      state: cur.reasonCode ?? cur.state,
      action: 'supervisor override',
    });
    return;
  }
  if (supervisor.trim() === '') {
    w.refuse('PKL_PAYLOAD_INVALID', { reason: 'supervisor name is required' });
    return;
  }
  const order = w.ctx.getOrder(cur.orderId);
  if (order === null) {
    w.refuse('PKL_ORDER_NOT_FOUND', { barcode: cur.orderId });
    return;
  }
  w.event(EVENT.released, cur.shipmentId, {
    code: cur.reasonCode,
    by: 'supervisor',
    supervisor,
    note,
    grams: cur.actualGrams,
    expected_grams: cur.expectedGrams,
  });
  w.show(infoAlert('released', { supervisor }));
  labelGate(w, cur, order);
}
