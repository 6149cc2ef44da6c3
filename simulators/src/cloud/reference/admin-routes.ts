/**
 * The reference cloud's admin API, for tests and the demo: what an operator of the order
 * system does (import orders, change a status, ask for a cancel) and the knobs of the fault
 * modes. Unsigned, under /admin; not part of the sync contract. Every order change lands in
 * the change log the gateway pulls (contracts/sync.ts Change).
 */
import { type Static, type TSchema, Type } from '@sinclair/typebox';
import { TypeCompiler } from '@sinclair/typebox/compiler';
import type { FastifyError, FastifyInstance } from 'fastify';
import { Id, Millis, OrderInWire } from '../../../../contracts/orders.js';
import { ORDER_STATUSES } from '../../../../contracts/sync.js';
import type { CloudDb, StoredEvent } from './cloud-db.js';
import { putFloor } from './cloud-floor.js';
import { cloudPicks, cloudStock } from './cloud-stock.js';
import { payOrder, requestCancel, setOrderStatus, upsertOrders } from './cloud-orders.js';
import { FaultPatch, type FaultModes } from './fault-modes.js';
import type { ListenerControl } from './listener-control.js';
import type { ShopAuthBook } from './shop-auth.js';
import type { SyncCounters } from './sync-routes.js';

const OrdersBody = Type.Array(OrderInWire, { minItems: 1, maxItems: 10_000 });
const Count = Type.Integer({ minimum: 0, maximum: 10_000_000 });
const FloorBody = Type.Object(
  {
    gateway_id: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
    locations: Type.Optional(
      Type.Array(
        Type.Object(
          {
            code: Type.String({ minLength: 1, maxLength: 128 }),
            zone: Type.String({ minLength: 1, maxLength: 64 }),
            aisle: Count,
            bay: Count,
            level: Count,
            walk_seq: Type.Optional(Type.Union([Count, Type.Null()])),
            kind: Type.Union([Type.Literal('pick'), Type.Literal('reserve')]),
            capacity: Type.Optional(Type.Union([Count, Type.Null()])),
            trigger: Type.Optional(Type.Union([Count, Type.Null()])),
          },
          { additionalProperties: false },
        ),
        { maxItems: 20_000 },
      ),
    ),
    stock: Type.Optional(
      Type.Array(
        Type.Object(
          { location: Type.String({ minLength: 1, maxLength: 128 }), sku: Type.String({ minLength: 1, maxLength: 64 }), qty: Count },
          { additionalProperties: false },
        ),
        {
          maxItems: 50_000,
        },
      ),
    ),
  },
  { additionalProperties: false },
);
const StatusBody = Type.Object({ status: Type.Union(ORDER_STATUSES.map((s) => Type.Literal(s))), at: Type.Optional(Millis) }, { additionalProperties: false });
const CancelBody = Type.Object(
  { request_id: Type.String({ minLength: 1, maxLength: 128 }), reason: Type.Optional(Type.String({ maxLength: 500 })) },
  { additionalProperties: false },
);
const OrderParams = Type.Object({ id: Id });

export const ADMIN_ERRORS = { invalid: 'ADMIN_INVALID', notFound: 'ADMIN_NOT_FOUND', conflict: 'ADMIN_CONFLICT' } as const;

class AdminError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details?: Record<string, unknown>,
  ) {
    super(message);
  }
}

function parse<T extends TSchema>(schema: T, value: unknown, what: string): Static<T> {
  const check = compiled(schema);
  if (check.Check(value)) return value;
  const first = check.Errors(value).First();
  throw new AdminError(400, ADMIN_ERRORS.invalid, `${what} is invalid`, first ? { path: first.path, message: first.message } : undefined);
}

const cache = new WeakMap<TSchema, ReturnType<typeof TypeCompiler.Compile>>();
function compiled<T extends TSchema>(schema: T) {
  let c = cache.get(schema);
  if (c === undefined) {
    c = TypeCompiler.Compile(schema);
    cache.set(schema, c);
  }
  return c as ReturnType<typeof TypeCompiler.Compile<T>>;
}

export interface AdminRouteContext {
  db: () => CloudDb;
  faults: FaultModes;
  listener: () => ListenerControl | null;
  counters: SyncCounters;
  now: () => number;
  shops?: ShopAuthBook;
}

const ShopAuthBody = Type.Object(
  { expires_at: Type.Union([Millis, Type.Null()]), platform: Type.Optional(Type.String({ maxLength: 32 })) },
  { additionalProperties: false },
);

/** An event as the admin API shows it: `data` parsed. */
export function eventView(e: StoredEvent): Omit<StoredEvent, 'data'> & { data: unknown } {
  return { ...e, data: JSON.parse(e.data) as unknown };
}

export async function adminRoutes(app: FastifyInstance, ctx: AdminRouteContext): Promise<void> {
  app.setErrorHandler((err: FastifyError | AdminError, _req, reply) => {
    if (err instanceof AdminError) {
      return reply.code(err.status).send({ error: { code: err.code, message: err.message, ...(err.details ? { details: err.details } : {}) } });
    }
    const status = err.statusCode ?? 500;
    return reply.code(status).send({ error: { code: status < 500 ? ADMIN_ERRORS.invalid : 'ADMIN_INTERNAL', message: err.message } });
  });

  // A request that asks for an outage still gets its answer (listener-control.ts).
  app.addHook('onRequest', async (req) => ctx.listener()?.spare(req.raw.socket));
  app.addHook('onResponse', async (req) => ctx.listener()?.release(req.raw.socket));

  app.post('/admin/orders', async (req) => {
    const orders = parse(OrdersBody, req.body, 'orders');
    const db = ctx.db();
    const r = db.transaction(() => upsertOrders(db, orders, ctx.now()));
    return { upserted: r.upserted.length, stale: r.stale, last_cursor: String(db.stats().lastCursor) };
  });

  // The floor for picking (docs/sync.md §17): locations and stock counts onto the change feed.
  app.post('/admin/floor', async (req) => {
    const body = parse(FloorBody, req.body, 'floor');
    const db = ctx.db();
    return db.transaction(() =>
      putFloor(
        db,
        {
          ...(body.locations !== undefined && { locations: body.locations }),
          ...(body.stock !== undefined && { stock: body.stock }),
          ...(body.gateway_id !== undefined && { gatewayId: body.gateway_id }),
        },
        ctx.now(),
      ),
    );
  });

  // The cloud's stock per SKU per location (cloud-stock.ts): count + the gateway's moves after it.
  app.get('/admin/stock', async (req) => {
    const q = req.query as { location?: string; gateway_id?: string };
    const stock = cloudStock(ctx.db().db).filter((r) => q.location === undefined || r.location === q.location);
    return { stock, ...(q.gateway_id !== undefined && { picks: cloudPicks(ctx.db().db, q.gateway_id) }) };
  });

  app.get('/admin/orders/:id', async (req) => {
    const { id } = parse(OrderParams, req.params, 'order id');
    const o = ctx.db().order(id);
    if (o === null) throw new AdminError(404, ADMIN_ERRORS.notFound, `order ${id} not found`);
    return { ...o, wire: JSON.parse(o.wire) as unknown };
  });

  app.post('/admin/orders/:id/status', async (req) => {
    const { id } = parse(OrderParams, req.params, 'order id');
    const body = parse(StatusBody, req.body, 'status');
    const db = ctx.db();
    const r = db.transaction(() => setOrderStatus(db, id, body.status, body.at ?? ctx.now()));
    if (r === null) throw new AdminError(404, ADMIN_ERRORS.notFound, `order ${id} not found`);
    return { order_id: id, status: body.status, revision: r.revision, cursor: String(r.cursor) };
  });

  // Presale (docs/sync.md §18): the buyer paid the balance; an `order.paid` change goes on the feed once.
  app.post('/admin/orders/:id/paid', async (req) => {
    const { id } = parse(OrderParams, req.params, 'order id');
    const db = ctx.db();
    const r = db.transaction(() => payOrder(db, id, ctx.now()));
    if (r === null) throw new AdminError(404, ADMIN_ERRORS.notFound, `order ${id} not found`);
    return { order_id: id, revision: r.revision, cursor: r.cursor === null ? null : String(r.cursor) };
  });

  app.post('/admin/orders/:id/cancel-request', async (req, reply) => {
    const { id } = parse(OrderParams, req.params, 'order id');
    const body = parse(CancelBody, req.body, 'cancel request');
    const db = ctx.db();
    const r = db.transaction(() => requestCancel(db, id, body.request_id, body.reason, ctx.now()));
    if (!r.ok) {
      if (r.why === 'unknown_order') throw new AdminError(404, ADMIN_ERRORS.notFound, `order ${id} not found`);
      throw new AdminError(409, ADMIN_ERRORS.conflict, `request id ${body.request_id} belongs to another order`);
    }
    reply.code(r.created ? 201 : 200);
    return { ...db.cancelRequest(body.request_id), cursor: r.cursor === null ? null : String(r.cursor) };
  });

  app.get('/admin/cancel-requests/:id', async (req) => {
    const { id } = req.params as { id: string };
    const c = ctx.db().cancelRequest(id);
    if (c === null) throw new AdminError(404, ADMIN_ERRORS.notFound, `cancel request ${id} not found`);
    return { ...c, answer: c.answer === null ? null : (JSON.parse(c.answer) as unknown) };
  });

  /** Sets when a shop's platform authorisation expires (null: never), as the owner renewing it would. */
  app.put('/admin/shops/:shop/authorisation', async (req) => {
    const { shop } = req.params as { shop: string };
    const body = parse(ShopAuthBody, req.body, 'shop authorisation');
    if (ctx.shops === undefined) throw new AdminError(404, ADMIN_ERRORS.notFound, 'shop authorisations are not enabled');
    return ctx.shops.put(shop, body.expires_at, body.platform);
  });

  /**
   * Appends a change exactly as given (`{kind, ...fields}`, the cursor is added): how a test
   * plays a cloud that sends a change the gateway cannot apply (a poison change).
   */
  app.post('/admin/changes/raw', async (req) => {
    const body = req.body as Record<string, unknown> | null;
    if (body === null || typeof body !== 'object' || Array.isArray(body)) throw new AdminError(400, ADMIN_ERRORS.invalid, 'a raw change is a JSON object');
    const { kind, ...rest } = body;
    const cursor = ctx.db().appendChange(typeof kind === 'string' ? kind : String(kind), rest, ctx.now());
    return { cursor: String(cursor) };
  });

  app.get('/admin/faults', async () => ({ faults: ctx.faults.current, counters: ctx.faults.counters }));

  /** Replaces the fault settings: modes not named are cleared (`{}` clears them all). */
  app.put('/admin/faults', async (req) => {
    const patch = parse(FaultPatch, req.body ?? {}, 'faults');
    try {
      ctx.faults.replace(patch);
    } catch (err) {
      throw new AdminError(400, ADMIN_ERRORS.invalid, `faults are invalid: ${(err as Error).message}`);
    }
    return { faults: ctx.faults.current };
  });

  app.get('/admin/stats', async () => ({
    ...ctx.db().stats(),
    requests: ctx.counters,
    faults: { current: ctx.faults.current, counters: ctx.faults.counters },
  }));

  app.get('/admin/gateways/:gw/events', async (req) => {
    const { gw } = req.params as { gw: string };
    const q = req.query as { after?: string; limit?: string };
    const after = q.after === undefined ? 0 : Number(q.after);
    const limit = q.limit === undefined ? 100 : Number(q.limit);
    if (!Number.isSafeInteger(after) || after < 0 || !Number.isSafeInteger(limit) || limit < 1 || limit > 10_000) {
      throw new AdminError(400, ADMIN_ERRORS.invalid, 'after must be an integer >= 0 and limit 1..10000');
    }
    const db = ctx.db();
    if (db.gateway(gw) === null) throw new AdminError(404, ADMIN_ERRORS.notFound, `gateway ${gw} not found`);
    const events = db.events(gw, after, limit).map(eventView);
    return { hwm: db.hwm(gw), events, next_after: events.length > 0 ? events[events.length - 1]!.seq : after };
  });
}
