/**
 * A minimal cloud order system for the demo floor: it generates orders, pushes them to the
 * gateway's import API, keeps adding a batch now and then, issues waybills for orders that
 * had none, and every so often a buyer asks for a refund (the order is re-sent with the flag
 * and a higher revision, which the gateway must turn into an interception).
 *
 * Pushes that fail (gateway not up yet, network) stay queued and go out on the next tick,
 * newest revision wins. The cloud-sync issue grows this module into the reference cloud
 * (fastify + SQLite); OrderBook and GatewayApi are the seams for that.
 */
import { EventEmitter } from 'node:events';
import { type SimLogger, silentLogger } from '../lib/logger.js';
import { Prng } from '../lib/prng.js';
import { sleep } from '../lib/time.js';
import { OrderGenerator, type OrderShares, withFlags } from '../orders/order-generator.js';
import type { WireOrder } from '../orders/wire-order.js';
import { GatewayApi } from './gateway-api.js';
import { OrderBook } from './order-book.js';

export interface CloudSimOptions {
  httpUrl: string;
  adminToken: string;
  seed?: number;
  /** Order-id prefix; give each run its own so reruns against the same gateway never collide. */
  idPrefix?: string;
  shares?: Partial<OrderShares>;
  initialOrders?: number;
  batchSize?: number;
  /** Share of orders that are one unit of a promoted best seller (OrderGeneratorOptions.hotSkuShare). */
  hotSkuShare?: number;
  /** 0 disables periodic batches. */
  batchEveryMs?: number;
  /** 0 disables refund flips. */
  refundFlipEveryMs?: number;
  /** 0 disables late waybill assignment. */
  waybillEveryMs?: number;
  /** How long start() keeps retrying the first push while the gateway comes up. */
  startRetryMs?: number;
  now?: number;
  logger?: SimLogger;
}

export interface CloudSimStats {
  orders: number;
  pushed: number;
  pushRequests: number;
  pushErrors: number;
  queued: number;
  refundFlips: number;
  waybillsIssued: number;
  lastError: string | null;
}

export interface CloudSimEvents {
  /** Orders (new or new revisions) the gateway has accepted. */
  imported: [orders: WireOrder[]];
}

export class CloudSim extends EventEmitter<CloudSimEvents> {
  readonly book = new OrderBook();
  readonly generator: OrderGenerator;
  private readonly api: GatewayApi;
  private readonly rng: Prng;
  private readonly log: SimLogger;
  private readonly outbox = new Map<string, WireOrder>();
  private readonly timers: NodeJS.Timeout[] = [];
  private chain: Promise<void> = Promise.resolve();
  private running = false;
  private readonly counters = { pushed: 0, pushRequests: 0, pushErrors: 0, refundFlips: 0, waybillsIssued: 0 };
  private lastError: string | null = null;

  constructor(private readonly opts: CloudSimOptions) {
    super();
    const seed = opts.seed ?? 42;
    this.generator = new OrderGenerator({
      seed,
      ...(opts.idPrefix !== undefined ? { idPrefix: opts.idPrefix } : {}),
      ...(opts.shares ? { shares: opts.shares } : {}),
      ...(opts.hotSkuShare === undefined ? {} : { hotSkuShare: opts.hotSkuShare }),
      ...(opts.now !== undefined ? { now: opts.now } : {}),
    });
    this.api = new GatewayApi({ httpUrl: opts.httpUrl, adminToken: opts.adminToken });
    this.rng = new Prng(seed ^ 0xc10d);
    this.log = opts.logger ?? silentLogger;
  }

  /** Generates and pushes the initial orders (retrying while the gateway starts), then schedules the rest. */
  async start(): Promise<void> {
    if (this.running) return;
    this.running = true;
    this.enqueue(this.generator.batch(this.opts.initialOrders ?? 200));
    const deadline = Date.now() + (this.opts.startRetryMs ?? 30_000);
    while (this.running) {
      await this.flush();
      if (this.outbox.size === 0) break;
      if (Date.now() > deadline) {
        this.running = false;
        throw new Error(`cloud sim could not push orders to ${this.opts.httpUrl}: ${this.lastError ?? 'unknown error'}`);
      }
      await sleep(500);
    }
    this.every(this.opts.batchEveryMs ?? 30_000, async () => {
      this.enqueue(this.generator.batch(this.opts.batchSize ?? 20));
      await this.flush();
    });
    this.every(this.opts.refundFlipEveryMs ?? 20_000, () => this.flipToRefund());
    this.every(this.opts.waybillEveryMs ?? 15_000, () => this.issueWaybills());
  }

  async stop(): Promise<void> {
    this.running = false;
    for (const t of this.timers) clearInterval(t);
    this.timers.length = 0;
    await this.chain;
  }

  stats(): CloudSimStats {
    return { orders: this.book.size, ...this.counters, queued: this.outbox.size, lastError: this.lastError };
  }

  /** Generates `n` new orders and pushes them now. */
  async addBatch(n: number): Promise<WireOrder[]> {
    const orders = this.generator.batch(n);
    this.enqueue(orders);
    await this.flush();
    return orders;
  }

  /** A buyer requests a refund on a random open order; null when none is open. */
  async flipToRefund(): Promise<WireOrder | null> {
    const open = this.book.open();
    if (open.length === 0) return null;
    const updated = withFlags(this.rng.pick(open), { refund_requested: true });
    this.counters.refundFlips++;
    this.enqueue([updated]);
    await this.flush();
    return updated;
  }

  /** The carrier issues e-waybills for (up to 5) orders that had none. */
  async issueWaybills(): Promise<WireOrder[]> {
    const updated = this.book
      .withoutWaybill()
      .slice(0, 5)
      .map((o) => this.generator.assignWaybill(o));
    this.counters.waybillsIssued += updated.length;
    this.enqueue(updated);
    await this.flush();
    return updated;
  }

  private enqueue(orders: readonly WireOrder[]): void {
    for (const o of orders) {
      const cur = this.outbox.get(o.order_id);
      if (!cur || cur.revision < o.revision) this.outbox.set(o.order_id, o);
    }
  }

  /** Pushes everything queued; one push at a time so revisions reach the gateway in order. */
  private flush(): Promise<void> {
    this.chain = this.chain.then(async () => {
      if (this.outbox.size === 0) return;
      const batch = [...this.outbox.values()];
      this.counters.pushRequests++;
      try {
        await this.api.importOrders(batch);
      } catch (err) {
        this.counters.pushErrors++;
        this.lastError = (err as Error).message;
        this.log.warn({ err: this.lastError, orders: batch.length }, 'cloud sim push failed; will retry');
        return;
      }
      for (const o of batch) {
        if (this.outbox.get(o.order_id) === o) this.outbox.delete(o.order_id);
        this.book.put(o);
      }
      this.counters.pushed += batch.length;
      this.log.info({ orders: batch.length }, 'cloud sim pushed orders');
      this.emit('imported', batch);
    });
    return this.chain;
  }

  private every(ms: number, fn: () => Promise<unknown>): void {
    if (ms <= 0) return;
    const t = setInterval(() => {
      if (!this.running) return;
      fn().catch((err: Error) => this.log.error({ err: err.message }, 'cloud sim task failed'));
    }, ms);
    t.unref();
    this.timers.push(t);
  }
}
