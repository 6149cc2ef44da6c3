/**
 * Clock synchronised: event times, the HLC and the sync signature (the cloud refuses a
 * request signed more than SYNC_LIMITS.signatureSkewMs away from its clock) all rest on it.
 * Best source: systemd-timesyncd / chrony as `timedatectl show -p NTPSynchronized`. Without
 * it, the cloud's clock (its shop-authorisation answer or an HTTP Date header) gives the
 * offset. Neither available: unknown, a warning.
 */
import { type CheckResult, humanDuration } from '../report.js';

export interface ClockInput {
  /** timedatectl's NTPSynchronized: true/false, null when it could not say. */
  ntpSynchronized: boolean | null;
  /** Local minus cloud clock (ms), null when not measured. */
  offsetMs: number | null;
  /** Where the offset came from (`cloud server_time`, `cloud Date header`). */
  offsetSource: string | null;
}

export function checkClock(c: ClockInput, warnMs: number): CheckResult {
  const title = 'Clock synchronised';
  const data = { ...c, warnMs };
  const off = c.offsetMs === null ? '' : `${c.offsetMs >= 0 ? 'ahead of' : 'behind'} the cloud by ${humanDuration(c.offsetMs)} (${c.offsetSource})`;
  if (c.offsetMs !== null && Math.abs(c.offsetMs) > warnMs * 10) {
    return { id: 'clock', title, status: 'fail', detail: `clock ${off}: fix NTP (timedatectl set-ntp true)`, data };
  }
  if (c.ntpSynchronized === true) return { id: 'clock', title, status: 'pass', detail: `NTP synchronised${off ? `; ${off}` : ''}`, data };
  if (c.offsetMs !== null && Math.abs(c.offsetMs) > warnMs) return { id: 'clock', title, status: 'warn', detail: `clock ${off}`, data };
  if (c.ntpSynchronized === false) return { id: 'clock', title, status: 'warn', detail: `NTP not synchronised${off ? `; ${off}` : ''}`, data };
  if (c.offsetMs !== null) return { id: 'clock', title, status: 'pass', detail: `within ${humanDuration(warnMs)} of the cloud (${c.offsetSource})`, data };
  return { id: 'clock', title, status: 'warn', detail: 'unknown: timedatectl gave no answer and the cloud could not be asked', data };
}
