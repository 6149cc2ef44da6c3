/**
 * Pre-pack jobs (货品预包): N units of one composition packed ahead of the orders, each with its
 * own barcode label (`{jobId}-{n}`, n = 1…N). At ship time a unit's barcode stands for its
 * composition: post-print picks the next order of it (batch-scan.ts) and the unit is used.
 */
import { compositionBarcodes } from '../station/decide/composition.js';

export interface PrepackJob {
  jobId: string;
  /** Composition key (station/decide/composition.ts) the units hold. */
  composition: string;
  units: number;
  createdAt: number;
}

/** The barcode printed on unit `n` (1-based) of a job. */
export function prepackBarcode(jobId: string, n: number): string {
  return `${jobId}-${n}`;
}

/** The job id and unit number a barcode names, or null when it names none of this job's units. */
export function parsePrepackBarcode(code: string, job: Pick<PrepackJob, 'jobId' | 'units'>): number | null {
  if (!code.startsWith(`${job.jobId}-`)) return null;
  const rest = code.slice(job.jobId.length + 1);
  if (!/^[1-9][0-9]{0,5}$/.test(rest)) return null;
  const n = Number(rest);
  return n <= job.units ? n : null;
}

/** Whether a composition key is well formed (non-empty `barcode*qty` parts). */
export function validComposition(key: string): boolean {
  return key.length > 0 && key.length <= 512 && key.split('+').every((p) => /^[^*+\s]+\*[1-9][0-9]{0,3}$/.test(p)) && compositionBarcodes(key).length > 0;
}
