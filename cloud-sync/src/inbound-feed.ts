/**
 * The inbound feed: pulls the cloud's change log (orders, waybills, status changes, cancel
 * requests) with a cursor — never by time window: a time window misses changes whose
 * timestamps land late (Wangdiantong's own API docs warn about exactly that; docs/sync.md
 * §7.1) — and hands each page to the gateway, which applies it together with the
 * next cursor in one durable unit. Every change is idempotent, so a page applied twice (a
 * crash between the cloud's answer and the commit) changes nothing the second time.
 *
 * It pulls every `pollMs`, at once again while the cloud says `has_more`, and right away on
 * kick() (the cloud may push a "changes waiting" nudge over MQTT). It shares the link
 * monitor with the outbox pump, so an offline cloud is not hammered from two sides.
 */
import type { LinkMonitor } from './link-monitor.js';
import { type SyncLogger, silentSyncLogger } from './logger.js';
import type { ApplyResult, InboundStore, QuarantinedChange } from './ports.js';
import { Sleeper } from './sleeper.js';
import { CONTRACT_ERROR, SyncCallError, type SyncClient } from './sync-client.js';

export interface InboundFeedOptions {
  store: InboundStore;
  client: SyncClient;
  link: LinkMonitor;
  pollMs?: number;
  pageSize?: number;
  logger?: SyncLogger;
  now?: () => number;
  /** Called after each applied page. */
  onApplied?: (r: ApplyResult) => void;
  /** Called with changes quarantined instead of applied (after they are stored), e.g. to alert. */
  onQuarantined?: (q: QuarantinedChange[]) => void;
}

export interface InboundStats {
  cursor: string;
  pages: number;
  applied: number;
  skipped: number;
  /** Changes quarantined (stored as rejected and reported upstream) instead of applied. */
  quarantined: number;
  /** The latest quarantined change, for the status page. */
  lastQuarantined: QuarantinedChange | null;
  /** When the feed last got an answer (the "last refresh age" of the intercept cache). */
  lastPullAt: number | null;
  lastError: string | null;
}

export class InboundFeed {
  readonly name = 'inbound-feed';
  private running = false;
  private loop: Promise<void> | null = null;
  private readonly sleeper = new Sleeper();
  private readonly log: SyncLogger;
  private readonly now: () => number;
  private readonly counters = { pages: 0, applied: 0, skipped: 0, quarantined: 0 };
  private lastQuarantined: QuarantinedChange | null = null;
  private lastPullAt: number | null = null;
  private lastError: string | null = null;

  constructor(private readonly opts: InboundFeedOptions) {
    this.log = opts.logger ?? silentSyncLogger;
    this.now = opts.now ?? Date.now;
  }

  async start(): Promise<void> {
    if (this.running) return;
    this.running = true;
    this.loop = this.run();
  }

  async stop(): Promise<void> {
    if (!this.running) return;
    this.running = false;
    this.sleeper.wake();
    await this.loop;
    this.loop = null;
  }

  kick(): void {
    this.sleeper.wake();
  }

  stats(): InboundStats {
    return {
      cursor: this.opts.store.inboundCursor(),
      ...this.counters,
      lastQuarantined: this.lastQuarantined,
      lastPullAt: this.lastPullAt,
      lastError: this.lastError,
    };
  }

  /** One pull; resolves true when the cloud has more waiting. Exposed for tests and `sync pull`. */
  async pullOnce(): Promise<boolean> {
    const after = this.opts.store.inboundCursor();
    const page = await this.opts.client.getChanges(after, this.opts.pageSize ?? 500);
    this.lastPullAt = this.now();
    if (page.changes.length > 0 || page.next_cursor !== after) {
      const r = await this.opts.store.applyChanges(page.changes, page.next_cursor);
      this.counters.pages += 1;
      this.counters.applied += r.applied;
      this.counters.skipped += r.skipped;
      this.log.info({ applied: r.applied, skipped: r.skipped, quarantined: r.quarantined.length, cursor: page.next_cursor }, 'cloud changes applied');
      if (r.quarantined.length > 0) {
        this.counters.quarantined += r.quarantined.length;
        this.lastQuarantined = r.quarantined[r.quarantined.length - 1]!;
        this.log.warn({ quarantined: r.quarantined.slice(0, 5).map(({ raw: _raw, ...q }) => q) }, 'cloud changes quarantined; the feed moves on');
        this.opts.onQuarantined?.(r.quarantined);
      }
      this.opts.onApplied?.(r);
    }
    return page.has_more;
  }

  private async run(): Promise<void> {
    const poll = this.opts.pollMs ?? 2_000;
    while (this.running) {
      const wait = this.opts.link.waitMs();
      if (wait > 0) {
        await this.sleeper.sleep(Math.min(wait, poll));
        continue;
      }
      try {
        const more = await this.pullOnce();
        this.lastError = null;
        this.opts.link.success('inbound');
        if (more) continue;
      } catch (err) {
        this.lastError = (err as Error).message;
        if (err instanceof SyncCallError && err.code === CONTRACT_ERROR) {
          // The page itself is unreadable (not one change in it): nothing to apply, the
          // cursor stays; say so and wait rather than pull the same page at poll speed.
          const delay = this.opts.link.contractError(err.message, 'inbound');
          this.log.error({ err: err.message, retryInMs: delay }, 'change page does not match the sync contract');
          await this.sleeper.sleep(Math.max(delay, poll));
          continue;
        } else if (err instanceof SyncCallError) {
          this.opts.link.failure(err.message, err.answered);
          this.log.warn({ err: err.message, code: err.code }, 'change feed pull failed');
        } else {
          // Applying failed (store): the cursor did not move; the same page comes again.
          this.log.error({ err: this.lastError }, 'applying cloud changes failed');
        }
      }
      await this.sleeper.sleep(poll);
    }
  }
}
