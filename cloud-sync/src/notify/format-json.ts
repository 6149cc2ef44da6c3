/**
 * The generic webhook body: one flat JSON object, snake_case like the sync protocol, for
 * whatever the site runs (an incident tool, a script, a chat bridge).
 */
import { type AlertDetails, type AlertStatus, type Notice, type Severity, statusOf } from './alert.js';

export interface JsonAlertBody {
  source: 'packline';
  gateway_id: string;
  key: string;
  status: AlertStatus;
  severity: Severity;
  title: string;
  text: string;
  details: AlertDetails;
  /** When the condition was observed, ms since the epoch. */
  at: number;
  /** Alerts of this key held back by rate limiting since the previous delivered one. */
  suppressed: number;
}

export function formatJson(notice: Notice): JsonAlertBody {
  const { alert } = notice;
  return {
    source: 'packline',
    gateway_id: notice.gatewayId,
    key: alert.key,
    status: statusOf(alert),
    severity: alert.severity,
    title: alert.title,
    text: alert.text,
    details: { ...(alert.details ?? {}) },
    at: alert.at,
    suppressed: notice.suppressed,
  };
}
