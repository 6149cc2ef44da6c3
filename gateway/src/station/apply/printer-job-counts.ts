import type { StationState } from '../types.js';

type Jobs = StationState['pendingJobs'];

/**
 * Unanswered label jobs per printer over every station, kept in step as each station's state
 * is replaced (station-runtime.ts makes `state` an accessor that reports every replacement).
 * The print router asks for every printer of a channel at every label it routes; counting
 * over every station's jobs per question was N printers × stations per label (3–4 % of the
 * main thread at 100 shipments/s with 168 stations). A committed state's `pendingJobs` is
 * never changed in place (a step works on its own copy, decide/step.ts), so the difference
 * between the object replaced and its replacement is the whole change.
 */
export class PrinterJobCounts {
  private readonly counts = new Map<string, number>();

  /** A station's jobs went from `before` to `after` (null: the station came or went). */
  replace(before: Jobs | null, after: Jobs | null): void {
    if (before === after) return;
    if (before !== null) for (const id in before) this.add(before[id]!.printerId, -1);
    if (after !== null) for (const id in after) this.add(after[id]!.printerId, 1);
  }

  /** Unanswered jobs on this printer. */
  of(printerId: string): number {
    return this.counts.get(printerId) ?? 0;
  }

  private add(printerId: string, n: number): void {
    const next = (this.counts.get(printerId) ?? 0) + n;
    if (next === 0) this.counts.delete(printerId);
    else this.counts.set(printerId, next);
  }
}
