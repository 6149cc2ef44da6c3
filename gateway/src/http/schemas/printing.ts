/** Printing on the HTTP wire: the print-exception list and the guarded reprint. */
import { Type } from '@sinclair/typebox';
import type { PrintException } from '../../storage/types.js';
import { Id, Nullable } from './common.js';
import { ShipmentWire, shipmentToWire } from './shipments.js';

export const DEFAULT_EXCEPTION_PAGE = 100;
export const MAX_EXCEPTION_PAGE = 1000;

export const PrintExceptionQuery = Type.Object(
  {
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: MAX_EXCEPTION_PAGE, default: DEFAULT_EXCEPTION_PAGE })),
  },
  { additionalProperties: false },
);

const PrintJobWire = Type.Object({
  job_id: Type.String(),
  printer_id: Type.String(),
  format: Type.Union([Type.Literal('zpl'), Type.Literal('tspl')]),
  state: Type.String({ description: 'queued, sent, printing, printed, failed or cancelled' }),
  reason: Nullable(Type.String({ description: "the printer's reason for a failure" })),
  created_at: Type.Integer(),
  updated_at: Type.Integer(),
});

export const PrintExceptionWire = Type.Object({
  shipment: ShipmentWire,
  /** The failed job, without its label data. */
  job: Nullable(PrintJobWire),
  printer_id: Nullable(Type.String({ description: 'printer of the failed job' })),
  cause: Nullable(Type.String({ description: 'why it failed, as the printer or driver reported it' })),
  failed_at: Type.Integer({ description: 'when the job failed (epoch ms)' }),
});

export const PrintExceptionList = Type.Object({
  exceptions: Type.Array(PrintExceptionWire, { description: 'newest failure first' }),
});

export const ReprintBody = Type.Object(
  {
    supervisor: Type.String({ minLength: 1, maxLength: 64, description: 'supervisor name (packline supervisor add); audited' }),
    password: Type.String({ minLength: 1, maxLength: 256, description: "the supervisor's password; never stored or logged" }),
    request_id: { ...Id, description: 'client id of this request: the same id again never prints twice' },
    note: Type.Optional(Type.String({ maxLength: 200, description: 'why, for the audit trail' })),
  },
  { additionalProperties: false },
);

export const ReprintReply = Type.Object({
  job_id: Type.String({ description: 'the reprint job (the first one for a repeated request id)' }),
  duplicate: Type.Boolean({ description: 'true when the request id was seen before and nothing printed' }),
});

export const ShipUnlabelledBody = Type.Object(
  {
    supervisor: Type.String({ minLength: 1, maxLength: 64, description: 'supervisor name (packline supervisor add); audited' }),
    password: Type.String({ minLength: 1, maxLength: 256, description: "the supervisor's password; never stored or logged" }),
    request_id: { ...Id, description: 'client id of this request: the same id again changes nothing' },
    note: Type.Optional(Type.String({ maxLength: 200, description: 'why, e.g. "waybill handwritten, printer 2 down"' })),
  },
  { additionalProperties: false },
);

export const ShipUnlabelledReply = Type.Object({
  shipment_id: Type.String(),
  duplicate: Type.Boolean({ description: 'true when the request id was seen before and nothing changed' }),
});

export function printExceptionToWire(e: PrintException) {
  const j = e.job;
  return {
    shipment: shipmentToWire(e.shipment),
    job:
      j === null
        ? null
        : {
            job_id: j.jobId,
            printer_id: j.printerId,
            format: j.format,
            state: j.state,
            reason: j.reason,
            created_at: j.createdAt,
            updated_at: j.updatedAt,
          },
    printer_id: j?.printerId ?? null,
    cause: j?.reason ?? null,
    failed_at: j?.updatedAt ?? e.shipment.updatedAt,
  };
}
