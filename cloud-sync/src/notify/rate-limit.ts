/**
 * Which alerts go out. Pure: the caller passes the time, so tests drive it with a number.
 *
 * - Per key, at most one firing alert per `perKeyIntervalMs`; the ones held back are counted
 *   and the count travels with the next alert of that key that goes out ("N more suppressed").
 *   A firing alert more severe than the last one sent for its key goes out at once (escalation).
 * - Over all keys, at most `maxPerHour` firing alerts in any sliding hour.
 * - A resolved alert goes out only when a firing alert of its key went out and was not
 *   resolved yet, and then always (neither limit holds it): otherwise people would be left
 *   believing an outage that is over. Resolutions are bounded by the firings sent, so they
 *   cannot flood anything.
 *
 * Keys are a small fixed set named in code (`sync.outage`, `sync.failed`), so per-key state is
 * kept for the process lifetime.
 */
import { type Alert, type Severity, statusOf } from './alert.js';

export interface RateLimitOptions {
  perKeyIntervalMs: number;
  maxPerHour: number;
}

export type RateDecision = { deliver: true; suppressed: number } | { deliver: false; reason: 'interval' | 'hourly-cap' | 'not-firing' };

const HOUR_MS = 3_600_000;
const RANK: Record<Severity, number> = { info: 0, warning: 1, critical: 2 };

interface KeyState {
  lastSentAt: number;
  lastSeverity: Severity;
  /** A firing alert was sent and no resolution yet. */
  open: boolean;
  suppressed: number;
}

export class AlertRateLimiter {
  readonly #o: RateLimitOptions;
  readonly #keys = new Map<string, KeyState>();
  /** Send times of firing alerts within the last hour, oldest first. */
  #sent: number[] = [];

  constructor(options: RateLimitOptions) {
    this.#o = options;
  }

  decide(alert: Alert, now: number): RateDecision {
    const st = this.#keys.get(alert.key);
    if (statusOf(alert) === 'resolved') {
      if (st === undefined || !st.open) return { deliver: false, reason: 'not-firing' };
      st.open = false;
      const suppressed = st.suppressed;
      st.suppressed = 0;
      return { deliver: true, suppressed };
    }

    const escalation = st !== undefined && RANK[alert.severity] > RANK[st.lastSeverity];
    if (st !== undefined && !escalation && now - st.lastSentAt < this.#o.perKeyIntervalMs) {
      st.suppressed++;
      return { deliver: false, reason: 'interval' };
    }
    this.#sent = this.#sent.filter((t) => now - t < HOUR_MS);
    if (this.#sent.length >= this.#o.maxPerHour) {
      if (st === undefined) {
        this.#keys.set(alert.key, { lastSentAt: -Infinity, lastSeverity: 'info', open: false, suppressed: 1 });
      } else {
        st.suppressed++;
      }
      return { deliver: false, reason: 'hourly-cap' };
    }
    this.#sent.push(now);
    const suppressed = st?.suppressed ?? 0;
    this.#keys.set(alert.key, { lastSentAt: now, lastSeverity: alert.severity, open: true, suppressed: 0 });
    return { deliver: true, suppressed };
  }

  /** Alerts held back per key and not yet reported by a later alert. */
  pending(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const [k, st] of this.#keys) if (st.suppressed > 0) out[k] = st.suppressed;
    return out;
  }
}
