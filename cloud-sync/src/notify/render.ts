/**
 * Pieces of text every channel shows the same way: the time, the headline, the details
 * list and the "N more suppressed" sentence. Formatters arrange them for their medium.
 */
import { type Alert, type Notice, statusOf } from './alert.js';

/**
 * `2026-11-26 14:03:05 +08:00` in the given IANA zone. Numeric offset rather than a zone
 * abbreviation: abbreviations are ambiguous (CST) and the offset is what a reader needs.
 */
export function formatTime(at: number, timeZone: string): string {
  const parts = new Intl.DateTimeFormat('en-US', {
    timeZone,
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
    second: '2-digit',
    hourCycle: 'h23',
    timeZoneName: 'longOffset',
  }).formatToParts(new Date(at));
  const get = (type: Intl.DateTimeFormatPartTypes) => parts.find((p) => p.type === type)?.value ?? '';
  // longOffset is "GMT+08:00", or plain "GMT" for a zero offset.
  const zone = get('timeZoneName').replace(/^GMT/, '') || '+00:00';
  return `${get('year')}-${get('month')}-${get('day')} ${get('hour')}:${get('minute')}:${get('second')} ${zone}`;
}

/** Throws a RangeError when `timeZone` is not a zone this Node knows. */
export function assertTimeZone(timeZone: string): void {
  new Intl.DateTimeFormat('en-US', { timeZone });
}

/** Single line: titles go into e-mail subjects and chat titles, where a line break is an injection. */
export function oneLine(s: string): string {
  return s.replace(/[\r\n\t\v\f\u2028\u2029]+/g, ' ').trim();
}

/** `CRITICAL`, `WARNING`, `INFO`, or `RESOLVED` for the end of a condition. */
export function label(alert: Alert): string {
  return statusOf(alert) === 'resolved' ? 'RESOLVED' : alert.severity.toUpperCase();
}

/** `Packline gw-01: Cloud sync down` — every chat title starts with "Packline" (DingTalk keyword security can use it). */
export function headline(notice: Notice): string {
  return `Packline ${oneLine(notice.gatewayId)}: ${oneLine(notice.alert.title)}`;
}

export function detailEntries(alert: Alert): Array<[string, string]> {
  return Object.entries(alert.details ?? {}).map(([k, v]) => [oneLine(k), v === null ? '-' : oneLine(String(v))]);
}

/** The sentence for held-back alerts, or null when nothing was held back. */
export function suppressedSentence(notice: Notice): string | null {
  if (notice.suppressed <= 0) return null;
  const n = notice.suppressed;
  return `${n} more "${oneLine(notice.alert.key)}" alert${n === 1 ? ' was' : 's were'} suppressed since the last notice.`;
}
