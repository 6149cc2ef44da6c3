/**
 * The preflight report (`packline preflight`, GET /api/v1/preflight): one result per check,
 * and the report's status is the worst of them. Exit codes of the CLI follow the status so a
 * script or a deploy pipeline can gate on it: 0 pass, 1 warn, 2 fail.
 */

export type CheckStatus = 'pass' | 'warn' | 'fail';

export interface CheckResult {
  /** Stable id (`devices`, `printer-media`, …): scripts key on it, the text never. */
  id: string;
  title: string;
  status: CheckStatus;
  /** One or a few lines for the person at the gateway: what is wrong and what to do. */
  detail: string;
  /** The figures behind the verdict (JSON output and the preflight page). */
  data?: Record<string, unknown>;
}

export interface PreflightReport {
  status: CheckStatus;
  /** Epoch ms. */
  generatedAt: number;
  checks: CheckResult[];
}

const RANK: Record<CheckStatus, number> = { pass: 0, warn: 1, fail: 2 };

export function worst(statuses: Iterable<CheckStatus>): CheckStatus {
  let w: CheckStatus = 'pass';
  for (const s of statuses) if (RANK[s] > RANK[w]) w = s;
  return w;
}

export function buildReport(checks: CheckResult[], generatedAt: number): PreflightReport {
  return { status: worst(checks.map((c) => c.status)), generatedAt, checks };
}

/** `packline preflight` exit code: 0 pass, 1 warn, 2 fail (docs/operations.md). */
export function exitCodeOf(status: CheckStatus): 0 | 1 | 2 {
  return RANK[status] as 0 | 1 | 2;
}

/** The checklist as text: one line per check, its detail indented under it. */
export function formatReport(report: PreflightReport): string {
  const lines = [`Packline preflight ${new Date(report.generatedAt).toISOString()}`, ''];
  for (const c of report.checks) {
    lines.push(`[${c.status.toUpperCase().padEnd(4)}] ${c.title}`);
    for (const l of c.detail.split('\n')) if (l.trim() !== '') lines.push(`       ${l}`);
  }
  const counts = (s: CheckStatus) => report.checks.filter((c) => c.status === s).length;
  lines.push('', `Result: ${report.status.toUpperCase()} (${counts('pass')} pass, ${counts('warn')} warn, ${counts('fail')} fail)`);
  return `${lines.join('\n')}\n`;
}

/** Readable duration for details: `45 s`, `12 min`, `3.5 h`, `12 days`. */
export function humanDuration(ms: number): string {
  const s = Math.abs(ms) / 1000;
  if (s < 90) return `${Math.round(s)} s`;
  if (s < 90 * 60) return `${Math.round(s / 60)} min`;
  if (s < 48 * 3600) return `${Math.round((s / 3600) * 10) / 10} h`;
  return `${Math.round(s / 86400)} days`;
}
