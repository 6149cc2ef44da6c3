/**
 * Which print jobs were already sent to the printer, and how they ended. The gateway re-issues
 * unanswered jobs with the SAME job_id after a restart (gateway/src/station/apply/station-runtime.ts);
 * the driver answers those from here instead of printing a second label.
 *
 * Only jobs whose bytes went (at least partly) onto the wire are remembered: a job refused
 * before sending (paper out, offline) may be sent when re-issued. Bounded (oldest forgotten
 * first). With a `journalPath` the memory survives a driver restart: one JSON line per change,
 * appended synchronously before the bytes are sent, so a crash mid-job leaves a `sent` record
 * that is answered as failed/`interrupted` rather than printed twice.
 */
import { appendFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

export type JobOutcome = { readonly status: 'sent' } | { readonly status: 'printed' } | { readonly status: 'failed'; readonly reason: string };

interface JournalLine {
  readonly job_id: string;
  readonly status: JobOutcome['status'];
  readonly reason?: string;
}

export class JobMemory {
  readonly #limit: number;
  readonly #path: string | undefined;
  readonly #jobs = new Map<string, JobOutcome>();
  #linesWritten = 0;

  constructor(limit = 1000, journalPath?: string) {
    if (!Number.isInteger(limit) || limit < 1) throw new RangeError('job memory limit must be an integer >= 1');
    this.#limit = limit;
    this.#path = journalPath;
  }

  get size(): number {
    return this.#jobs.size;
  }

  /** Loads the journal (if any) and rewrites it compacted. A `sent` left by a crash becomes failed/interrupted. */
  load(): void {
    if (this.#path === undefined) return;
    let text = '';
    try {
      text = readFileSync(this.#path, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
    for (const line of text.split('\n')) {
      if (line.trim() === '') continue;
      let rec: Partial<JournalLine>;
      try {
        rec = JSON.parse(line) as Partial<JournalLine>;
      } catch {
        continue; // a torn last line after a power cut
      }
      if (typeof rec.job_id !== 'string') continue;
      if (rec.status === 'printed' || rec.status === 'sent') this.#put(rec.job_id, { status: rec.status });
      else if (rec.status === 'failed') this.#put(rec.job_id, { status: 'failed', reason: String(rec.reason ?? 'printer_error') });
    }
    for (const [id, o] of this.#jobs) if (o.status === 'sent') this.#jobs.set(id, { status: 'failed', reason: 'interrupted' });
    mkdirSync(dirname(this.#path), { recursive: true });
    writeFileSync(this.#path, [...this.#jobs].map(([id, o]) => `${JSON.stringify(toLine(id, o))}\n`).join(''));
    this.#linesWritten = this.#jobs.size;
  }

  get(jobId: string): JobOutcome | undefined {
    return this.#jobs.get(jobId);
  }

  record(jobId: string, outcome: JobOutcome): void {
    this.#put(jobId, outcome);
    if (this.#path === undefined) return;
    appendFileSync(this.#path, `${JSON.stringify(toLine(jobId, outcome))}\n`);
    // Keep the file near the memory's size: compact when it holds 4× the limit.
    if (++this.#linesWritten > this.#limit * 4) {
      writeFileSync(this.#path, [...this.#jobs].map(([id, o]) => `${JSON.stringify(toLine(id, o))}\n`).join(''));
      this.#linesWritten = this.#jobs.size;
    }
  }

  #put(jobId: string, outcome: JobOutcome): void {
    this.#jobs.delete(jobId); // re-insert: Map order is the age order
    this.#jobs.set(jobId, outcome);
    while (this.#jobs.size > this.#limit) {
      const oldest = this.#jobs.keys().next().value as string;
      this.#jobs.delete(oldest);
    }
  }
}

function toLine(job_id: string, o: JobOutcome): JournalLine {
  return o.status === 'failed' ? { job_id, status: o.status, reason: o.reason } : { job_id, status: o.status };
}
