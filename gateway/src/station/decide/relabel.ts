/**
 * Relabel after a carrier switch (快递爆仓 → 改派): an order switched to another carrier
 * after its label was printed has its old label voided and on the recall list. The next scan
 * at a station of that parcel — its old label's waybill or the order barcode — runs the
 * interception check and prints the new carrier's label for the same shipment: one shipment,
 * one parcel, a second print job in the ledger, never a second shipment. Pre-printed parcels
 * go back to `labelling` (shipped at their next scan, preprint.ts); shipped ones stay shipped.
 */
import { PacklineError } from '../../../../contracts/errors.js';
import { labelDataFor } from '../../label/label-data.js';
import { renderLabel } from '../../label/render.js';
import type { Shipment } from '../domain.js';
import { EVENT } from '../events.js';
import { checkOrderFlags, isDispatched, LABEL_GATE } from './intercept.js';
import { interceptShipment } from './label-gate.js';
import { labelJob, printCommand } from './label-job.js';
import { errorAlert, infoAlert } from './messages.js';
import { leaveCurrent } from './scan.js';
import type { Step } from './step.js';

/** True when the scan was a switched parcel (relabelled or refused); false: the usual scan goes on. */
export function onRelabelScan(w: Step, code: string): boolean {
  const voided = w.ctx.voidedLabel;
  if (voided === undefined || w.ctx.anyVoided?.() === false) return false;
  let order = w.ctx.findOrderByBarcode(code);
  if (order === null) {
    const v = voided(code);
    order = v === null ? null : w.ctx.getOrder(v.orderId);
  }
  if (order === null || order.waybill === null || order.printData === null) return false;
  const newWaybill = order.waybill;
  const s = w.ctx
    .shipmentsForOrder(order.orderId)
    .find((x): x is Shipment & { waybill: string } => isDispatched(x) && x.waybill !== null && x.waybill !== newWaybill && voided(x.waybill) !== null);
  if (s === undefined) return false;
  leaveCurrent(w, 'scan', order.orderId);
  w.st.shipment = s;
  w.st.verify = false;
  w.st.readyAt = null;
  // The flag rules of the label gate (the shipment itself is the dispatched one: no duplicate guard).
  const icpt = checkOrderFlags(order, LABEL_GATE, w.ctx.shipment.checkpoints);
  if (icpt !== null) {
    // No new label; the parcel must not leave. A shipped row stays as recorded (the exception
    // path reports the cancel upstream); a pre-printed one is intercepted like at its scan.
    if (s.state === 'shipped') {
      const details = { orderId: order.orderId };
      w.refuse(icpt.code, details);
      const alert = errorAlert(icpt.code, details, 'alert');
      const pull = infoAlert('pull_parcel', details);
      w.show({ ...alert, message: pull.message, messageZh: pull.messageZh });
    } else interceptShipment(w, s, icpt, s.labelJobId ?? undefined);
    return true;
  }
  const format = w.ctx.labelFormat ?? 'zpl';
  const relabelled: Shipment = { ...s, waybill: newWaybill, carrier: order.carrier };
  const place = w.ctx.preprint?.placeOf(s.shipmentId) ?? undefined;
  let data: string;
  try {
    data = renderLabel(format, labelDataFor(order, relabelled, place), w.ctx.label);
  } catch (err) {
    if (!(err instanceof PacklineError)) throw err;
    // The new label cannot be drawn (template, print data): said on the screen, nothing written.
    w.refuse(err.code, err.details ?? {});
    w.show(errorAlert(err.code, err.details ?? {}, 'alert'));
    return true;
  }
  const route = w.ctx.routePrinter?.({ carrier: order.carrier, shop: order.shop });
  const printerId = route?.ok === true ? route.printerId : w.ctx.station.printer;
  const job = labelJob({ jobId: w.ctx.newId('J'), shipmentId: s.shipmentId, printerId, format, data, at: w.at });
  // A pre-printed parcel not shipped yet waits for its new label's print, then its scan.
  const state = s.state === 'shipped' ? 'shipped' : 'labelling';
  w.put({ ...relabelled, state, reasonCode: null, labelJobId: job.jobId, updatedAt: w.at });
  w.writes.push({ op: 'printjob.put', job });
  w.event(EVENT.relabelled, s.shipmentId, {
    order_id: order.orderId,
    old_waybill: s.waybill,
    new_waybill: newWaybill,
    carrier: order.carrier,
    job_id: job.jobId,
    printer_id: printerId,
  });
  w.st.pendingJobs[job.jobId] = job;
  w.commands.push(printCommand(job));
  w.show(infoAlert('relabelled', { oldWaybill: s.waybill, waybill: newWaybill }, 'warn'));
  return true;
}
