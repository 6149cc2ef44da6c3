/**
 * What a printer's "failed" answer means for the label (docs/printing.md "Job ledger", failover):
 * whether the printer says the label certainly did NOT come out — then it may go to another
 * printer of the channel at once — or whether it may have come out — then only a supervisor,
 * who can look at the printer, may print it again (reprint guard).
 *
 * Why the split: the top complaint at peak is a label printed twice after a retry. A driver
 * answers `paper_out` / `head_open` / `offline`… after a status check BEFORE it sent the job
 * (device-drivers/src/printer/raw-tcp-driver.ts, ipp/ipp-driver.ts), or after cancelling what
 * was left in the printer (ZPL `~JA`); those certify "not printed". `connection_lost`,
 * `status_timeout`, `job_timeout`, `interrupted` and an IPP job `aborted` can happen after the
 * bytes reached the printer: the label may be on the table already. Unknown reasons count as
 * "may have printed" (the safe side).
 */
import { JOB_FAILURES, PRINTER_FAULTS } from '../../../../device-drivers/src/printer/types.js';

/** Reasons that say the label was never printed (the printer refused it or never got it). */
const NOT_PRINTED: ReadonlySet<string> = new Set<string>([
  ...PRINTER_FAULTS,
  // IPP printer-state (ipp-driver.ts): not accepting jobs, checked before Print-Job.
  'not_accepting_jobs',
  // No connection when the job arrived: nothing was sent (both drivers).
  'offline',
  // A ZPL job for a TSPL printer (or the other way round) is refused before sending.
  'format_unsupported',
  // IPP job-state canceled (RFC 8011 §5.3.7): the job was cancelled, nothing printed.
  'canceled',
  'cancelled',
  // The MQTT-native printer simulator's words.
  'media_empty',
]);

/** Ledger vocabulary: snake_case (`paper out`, `Paper-Out` → `paper_out`). */
export function normalizeCause(reason: string | null | undefined): string {
  if (reason === null || reason === undefined || reason.trim() === '') return 'unknown';
  // Coded refusals (`PKL_PAYLOAD_INVALID: …`) keep their code as the cause.
  const coded = /^(PKL_[A-Z0-9_]+)/.exec(reason);
  if (coded) return coded[1] as string;
  return reason
    .trim()
    .toLowerCase()
    .replace(/[\s-]+/g, '_')
    .slice(0, 64);
}

export interface FailureMeaning {
  /** The cause as the ledger and the print-exception list show it. */
  cause: string;
  /** True when the label certainly did not come out: failing over cannot print it twice. */
  notPrinted: boolean;
}

export function printFailureMeaning(reason: string | null | undefined): FailureMeaning {
  const cause = normalizeCause(reason);
  // A command refused by validation (PKL_PAYLOAD_INVALID…) or an IPP Print-Job refused with a
  // status (ipp_status_0x040b…) never reached the print engine.
  const refused = cause.startsWith('PKL_') || cause.startsWith('ipp_status_');
  return { cause, notPrinted: refused || NOT_PRINTED.has(cause) };
}

/** The reasons that may mean the label printed (kept for docs and tests). */
export const MAY_HAVE_PRINTED: readonly string[] = JOB_FAILURES.filter((r) => !NOT_PRINTED.has(r));
