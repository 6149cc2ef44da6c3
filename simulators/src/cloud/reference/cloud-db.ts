/**
 * The reference cloud's SQLite store. It keeps what contracts/sync.ts says a cloud keeps:
 *
 * - `events`: every event of every gateway, keyed by the permanent natural key
 *   (gateway_id, seq) — the dedupe key, never a TTL'd idempotency cache (sync.ts header) —
 *   with its status (`accepted` or `rejected`, the cloud's code and reason) and how many times
 *   it was delivered;
 * - `gateways.hwm`: the highest CONTIGUOUS seq stored per gateway, the cumulative ack;
 * - `orders`, `cancel_requests`: the order system's own state, moved by admin calls and by the
 *   effects of accepted events;
 * - `stock_counts`, `stock_moves`, `pick_lines`: stock per SKU per location (cloud-stock.ts);
 * - `changes`: the global change log the gateway pulls with an opaque cursor (here the
 *   integer row id as decimal text).
 *
 * WAL with synchronous=FULL: a commit is on disk before the ack leaves (store-then-ack).
 * Callers group everything one request does in {@link CloudDb.transaction}.
 */
import Database, { type Database as Db, type Statement } from 'better-sqlite3';
import { STOCK_SCHEMA } from './cloud-stock.js';

export const CLOUD_SCHEMA_VERSION = 1;

const SCHEMA = `
  CREATE TABLE IF NOT EXISTS gateways (
    id         TEXT PRIMARY KEY,
    key        TEXT NOT NULL,
    -- highest contiguous seq stored for this gateway (sync.ts BatchAck.acked_seq)
    hwm        INTEGER NOT NULL DEFAULT 0,
    created_at INTEGER NOT NULL
  );

  CREATE TABLE IF NOT EXISTS events (
    gateway_id     TEXT NOT NULL,
    seq            INTEGER NOT NULL,
    hlc            TEXT NOT NULL,
    boot           INTEGER NOT NULL,
    clock_unsynced INTEGER NOT NULL,
    type           TEXT NOT NULL,
    subject        TEXT NOT NULL,
    data           TEXT NOT NULL,
    -- SHA-256 of the content as first received; a redelivery with another hash is a conflict
    hash           TEXT NOT NULL,
    status         TEXT NOT NULL CHECK (status IN ('accepted','rejected')),
    code           TEXT,
    reason         TEXT,
    received_at    INTEGER NOT NULL,
    -- 1 on first delivery, incremented for every redelivery
    deliveries     INTEGER NOT NULL DEFAULT 1,
    retried_at     INTEGER,
    PRIMARY KEY (gateway_id, seq)
  ) WITHOUT ROWID;
  CREATE INDEX IF NOT EXISTS events_rejected ON events(gateway_id, seq) WHERE status = 'rejected';

  -- Redeliveries whose content differed from the stored event (the stored one stays).
  CREATE TABLE IF NOT EXISTS conflicts (
    id            INTEGER PRIMARY KEY,
    gateway_id    TEXT NOT NULL,
    seq           INTEGER NOT NULL,
    stored_hash   TEXT NOT NULL,
    received_hash TEXT NOT NULL,
    received      TEXT NOT NULL,
    at            INTEGER NOT NULL
  );

  CREATE TABLE IF NOT EXISTS orders (
    order_id          TEXT PRIMARY KEY,
    wire              TEXT NOT NULL,            -- contracts/orders.ts OrderInWire, current revision
    revision          INTEGER NOT NULL,
    refund_requested  INTEGER NOT NULL DEFAULT 0,
    refunded          INTEGER NOT NULL DEFAULT 0,
    cancelled         INTEGER NOT NULL DEFAULT 0,
    platform_closed   INTEGER NOT NULL DEFAULT 0,
    shipped_elsewhere INTEGER NOT NULL DEFAULT 0,
    -- set by an accepted shipment.shipped event
    shipped_at        INTEGER,
    shipped_by        TEXT,                     -- '<gateway>:<seq>'
    updated_at        INTEGER NOT NULL
  );

  CREATE TABLE IF NOT EXISTS changes (
    cursor INTEGER PRIMARY KEY AUTOINCREMENT,
    kind   TEXT NOT NULL,
    body   TEXT NOT NULL,                       -- the Change without its cursor
    at     INTEGER NOT NULL
  );

  CREATE TABLE IF NOT EXISTS cancel_requests (
    request_id   TEXT PRIMARY KEY,
    order_id     TEXT NOT NULL,
    reason       TEXT,
    state        TEXT NOT NULL CHECK (state IN ('pending','accepted','refused')),
    answer       TEXT,                          -- data of the gateway's answer event
    requested_at INTEGER NOT NULL,
    answered_at  INTEGER,
    answered_by  TEXT                           -- '<gateway>:<seq>'
  );
`;

export type EventStatus = 'accepted' | 'rejected';

/** One stored event (the columns of `events`). */
export interface StoredEvent {
  gateway_id: string;
  seq: number;
  hlc: string;
  boot: number;
  clock_unsynced: number;
  type: string;
  subject: string;
  /** JSON text. */
  data: string;
  hash: string;
  status: EventStatus;
  code: string | null;
  reason: string | null;
  received_at: number;
  deliveries: number;
  retried_at: number | null;
}

export type NewEvent = Omit<StoredEvent, 'deliveries' | 'retried_at'>;

export interface OrderRow {
  order_id: string;
  wire: string;
  revision: number;
  refund_requested: number;
  refunded: number;
  cancelled: number;
  platform_closed: number;
  shipped_elsewhere: number;
  shipped_at: number | null;
  shipped_by: string | null;
  updated_at: number;
}

export interface ChangeRow {
  cursor: number;
  kind: string;
  body: string;
  at: number;
}

export interface CancelRequestRow {
  request_id: string;
  order_id: string;
  reason: string | null;
  state: 'pending' | 'accepted' | 'refused';
  answer: string | null;
  requested_at: number;
  answered_at: number | null;
  answered_by: string | null;
}

export interface GatewayDbStats {
  hwm: number;
  events: number;
  rejected: number;
  /** Redeliveries received (sum of deliveries - 1). */
  redeliveries: number;
  conflicts: number;
}

export interface CloudDbStats {
  gateways: Record<string, GatewayDbStats>;
  orders: number;
  changes: number;
  lastCursor: number;
  cancelRequests: { pending: number; accepted: number; refused: number };
}

export class CloudDb {
  readonly db: Db;
  private readonly st: Record<string, Statement>;

  /** Opens (and creates) the store. `readonly` is for the checker and tests looking in. */
  constructor(
    readonly path: string,
    opts: { readonly?: boolean } = {},
  ) {
    this.db = new Database(path, opts.readonly ? { readonly: true, fileMustExist: true } : {});
    if (!opts.readonly) {
      this.db.pragma('journal_mode = WAL');
      this.db.pragma('synchronous = FULL');
      this.db.pragma('busy_timeout = 5000');
      this.db.exec(SCHEMA);
      // The WMS stock model (cloud-stock.ts): counts, the gateway's moves, wave lines.
      this.db.exec(STOCK_SCHEMA);
      this.db.pragma(`user_version = ${CLOUD_SCHEMA_VERSION}`);
    }
    const p = (sql: string) => this.db.prepare(sql);
    this.st = opts.readonly
      ? {}
      : {
          putGateway: p(`INSERT INTO gateways(id, key, created_at) VALUES (?, ?, ?)
                         ON CONFLICT(id) DO UPDATE SET key = excluded.key`),
          setHwm: p('UPDATE gateways SET hwm = ? WHERE id = ?'),
          insertEvent: p(`INSERT INTO events(gateway_id, seq, hlc, boot, clock_unsynced, type, subject, data, hash,
                           status, code, reason, received_at)
                          VALUES (@gateway_id, @seq, @hlc, @boot, @clock_unsynced, @type, @subject, @data, @hash,
                           @status, @code, @reason, @received_at)`),
          bumpDeliveries: p('UPDATE events SET deliveries = deliveries + 1 WHERE gateway_id = ? AND seq BETWEEN ? AND ?'),
          setStatus: p('UPDATE events SET status = ?, code = ?, reason = ?, retried_at = ? WHERE gateway_id = ? AND seq = ?'),
          conflict: p(`INSERT INTO conflicts(gateway_id, seq, stored_hash, received_hash, received, at)
                       VALUES (?, ?, ?, ?, ?, ?)`),
          putOrder: p(`INSERT INTO orders(order_id, wire, revision, refund_requested, refunded, cancelled, platform_closed,
                        shipped_elsewhere, shipped_at, shipped_by, updated_at)
                       VALUES (@order_id, @wire, @revision, @refund_requested, @refunded, @cancelled, @platform_closed,
                        @shipped_elsewhere, @shipped_at, @shipped_by, @updated_at)
                       ON CONFLICT(order_id) DO UPDATE SET wire = excluded.wire, revision = excluded.revision,
                        refund_requested = excluded.refund_requested, refunded = excluded.refunded,
                        cancelled = excluded.cancelled, platform_closed = excluded.platform_closed,
                        shipped_elsewhere = excluded.shipped_elsewhere, shipped_at = excluded.shipped_at,
                        shipped_by = excluded.shipped_by, updated_at = excluded.updated_at`),
          appendChange: p('INSERT INTO changes(kind, body, at) VALUES (?, ?, ?)'),
          putCancel: p(`INSERT INTO cancel_requests(request_id, order_id, reason, state, requested_at)
                        VALUES (?, ?, ?, 'pending', ?)`),
          answerCancel: p(`UPDATE cancel_requests SET state = ?, answer = ?, answered_at = ?, answered_by = ?
                           WHERE request_id = ?`),
        };
    Object.assign(this.st, {
      gateway: p('SELECT id, key, hwm FROM gateways WHERE id = ?'),
      range: p(`SELECT seq, hash, status, code, reason FROM events
                WHERE gateway_id = ? AND seq BETWEEN ? AND ? ORDER BY seq`),
      event: p('SELECT * FROM events WHERE gateway_id = ? AND seq = ?'),
      events: p('SELECT * FROM events WHERE gateway_id = ? AND seq > ? ORDER BY seq LIMIT ?'),
      order: p('SELECT * FROM orders WHERE order_id = ?'),
      changes: p('SELECT cursor, kind, body, at FROM changes WHERE cursor > ? ORDER BY cursor LIMIT ?'),
      cancel: p('SELECT * FROM cancel_requests WHERE request_id = ?'),
      conflicts: p('SELECT * FROM conflicts WHERE gateway_id = ? ORDER BY id'),
    });
  }

  close(): void {
    if (this.db.open) this.db.close();
  }

  /** Runs `fn` in one immediate transaction (all or nothing, one fsync at commit). */
  transaction<T>(fn: () => T): T {
    return this.db.transaction(fn).immediate();
  }

  // ---- gateways -------------------------------------------------------------------------

  putGateway(id: string, key: string, at: number): void {
    this.st.putGateway!.run(id, key, at);
  }

  gateway(id: string): { id: string; key: string; hwm: number } | null {
    return (this.st.gateway!.get(id) as { id: string; key: string; hwm: number } | undefined) ?? null;
  }

  hwm(gatewayId: string): number {
    return this.gateway(gatewayId)?.hwm ?? 0;
  }

  setHwm(gatewayId: string, hwm: number): void {
    this.st.setHwm!.run(hwm, gatewayId);
  }

  // ---- events ---------------------------------------------------------------------------

  /** Stored seqs in [from, to] with what a redelivery is compared against. */
  storedRange(gatewayId: string, from: number, to: number): Pick<StoredEvent, 'seq' | 'hash' | 'status' | 'code' | 'reason'>[] {
    return this.st.range!.all(gatewayId, from, to) as Pick<StoredEvent, 'seq' | 'hash' | 'status' | 'code' | 'reason'>[];
  }

  insertEvent(e: NewEvent): void {
    this.st.insertEvent!.run(e);
  }

  bumpDeliveries(gatewayId: string, from: number, to: number): void {
    this.st.bumpDeliveries!.run(gatewayId, from, to);
  }

  setEventStatus(gatewayId: string, seq: number, status: EventStatus, code: string | null, reason: string | null, at: number): void {
    this.st.setStatus!.run(status, code, reason, at, gatewayId, seq);
  }

  recordConflict(gatewayId: string, seq: number, storedHash: string, receivedHash: string, received: string, at: number): void {
    this.st.conflict!.run(gatewayId, seq, storedHash, receivedHash, received, at);
  }

  event(gatewayId: string, seq: number): StoredEvent | null {
    return (this.st.event!.get(gatewayId, seq) as StoredEvent | undefined) ?? null;
  }

  events(gatewayId: string, after: number, limit: number): StoredEvent[] {
    return this.st.events!.all(gatewayId, after, limit) as StoredEvent[];
  }

  conflicts(gatewayId: string): { seq: number; stored_hash: string; received_hash: string; received: string; at: number }[] {
    return this.st.conflicts!.all(gatewayId) as { seq: number; stored_hash: string; received_hash: string; received: string; at: number }[];
  }

  // ---- orders, changes, cancel requests -------------------------------------------------

  order(orderId: string): OrderRow | null {
    return (this.st.order!.get(orderId) as OrderRow | undefined) ?? null;
  }

  putOrder(row: OrderRow): void {
    this.st.putOrder!.run(row);
  }

  /** Distinct shops of the stored orders (for the shop authorisation list). */
  shops(): string[] {
    return (
      this.db
        .prepare("SELECT DISTINCT json_extract(wire, '$.shop') AS shop FROM orders WHERE json_extract(wire, '$.shop') IS NOT NULL")
        .pluck()
        .all() as string[]
    ).filter((s) => typeof s === 'string' && s.length > 0);
  }

  /** Appends to the change log; returns the new cursor. */
  appendChange(kind: string, body: object, at: number): number {
    return Number(this.st.appendChange!.run(kind, JSON.stringify(body), at).lastInsertRowid);
  }

  changes(after: number, limit: number): ChangeRow[] {
    return this.st.changes!.all(after, limit) as ChangeRow[];
  }

  cancelRequest(requestId: string): CancelRequestRow | null {
    return (this.st.cancel!.get(requestId) as CancelRequestRow | undefined) ?? null;
  }

  putCancelRequest(requestId: string, orderId: string, reason: string | null, at: number): void {
    this.st.putCancel!.run(requestId, orderId, reason, at);
  }

  answerCancelRequest(requestId: string, state: 'accepted' | 'refused', answer: string, at: number, by: string): void {
    this.st.answerCancel!.run(state, answer, at, by, requestId);
  }

  // ---- stats ----------------------------------------------------------------------------

  stats(): CloudDbStats {
    const gateways: Record<string, GatewayDbStats> = {};
    const rows = this.db
      .prepare(
        `SELECT g.id AS id, g.hwm AS hwm,
           (SELECT COUNT(*) FROM events e WHERE e.gateway_id = g.id) AS events,
           (SELECT COUNT(*) FROM events e WHERE e.gateway_id = g.id AND e.status = 'rejected') AS rejected,
           (SELECT COALESCE(SUM(deliveries - 1), 0) FROM events e WHERE e.gateway_id = g.id) AS redeliveries,
           (SELECT COUNT(*) FROM conflicts c WHERE c.gateway_id = g.id) AS conflicts
         FROM gateways g ORDER BY g.id`,
      )
      .all() as (GatewayDbStats & { id: string })[];
    for (const { id, ...s } of rows) gateways[id] = s;
    const one = (sql: string) => Number((this.db.prepare(sql).pluck().get() as number | null) ?? 0);
    const cancels = this.db.prepare('SELECT state, COUNT(*) AS n FROM cancel_requests GROUP BY state').all() as { state: string; n: number }[];
    const cancelRequests = { pending: 0, accepted: 0, refused: 0 };
    for (const c of cancels) cancelRequests[c.state as keyof typeof cancelRequests] = c.n;
    return {
      gateways,
      orders: one('SELECT COUNT(*) FROM orders'),
      changes: one('SELECT COUNT(*) FROM changes'),
      lastCursor: one('SELECT COALESCE(MAX(cursor), 0) FROM changes'),
      cancelRequests,
    };
  }
}
