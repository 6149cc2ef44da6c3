/** A scale reading: the weight lock, then the tolerance check, then the label gate. */
import type { Shipment } from '../domain.js';
import { EVENT } from '../events.js';
import { hold, labelGate } from './label-gate.js';
import { errorAlert } from './messages.js';
import type { Step } from './step.js';
import { EMPTY_SCALE_GRAMS, expectedGrams, isEmptyReading, judgeWeight } from './weight.js';

export function onWeight(w: Step, grams: number, stable: boolean): void {
  const emptyGrams = w.ctx.emptyGrams ?? EMPTY_SCALE_GRAMS;
  const empty = isEmptyReading(grams, emptyGrams);
  w.st.scale = { grams, stable, at: w.at };
  if (empty) w.st.armed = true;
  const cur = w.st.shipment;
  const awaiting = cur !== null && (cur.state === 'weighing' || (cur.state === 'held' && cur.reasonCode === 'PKL_WEIGHT_OUT_OF_TOLERANCE'));
  // Unstable readings, empty-scale readings and readings nobody waits for only update the
  // live weight on screen.
  if (!awaiting || !stable || empty) return;
  // Weight lock: the reading must be taken after verification completed, and the scale must
  // have been near empty since the last weight was taken (so the previous parcel, still lying
  // on the scale, can never be weighed as this one).
  if (!w.st.armed || w.st.readyAt === null || w.at < w.st.readyAt) {
    w.refuse('PKL_WEIGHT_STALE', { grams });
    w.show(errorAlert('PKL_WEIGHT_STALE', {}, 'warn'));
    return;
  }
  w.st.armed = false;
  const order = w.ctx.getOrder(cur.orderId);
  if (order === null) {
    w.refuse('PKL_ORDER_NOT_FOUND', { barcode: cur.orderId });
    return;
  }
  const expected = cur.expectedGrams ?? expectedGrams(order, w.ctx.shipment.defaultPackagingGrams);
  const v = judgeWeight(grams, expected, w.ctx.shipment.weight);
  const weighed: Shipment = { ...cur, actualGrams: grams, expectedGrams: expected, updatedAt: w.at };
  w.event(EVENT.weighed, cur.shipmentId, { grams, expected_grams: expected, tolerance: v.tolerance, ok: v.ok });
  if (!v.ok) {
    hold(
      w,
      weighed,
      'PKL_WEIGHT_OUT_OF_TOLERANCE',
      { actual: grams, expected, tolerance: v.tolerance, diff: v.diff },
      { grams, expected_grams: expected, tolerance: v.tolerance },
    );
    return;
  }
  if (cur.state === 'held') {
    w.event(EVENT.released, cur.shipmentId, { code: 'PKL_WEIGHT_OUT_OF_TOLERANCE', by: 'reweigh' });
  }
  labelGate(w, weighed, order);
}
