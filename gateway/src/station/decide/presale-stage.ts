/**
 * Presale at the label gate (预售订单打包, packing presale orders ahead): a parcel of an unpaid
 * presale order is packed, verified and weighed as usual, then gets a staging label instead of
 * the carrier label and is recorded as staged, not shipped (docs/packing-modes.md "Presale").
 *
 * The packing shipment ends there: its row is closed as `abandoned` with reason
 * `PKL_PRESALE_STAGED` (final: never restored to a station's screen, no waybill, so no reprint
 * or print result can turn it into a carrier label), and the staged parcel itself is the
 * `presale.staged` event (subject `presale:{staging_id}`, the staging id being this shipment's
 * id), folded by gateway/src/presale/presale-book.ts. The staging label is a print job of that
 * shipment, so it is re-issued after a restart like any label. Decide-commit-send: the row,
 * the job and the event are one unit, committed before the print command goes out.
 */
import type { ErrorCode, ErrorDetails } from '../../../../contracts/errors.js';
import { renderStagingLabel } from '../../label/staging-label.js';
import type { Order, Shipment, StationWrite } from '../domain.js';
import { EVENT, type EventType } from '../events.js';
import { labelJob, printCommand } from './label-job.js';
import { errorAlert } from './messages.js';
import type { Step } from './step.js';

/** A presale event about one staged parcel; `undefined` and `null` members are left out. */
export function presaleEvent(type: EventType, stagingId: string, data: Record<string, string | number | boolean | null | undefined>): StationWrite {
  const out: Record<string, string | number | boolean> = {};
  for (const [k, v] of Object.entries(data)) if (v !== undefined && v !== null) out[k] = v;
  return { op: 'event', type, subject: `presale:${stagingId}`, data: out };
}

/**
 * Runs at the label gate after the interception check (label-gate.ts), before the carrier hold
 * and the waybill (a presale parcel needs neither). True when it handled the parcel: staged
 * (unpaid presale order) or set aside (the order already waits on the presale shelf).
 */
export function presaleGate(w: Step, s: Shipment, order: Order): boolean {
  const presale = w.ctx.presale;
  if (presale === undefined) return false;
  const prior = presale.stagedFor(order.orderId);
  if (prior !== null && prior.state === 'staged' && prior.stagingId !== s.shipmentId) {
    // A second parcel of an order already on the presale shelf: never labelled. The staged one
    // is released by its own staging label; this one is set aside.
    setAside(w, s, 'PKL_PRESALE_ALREADY_STAGED', { orderId: order.orderId, stagingId: prior.stagingId });
    return true;
  }
  if (!presale.unpaid(order.orderId)) return false;
  stage(w, s, order);
  return true;
}

function setAside(w: Step, s: Shipment, code: ErrorCode, details: ErrorDetails): void {
  w.put({ ...s, state: 'abandoned', reasonCode: code, updatedAt: w.at });
  w.event(EVENT.abandoned, s.shipmentId, { by: 'presale', state: s.state, code });
  w.st.readyAt = null;
  w.refuse(code, details);
  w.show(errorAlert(code, details, 'alert'));
}

function stage(w: Step, s: Shipment, order: Order): void {
  const format = w.ctx.labelFormat ?? 'zpl';
  const data = renderStagingLabel(format, {
    stagingId: s.shipmentId,
    orderId: order.orderId,
    shop: order.shop,
    items: order.lines.map((l) => ({ sku: l.sku, qty: l.qty })),
    grams: s.actualGrams,
    stationId: s.stationId,
    at: w.at,
  });
  // The printer a label of this order would go to (print channels), else the station's own.
  const route = w.ctx.routePrinter?.({ carrier: null, shop: order.shop });
  const printerId = route?.ok === true ? route.printerId : w.ctx.station.printer;
  const job = labelJob({ jobId: w.ctx.newId('J'), shipmentId: s.shipmentId, printerId, format, data, at: w.at });
  // No waybill, no carrier, no label job on the row: nothing can make this shipment a carrier label.
  w.put({ ...s, state: 'abandoned', reasonCode: 'PKL_PRESALE_STAGED', carrier: null, waybill: null, labelJobId: null, updatedAt: w.at });
  w.writes.push({ op: 'printjob.put', job });
  w.writes.push(
    presaleEvent(EVENT.presaleStaged, s.shipmentId, {
      order_id: order.orderId,
      staging_id: s.shipmentId,
      shipment_id: s.shipmentId,
      station_id: s.stationId,
      grams: s.actualGrams,
      expected_grams: s.expectedGrams,
      job_id: job.jobId,
      operator: s.operator,
    }),
  );
  w.st.pendingJobs[job.jobId] = job;
  w.st.readyAt = null;
  w.commands.push(printCommand(job));
  w.show(errorAlert('PKL_PRESALE_STAGED', { orderId: order.orderId, stagingId: s.shipmentId }, 'info'));
}
