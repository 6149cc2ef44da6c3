import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isFinished, jobIdFor, outcomeOf, renderedOutcomeOf, TaskLedger, taskStatusOf } from './task-ledger.js';
import { TokenBucket } from '../../lib/token-bucket.js';

describe('job ids', () => {
  it('are the same for the same task and document, and fit the 64-character job_id', () => {
    expect(jobIdFor('T1', 'D1')).toBe(jobIdFor('T1', 'D1'));
    expect(jobIdFor('T1', 'D1')).toMatch(/^cn-[0-9a-f]{32}$/);
    expect(jobIdFor('T1', 'D1', 2)).toBe(`${jobIdFor('T1', 'D1')}-2`);
    expect(jobIdFor('x'.repeat(128), 'y'.repeat(128), 99).length).toBeLessThanOrEqual(64);
  });

  it('differ whenever task or document differ (no concatenation ambiguity)', () => {
    expect(jobIdFor('ab', 'c')).not.toBe(jobIdFor('a', 'bc'));
    fc.assert(
      fc.property(fc.string(), fc.string(), fc.string(), fc.string(), (t1, d1, t2, d2) => {
        fc.pre(t1 !== t2 || d1 !== d2);
        expect(jobIdFor(t1, d1)).not.toBe(jobIdFor(t2, d2));
      }),
    );
  });
});

describe('task ledger', () => {
  it('dispatches each document once; a re-sent task dispatches nothing', () => {
    const l = new TaskLedger<string>(10);
    const first = l.admit('T', 'p1', ['A', 'B'], 'page-1', 'r1');
    expect(first.resent).toBe(false);
    expect(first.dispatch.map((d) => d.documentID)).toEqual(['A', 'B']);
    const again = l.admit('T', 'p1', ['A', 'B'], 'page-2', 'r2');
    expect(again.resent).toBe(true);
    expect(again.dispatch).toEqual([]);
    expect([...again.task.listeners]).toEqual([
      ['page-1', 'r1'],
      ['page-2', 'r2'],
    ]);
  });

  it('keeps the first printer of a task', () => {
    const l = new TaskLedger<string>(10);
    l.admit('T', 'p1', ['A'], 'c', 'r');
    expect(l.admit('T', 'p2', ['B'], 'c', 'r').task.printer).toBe('p1');
  });

  it('dispatches only the new documents of a re-sent task', () => {
    const l = new TaskLedger<string>(10);
    l.admit('T', 'p1', ['A'], 'c', 'r');
    expect(l.wouldDispatch('T', ['A', 'B'])).toEqual(['B']);
    expect(l.admit('T', 'p1', ['A', 'B'], 'c', 'r').dispatch.map((d) => d.documentID)).toEqual(['B']);
  });

  it('settles a job from its own printer only, and only once', () => {
    const l = new TaskLedger<string>(10);
    const { dispatch } = l.admit('T', 'p1', ['A'], 'c', 'r');
    const jobId = dispatch[0]?.jobId ?? '';
    expect(l.settle(jobId, 'p2', 'printed', null)).toBeNull();
    expect(l.settle('cn-unknown', 'p1', 'printed', null)).toBeNull();
    const t = l.settle(jobId, 'p1', 'printed', null);
    expect(t?.taskID).toBe('T');
    expect(l.settle(jobId, 'p1', 'failed', 'late')).toBeNull();
    expect(taskStatusOf(t!)).toBe('printed');
  });

  it('retries a failed document as a new attempt with its own job id; the old id is dead', () => {
    const l = new TaskLedger<string>(10);
    const first = l.admit('T', 'p1', ['A'], 'c', 'r').dispatch[0]!;
    const oldJob = first.jobId;
    l.settle(oldJob, 'p1', 'failed', 'paper out');
    const t = l.get('T')!;
    expect(taskStatusOf(t)).toBe('failed');
    expect(outcomeOf(t).documents[0]).toMatchObject({ status: 'failed', code: 'PKL_PRINT_FAILED', reason: 'paper out' });
    const retry = l.admit('T', 'p1', ['A'], 'c', 'r2').dispatch;
    expect(retry.map((d) => [d.jobId, d.attempt])).toEqual([[`${oldJob}-2`, 2]]);
    expect(l.settle(oldJob, 'p1', 'printed', null)).toBeNull();
    expect(l.settle(`${oldJob}-2`, 'p1', 'printed', null)).not.toBeNull();
    expect(taskStatusOf(t)).toBe('printed');
  });

  it('reports a task as rendered while documents are out, failed if any failed once all answered', () => {
    const l = new TaskLedger<string>(10);
    const [a, b] = l.admit('T', 'p1', ['A', 'B'], 'c', 'r').dispatch;
    const t = l.get('T')!;
    expect(taskStatusOf(t)).toBe('rendered');
    expect(renderedOutcomeOf(t, [a!, b!]).documents.map((d) => d.status)).toEqual(['success', 'success']);
    expect(outcomeOf(t).documents.map((d) => d.status)).toEqual(['pending', 'pending']);
    l.fail(a!, 'PKL_PRINT_ENCRYPTED_DOCUMENT', { documentID: 'A' });
    expect(isFinished(t)).toBe(false);
    l.settle(b!.jobId, 'p1', 'printed', null);
    expect(taskStatusOf(t)).toBe('failed');
  });

  it('is bounded: forgets the oldest finished task first', () => {
    const l = new TaskLedger<string>(2);
    const t1 = l.admit('T1', 'p', ['A'], 'c', 'r').dispatch[0]!; // stays in flight
    const t2 = l.admit('T2', 'p', ['A'], 'c', 'r').dispatch[0]!;
    l.settle(t2.jobId, 'p', 'printed', null);
    l.admit('T3', 'p', ['A'], 'c', 'r');
    expect(l.size).toBe(2);
    expect(l.get('T2')).toBeUndefined();
    expect(l.get('T1')).toBeDefined();
    // With nothing finished, the oldest goes, and its job is no longer routed.
    l.admit('T4', 'p', ['A'], 'c', 'r');
    expect(l.get('T1')).toBeUndefined();
    expect(l.settle(t1.jobId, 'p', 'printed', null)).toBeNull();
  });

  it('drops a closed connection from every task', () => {
    const l = new TaskLedger<string>(10);
    l.admit('T1', 'p', ['A'], 'c1', 'r');
    l.admit('T1', 'p', ['A'], 'c2', 'r');
    l.removeListener('c1');
    expect([...l.get('T1')!.listeners.keys()]).toEqual(['c2']);
  });
});

describe('token bucket', () => {
  it('allows a burst, then the rate', () => {
    const b = new TokenBucket(2, 3, 0);
    expect([b.take(0), b.take(0), b.take(0), b.take(0)]).toEqual([true, true, true, false]);
    expect(b.take(499)).toBe(false);
    expect(b.take(500)).toBe(true);
    expect(b.take(10_000)).toBe(true);
    expect([b.take(10_000), b.take(10_000), b.take(10_000)]).toEqual([true, true, false]);
  });

  it('does not mint tokens when the clock goes backwards', () => {
    const b = new TokenBucket(1, 1, 1000);
    expect(b.take(1000)).toBe(true);
    expect(b.take(0)).toBe(false);
    expect(b.take(1000)).toBe(false);
    expect(b.take(2000)).toBe(true);
  });
});
