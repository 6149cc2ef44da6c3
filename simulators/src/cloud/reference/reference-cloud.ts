/**
 * The reference cloud order system: a local stand-in for the ERP/OMS/WMS that implements the
 * sync contract (contracts/sync.ts; docs/sync.md is its prose form) over fastify + SQLite —
 * verifies signatures, dedupes on (gateway_id, seq), stores then acks the highest contiguous
 * seq, rejects events by business rule without blocking the rest, serves orders, statuses and
 * cancel requests on a cursor-paged change feed — and fails on demand (fault-modes.ts).
 *
 *   const cloud = new ReferenceCloud({ dbPath, gateways: { 'gw-01': key } });
 *   await cloud.start();            // cloud.url → http://127.0.0.1:<port>
 *   await cloud.setFaults({ lostAckShare: 0.3 });
 *   await cloud.stop();
 */
import Fastify, { type FastifyInstance } from 'fastify';
import { SYNC_LIMITS } from '../../../../contracts/sync.js';
import { type SimLogger, silentLogger } from '../../lib/logger.js';
import { adminRoutes } from './admin-routes.js';
import { CloudDb } from './cloud-db.js';
import { type CloudRules, DEFAULT_RULES } from './event-rules.js';
import { type FaultPatch, FaultModes } from './fault-modes.js';
import { ListenerControl } from './listener-control.js';
import { ShopAuthBook } from './shop-auth.js';
import { type SyncCounters, newSyncCounters, syncRoutes } from './sync-routes.js';

export interface ReferenceCloudOptions {
  /** SQLite file (created if missing; a restart keeps everything). */
  dbPath: string;
  /** Known gateways: id → HMAC key (contracts/sync.ts signRequest). */
  gateways: Record<string, string>;
  /** 0 (the default) picks a free port. */
  port?: number;
  host?: string;
  rules?: Partial<CloudRules>;
  /** Seed of the fault modes' PRNG (default 1). */
  seed?: number;
  /** Replay window for signatures (default SYNC_LIMITS.signatureSkewMs). */
  signatureSkewMs?: number;
  logger?: SimLogger;
  now?: () => number;
  /**
   * Shop authorisations (GET …/shops): shop → expiry (epoch ms, null = never). Every shop of
   * an imported order not named here expires a year after start. `false`: the cloud does not
   * publish them (404), like a cloud order system without the endpoint.
   */
  shopAuthorisations?: Record<string, number | null> | false;
}

export interface ReferenceCloudStats {
  db: ReturnType<CloudDb['stats']>;
  requests: SyncCounters;
  faults: FaultModes['counters'];
}

export class ReferenceCloud {
  readonly faults: FaultModes;
  readonly rules: CloudRules;
  private readonly log: SimLogger;
  private readonly now: () => number;
  private readonly counters = newSyncCounters();
  private app: FastifyInstance | null = null;
  private listener: ListenerControl | null = null;
  private store: CloudDb | null = null;
  private address: string | null = null;
  private transition: Promise<void> = Promise.resolve();
  private readonly onDown = (down: boolean) => {
    const l = this.listener;
    if (l === null) return;
    this.transition = l.setDown(down).then(
      () => this.log.info({ down }, down ? 'reference cloud down (fault mode)' : 'reference cloud back up'),
      (err: unknown) => this.log.error({ err: (err as Error).message }, 'reference cloud could not change its listener'),
    );
  };

  constructor(private readonly opts: ReferenceCloudOptions) {
    this.faults = new FaultModes(opts.seed ?? 1);
    this.rules = { ...DEFAULT_RULES, ...opts.rules };
    this.log = opts.logger ?? silentLogger;
    this.now = opts.now ?? Date.now;
  }

  /** Base URL, e.g. `http://127.0.0.1:41234` (after start()). */
  get url(): string {
    if (this.address === null) throw new Error('reference cloud is not started');
    return this.address;
  }

  /** The store (after start()); tests read it directly. */
  get db(): CloudDb {
    if (this.store === null) throw new Error('reference cloud is not started');
    return this.store;
  }

  async start(): Promise<void> {
    if (this.app !== null) return;
    const store = new CloudDb(this.opts.dbPath);
    for (const [id, key] of Object.entries(this.opts.gateways)) store.putGateway(id, key, this.now());
    this.store = store;
    // Headroom over the contract's wire limit so the sync scope answers its own 413.
    const app = Fastify({ logger: false, bodyLimit: SYNC_LIMITS.maxWireBytes * 2, forceCloseConnections: true });
    const db = () => this.db;
    const shops = this.opts.shopAuthorisations === false ? undefined : new ShopAuthBook(this.now(), this.opts.shopAuthorisations ?? {});
    await app.register(async (scope) =>
      syncRoutes(scope, {
        ...(shops !== undefined ? { shops } : {}),
        db,
        faults: this.faults,
        rules: this.rules,
        now: this.now,
        log: this.log,
        skewMs: this.opts.signatureSkewMs ?? SYNC_LIMITS.signatureSkewMs,
        counters: this.counters,
      }),
    );
    await app.register(async (scope) =>
      adminRoutes(scope, {
        db,
        faults: this.faults,
        listener: () => this.listener,
        counters: this.counters,
        now: this.now,
        ...(shops !== undefined ? { shops } : {}),
      }),
    );
    const host = this.opts.host ?? '127.0.0.1';
    this.listener = new ListenerControl(app.server, host);
    try {
      await app.listen({ port: this.opts.port ?? 0, host });
    } catch (err) {
      this.listener = null;
      this.store = null;
      store.close();
      await app.close();
      throw err;
    }
    this.listener.listened();
    this.app = app;
    const { port } = app.server.address() as { port: number };
    this.address = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
    this.faults.on('down', this.onDown);
    if (this.faults.current.down) this.onDown(true);
    this.log.info({ url: this.address, db: this.opts.dbPath, gateways: Object.keys(this.opts.gateways) }, 'reference cloud listening');
  }

  async stop(): Promise<void> {
    const app = this.app;
    if (app === null) return;
    this.faults.off('down', this.onDown);
    this.faults.dispose();
    await this.transition;
    this.listener?.destroyAll(); // hung requests and kept-alive sockets
    await app.close();
    this.app = null;
    this.listener = null;
    this.store?.close();
    this.store = null;
  }

  /** Merges fault settings and waits until a `down` change has taken effect. */
  async setFaults(patch: FaultPatch): Promise<void> {
    this.faults.set(patch);
    await this.transition;
  }

  /** Clears every fault (back up if down) and restarts the fault PRNG. */
  async clearFaults(): Promise<void> {
    this.faults.clear();
    await this.transition;
  }

  stats(): ReferenceCloudStats {
    return { db: this.db.stats(), requests: { ...this.counters }, faults: { ...this.faults.counters } };
  }
}
