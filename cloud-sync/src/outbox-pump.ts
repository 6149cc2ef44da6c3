/**
 * The outbox pump: drains the gateway's append-only event log to the cloud in seq order.
 *
 * - One batch in flight at a time, so the cloud sees seqs in order and its cumulative ack
 *   is all the state there is. A batch closes at `maxEvents`, `maxBytes`, or when its oldest
 *   event has waited `lingerMs` (so a quiet floor still syncs within a fraction of a second
 *   and a busy one sends full batches).
 * - The cursor moves only on the cloud's ack (`saveAck`, durable) and only forward. A lower
 *   ack is a replayed answer or a cloud that lost data: once is ignored, twice in a row and
 *   the pump resends from there (the cloud's dedupe makes a resend harmless).
 * - Events the cloud stored as rejected are tagged "sync failed" and never block the ones
 *   behind them; `packline sync retry` asks for a resubmission, which goes out before the
 *   next batch.
 * - Nothing is ever dropped for age or size; a batch the cloud refuses as too large or
 *   malformed is halved until the offending event is alone, then retried with backoff.
 * - A slow cloud still drains: on a timeout the batch is halved (down to one event) and the
 *   timeout doubles, within [sync.timeoutMs, maxTimeoutMs]; good answers bring both back.
 * - An answer that does not match the contract puts the link in "contract error" and the pump
 *   waits a backoff delay of its own before it tries again (it never spins resending).
 */
import { SYNC_PROTOCOL_VERSION, SYNC_REQUEST_ERRORS, type RejectedEvent } from '../../contracts/sync.js';
import { type BatchBounds, DEFAULT_BATCH_BOUNDS, buildBatch, eventJson } from './batch-builder.js';
import type { LinkMonitor } from './link-monitor.js';
import { type SyncLogger, silentSyncLogger } from './logger.js';
import type { OutboxEventRow, OutboxStore } from './ports.js';
import { Sleeper } from './sleeper.js';
import { CONTRACT_ERROR, SyncCallError, type SyncClient } from './sync-client.js';

export interface OutboxPumpOptions {
  store: OutboxStore;
  client: SyncClient;
  link: LinkMonitor;
  gatewayId: string;
  bounds?: BatchBounds;
  /** Longest an event waits for company before a partial batch goes (time bound). */
  lingerMs?: number;
  /** How often an idle pump looks for new events (kick() wakes it sooner). */
  pollMs?: number;
  logger?: SyncLogger;
  /** Wall clock: batch timestamps and ack times. */
  now?: () => number;
  /** Monotonic clock for the linger bound (the wall clock may jump). */
  monotonic?: () => number;
  /** Called with events the cloud rejected (after they are tagged), e.g. to notify. */
  onRejected?: (rejected: RejectedEvent[]) => void;
  /** The per-request timeout to start from (sync.timeoutMs); default 30 s. */
  timeoutMs?: number;
  /** Upper bound of the adapted timeout; default 4 × timeoutMs, at most 120 s. */
  maxTimeoutMs?: number;
}

export interface OutboxStats {
  ackedSeq: number;
  lastSeq: number;
  backlog: number;
  /** Seq the next batch starts after (below ackedSeq only while resending to a cloud that lost data). */
  sendFrom: number;
  /** Batch requests sent (answered or not). */
  requests: number;
  /** Events carried by those requests (answered or not; a resend counts again). */
  eventsSent: number;
  /** Compressed bytes of those requests. */
  wireBytes: number;
  /** Batch requests the cloud answered with a readable ack. */
  batches: number;
  /** Events covered by those answered requests. */
  eventsAnswered: number;
  /** Batch requests that got no answer within the timeout. */
  timeouts: number;
  /** Answers (batch or retry) that did not match the contract. */
  contractErrors: number;
  /** Retry requests sent. */
  retryRequests: number;
  /** The batch size the pump uses now (shrinks on timeouts and refusals). */
  batchEvents: number;
  /** The per-request timeout the pump uses now (adapts on timeouts). */
  timeoutMs: number;
  duplicateAcks: number;
  staleAcks: number;
  rejected: number;
  lastAckAt: number | null;
  lastError: string | null;
}

export class OutboxPump {
  readonly name = 'outbox-pump';
  private running = false;
  private loop: Promise<void> | null = null;
  private readonly sleeper = new Sleeper();
  private bounds: BatchBounds;
  private sendFrom = 0;
  private lowAck: { value: number; times: number } | null = null;
  /** When the pump first saw the oldest unsent event (for the linger bound). */
  private waitingSince: number | null = null;
  private readonly log: SyncLogger;
  private readonly now: () => number;
  private readonly monotonic: () => number;
  private readonly counters = {
    requests: 0,
    eventsSent: 0,
    wireBytes: 0,
    batches: 0,
    eventsAnswered: 0,
    timeouts: 0,
    contractErrors: 0,
    retryRequests: 0,
    duplicateAcks: 0,
    staleAcks: 0,
    rejected: 0,
  };
  private readonly baseTimeoutMs: number;
  private readonly maxTimeoutMs: number;
  private timeoutMs: number;
  private lastAckAt: number | null = null;
  private lastError: string | null = null;

  constructor(private readonly opts: OutboxPumpOptions) {
    this.bounds = { ...(opts.bounds ?? DEFAULT_BATCH_BOUNDS) };
    this.log = opts.logger ?? silentSyncLogger;
    this.now = opts.now ?? Date.now;
    this.monotonic = opts.monotonic ?? (() => performance.now());
    this.baseTimeoutMs = opts.timeoutMs ?? 30_000;
    this.maxTimeoutMs = Math.max(this.baseTimeoutMs, opts.maxTimeoutMs ?? Math.min(120_000, this.baseTimeoutMs * 4));
    this.timeoutMs = this.baseTimeoutMs;
  }

  async start(): Promise<void> {
    if (this.running) return;
    this.running = true;
    this.sendFrom = this.opts.store.ackedSeq();
    this.loop = this.run();
  }

  async stop(): Promise<void> {
    if (!this.running) return;
    this.running = false;
    this.sleeper.wake();
    await this.loop;
    this.loop = null;
  }

  /** New events were written, or a retry was requested: look now. */
  kick(): void {
    this.sleeper.wake();
  }

  stats(): OutboxStats {
    const ackedSeq = this.opts.store.ackedSeq();
    const lastSeq = this.opts.store.lastSeq();
    return {
      ackedSeq,
      lastSeq,
      backlog: Math.max(0, lastSeq - ackedSeq),
      sendFrom: this.sendFrom,
      ...this.counters,
      batchEvents: this.bounds.maxEvents,
      timeoutMs: this.timeoutMs,
      lastAckAt: this.lastAckAt,
      lastError: this.lastError,
    };
  }

  private async run(): Promise<void> {
    while (this.running) {
      try {
        const wait = this.opts.link.waitMs();
        if (wait > 0) {
          await this.sleeper.sleep(wait);
          continue;
        }
        const retries = this.opts.store.retryRequested(SYNC_RETRY_CHUNK);
        if (retries.length > 0) {
          await this.resubmit(retries);
          continue;
        }
        const pause = await this.sendNext();
        if (pause > 0) await this.sleeper.sleep(pause);
      } catch (err) {
        // A store failure (disk, stopped store): nothing was acknowledged wrongly; try again.
        this.lastError = (err as Error).message;
        this.log.error({ err: this.lastError }, 'outbox pump step failed');
        await this.sleeper.sleep(this.opts.pollMs ?? 250);
      }
    }
  }

  /** Sends one batch if there is one; returns how long to pause before the next step. */
  private async sendNext(): Promise<number> {
    const store = this.opts.store;
    if (this.lowAck === null) this.sendFrom = Math.max(this.sendFrom, store.ackedSeq());
    const rows = store.readEventRows(this.sendFrom, this.bounds.maxEvents);
    if (rows.length === 0) {
      this.waitingSince = null;
      return this.opts.pollMs ?? 250;
    }
    const linger = this.opts.lingerMs ?? 200;
    if (rows.length < this.bounds.maxEvents && linger > 0) {
      const t = this.monotonic();
      this.waitingSince ??= t;
      const left = this.waitingSince + linger - t;
      if (left > 0) return left;
    }
    this.waitingSince = null;
    const batch = buildBatch(rows, this.opts.gatewayId, this.now(), this.bounds);
    if (batch === null) return 0;

    let ack;
    const sentAt = this.monotonic();
    try {
      const body = await this.opts.client.compress(batch.json);
      // Counted as sent before the answer: the cloud may store a batch whose answer never comes.
      this.counters.requests += 1;
      this.counters.eventsSent += batch.count;
      this.counters.wireBytes += body.length;
      ack = await this.opts.client.postBatch(body, batch.firstSeq, batch.lastSeq, this.timeoutMs);
    } catch (err) {
      return this.failed(err, batch.count);
    }
    this.opts.link.success('outbox');
    this.counters.batches += 1;
    this.counters.eventsAnswered += batch.count;
    if (ack.duplicate) this.counters.duplicateAcks += 1;
    // Grow back towards the configured bounds after a shrink; the timeout relaxes towards
    // the configured one once answers come well inside it.
    const configured = this.opts.bounds ?? DEFAULT_BATCH_BOUNDS;
    this.bounds.maxEvents = Math.min(configured.maxEvents, this.bounds.maxEvents * 2);
    const took = this.monotonic() - sentAt;
    if (this.timeoutMs > this.baseTimeoutMs && took * 2 < this.timeoutMs) {
      this.timeoutMs = Math.max(this.baseTimeoutMs, Math.ceil(this.timeoutMs / 2));
    }

    const acked = ack.acked_seq;
    const persisted = store.ackedSeq();
    if (acked < persisted) {
      // Below what the cloud acknowledged before: a replayed answer, or a cloud restored from
      // a backup. Resend from there only if it says so twice in a row.
      this.counters.staleAcks += 1;
      const rewinding = this.sendFrom < persisted;
      this.lowAck = this.lowAck?.value === acked ? { value: acked, times: this.lowAck.times + 1 } : { value: acked, times: 1 };
      if (rewinding || this.lowAck.times >= 2) {
        if (!rewinding) this.log.warn({ acked, persisted }, 'cloud is behind the acknowledged cursor; resending from its ack');
        this.sendFrom = acked;
      }
      return 0;
    }
    this.lowAck = null;
    const rejected = ack.rejected.filter((r) => r.seq <= acked && r.seq > persisted);
    if (acked > persisted) {
      await store.saveAck({ ackedSeq: acked, rejected, accepted: [], at: this.now() });
      this.lastAckAt = this.now();
    }
    this.sendFrom = acked;
    if (rejected.length > 0) {
      this.counters.rejected += rejected.length;
      this.log.warn({ rejected: rejected.slice(0, 10), count: rejected.length }, 'cloud rejected events; tagged sync failed');
      this.opts.onRejected?.(rejected);
    }
    if (acked < batch.firstSeq) {
      // The cloud stored none of it (it reported a gap before this batch, or drains slowly):
      // it answered, so the link is up, but do not spin.
      this.log.warn({ acked, first: batch.firstSeq }, 'cloud acknowledged nothing of the batch');
      return this.opts.pollMs ?? 250;
    }
    return 0;
  }

  private failed(err: unknown, count: number): number {
    const e = err instanceof SyncCallError ? err : new SyncCallError(String(err), false, null, 'other');
    this.lastError = e.message;
    if (e.code === CONTRACT_ERROR) {
      // Resending would get the same unreadable answer: say so and wait (own delay: the
      // change feed's good answers must not let the outbox spin).
      this.counters.contractErrors += 1;
      const delay = this.opts.link.contractError(e.message, 'outbox');
      this.log.error({ err: e.message, retryInMs: delay }, 'cloud answer does not match the sync contract');
      return delay;
    }
    const refusedBody = e.status === 413 || e.code === 'too_large' || (e.status === 400 && e.code !== SYNC_REQUEST_ERRORS.versionUnsupported);
    if (refusedBody && count > 1) {
      // Halve to isolate what the cloud cannot take; the event is never dropped.
      this.bounds.maxEvents = Math.max(1, Math.floor(count / 2));
    }
    if (e.code === 'timeout') {
      // A cloud slower than the timeout: send less and wait longer (both bounded), so the
      // next attempt can finish instead of resending the same growing batch for ever.
      this.counters.timeouts += 1;
      this.bounds.maxEvents = Math.max(1, Math.floor(count / 2));
      this.timeoutMs = Math.min(this.maxTimeoutMs, this.timeoutMs * 2);
    }
    const delay = this.opts.link.failure(e.message, e.answered);
    this.log.warn(
      { err: e.message, status: e.status, code: e.code, retryInMs: delay, batchEvents: this.bounds.maxEvents, timeoutMs: this.timeoutMs },
      'batch not delivered',
    );
    return 0; // the loop waits on link.waitMs()
  }

  /** Resubmits events a supervisor asked to retry after fixing the cause. */
  private async resubmit(seqs: number[]): Promise<void> {
    const store = this.opts.store;
    const rows: OutboxEventRow[] = [];
    for (const seq of seqs) {
      const r = store.readEventRows(seq - 1, 1)[0];
      if (r !== undefined && r.seq === seq) rows.push(r);
    }
    const json = `{"v":${SYNC_PROTOCOL_VERSION},"gateway_id":${JSON.stringify(this.opts.gatewayId)},"events":[${rows.map(eventJson).join(',')}]}`;
    let ack;
    try {
      if (rows.length === 0) throw new SyncCallError('requested events are gone from the log', true, null, 'missing');
      this.counters.retryRequests += 1;
      ack = await this.opts.client.postRetry(json);
    } catch (err) {
      const pause = this.failed(err, 1);
      if (pause > 0) await this.sleeper.sleep(pause);
      return;
    }
    this.opts.link.success('outbox');
    const rejectedSeqs = new Set(ack.rejected.map((r) => r.seq));
    // The cloud lists what it accepts (also an event accepted before, in case that answer was
    // lost). A seq it neither accepts nor rejects it never stored: tag it failed again with
    // that reason rather than asking for ever.
    const acceptedSet = new Set(ack.accepted.filter((s) => seqs.includes(s)));
    const accepted = [...acceptedSet];
    const ignored = seqs
      .filter((s) => !acceptedSet.has(s) && !rejectedSeqs.has(s))
      .map((seq) => ({ seq, code: 'RETRY_IGNORED', reason: 'the cloud does not hold this event; check it upstream' }));
    const rejected = [...ack.rejected.filter((r) => seqs.includes(r.seq)), ...ignored];
    await store.saveAck({ ackedSeq: store.ackedSeq(), rejected, accepted, at: this.now() });
    this.log.info({ accepted: accepted.length, rejected: rejected.length }, 'sync retry answered');
    if (rejected.length > 0) this.opts.onRejected?.(rejected);
  }
}

/** Resubmissions per request. */
export const SYNC_RETRY_CHUNK = 100;
