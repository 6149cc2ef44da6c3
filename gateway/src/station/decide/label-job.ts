/**
 * The one place a label's print job and its print command are built: the label gate, a
 * template failure, a failover, a reprint and the re-issue after a restart all use these, so
 * the ledger row and the command the printer gets can never disagree.
 */
import type { PrintJob } from '../domain.js';
import type { Command } from '../types.js';

export interface LabelJobSpec {
  jobId: string;
  shipmentId: string | null;
  printerId: string;
  format: PrintJob['format'];
  data: string;
  at: number;
  /** A job that never went out (the template failed) is born failed with its cause. */
  failed?: string;
}

export function labelJob(spec: LabelJobSpec): PrintJob {
  return {
    jobId: spec.jobId,
    shipmentId: spec.shipmentId,
    printerId: spec.printerId,
    format: spec.format,
    data: spec.data,
    state: spec.failed === undefined ? 'queued' : 'failed',
    reason: spec.failed ?? null,
    createdAt: spec.at,
    updatedAt: spec.at,
  };
}

export type PrintCommandOut = Extract<Command, { kind: 'print' }>;

/** The command that sends a job (again): the same job id, so printers print it once. */
export function printCommand(job: PrintJob): PrintCommandOut {
  return {
    kind: 'print',
    deviceId: job.printerId,
    payload: { job_id: job.jobId, shipment_id: job.shipmentId ?? undefined, format: job.format, data: job.data, copies: 1 },
  };
}
