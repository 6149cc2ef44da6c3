/**
 * The last gate before the label (interception again, then the waybill, then the label job
 * and its print command), the holds a new order revision can clear, and the interception of
 * a shipment on screen.
 */
import { type ErrorCode, type ErrorDetails, PacklineError } from '../../../../contracts/errors.js';
import { labelDataFor } from '../../label/label-data.js';
import { renderLabel } from '../../label/render.js';
import type { Order, PrintJob, Shipment } from '../domain.js';
import { EVENT } from '../events.js';
import { type Interception, interceptAt, LABEL_GATE } from './intercept.js';
import { labelJob, printCommand } from './label-job.js';
import { errorAlert, infoAlert } from './messages.js';
import { presaleGate } from './presale-stage.js';
import type { Step } from './step.js';
import { packingCheckpoints } from './verification.js';
import { judgeWeight } from './weight.js';

/** Holds that a new order revision can clear (waybill arrived, print data fixed). */
const ORDER_HOLDS: readonly string[] = ['PKL_AWAITING_WAYBILL', 'PKL_LABEL_TEMPLATE_ERROR', 'PKL_CARRIER_HELD'];

export function interceptShipment(w: Step, s: Shipment, icpt: Interception, afterLabelJob?: string): void {
  w.put({ ...s, state: 'intercepted', reasonCode: icpt.code, updatedAt: w.at });
  w.event(EVENT.intercepted, s.shipmentId, {
    order_id: s.orderId,
    station_id: s.stationId,
    code: icpt.code,
    checkpoint: icpt.checkpoint,
    previous_shipment_id: icpt.previousShipmentId,
    after_label_job_id: afterLabelJob,
  });
  const details = { orderId: s.orderId };
  w.refuse(icpt.code, details);
  const alert = errorAlert(icpt.code, details, 'alert');
  if (afterLabelJob !== undefined) {
    // The label is (being) printed: the operator must take the parcel out of the flow.
    const pull = infoAlert('pull_parcel', details);
    alert.message = pull.message;
    alert.messageZh = pull.messageZh;
  }
  if (w.st.shipment?.shipmentId === s.shipmentId) {
    w.st.readyAt = null;
  }
  w.show(alert);
}

export function hold(w: Step, s: Shipment, code: ErrorCode, details: ErrorDetails, figures: Record<string, number> = {}): void {
  w.put({ ...s, state: 'held', reasonCode: code, updatedAt: w.at });
  w.event(EVENT.held, s.shipmentId, { code, ...figures });
  w.refuse(code, details);
  w.show(errorAlert(code, details, 'warn'));
}

/**
 * The last gate before the label: interception check again (the refund may have arrived while
 * the parcel was packed; docs/shipment-flow.md "weighing triggers exception order"), then the waybill,
 * then the label and its print job.
 */
export function labelGate(w: Step, s: Shipment, order: Order, opts: { presaleRelease?: boolean } = {}): void {
  const icpt = interceptAt(w.gate, order, LABEL_GATE, s.shipmentId);
  if (icpt !== null) {
    interceptShipment(w, s, icpt);
    return;
  }
  // An unpaid presale order gets a staging label, not a carrier label (presale-stage.ts); a
  // staged parcel released by its staging label (presale-release.ts) goes on to its label.
  if (opts.presaleRelease !== true && presaleGate(w, s, order)) return;
  const carrierHold = w.ctx.carrierHold?.(order.carrier) ?? null;
  if (carrierHold !== null) {
    hold(w, s, 'PKL_CARRIER_HELD', { orderId: order.orderId, carrier: order.carrier, reason: carrierHold.reason });
    return;
  }
  if (order.waybill === null || order.printData === null) {
    hold(w, s, 'PKL_AWAITING_WAYBILL', { orderId: order.orderId });
    return;
  }
  const labelled: Shipment = { ...s, waybill: order.waybill, carrier: order.carrier };
  // The printer's language (runtime: config labelFormat or the driven printer's definition).
  const format = w.ctx.labelFormat ?? 'zpl';
  let data: string;
  try {
    const label = labelDataFor(order, labelled);
    data = renderLabel(format, label, w.ctx.label);
  } catch (err) {
    if (err instanceof PacklineError && err.code === 'PKL_LABEL_TEMPLATE_ERROR') {
      hold(w, s, err.code, err.details ?? {});
      return;
    }
    // The site's template or font is broken (PKL_TEMPLATE_*): a print exception with cause
    // template_error, reprinted once the template is fixed (printing/label-templates.ts).
    if (err instanceof PacklineError && err.code.startsWith('PKL_TEMPLATE_')) {
      templateFailed(w, { ...s, waybill: order.waybill, carrier: order.carrier }, format, err);
      return;
    }
    throw err;
  }
  // The channel's choice; with no healthy printer the label waits for the station's own
  // printer (re-issued when it comes back), which the station screen says.
  const route = w.ctx.routePrinter?.({ carrier: order.carrier, shop: order.shop });
  const printerId = route?.ok === true ? route.printerId : w.ctx.station.printer;
  const job = labelJob({ jobId: w.ctx.newId('J'), shipmentId: s.shipmentId, printerId, format, data, at: w.at });
  w.put({ ...labelled, state: 'labelling', reasonCode: null, labelJobId: job.jobId, updatedAt: w.at });
  w.writes.push({ op: 'printjob.put', job });
  w.event(EVENT.labelQueued, s.shipmentId, {
    order_id: order.orderId,
    job_id: job.jobId,
    printer_id: job.printerId,
    waybill: order.waybill,
    carrier: order.carrier,
  });
  // Pre-shipment callback: once per order — not for a relabel (the shipment already has a job
  // id) nor for a fresh shipment after a failed print (an earlier one was labelled): the
  // cloud has reported the order shipped already, and later changes are not re-sent.
  const labelledBefore = s.labelJobId !== null || w.ctx.shipmentsForOrder(order.orderId).some((x) => x.shipmentId !== s.shipmentId && x.labelJobId !== null);
  if (!labelledBefore && w.ctx.preShipmentCallback?.(order.shop) === true) {
    w.event(EVENT.shipConfirmed, s.shipmentId, {
      order_id: order.orderId,
      waybill: order.waybill,
      carrier: order.carrier,
      trigger: 'label_queued',
    });
  }
  w.st.pendingJobs[job.jobId] = job;
  w.st.readyAt = null;
  w.commands.push(printCommand(job));
  if (route !== undefined && !route.ok) w.show(errorAlert('PKL_PRINTER_UNAVAILABLE', { deviceId: printerId }, 'warn'));
  else w.show(infoAlert('label_queued', { waybill: order.waybill }));
}

/**
 * The label could not be rendered because of the site's template (PKL_TEMPLATE_*): the ledger
 * gets a failed job with cause `template_error` and the shipment is a print exception, like a
 * label the printer refused; a supervisor reprints it once the template is fixed.
 */
function templateFailed(w: Step, s: Shipment, format: PrintJob['format'], err: PacklineError): void {
  const job = labelJob({
    jobId: w.ctx.newId('J'),
    shipmentId: s.shipmentId,
    printerId: w.ctx.station.printer,
    format,
    data: '',
    at: w.at,
    failed: 'template_error',
  });
  w.writes.push({ op: 'printjob.put', job });
  w.put({ ...s, state: 'labelling', reasonCode: 'PKL_PRINT_FAILED', labelJobId: job.jobId, updatedAt: w.at });
  w.event(EVENT.printFailed, s.shipmentId, { job_id: job.jobId, reason: 'template_error', code: err.code, ...err.details });
  w.st.readyAt = null;
  w.refuse(err.code, err.details ?? {});
  w.show(errorAlert('PKL_PRINT_FAILED', { deviceId: job.printerId, reason: 'template_error' }, 'alert'));
}

/**
 * Re-runs the checks of the shipment's current phase after the order changed (or was scanned
 * again): interception first, then a hold that the new revision can clear.
 */
export function reevaluate(w: Step, cur: Shipment, order: Order, by: 'scan' | 'order_update'): void {
  const checkpoint = cur.state === 'verifying' ? packingCheckpoints(w.st.verify) : LABEL_GATE;
  const icpt = interceptAt(w.gate, order, checkpoint, cur.shipmentId);
  if (icpt !== null) {
    interceptShipment(w, cur, icpt);
    return;
  }
  if (cur.state === 'held' && cur.reasonCode === 'PKL_CARRIER_HELD') {
    // Still held (the carrier is, and the order was not switched): say so again, write nothing.
    const still = w.ctx.carrierHold?.(order.carrier) ?? null;
    if (still !== null) {
      const details = { orderId: order.orderId, carrier: order.carrier, reason: still.reason };
      w.refuse('PKL_CARRIER_HELD', details);
      w.show(errorAlert('PKL_CARRIER_HELD', details, 'warn'));
      return;
    }
  }
  if (cur.state === 'held' && cur.reasonCode !== null && ORDER_HOLDS.includes(cur.reasonCode)) {
    const ready = order.waybill !== null && order.printData !== null;
    if (ready) {
      w.event(EVENT.released, cur.shipmentId, { code: cur.reasonCode, by });
      labelGate(w, cur, order);
      return;
    }
    const code = cur.reasonCode as ErrorCode;
    w.refuse(code, { orderId: order.orderId });
    w.show(errorAlert(code, { orderId: order.orderId }, 'warn'));
    return;
  }
  if (cur.state === 'held' && cur.actualGrams !== null && cur.expectedGrams !== null) {
    // Still held for the weight: show the figures again.
    const v = judgeWeight(cur.actualGrams, cur.expectedGrams, w.ctx.shipment.weight);
    w.show(errorAlert('PKL_WEIGHT_OUT_OF_TOLERANCE', { actual: v.actual, expected: v.expected, tolerance: v.tolerance, diff: v.diff }, 'warn'));
    return;
  }
  w.show(infoAlert(cur.state === 'verifying' ? 'scan_items' : 'place_on_scale', { orderId: order.orderId }));
}
