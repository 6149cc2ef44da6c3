/** The order cache changed (refund arrived, waybill came): the shipments of that order follow. */
import { interceptAt, LABEL_GATE } from './intercept.js';
import { interceptShipment, reevaluate } from './label-gate.js';
import { isActive, shipmentOf, type Step } from './step.js';

export function onOrderUpdated(w: Step, orderId: string): void {
  const order = w.ctx.getOrder(orderId);
  if (order === null) return;
  const cur = w.st.shipment;
  if (isActive(cur) && cur.orderId === orderId) {
    reevaluate(w, cur, order, 'order_update');
    return;
  }
  // A refund that arrives while the label is printing: the parcel must not leave.
  for (const job of Object.values(w.st.pendingJobs)) {
    if (job.shipmentId === null) continue;
    const s = shipmentOf(w, job.shipmentId);
    if (s === null || s.orderId !== orderId || s.state !== 'labelling') continue;
    const icpt = interceptAt(w.gate, order, LABEL_GATE, s.shipmentId);
    if (icpt !== null) interceptShipment(w, s, icpt, job.jobId);
  }
}
