/**
 * Batch pre-print (批量预打印): a batch's labels are printed ahead, in sequence, each with the
 * batch id and its sequence number; the parcel is recorded as shipped only when it is scanned
 * at a station (the label's waybill or the order barcode), after the interception check runs
 * again. A label whose order is intercepted meanwhile is refused at that scan and stays on the
 * recall list (gateway/src/recalls/) until someone pulls it.
 *
 * Decide-commit-send as everywhere in the station: each label is a shipment row in state
 * `labelling` with its print job in the ledger and a `batch.parcel_selected` event
 * (`preprint: true`), all in the step's one unit, committed before the print commands go out.
 * The printer's `printed` moves the row to `printed` (not shipped: the parcel is not packed
 * yet); `failed` follows the failover / reprint rules of any label (print-result.ts).
 */
import { labelDataFor } from '../../label/label-data.js';
import { renderLabel } from '../../label/render.js';
import type { Order, Shipment } from '../domain.js';
import { batchEvent, EVENT } from '../events.js';
import type { PreprintPlace } from '../types.js';
import { interceptAt, isDispatched, LABEL_GATE } from './intercept.js';
import { interceptShipment } from './label-gate.js';
import { labelJob, printCommand } from './label-job.js';
import { infoAlert } from './messages.js';
import { leaveCurrent, newShipment, notPicked } from './scan.js';
import { isActiveState, type Step } from './step.js';

/** The flag rules run as at the packing checkpoint and at the label gate (the label leaves now). */
const PREPRINT_GATE = ['packing', LABEL_GATE] as const;

/**
 * Prints the next `limit` labels of the batch, in sequence. An order intercepted before its
 * label leaves the batch (`batch.order_removed`); one that cannot be labelled now (carrier on
 * hold, no waybill yet, still being picked, presale not paid) is skipped and printed by a later run.
 */
export function onPreprint(w: Step, batchId: string, limit: number, operator: string | null): void {
  const batch = w.ctx.preprint?.batch(batchId) ?? null;
  if (batch === null) {
    w.refuse('PKL_BATCH_NOT_FOUND', { batchId });
    return;
  }
  const closing = w.ctx.newWorkRefusal?.() ?? null;
  if (closing !== null) {
    w.refuse(closing.code, closing.details);
    return;
  }
  let printed = 0;
  let left = 0;
  for (const slot of batch.remaining()) {
    if (printed >= limit) {
      left += 1;
      continue;
    }
    const order = w.ctx.getOrder(slot.orderId);
    if (order === null) continue;
    const shipments = w.ctx.shipmentsForOrder(order.orderId);
    if (shipments.some((s) => isDispatched(s) || isActiveState(s.state))) continue;
    const icpt = interceptAt(w.gate, order, PREPRINT_GATE);
    if (icpt !== null) {
      w.writes.push(batchEvent(EVENT.batchOrderRemoved, batchId, { order_id: order.orderId, seq: slot.seq, code: icpt.code }));
      continue;
    }
    if (
      notPicked(w.ctx.pickingState?.(order.orderId) ?? null, order.orderId) !== null ||
      // An unpaid presale order gets no carrier label before its payment (docs/packing-modes.md
      // "Presale"): a later run prints it once paid.
      (w.ctx.presale?.unpaid(order.orderId) ?? false) ||
      (w.ctx.carrierHold?.(order.carrier) ?? null) !== null ||
      order.waybill === null ||
      order.printData === null
    ) {
      left += 1;
      continue;
    }
    if (!printAhead(w, order, { batchId, seq: slot.seq, total: batch.total }, operator)) {
      left += 1;
      continue;
    }
    printed += 1;
  }
  w.show(infoAlert('preprinted', { batchId, printed, left }));
}

/** One label ahead: the shipment, its job and its batch place in the unit; false if the label cannot be drawn. */
function printAhead(w: Step, order: Order, place: PreprintPlace, operator: string | null): boolean {
  const s = newShipment(w, order, 'labelling', operator);
  const format = w.ctx.labelFormat ?? 'zpl';
  let data: string;
  try {
    data = renderLabel(format, labelDataFor(order, s, place), w.ctx.label);
  } catch {
    // A label the template cannot draw is left for the order-by-order path, which holds it
    // with its coded reason on the station screen (label-gate.ts).
    return false;
  }
  const route = w.ctx.routePrinter?.({ carrier: order.carrier, shop: order.shop });
  const printerId = route?.ok === true ? route.printerId : w.ctx.station.printer;
  const job = labelJob({ jobId: w.ctx.newId('J'), shipmentId: s.shipmentId, printerId, format, data, at: w.at });
  w.put({ ...s, labelJobId: job.jobId });
  w.event(EVENT.opened, s.shipmentId, {
    order_id: order.orderId,
    station_id: s.stationId,
    verify: false,
    expected_grams: s.expectedGrams,
    operator,
    batch_id: place.batchId,
    preprint: true,
  });
  w.writes.push({ op: 'printjob.put', job });
  w.event(EVENT.labelQueued, s.shipmentId, {
    order_id: order.orderId,
    job_id: job.jobId,
    printer_id: job.printerId,
    waybill: order.waybill,
    carrier: order.carrier,
  });
  w.writes.push(
    batchEvent(EVENT.batchParcelSelected, place.batchId, {
      order_id: order.orderId,
      shipment_id: s.shipmentId,
      seq: place.seq,
      barcode: order.waybill,
      job_id: job.jobId,
      preprint: true,
    }),
  );
  w.st.pendingJobs[job.jobId] = job;
  w.commands.push(printCommand(job));
  return true;
}

/**
 * The printer printed a pre-printed label: the row moves to `printed` (the parcel is not
 * packed yet). An order intercepted while it printed is intercepted now, its label to pull.
 */
export function onPreprintPrinted(w: Step, s: Shipment, jobId: string): void {
  const order = w.ctx.getOrder(s.orderId);
  const icpt = order === null ? null : interceptAt(w.gate, order, LABEL_GATE, s.shipmentId);
  if (icpt !== null) {
    interceptShipment(w, s, icpt, jobId);
    w.reply = { ok: true }; // the printer's report itself was applied
    return;
  }
  w.put({ ...s, state: 'printed', reasonCode: null, updatedAt: w.at });
}

/** A pre-printed shipment of the order whose label is out (printed, or sent and not failed). */
export function preprintedShipment(w: Step, orderId: string): { shipment: Shipment; place: PreprintPlace } | null {
  const link = w.ctx.preprint;
  if (link === undefined) return null;
  for (const s of w.ctx.shipmentsForOrder(orderId)) {
    if (s.state !== 'printed' && !(s.state === 'labelling' && s.reasonCode !== 'PKL_PRINT_FAILED')) continue;
    const place = link.placeOf(s.shipmentId);
    if (place !== null) return { shipment: s, place };
  }
  return null;
}

/**
 * A scan at a station of a parcel whose label was printed ahead (its waybill, or the order
 * barcode): the interception check runs again, then the shipment is recorded as shipped — or
 * refused with the interception's code, the label then on the recall list. False when the code
 * is not such a parcel (the caller goes on with the usual scan).
 */
export function onPreprintedScan(w: Step, code: string, operator: string | null): boolean {
  if (w.ctx.preprint === undefined || w.ctx.preprint.anyOut?.() === false) return false;
  const order = w.ctx.findOrderByBarcode(code);
  if (order === null) return false;
  const found = preprintedShipment(w, order.orderId);
  // A label of a waybill the order no longer has (carrier switch) is relabelled first (relabel.ts).
  if (found === null || found.shipment.waybill !== order.waybill) return false;
  const { shipment, place } = found;
  leaveCurrent(w, 'scan', order.orderId);
  const s: Shipment = operator !== null && shipment.operator === null ? { ...shipment, operator } : shipment;
  w.st.shipment = s;
  w.st.verify = false;
  w.st.readyAt = null;
  const icpt = interceptAt(w.gate, order, PREPRINT_GATE, s.shipmentId);
  if (icpt !== null) {
    // The label is out: the parcel must not leave (the recall list shows the label to pull).
    interceptShipment(w, s, icpt, s.labelJobId ?? undefined);
    return true;
  }
  // A print result still on its way only settles its job once the parcel is shipped (print-result.ts).
  w.put({ ...s, state: 'shipped', reasonCode: null, shippedAt: w.at, updatedAt: w.at });
  w.event(EVENT.shipped, s.shipmentId, {
    order_id: s.orderId,
    job_id: s.labelJobId,
    waybill: s.waybill,
    carrier: s.carrier,
    grams: s.actualGrams,
    batch_id: place.batchId,
    seq: place.seq,
  });
  w.show(infoAlert('preprint_shipped', { batchId: place.batchId, seq: place.seq, waybill: s.waybill ?? '' }, 'ok'));
  return true;
}
