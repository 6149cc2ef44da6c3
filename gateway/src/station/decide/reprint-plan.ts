/**
 * What a reprint of a shipment's label does (docs/printing.md), decided from what the
 * store and the station hold; the station runtime commits the writes and then sends the command.
 * Pure. The supervisor's password has been checked before this (reprint-guard.ts).
 *
 * - Idempotent by request id: a request id already recorded in a `shipment.reprinted` event of
 *   the shipment answers with that event's job id and prints nothing.
 * - Allowed for a shipment with a waybill and a label job that printed (`shipped`, `printed`)
 *   or failed (`labelling` with no job out, or `abandoned` after its label failed: a weighed
 *   parcel set aside when the operator scanned the next order). Refused while a job of the shipment is still out
 *   (PKL_PRINT_PENDING: it would print twice), and for an order that must not leave (refund,
 *   cancel… — the same interception check as the label gate).
 * - One unit: the new job (new job id, same waybill, the stored label data when the last job
 *   kept it, else the label rendered again from the order with the shipment's waybill) and the
 *   `shipment.reprinted` audit event. A failed label's reprint becomes the shipment's label job,
 *   so its print result ships the shipment exactly as the first job's would have.
 */
import type { ErrorCode, ErrorDetails } from '../../../../contracts/errors.js';
import { PacklineError } from '../../../../contracts/errors.js';
import type { Checkpoint } from '../../config/schema.js';
import { EVENT } from '../events.js';
import { checkOrderFlags, interceptAt, LABEL_GATE } from './intercept.js';
import { labelDataFor } from '../../label/label-data.js';
import type { LabelFormat } from '../../label/label-format.js';
import { renderLabel } from '../../label/render.js';
import type { LabelOptions } from '../../label/zpl-label.js';
import { labelJob, type PrintCommandOut, printCommand } from './label-job.js';
import type { EventRecord, Order, PrintJob, Shipment, StationWrite } from '../domain.js';

/** Audit event of a reprint (docs/shipment-flow.md); subject `shipment:{id}`. */
export const REPRINTED_EVENT = EVENT.reprinted;

export interface ReprintRequest {
  /** Who authorised it (password already checked). */
  supervisor: string;
  /** The client's id for this request: the same id again never prints twice. */
  requestId: string;
  note?: string;
}

export interface ReprintInput {
  shipmentId: string;
  shipment: Shipment | null;
  /** The shipment's print jobs, oldest first. */
  jobs: readonly PrintJob[];
  /** The shipment's events (where earlier reprints are recorded). */
  events: readonly EventRecord[];
  order: Order | null;
  /** Jobs of the shipment's station still waiting for their print result (any shipment). */
  pending: Readonly<Record<string, PrintJob>>;
  /** The station's printer and its label language and options. */
  printerId: string;
  format: LabelFormat;
  label?: LabelOptions | undefined;
  /** config `shipment.checkpoints`. */
  checkpoints: readonly Checkpoint[];
  /** Every shipment of the order (the duplicate guard). */
  shipmentsForOrder: readonly Shipment[];
  newJobId(): string;
  at: number;
  request: ReprintRequest;
}

export type ReprintPlan =
  | { kind: 'duplicate'; jobId: string }
  | {
      kind: 'print';
      job: PrintJob;
      /** Shipment row after the reprint (changed only when a failed label is reprinted). */
      shipment: Shipment;
      writes: StationWrite[];
      command: PrintCommandOut;
    }
  | { kind: 'refused'; code: ErrorCode; details: ErrorDetails };

/** The job id of an earlier reprint of this shipment with this request id, or null. */
export function earlierReprint(events: readonly EventRecord[], requestId: string): string | null {
  for (const e of events) {
    if (e.type !== REPRINTED_EVENT) continue;
    const d = e.data as { request_id?: unknown; job_id?: unknown } | null;
    if (d?.request_id === requestId && typeof d.job_id === 'string') return d.job_id;
  }
  return null;
}

export function planReprint(input: ReprintInput): ReprintPlan {
  const { shipment: s, request } = input;
  if (s === null) return refuse('PKL_SHIPMENT_NOT_FOUND', { shipmentId: input.shipmentId });
  const done = earlierReprint(input.events, request.requestId);
  if (done !== null) return { kind: 'duplicate', jobId: done };

  const wrongState = refuse('PKL_SHIPMENT_STATE', { shipmentId: s.shipmentId, state: s.reasonCode ?? s.state, action: 'reprint' });
  const previous = input.jobs.at(-1) ?? null;
  if (s.waybill === null || (previous === null && s.labelJobId === null)) return wrongState;
  const out = Object.values(input.pending).find((j) => j.shipmentId === s.shipmentId);
  if (out !== undefined) return refuse('PKL_PRINT_PENDING', { shipmentId: s.shipmentId, jobId: out.jobId });
  // A label that failed while its parcel was still on the station's screen, after which the
  // operator scanned the next order: the shipment was abandoned with its packed, weighed parcel
  // set aside. It is still listed as a print exception (storage printExceptions), so it must
  // be reprintable from there: the reprint takes it back to `labelling` and ships it.
  const abandonedFailedLabel =
    s.state === 'abandoned' && s.actualGrams !== null && previous?.state === 'failed' && !input.jobs.some((j) => j.state === 'printed');
  const failedLabel = s.state === 'labelling' || abandonedFailedLabel;
  if (!failedLabel && s.state !== 'shipped' && s.state !== 'printed') return wrongState;

  const order = input.order;
  if (order === null) return refuse('PKL_ORDER_NOT_FOUND', { barcode: s.orderId });
  // Same gate as the label's ('weighing'). A parcel that left is its own order's shipment, so
  // only the refund / cancel flags count for it, not "shipped".
  const icpt = failedLabel
    ? interceptAt({ enabled: input.checkpoints, shipmentsForOrder: () => input.shipmentsForOrder }, order, LABEL_GATE, s.shipmentId)
    : checkOrderFlags({ ...order, flags: { ...order.flags, shipped: false } }, LABEL_GATE, input.checkpoints);
  if (icpt !== null) return refuse(icpt.code, { orderId: order.orderId });

  let data: string;
  const stored = [...input.jobs].reverse().find((j) => j.data !== '');
  if (stored !== undefined && stored.format === input.format) {
    data = stored.data;
  } else {
    // Printed jobs drop their label (SD-card wear); it is rendered again, with the shipment's
    // own waybill even if the order has been given another one since.
    try {
      const label = labelDataFor({ ...order, waybill: s.waybill, carrier: s.carrier ?? order.carrier }, s);
      data = renderLabel(input.format, label, input.label);
    } catch (err) {
      if (err instanceof PacklineError && (err.code === 'PKL_LABEL_TEMPLATE_ERROR' || err.code.startsWith('PKL_TEMPLATE_')))
        return refuse(err.code, err.details ?? {});
      throw err;
    }
  }

  const job = labelJob({ jobId: input.newJobId(), shipmentId: s.shipmentId, printerId: input.printerId, format: input.format, data, at: input.at });
  const writes: StationWrite[] = [{ op: 'printjob.put', job }];
  let shipment = s;
  if (failedLabel) {
    // The reprint is the label job now: the shipment counts as leaving again (duplicate guard),
    // is not abandoned while it prints, and ships on its print result.
    shipment = { ...s, state: 'labelling', reasonCode: null, labelJobId: job.jobId, updatedAt: input.at };
    writes.push({ op: 'shipment.put', shipment });
  }
  const audit: Record<string, string> = {
    job_id: job.jobId,
    supervisor: request.supervisor,
    request_id: request.requestId,
    waybill: s.waybill,
    printer_id: job.printerId,
  };
  const previousJobId = previous?.jobId ?? s.labelJobId;
  if (previousJobId !== null) audit.previous_job_id = previousJobId;
  if (request.note !== undefined && request.note !== '') audit.note = request.note;
  writes.push({ op: 'event', type: REPRINTED_EVENT, subject: `shipment:${s.shipmentId}`, data: audit });
  return {
    kind: 'print',
    job,
    shipment,
    writes,
    command: printCommand(job),
  };
}

function refuse(code: ErrorCode, details: ErrorDetails): ReprintPlan {
  return { kind: 'refused', code, details };
}
