/**
 * The notifier: cloud sync calls notify(alert) whenever it sees a failure or an outage, and
 * forgets about it. notify() never throws and never waits: it asks the rate limiter, then
 * queues the alert on every channel. Each channel has its own queue and worker, so a slow
 * mail server does not hold up the chat robot; a failed delivery is retried with exponential
 * backoff and jitter, then given up with a logged PKL_NOTIFY_GAVE_UP.
 */
import { pino, type Logger } from 'pino';
import { PacklineError } from '../../../contracts/errors.js';
import { type Alert, type Notice, alertProblem, statusOf } from './alert.js';
import { type Channel, isRetryable, toPacklineError } from './channels/channel.js';
import { EmailChannel } from './channels/email-channel.js';
import { WebhookChannel } from './channels/webhook-channel.js';
import type { ChannelConfig, RateLimitConfig, RetryConfig } from './notify-config.js';
import { AlertRateLimiter } from './rate-limit.js';
import { assertTimeZone } from './render.js';

export interface NotifierOptions {
  gatewayId: string;
  channels: ChannelConfig[];
  /** Defaults: perKeyIntervalMs 10 min, maxPerHour 30. */
  rateLimit?: Partial<RateLimitConfig>;
  /** Defaults: 4 attempts, 2 s doubling up to 60 s. */
  retry?: Partial<RetryConfig>;
  /** IANA zone for times in messages; default UTC. */
  timeZone?: string;
  /** Alerts waiting per channel before the oldest is dropped; default 100. */
  maxQueue?: number;
  /** Injected for tests; default globalThis.fetch. */
  fetch?: typeof globalThis.fetch;
  /** Clock for rate limiting, signatures and Date headers; default Date.now. */
  now?: () => number;
  logger?: Logger;
}

export interface ChannelStats {
  name: string;
  type: 'webhook' | 'email';
  /** Waiting, including the one being delivered. */
  queued: number;
  delivered: number;
  /** Given up after the last attempt or a refusal. */
  failed: number;
  /** Tries after the first. */
  retries: number;
  /** Lost to a full queue or to stop(). */
  dropped: number;
  lastDeliveredAt: number | null;
  lastError: { code: string; message: string; at: number } | null;
}

export interface NotifierStats {
  /** notify() calls. */
  received: number;
  /** Not an alert (logged and ignored). */
  invalid: number;
  /** Held back by the rate limit (reported later as "N more suppressed"). */
  suppressed: number;
  /** Resolutions of something never sent (or already resolved): nothing to tell. */
  unmatchedResolved: number;
  /** Passed the rate limit and queued on every channel. */
  accepted: number;
  /** Suppressed alerts per key not reported yet. */
  pendingSuppressed: Record<string, number>;
  channels: ChannelStats[];
}

const DEFAULTS = {
  perKeyIntervalMs: 600_000,
  maxPerHour: 30,
  attempts: 4,
  baseDelayMs: 2_000,
  maxDelayMs: 60_000,
  maxQueue: 100,
  timeZone: 'UTC',
};

export class Notifier {
  readonly name = 'notifier';
  readonly #gatewayId: string;
  readonly #timeZone: string;
  readonly #now: () => number;
  readonly #log: Logger;
  readonly #limiter: AlertRateLimiter;
  readonly #workers: ChannelWorker[];
  #state: 'new' | 'running' | 'stopped' = 'new';
  #received = 0;
  #invalid = 0;
  #suppressed = 0;
  #unmatchedResolved = 0;
  #accepted = 0;

  /** Throws PKL_CONFIG_INVALID for a bad channel or time zone (the only place it throws). */
  constructor(options: NotifierOptions) {
    this.#gatewayId = options.gatewayId;
    this.#timeZone = options.timeZone ?? DEFAULTS.timeZone;
    try {
      assertTimeZone(this.#timeZone);
    } catch {
      throw new PacklineError('PKL_CONFIG_INVALID', { reason: `notify.timeZone: unknown time zone ${JSON.stringify(this.#timeZone)}` });
    }
    this.#now = options.now ?? Date.now;
    this.#log = options.logger ?? pino({ level: 'silent' });
    this.#limiter = new AlertRateLimiter({
      perKeyIntervalMs: options.rateLimit?.perKeyIntervalMs ?? DEFAULTS.perKeyIntervalMs,
      maxPerHour: options.rateLimit?.maxPerHour ?? DEFAULTS.maxPerHour,
    });
    const retry = {
      attempts: options.retry?.attempts ?? DEFAULTS.attempts,
      baseDelayMs: options.retry?.baseDelayMs ?? DEFAULTS.baseDelayMs,
      maxDelayMs: options.retry?.maxDelayMs ?? DEFAULTS.maxDelayMs,
    };
    const fetchFn = options.fetch ?? globalThis.fetch.bind(globalThis);
    this.#workers = options.channels.map((config) => {
      const channel: Channel =
        config.type === 'webhook'
          ? new WebhookChannel(config, { fetch: fetchFn, now: this.#now })
          : new EmailChannel(config, { now: this.#now, logger: this.#log });
      if (config.type === 'email' && config.secure === 'none' && config.user !== undefined) {
        this.#log.warn({ channel: channel.name }, 'notify e-mail sends its password without TLS (secure: none)');
      }
      return new ChannelWorker(channel, retry, options.maxQueue ?? DEFAULTS.maxQueue, this.#now, this.#log);
    });
  }

  /** Starts delivering (alerts notified before start() are kept and go out now). */
  async start(): Promise<void> {
    if (this.#state !== 'new') return;
    this.#state = 'running';
    for (const w of this.#workers) w.start();
  }

  /**
   * Stops: waits between retries are cut short, deliveries in flight finish (bounded by their
   * timeouts), alerts still queued are dropped and counted.
   */
  async stop(): Promise<void> {
    if (this.#state === 'stopped') return;
    this.#state = 'stopped';
    await Promise.all(this.#workers.map((w) => w.stop()));
  }

  /** Never throws, never waits. */
  notify(alert: Alert): void {
    try {
      this.#received++;
      const problem = alertProblem(alert);
      if (problem !== null) {
        this.#invalid++;
        this.#log.warn({ problem }, 'notify() got an invalid alert; ignored');
        return;
      }
      if (this.#state === 'stopped') {
        for (const w of this.#workers) w.countDropped();
        return;
      }
      const decision = this.#limiter.decide(alert, this.#now());
      if (!decision.deliver) {
        if (decision.reason === 'not-firing') this.#unmatchedResolved++;
        else this.#suppressed++;
        this.#log.debug({ key: alert.key, status: statusOf(alert), reason: decision.reason }, 'alert held back');
        return;
      }
      this.#accepted++;
      // A copy: the caller may reuse or change its object after notify() returned.
      const copy: Alert = { ...alert };
      if (alert.details !== undefined) copy.details = { ...alert.details };
      const notice: Notice = { alert: copy, gatewayId: this.#gatewayId, suppressed: decision.suppressed, timeZone: this.#timeZone };
      for (const w of this.#workers) w.enqueue(notice);
    } catch (err) {
      // A bug here must not reach the sync engine that called us.
      try {
        this.#log.error({ err }, 'notify() failed');
      } catch {
        /* even the logger failed; nothing left to do */
      }
    }
  }

  /**
   * Resolves when every queued alert has been delivered or given up (tests, orderly shutdown).
   * Before start() it waits for start().
   */
  async idle(): Promise<void> {
    await Promise.all(this.#workers.map((w) => w.idle()));
  }

  stats(): NotifierStats {
    return {
      received: this.#received,
      invalid: this.#invalid,
      suppressed: this.#suppressed,
      unmatchedResolved: this.#unmatchedResolved,
      accepted: this.#accepted,
      pendingSuppressed: this.#limiter.pending(),
      channels: this.#workers.map((w) => w.stats()),
    };
  }
}

/** One channel's queue: delivers notices one after another, retrying each a few times. */
class ChannelWorker {
  readonly #channel: Channel;
  readonly #retry: RetryConfig;
  readonly #maxQueue: number;
  readonly #now: () => number;
  readonly #log: Logger;
  readonly #queue: Notice[] = [];
  #running: Promise<void> | null = null;
  #started = false;
  #stopped = false;
  #inFlight = false;
  readonly #sleepAbort = new AbortController();
  #idleWaiters: Array<() => void> = [];
  #delivered = 0;
  #failed = 0;
  #retries = 0;
  #dropped = 0;
  #lastDeliveredAt: number | null = null;
  #lastError: ChannelStats['lastError'] = null;

  constructor(channel: Channel, retry: RetryConfig, maxQueue: number, now: () => number, log: Logger) {
    this.#channel = channel;
    this.#retry = retry;
    this.#maxQueue = maxQueue;
    this.#now = now;
    this.#log = log;
  }

  start(): void {
    this.#started = true;
    this.#kick();
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    this.#sleepAbort.abort();
    await this.#running;
    this.#dropped += this.#queue.length;
    this.#queue.length = 0;
    this.#settleIdle();
  }

  enqueue(notice: Notice): void {
    if (this.#queue.length >= this.#maxQueue) {
      const old = this.#queue.shift();
      this.#dropped++;
      this.#log.warn({ channel: this.#channel.name, key: old?.alert.key }, 'notify queue full; oldest alert dropped');
    }
    this.#queue.push(notice);
    this.#kick();
  }

  countDropped(): void {
    this.#dropped++;
  }

  idle(): Promise<void> {
    if (this.#running === null && (this.#queue.length === 0 || this.#stopped)) return Promise.resolve();
    return new Promise((resolve) => this.#idleWaiters.push(resolve));
  }

  stats(): ChannelStats {
    return {
      name: this.#channel.name,
      type: this.#channel.type,
      queued: this.#queue.length + (this.#inFlight ? 1 : 0),
      delivered: this.#delivered,
      failed: this.#failed,
      retries: this.#retries,
      dropped: this.#dropped,
      lastDeliveredAt: this.#lastDeliveredAt,
      lastError: this.#lastError,
    };
  }

  #kick(): void {
    if (this.#running !== null || !this.#started || this.#stopped || this.#queue.length === 0) return;
    this.#running = this.#drain().finally(() => {
      this.#running = null;
      if (this.#queue.length > 0 && !this.#stopped) this.#kick();
      else this.#settleIdle();
    });
  }

  #settleIdle(): void {
    const waiters = this.#idleWaiters;
    this.#idleWaiters = [];
    for (const w of waiters) w();
  }

  async #drain(): Promise<void> {
    while (!this.#stopped) {
      const notice = this.#queue.shift();
      if (notice === undefined) return;
      this.#inFlight = true;
      try {
        await this.#deliver(notice);
      } finally {
        this.#inFlight = false;
      }
    }
  }

  async #deliver(notice: Notice): Promise<void> {
    const key = notice.alert.key;
    for (let attempt = 1; ; attempt++) {
      try {
        await this.#channel.send(notice);
        this.#delivered++;
        this.#lastDeliveredAt = this.#now();
        this.#log.info({ channel: this.#channel.name, key, status: statusOf(notice.alert), attempt }, 'alert delivered');
        return;
      } catch (raw) {
        const err = toPacklineError(raw);
        this.#lastError = { code: err.code, message: err.message, at: this.#now() };
        if (!isRetryable(err) || attempt >= this.#retry.attempts || this.#stopped) {
          this.#giveUp(key, attempt, err);
          return;
        }
        this.#retries++;
        const delay = this.#backoff(attempt);
        this.#log.warn(
          { code: err.code, channel: this.#channel.name, key, attempt, retryInMs: delay, reason: err.message },
          'alert delivery failed; will retry',
        );
        await sleep(delay, this.#sleepAbort.signal);
        if (this.#stopped) {
          this.#giveUp(key, attempt, err);
          return;
        }
      }
    }
  }

  #giveUp(key: string, attempts: number, err: PacklineError): void {
    this.#failed++;
    const gaveUp = new PacklineError(
      'PKL_NOTIFY_GAVE_UP',
      { channel: this.#channel.name, key, attempts, reason: `${err.code}: ${err.message}` },
      { cause: err },
    );
    this.#log.error(
      { code: gaveUp.code, channel: this.#channel.name, key, attempts, cause: { code: err.code, message: err.message, details: err.details } },
      gaveUp.message,
    );
  }

  /** base × 2^(attempt−1), capped, then "equal jitter" (half fixed, half random) so a fleet does not retry in step. */
  #backoff(attempt: number): number {
    const capped = Math.min(this.#retry.maxDelayMs, this.#retry.baseDelayMs * 2 ** (attempt - 1));
    return Math.round(capped / 2 + (Math.random() * capped) / 2);
  }
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}
