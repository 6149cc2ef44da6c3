/**
 * Test print (only with `--test-print`): a test page on every printer, through the same
 * path as POST /api/v1/printers/:id/test-page. "Sent" means the broker took the job for an
 * online printer; whether paper came out is for the person holding it to see.
 */
import type { CheckResult } from '../report.js';

export type TestPrintOutcome = { printerId: string; ok: true; jobId: string } | { printerId: string; ok: false; code: string; message: string };

export function checkTestPrint(outcomes: TestPrintOutcome[]): CheckResult {
  const title = 'Test print';
  const failed = outcomes.filter((o): o is Extract<TestPrintOutcome, { ok: false }> => !o.ok);
  const data = { outcomes };
  if (outcomes.length === 0) return { id: 'test-print', title, status: 'warn', detail: 'no printers configured', data };
  if (failed.length > 0)
    return { id: 'test-print', title, status: 'fail', detail: failed.map((f) => `${f.printerId}: ${f.code} ${f.message}`).join('\n'), data };
  return {
    id: 'test-print',
    title,
    status: 'pass',
    detail: `test page sent to ${outcomes.map((o) => `${o.printerId} (${o.ok ? o.jobId : ''})`).join(', ')}: check each one printed`,
    data,
  };
}
