/**
 * The alert e-mail: an RFC 5322 message with one MIME text/plain; charset=utf-8 part in
 * quoted-printable (RFC 2045 §6.7: stays readable in a raw mail dump, 7-bit safe), subject and
 * display names as RFC 2047 encoded-words when they are not ASCII.
 */
import { randomBytes } from 'node:crypto';
import { type Notice, statusOf } from './alert.js';
import { type Mailbox, addressListHeader, encodeQuotedPrintable, formatMailbox, rfc5322Date, unstructuredHeader } from './mime.js';
import { detailEntries, formatTime, label, oneLine, suppressedSentence } from './render.js';

export interface EmailHeaderFields {
  from: Mailbox;
  to: Mailbox[];
  /** Date header (ms since the epoch): when the message was written, not when the alert fired. */
  date: number;
  /** Whole Message-ID including the angle brackets (see {@link newMessageId}). */
  messageId: string;
}

/** `[Packline gw-01] CRITICAL: Cloud sync down`. */
export function emailSubject(notice: Notice): string {
  return `[Packline ${oneLine(notice.gatewayId)}] ${label(notice.alert)}: ${oneLine(notice.alert.title)}`;
}

export function emailText(notice: Notice): string {
  const { alert } = notice;
  const lines = [
    oneLine(alert.title),
    '',
    alert.text.trim(),
    '',
    `Gateway:  ${notice.gatewayId}`,
    `Alert:    ${alert.key} (${alert.severity}, ${statusOf(alert)})`,
    `Time:     ${formatTime(alert.at, notice.timeZone)}`,
  ];
  const details = detailEntries(alert);
  if (details.length > 0) lines.push('', 'Details:', ...details.map(([k, v]) => `  ${k}: ${v}`));
  const note = suppressedSentence(notice);
  if (note !== null) lines.push('', note);
  // RFC 3676 §4.3 signature separator ("-- "); QP keeps its trailing space as "=20".
  lines.push('', '-- ', `Packline gateway ${notice.gatewayId}`);
  return lines.join('\n');
}

/** `<lz8k2a.3f9c1e0a7b2d4c6e@example.com>`: time + 64 random bits, at the sender's domain (RFC 5322 §3.6.4). */
export function newMessageId(from: Mailbox, at: number, random: string = randomBytes(8).toString('hex')): string {
  const domain = from.address.slice(from.address.lastIndexOf('@') + 1) || 'packline.invalid';
  return `<${at.toString(36)}.${random}@${domain}>`;
}

/** The whole message, CRLF line ends, ready for SMTP DATA (which adds the dot-stuffing). */
export function formatEmail(notice: Notice, fields: EmailHeaderFields): string {
  const headers = [
    `From: ${formatMailbox(fields.from, 'From: '.length)}`,
    addressListHeader('To', fields.to),
    unstructuredHeader('Subject', emailSubject(notice)),
    `Date: ${rfc5322Date(fields.date)}`,
    `Message-ID: ${fields.messageId}`,
    'MIME-Version: 1.0',
    'Content-Type: text/plain; charset=utf-8',
    'Content-Transfer-Encoding: quoted-printable',
    // RFC 3834 §5: machine-made, so auto-responders (vacation replies) stay quiet.
    'Auto-Submitted: auto-generated',
    `X-Packline-Alert: ${oneLine(notice.alert.key).replace(/[^\x21-\x7e]/g, '_')}; status=${statusOf(notice.alert)}`,
  ];
  return `${headers.join('\r\n')}\r\n\r\n${encodeQuotedPrintable(emailText(notice))}\r\n`;
}
