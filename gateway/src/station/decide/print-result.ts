/**
 * A printer's answer to a label job: printed ships the shipment (after one more interception
 * check), failed either fails over to another printer of the channel (only a label certainly
 * not printed, print-failure.ts) or tags the shipment print failed for a supervisor.
 */
import type { ErrorCode } from '../../../../contracts/errors.js';
import type { PrintJob, Shipment } from '../domain.js';
import { EVENT } from '../events.js';
import { interceptAt, LABEL_GATE } from './intercept.js';
import { interceptShipment } from './label-gate.js';
import { labelJob, printCommand } from './label-job.js';
import { errorAlert, infoAlert } from './messages.js';
import { onPreprintPrinted } from './preprint.js';
import { printFailureMeaning } from './print-failure.js';
import { shipmentOf, type Step } from './step.js';

export function onPrintResult(w: Step, jobId: string, status: 'printed' | 'failed', reason: string | null): void {
  const job = w.st.pendingJobs[jobId];
  if (job === undefined || job.printerId !== w.input.deviceId) {
    // Unknown, already answered (duplicate), or answered by another printer: change nothing.
    w.refuse('PKL_PRINT_JOB_UNKNOWN', { jobId });
    return;
  }
  delete w.st.pendingJobs[jobId];
  const s = job.shipmentId === null ? null : shipmentOf(w, job.shipmentId);
  const isCurrent = s !== null && w.st.shipment?.shipmentId === s.shipmentId;
  if (status === 'failed') {
    const why = reason ?? 'unknown';
    w.writes.push({ op: 'printjob.put', job: { ...job, state: 'failed', reason: why, updatedAt: w.at } });
    // Only a label the printer certainly did not print moves to another printer; one that may
    // have come out (connection lost mid-job…) waits for a supervisor's reprint (station/decide/print-failure.ts).
    if (s !== null && s.state === 'labelling' && printFailureMeaning(why).notPrinted && failOver(w, s, job, why)) return;
    if (s !== null && s.state === 'labelling') {
      w.put({ ...s, reasonCode: 'PKL_PRINT_FAILED', updatedAt: w.at });
      w.event(EVENT.printFailed, s.shipmentId, { job_id: jobId, reason: why });
    }
    w.show(errorAlert('PKL_PRINT_FAILED', { deviceId: job.printerId, reason: why }, 'alert'));
    return;
  }
  // A printed job drops its ZPL: the label is re-rendered from the order for a reprint, and
  // writing ~600 bytes again per shipment is the largest single cost on the SD card.
  w.writes.push({ op: 'printjob.put', job: { ...job, data: '', state: 'printed', reason: null, updatedAt: w.at } });
  if (s === null) return;
  if (s.state === 'intercepted') {
    // Intercepted while the label was printing: remind the operator to pull the parcel.
    const details = { orderId: s.orderId };
    const pull = infoAlert('pull_parcel', details, 'alert');
    w.show({ ...pull, code: s.reasonCode as ErrorCode | null, details });
    return;
  }
  if (s.state !== 'labelling') return;
  // A label printed ahead for a batch: printed, not shipped until its parcel is scanned (preprint.ts).
  if (w.ctx.preprint?.placeOf(s.shipmentId) != null) {
    onPreprintPrinted(w, s, jobId);
    return;
  }
  const order = w.ctx.getOrder(s.orderId);
  const icpt = order === null ? null : interceptAt(w.gate, order, LABEL_GATE, s.shipmentId);
  if (icpt !== null) {
    interceptShipment(w, s, icpt, jobId);
    w.reply = { ok: true }; // the printer's report itself was applied
    return;
  }
  w.put({ ...s, state: 'shipped', reasonCode: null, shippedAt: w.at, updatedAt: w.at });
  w.event(EVENT.shipped, s.shipmentId, {
    order_id: s.orderId,
    job_id: jobId,
    waybill: s.waybill,
    carrier: s.carrier,
    grams: s.actualGrams,
  });
  if (isCurrent) w.show(infoAlert('shipped', { waybill: s.waybill ?? '' }, 'ok'));
}

/**
 * Failover: the printer answered that it did NOT print this label (paper out, head open…),
 * so sending the same label to another printer of the channel cannot print it twice. A new
 * job id (the failed one stays failed in the ledger), the same label data. Returns false when
 * no other printer can take it (the shipment is then tagged print failed, reprint from there).
 * A printer that went silent is never failed over automatically: it may have printed.
 */
function failOver(w: Step, s: Shipment, failed: PrintJob, why: string): boolean {
  const order = w.ctx.getOrder(s.orderId);
  if (order === null || w.ctx.routePrinter === undefined) return false;
  const before = w.st.printFailures?.shipmentId === s.shipmentId ? w.st.printFailures.printers : [];
  const tried = [...before, failed.printerId];
  w.st.printFailures = { shipmentId: s.shipmentId, printers: tried };
  const route = w.ctx.routePrinter({ carrier: order.carrier, shop: order.shop, exclude: tried });
  if (!route.ok || tried.includes(route.printerId)) return false;
  const job = labelJob({
    jobId: w.ctx.newId('J'),
    shipmentId: failed.shipmentId,
    printerId: route.printerId,
    format: failed.format,
    data: failed.data,
    at: w.at,
  });
  w.put({ ...s, labelJobId: job.jobId, reasonCode: null, updatedAt: w.at });
  w.writes.push({ op: 'printjob.put', job });
  w.event(EVENT.printRerouted, s.shipmentId, {
    job_id: job.jobId,
    previous_job_id: failed.jobId,
    printer_id: job.printerId,
    previous_printer_id: failed.printerId,
    reason: why,
  });
  w.st.pendingJobs[job.jobId] = job;
  w.commands.push(printCommand(job));
  w.show(errorAlert('PKL_PRINT_FAILED_OVER', { deviceId: failed.printerId, reason: why, to: job.printerId }, 'warn'));
  return true;
}
