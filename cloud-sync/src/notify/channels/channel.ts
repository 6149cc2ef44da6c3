/** A place alerts go (a webhook, a mailbox) and how its failures are judged. */
import { PacklineError } from '../../../../contracts/errors.js';
import type { Notice } from '../alert.js';

export interface Channel {
  /** For logs and stats; never holds a secret (robot URLs carry their token, so only the host). */
  readonly name: string;
  readonly type: 'webhook' | 'email';
  /** Delivers one notice; rejects with a coded {@link PacklineError}. */
  send(notice: Notice): Promise<void>;
}

/**
 * Whether another try may succeed: no answer, a timeout, garbage, an SMTP 4xx (RFC 5321
 * §4.2.1 "transient negative completion") or a refusal marked retryable (HTTP 5xx/429/408, a
 * robot's throttling errcode). A 5xx SMTP reply, a 4xx HTTP status or a wrong signature stays wrong.
 */
export function isRetryable(err: unknown): boolean {
  if (!(err instanceof PacklineError)) return false;
  switch (err.code) {
    case 'PKL_NOTIFY_UNREACHABLE':
    case 'PKL_NOTIFY_TIMEOUT':
    case 'PKL_SMTP_PROTOCOL':
      return true;
    case 'PKL_SMTP_REPLY': {
      const code = Number(err.details?.replyCode);
      return code >= 400 && code < 500;
    }
    case 'PKL_NOTIFY_REJECTED':
      return err.details?.retryable === true;
    default:
      return false;
  }
}

/** Anything thrown becomes coded; a non-Packline error is a bug and says so. */
export function toPacklineError(err: unknown): PacklineError {
  if (err instanceof PacklineError) return err;
  return new PacklineError('PKL_INTERNAL', { ref: err instanceof Error ? err.message : String(err) }, { cause: err });
}
