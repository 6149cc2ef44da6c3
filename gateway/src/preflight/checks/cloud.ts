/**
 * Cloud reachable and its latency: a signed request (the cursor read of the sync protocol),
 * so it proves the URL, the TLS chain, the key and the clock together, not just a route.
 * Not configured is a warning: the site ships, but nothing leaves the log.
 */
import type { CheckResult } from '../report.js';

export interface CloudInput {
  enabled: boolean;
  url: string | null;
  transport: string | null;
  /** The signed ping, when sync is configured. */
  ping: { ok: true; latencyMs: number; ackedSeq: number } | { ok: false; latencyMs: number; error: string; answered: boolean } | null;
  link: { state: string; backlog: number; failed: number };
}

export function checkCloud(c: CloudInput, warnMs: number): CheckResult {
  const title = 'Cloud reachable';
  const data: Record<string, unknown> = { url: c.url, transport: c.transport, link: c.link, ping: c.ping, warnMs };
  const backlog = `link ${c.link.state}, backlog ${c.link.backlog} event(s)${c.link.failed > 0 ? `, ${c.link.failed} sync failed` : ''}`;
  if (!c.enabled || c.ping === null)
    return { id: 'cloud', title, status: 'warn', detail: 'cloud sync not configured (sync.url): events stay in the local log', data };
  if (!c.ping.ok) {
    return {
      id: 'cloud',
      title,
      status: 'fail',
      detail: `${c.url ?? ''}: ${c.ping.error}${c.ping.answered ? ' (the cloud answered: check the key and the clock)' : ''}; ${backlog}`,
      data,
    };
  }
  const ms = Math.round(c.ping.latencyMs);
  if (ms > warnMs) return { id: 'cloud', title, status: 'warn', detail: `${c.url ?? ''} answered in ${ms} ms (over ${warnMs} ms); ${backlog}`, data };
  return { id: 'cloud', title, status: 'pass', detail: `${c.url ?? ''} answered a signed ping in ${ms} ms; ${backlog}`, data };
}
