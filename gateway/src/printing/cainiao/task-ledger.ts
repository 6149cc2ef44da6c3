/**
 * The print-component tasks this gateway has seen, and the printer job of each document:
 * what makes a re-sent task print nothing twice. Pure (no I/O, no clock reads).
 *
 * A document's job id is derived from taskID + documentID ({@link jobIdFor}), so the same
 * document of the same task is always the same job. Re-sending a task (an ERP page retrying
 * after a timeout, a double click) dispatches only the documents that are new or whose last
 * attempt failed (a failed job did not print: paper out, printer refused it); a document that
 * is in flight or printed is never sent again, its outcome is reported instead. A retry after a
 * failure is a new attempt with its own job id (`…-2`, `…-3`), so a late answer to the old
 * attempt cannot be mistaken for the new one.
 *
 * Bounded: at most `maxTasks` tasks; beyond that the oldest finished task is forgotten first
 * (the oldest task at all if none is finished). Forgotten or not, it lives in memory only: after
 * a gateway restart a re-sent task prints again (see docs/printing-cainiao.md).
 */
import { createHash } from 'node:crypto';
import type { ErrorCode, ErrorDetails } from '../../../../contracts/errors.js';
import type { DocumentOutcome, TaskOutcome, TaskStatus } from './protocol.js';

export type DocState = 'sent' | 'printed' | 'failed';

export interface DocRecord {
  readonly documentID: string;
  /** The current attempt's job id. */
  jobId: string;
  attempt: number;
  state: DocState;
  code: ErrorCode | null;
  details: ErrorDetails;
  reason: string | null;
}

export interface TaskRecord<L> {
  readonly taskID: string;
  /** The printer (device id) the task's documents go to; fixed by the first sending. */
  readonly printer: string;
  readonly docs: Map<string, DocRecord>;
  /** Who wants this task's notifications (connections), with the requestID to answer with. */
  readonly listeners: Map<L, string | number>;
  /** Whether the final notification for the current attempts was sent. */
  finalNotified: boolean;
}

export interface Admission<L> {
  task: TaskRecord<L>;
  /** Documents to render and send now (new, or retried after a failure). */
  dispatch: DocRecord[];
  /** True when the task existed before this sending. */
  resent: boolean;
}

/**
 * `cn-` + 32 hex digits of SHA-256(taskID, documentID): fits the 64-character job_id of the print
 * contract (contracts/payloads.ts PrintResultEvent), is the same for the same document of the same
 * task, and cannot be confused with the station runtime's job ids. Attempts after the first append `-n`.
 */
export function jobIdFor(taskID: string, documentID: string, attempt = 1): string {
  // Length-prefixed so that ("ab","c") and ("a","bc") differ.
  const h = createHash('sha256').update(`${taskID.length}:${taskID}\n${documentID}`).digest('hex').slice(0, 32);
  return attempt === 1 ? `cn-${h}` : `cn-${h}-${attempt}`;
}

export class TaskLedger<L> {
  private readonly tasks = new Map<string, TaskRecord<L>>();
  private readonly byJob = new Map<string, { task: TaskRecord<L>; doc: DocRecord }>();

  constructor(private readonly maxTasks: number) {
    if (!(maxTasks >= 1)) throw new RangeError('maxTasks must be at least 1');
  }

  get size(): number {
    return this.tasks.size;
  }

  get(taskID: string): TaskRecord<L> | undefined {
    return this.tasks.get(taskID);
  }

  /** The documents {@link admit} would dispatch now (new, or last attempt failed); records nothing. */
  wouldDispatch(taskID: string, documentIDs: readonly string[]): string[] {
    const task = this.tasks.get(taskID);
    return documentIDs.filter((id) => {
      const doc = task?.docs.get(id);
      return doc === undefined || doc.state === 'failed';
    });
  }

  /**
   * Records a sending of task `taskID` with these documents on `printer` (ignored when the task
   * is known: its first printer keeps it) and says which documents to dispatch.
   */
  admit(taskID: string, printer: string, documentIDs: readonly string[], listener: L, requestID: string | number): Admission<L> {
    let task = this.tasks.get(taskID);
    const resent = task !== undefined;
    if (task === undefined) {
      task = { taskID, printer, docs: new Map(), listeners: new Map(), finalNotified: false };
      this.tasks.set(taskID, task);
    }
    task.listeners.set(listener, requestID);
    const dispatch: DocRecord[] = [];
    for (const documentID of documentIDs) {
      const doc = task.docs.get(documentID);
      if (doc === undefined) {
        const fresh: DocRecord = { documentID, jobId: jobIdFor(taskID, documentID), attempt: 1, state: 'sent', code: null, details: {}, reason: null };
        task.docs.set(documentID, fresh);
        this.byJob.set(fresh.jobId, { task, doc: fresh });
        dispatch.push(fresh);
      } else if (doc.state === 'failed') {
        this.byJob.delete(doc.jobId);
        doc.attempt += 1;
        doc.jobId = jobIdFor(taskID, documentID, doc.attempt);
        doc.state = 'sent';
        doc.code = null;
        doc.details = {};
        doc.reason = null;
        this.byJob.set(doc.jobId, { task, doc });
        dispatch.push(doc);
      }
    }
    if (dispatch.length > 0) task.finalNotified = false;
    if (!resent) this.evict(task);
    return { task, dispatch, resent };
  }

  /** Marks a document failed without a printer answer (render error, printer unreachable). */
  fail(doc: DocRecord, code: ErrorCode, details: ErrorDetails, reason: string | null = null): void {
    if (doc.state !== 'sent') return;
    doc.state = 'failed';
    doc.code = code;
    doc.details = details;
    doc.reason = reason;
    this.byJob.delete(doc.jobId);
  }

  /**
   * A printer answered `jobId`. Returns the task when this changed a document (so its listeners
   * may be told), null for a job this ledger does not know, already answered, or answered by a
   * device that is not the task's printer (only the printer a job went to can report on it).
   */
  settle(jobId: string, deviceId: string, status: 'printed' | 'failed', reason: string | null): TaskRecord<L> | null {
    const hit = this.byJob.get(jobId);
    if (hit === undefined || hit.task.printer !== deviceId || hit.doc.state !== 'sent') return null;
    this.byJob.delete(jobId);
    const { task, doc } = hit;
    if (status === 'printed') {
      doc.state = 'printed';
    } else {
      const why = reason ?? 'unknown';
      doc.state = 'failed';
      doc.code = 'PKL_PRINT_FAILED';
      doc.details = { deviceId, reason: why };
      doc.reason = why;
    }
    return task;
  }

  /** Stops notifying `listener` (its connection closed); the tasks stay for getTaskStatus. */
  removeListener(listener: L): void {
    for (const t of this.tasks.values()) t.listeners.delete(listener);
  }

  /** Forgets everything (endpoint stop). */
  clear(): void {
    this.tasks.clear();
    this.byJob.clear();
  }

  /** Forgets tasks beyond the bound, never `keep` (the task just admitted). */
  private evict(keep: TaskRecord<L>): void {
    while (this.tasks.size > this.maxTasks) {
      let victim: TaskRecord<L> | undefined;
      let oldest: TaskRecord<L> | undefined;
      for (const t of this.tasks.values()) {
        if (t === keep) continue;
        oldest ??= t;
        if (isFinished(t)) {
          victim = t;
          break;
        }
      }
      victim ??= oldest;
      if (victim === undefined) return;
      this.tasks.delete(victim.taskID);
      for (const d of victim.docs.values()) this.byJob.delete(d.jobId);
    }
  }
}

export function isFinished(t: TaskRecord<unknown>): boolean {
  for (const d of t.docs.values()) if (d.state === 'sent') return false;
  return true;
}

/** `printed` when every document printed, `failed` when all answered and one failed, else `rendered` (sent, awaiting the printer). */
export function taskStatusOf(t: TaskRecord<unknown>): TaskStatus {
  if (!isFinished(t)) return 'rendered';
  for (const d of t.docs.values()) if (d.state === 'failed') return 'failed';
  return 'printed';
}

function documentOutcome(d: DocRecord, sentAs: DocumentOutcome['status']): DocumentOutcome {
  const status = d.state === 'printed' ? 'success' : d.state === 'failed' ? 'failed' : sentAs;
  return { documentID: d.documentID, status, code: d.code, details: d.details, reason: d.reason };
}

/** The task as notifyPrintResult and getTaskStatus report it; unanswered documents are `pending`. */
export function outcomeOf(t: TaskRecord<unknown>): TaskOutcome {
  return { taskID: t.taskID, printer: t.printer, taskStatus: taskStatusOf(t), documents: [...t.docs.values()].map((d) => documentOutcome(d, 'pending')) };
}

/**
 * The "rendered" notification of a sending ([EC] notifyType "render"): the documents just
 * rendered and handed to the printer, each `success` (rendering succeeded).
 */
export function renderedOutcomeOf(t: TaskRecord<unknown>, rendered: readonly DocRecord[]): TaskOutcome {
  return { taskID: t.taskID, printer: t.printer, taskStatus: 'rendered', documents: rendered.map((d) => documentOutcome(d, 'success')) };
}
