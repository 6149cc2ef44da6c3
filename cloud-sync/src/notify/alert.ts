/**
 * What cloud sync tells people about: a sync failure, a long outage, and the end of it.
 *
 * An alert is one observation of a condition named by `key`. The same key is reported again
 * and again while the condition holds (every check of the link, every failed batch); the
 * notifier's rate limiter turns that stream into a few messages: the first, reminders at most
 * every `perKeyIntervalMs`, and one `resolved` message when the condition is over.
 *
 * Resolved is not a separate type but `status: 'resolved'` on the same key: the limiter pairs
 * it with the firing alert it ends, so a resolution is sent only if someone was told about
 * the problem, and it is never held back behind the reminder interval.
 */

export type Severity = 'info' | 'warning' | 'critical';
export const SEVERITIES: readonly Severity[] = ['info', 'warning', 'critical'];

/** `firing`: the condition holds (the default). `resolved`: the condition named by the key is over. */
export type AlertStatus = 'firing' | 'resolved';

export type AlertDetails = Record<string, string | number | boolean | null>;

export interface Alert {
  /** Dedupe and rate-limit key, e.g. `sync.outage`, `sync.failed`. Same key = same condition. */
  key: string;
  severity: Severity;
  /** One line; shown as the chat message title and the e-mail subject. */
  title: string;
  /** A few lines for a person on the floor or on call. */
  text: string;
  /** Facts for the record (lag, pending events, last error code); rendered as a list. */
  details?: AlertDetails;
  /** When the condition was observed (ms since the epoch). */
  at: number;
  /** Absent means `firing`. */
  status?: AlertStatus;
}

/** An alert as one channel delivers it: with the gateway it is about and what the limiter held back. */
export interface Notice {
  alert: Alert;
  gatewayId: string;
  /** Alerts of the same key suppressed since the last one delivered (0 when none). */
  suppressed: number;
  /** IANA time zone for human-readable times (`UTC`, `Asia/Shanghai`). */
  timeZone: string;
}

/** The alert that ends `key`: `status: 'resolved'`, severity `info` unless given. */
export function resolvedAlert(key: string, fields: { title: string; text: string; at: number; details?: AlertDetails; severity?: Severity }): Alert {
  const alert: Alert = { key, severity: fields.severity ?? 'info', title: fields.title, text: fields.text, at: fields.at, status: 'resolved' };
  if (fields.details !== undefined) alert.details = fields.details;
  return alert;
}

export function statusOf(alert: Alert): AlertStatus {
  return alert.status ?? 'firing';
}

/**
 * Why an alert is unusable, or null when it is fine. notify() must never throw, so bad input
 * from a caller is reported through this instead of an exception.
 */
export function alertProblem(value: unknown): string | null {
  if (typeof value !== 'object' || value === null) return 'alert is not an object';
  const a = value as Record<string, unknown>;
  if (typeof a.key !== 'string' || a.key.length === 0 || a.key.length > 128) return 'key must be 1–128 characters';
  if (typeof a.severity !== 'string' || !(SEVERITIES as readonly string[]).includes(a.severity)) return 'severity must be info, warning or critical';
  if (typeof a.title !== 'string') return 'title must be a string';
  if (typeof a.text !== 'string') return 'text must be a string';
  if (typeof a.at !== 'number' || !Number.isFinite(a.at)) return 'at must be a finite number (ms)';
  if (a.status !== undefined && a.status !== 'firing' && a.status !== 'resolved') return 'status must be firing or resolved';
  if (a.details !== undefined) {
    if (typeof a.details !== 'object' || a.details === null || Array.isArray(a.details)) return 'details must be an object';
    for (const [k, v] of Object.entries(a.details)) {
      if (v !== null && !['string', 'number', 'boolean'].includes(typeof v)) return `details.${k} must be a string, number, boolean or null`;
    }
  }
  return null;
}
