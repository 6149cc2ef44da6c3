/**
 * Shipping a parcel whose label did not print (docs/printing.md "Reprint guard": "a direct shipment
 * without a printed label needs the same" supervisor password). On the floor this is the
 * parcel that leaves with a waybill written or printed elsewhere while its printer is down,
 * 直接发货 in the merchant guide. Pure, like reprint-plan.ts: the station runtime commits the
 * writes. The supervisor's password has been checked before this (reprint-guard.ts).
 *
 * - Idempotent by request id: a request id already recorded in a `shipment.shipped_unlabelled`
 *   event answers `duplicate` and writes nothing.
 * - Only for a shipment whose label failed and was not printed since: `labelling` with no job
 *   out, or `abandoned` after its label failed (the packed, weighed parcel set aside). Never
 *   while a job is still out (it may print: PKL_PRINT_PENDING), never for an order that must
 *   not leave (the same interception check as the label gate), never without a waybill.
 * - One unit: the shipment `shipped`, the same `shipment.shipped` event a printed label gives
 *   (so cloud sync and the pull feed see an ordinary shipment, marked `unlabelled`), and the
 *   `shipment.shipped_unlabelled` audit event with the supervisor, request id and note.
 */
import type { ErrorCode, ErrorDetails } from '../../../../contracts/errors.js';
import type { Checkpoint } from '../../config/schema.js';
import { EVENT } from '../events.js';
import { interceptAt, LABEL_GATE } from './intercept.js';
import type { EventRecord, Order, PrintJob, Shipment, StationWrite } from '../domain.js';

/** Audit event of a shipment that left without a label printed here (docs/shipment-flow.md). */
export const SHIPPED_UNLABELLED_EVENT = EVENT.shippedUnlabelled;

export interface ShipUnlabelledRequest {
  /** Who authorised it (password already checked). */
  supervisor: string;
  /** The client's id for this request: the same id again changes nothing. */
  requestId: string;
  note?: string;
}

export interface ShipUnlabelledInput {
  shipmentId: string;
  shipment: Shipment | null;
  /** The shipment's print jobs, oldest first. */
  jobs: readonly PrintJob[];
  /** The shipment's events (where an earlier request is recorded). */
  events: readonly EventRecord[];
  order: Order | null;
  /** Jobs of the shipment's station still waiting for their print result. */
  pending: Readonly<Record<string, PrintJob>>;
  checkpoints: readonly Checkpoint[];
  shipmentsForOrder: readonly Shipment[];
  at: number;
  request: ShipUnlabelledRequest;
}

export type ShipUnlabelledPlan =
  | { kind: 'duplicate' }
  | { kind: 'ship'; shipment: Shipment; writes: StationWrite[] }
  | { kind: 'refused'; code: ErrorCode; details: ErrorDetails };

export function planShipUnlabelled(input: ShipUnlabelledInput): ShipUnlabelledPlan {
  const { shipment: s, request } = input;
  if (s === null) return refuse('PKL_SHIPMENT_NOT_FOUND', { shipmentId: input.shipmentId });
  for (const e of input.events) {
    const d = e.data as { request_id?: unknown } | null;
    if (e.type === SHIPPED_UNLABELLED_EVENT && d?.request_id === request.requestId) return { kind: 'duplicate' };
  }
  const wrongState = refuse('PKL_SHIPMENT_STATE', { shipmentId: s.shipmentId, state: s.reasonCode ?? s.state, action: 'ship without label' });
  const last = input.jobs.at(-1) ?? null;
  // The label must have failed: a shipment still weighing has no waybill checked yet, and one
  // whose label printed ships by itself.
  const labelFailed = last !== null && last.state === 'failed' && !input.jobs.some((j) => j.state === 'printed');
  if (s.waybill === null || !labelFailed) return wrongState;
  const abandonedWeighed = s.state === 'abandoned' && s.actualGrams !== null;
  if (s.state !== 'labelling' && !abandonedWeighed) return wrongState;
  const out = Object.values(input.pending).find((j) => j.shipmentId === s.shipmentId);
  if (out !== undefined) return refuse('PKL_PRINT_PENDING', { shipmentId: s.shipmentId, jobId: out.jobId });
  const order = input.order;
  if (order === null) return refuse('PKL_ORDER_NOT_FOUND', { barcode: s.orderId });
  const icpt = interceptAt({ enabled: input.checkpoints, shipmentsForOrder: () => input.shipmentsForOrder }, order, LABEL_GATE, s.shipmentId);
  if (icpt !== null) return refuse(icpt.code, { orderId: order.orderId });

  const shipment: Shipment = { ...s, state: 'shipped', reasonCode: null, shippedAt: input.at, updatedAt: input.at };
  const audit: Record<string, string> = {
    supervisor: request.supervisor,
    request_id: request.requestId,
    waybill: s.waybill,
    failed_job_id: last.jobId,
  };
  if (request.note !== undefined && request.note !== '') audit.note = request.note;
  const shipped: Record<string, string | number | boolean> = { order_id: s.orderId, waybill: s.waybill, unlabelled: true };
  if (s.carrier !== null) shipped.carrier = s.carrier;
  if (s.actualGrams !== null) shipped.grams = s.actualGrams;
  const subject = `shipment:${s.shipmentId}`;
  return {
    kind: 'ship',
    shipment,
    writes: [
      { op: 'shipment.put', shipment },
      { op: 'event', type: EVENT.shipped, subject, data: shipped },
      { op: 'event', type: SHIPPED_UNLABELLED_EVENT, subject, data: audit },
    ],
  };
}

function refuse(code: ErrorCode, details: ErrorDetails): ShipUnlabelledPlan {
  return { kind: 'refused', code, details };
}
