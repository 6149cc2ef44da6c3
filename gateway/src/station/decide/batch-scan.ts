/**
 * Post-print (后置打单), one scan one parcel: at a station working a same-composition batch,
 * the scan of an item barcode (or of a pre-packed unit's barcode) picks the batch's next order
 * that needs exactly that composition, runs the interception check, and opens its shipment —
 * weighed on the station scale before its label when the batch weighs, else labelled at once.
 *
 * Decide-commit-send: the pick is the shipment row (and its `batch.parcel_selected` event) in
 * the step's one unit, committed before the label command goes out. A second scan therefore
 * sees the first order taken (an open or dispatched shipment) and picks another; a restart
 * re-issues the committed label job with its job id and never picks a second order for it.
 */
import type { Order } from '../domain.js';
import { batchEvent, EVENT } from '../events.js';
import type { BatchCode, StationBatch } from '../types.js';
import { interceptAt, isDispatched, LABEL_GATE } from './intercept.js';
import { labelGate, reevaluate } from './label-gate.js';
import { errorAlert, infoAlert } from './messages.js';
import { leaveCurrent, newShipment, notPicked } from './scan.js';
import { isActive, isActiveState, type Step } from './step.js';

/** The flag rules run as at the packing checkpoint and at the label gate (the parcel is packed and labelled in one go). */
const PICK_GATE = ['packing', LABEL_GATE] as const;

export function onBatchScan(w: Step, batch: StationBatch, code: BatchCode, barcode: string, operator: string | null): void {
  const cur = w.st.shipment;
  if (isActive(cur) && batch.contains(cur.orderId)) {
    // The parcel picked by the previous scan still waits for its weight: the same item scanned
    // again (a double read, an impatient packer) shows where it stands, never picks a second order.
    const order = w.ctx.getOrder(cur.orderId);
    if (order !== null) {
      reevaluate(w, cur, order, 'scan');
      return;
    }
  }
  if (code.kind === 'prepack' && code.usedBy !== null) {
    const details = { barcode, orderId: code.usedBy };
    w.refuse('PKL_PREPACK_USED', details);
    w.show(errorAlert('PKL_PREPACK_USED', details, 'warn'));
    return;
  }
  // An order whose units are still being picked (or are short) waits for a later scan: it stays
  // in the batch, the scan picks the next ready one (docs/picking.md "Packing respects picking").
  let unpicked: ReturnType<typeof notPicked> = null;
  for (const slot of batch.remaining()) {
    const order = w.ctx.getOrder(slot.orderId);
    if (order === null) continue;
    const shipments = w.ctx.shipmentsForOrder(order.orderId);
    // Taken already: labelled or shipped, or being packed (at this or another station).
    if (shipments.some((s) => isDispatched(s) || isActiveState(s.state))) continue;
    // A presale parcel staged already waits on the presale shelf for its own staging label.
    if (w.ctx.presale?.stagedFor(order.orderId)?.state === 'staged') continue;
    const icpt = interceptAt(w.gate, order, PICK_GATE);
    if (icpt !== null) {
      // A refund or cancel that arrived before its turn: the order leaves the batch, never labelled.
      w.writes.push(batchEvent(EVENT.batchOrderRemoved, batch.batchId, { order_id: order.orderId, seq: slot.seq, code: icpt.code }));
      continue;
    }
    const waiting = notPicked(w.ctx.pickingState?.(order.orderId) ?? null, order.orderId);
    if (waiting !== null) {
      unpicked ??= waiting;
      continue;
    }
    pick(w, batch, code, barcode, order, slot.seq, operator);
    return;
  }
  if (unpicked !== null) {
    // Orders are left, but none is picked yet: say so rather than "no order left".
    w.refuse(unpicked.code, unpicked.details);
    w.show(errorAlert(unpicked.code, unpicked.details, 'warn'));
    return;
  }
  const details = { batchId: batch.batchId, barcode };
  w.refuse('PKL_BATCH_NO_ORDER', details);
  w.show(errorAlert('PKL_BATCH_NO_ORDER', details, 'warn'));
}

function pick(w: Step, batch: StationBatch, code: BatchCode, barcode: string, order: Order, seq: number, operator: string | null): void {
  leaveCurrent(w, 'scan', order.orderId);
  // The scan stands for the whole composition (every order of the batch packs the same), so
  // item verification is done; the weight still checks the parcel when the batch weighs.
  // The item scanned is recorded on the shipment as any item scan is (what was scanned, not the
  // whole composition); a pre-pack label is not an item barcode.
  const opened = newShipment(w, order, 'weighing', operator);
  const s = code.kind === 'item' ? { ...opened, scanned: { [barcode]: 1 } } : opened;
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
    batch_id: batch.batchId,
  });
  w.writes.push(
    batchEvent(EVENT.batchParcelSelected, batch.batchId, {
      order_id: order.orderId,
      shipment_id: s.shipmentId,
      seq,
      barcode,
      prepack_job_id: code.kind === 'prepack' ? code.jobId : undefined,
    }),
  );
  if (batch.weigh) {
    w.show(infoAlert('batch_picked', { batchId: batch.batchId, seq, orderId: order.orderId }));
    return;
  }
  labelGate(w, s, order);
}
