/**
 * The sync API of the reference cloud, exactly contracts/sync.ts SYNC_PATHS: batches,
 * retries, the cursor and the change feed. Every request is authenticated on its raw bytes
 * (request-check.ts); refusals answer SyncErrorBody with a SYNC_REQUEST_ERRORS code. Fault
 * modes (fault-modes.ts) act here, around the handling.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { TypeCompiler } from '@sinclair/typebox/compiler';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import {
  type BatchAck,
  BatchBody,
  type Change,
  type ChangesPage,
  type CursorReply,
  RetryBody,
  type ShopAuthorisations,
  SYNC_HEADERS,
  SYNC_LIMITS,
  SYNC_PROTOCOL_VERSION,
  SYNC_REQUEST_ERRORS,
} from '../../../../contracts/sync.js';
import type { SimLogger } from '../../lib/logger.js';
import { ingestBatch, ingestRetry } from './batch-ingest.js';
import type { CloudDb } from './cloud-db.js';
import { type CloudRules, judgeEvent } from './event-rules.js';
import type { FaultModes } from './fault-modes.js';
import type { ShopAuthBook } from './shop-auth.js';
import { SyncRequestError, authenticate, checkBatchShape, checkRetryShape, decodeBody, parseCursor, parseLimit, tooLarge } from './request-check.js';

const checkBatch = TypeCompiler.Compile(BatchBody);
const checkRetry = TypeCompiler.Compile(RetryBody);

/** Code of the 503 the errorShare fault mode answers (the cloud's own; not a request error). */
export const UNAVAILABLE_CODE = 'SYNC_UNAVAILABLE';
/** Changes per page when the gateway names no limit. */
export const DEFAULT_CHANGE_PAGE = 500;

export interface SyncCounters {
  batches: number;
  retries: number;
  cursorReads: number;
  changePages: number;
  eventsStored: number;
  redeliveries: number;
  gaps: number;
  conflicts: number;
  /** Requests refused with a 4xx (auth, malformed, too large). */
  refused: number;
}

export interface SyncRouteContext {
  db: () => CloudDb;
  faults: FaultModes;
  rules: CloudRules;
  now: () => number;
  log: SimLogger;
  skewMs: number;
  counters: SyncCounters;
  /** Shop authorisations (GET …/shops); absent: the route answers 404 like a cloud without it. */
  shops?: ShopAuthBook;
}

export function newSyncCounters(): SyncCounters {
  return { batches: 0, retries: 0, cursorReads: 0, changePages: 0, eventsStored: 0, redeliveries: 0, gaps: 0, conflicts: 0, refused: 0 };
}

type GwRoute = { Params: { gw: string }; Querystring: Record<string, string | undefined> };
type GwRequest = FastifyRequest<GwRoute>;

/** Registers the sync routes in their own encapsulated scope (raw-bytes body parser). */
export async function syncRoutes(app: FastifyInstance, ctx: SyncRouteContext): Promise<void> {
  // The signature covers the compressed bytes: keep them as they came, parse nothing.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: SYNC_LIMITS.maxWireBytes }, (_req, body, done) => done(null, body));

  app.setErrorHandler((err: FastifyError | SyncRequestError, req, reply) => {
    const e = toSyncError(err);
    if (e.status < 500) ctx.counters.refused += 1;
    ctx.log.warn({ url: req.url, status: e.status, code: e.code, err: e.message }, 'sync request refused');
    return reply.code(e.status).send(e.toBody());
  });

  /** The last answer per gateway, replayed by the duplicateAck fault mode. */
  const lastAnswer = new Map<string, BatchAck>();
  const keyOf = (id: string) => ctx.db().gateway(id)?.key ?? null;

  const auth = (req: GwRequest) => {
    const body = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
    try {
      authenticate({ method: req.method, url: req.raw.url ?? req.url, headers: req.headers, body }, req.params.gw, {
        keyOf,
        now: ctx.now(),
        skewMs: ctx.skewMs,
      });
    } catch (err) {
      const forged = err instanceof SyncRequestError && err.message === 'signature does not verify';
      if (!(forged && ctx.faults.has('accepts_bad_signature'))) throw err;
    }
    // The contract version of the request (contracts/sync.ts SYNC_PROTOCOL_VERSION): absent is 1.
    const v = req.headers[SYNC_HEADERS.version];
    if (v !== undefined && v !== String(SYNC_PROTOCOL_VERSION)) {
      throw new SyncRequestError(400, SYNC_REQUEST_ERRORS.versionUnsupported, `sync contract version ${String(v).slice(0, 20)} is not spoken here`, {
        supported: [SYNC_PROTOCOL_VERSION],
      });
    }
    return body;
  };

  /** Every answer carries the contract version; the answer fault modes act here. */
  const answer = <T extends object>(a: T, readable = true): object => {
    if (!readable && ctx.faults.current.unreadableAnswers) return { status: 'ok', received: true };
    const out: Record<string, unknown> = { v: SYNC_PROTOCOL_VERSION, ...a };
    if (ctx.faults.current.extraAnswerFields) {
      out['server_time'] = ctx.now();
      out['x_vendor'] = { region: 'cn-hangzhou', shard: 7 };
      for (const list of ['rejected', 'changes', 'shops']) {
        const items = out[list];
        if (Array.isArray(items)) out[list] = items.map((x: object) => ({ ...x, trace_id: 'tr-1' }));
      }
    }
    return out;
  };

  /** Latency, hang, 503 and reset act before anything is read or stored. Returns false when the request is dealt with. */
  const preFaults = async (req: FastifyRequest, reply: FastifyReply): Promise<boolean> => {
    const delay = ctx.faults.delayMs();
    if (delay > 0) await sleep(delay);
    switch (ctx.faults.requestFault()) {
      case 'hang':
        reply.hijack(); // never answered; the socket goes at stop() or when the cloud goes down
        return false;
      case 'reset':
        reply.hijack();
        req.raw.socket.destroy();
        return false;
      case 'error':
        await reply.code(503).send({ error: { code: UNAVAILABLE_CODE, message: 'injected fault: service unavailable' } });
        return false;
      default:
        return true;
    }
  };

  app.post<GwRoute>('/sync/v1/gateways/:gw/batches', async (req, reply) => {
    if (!(await preFaults(req, reply))) return reply;
    const gw = req.params.gw;
    const raw = auth(req);
    const batch = await decodeBody(raw, checkBatch);
    const key = req.headers[SYNC_HEADERS.idempotencyKey];
    checkBatchShape(batch, gw, Array.isArray(key) ? key[0] : key, { contiguity: !ctx.faults.has('accepts_non_contiguous') });
    ctx.counters.batches += 1;
    const db = ctx.db();
    const hwmBefore = db.hwm(gw);
    const out = ingestBatch(db, gw, batch, {
      judge: (e) => judgeEvent(db, ctx.rules, e, (s) => ctx.faults.rejectsEvent(s)),
      maxNew: ctx.faults.maxNewEvents(),
      now: ctx.now(),
      ackAcrossGaps: ctx.faults.has('acks_across_gaps'),
      repeatRejections: !ctx.faults.has('forgets_rejections'),
    });
    if (ctx.faults.has('unflagged_duplicates')) delete out.ack.duplicate;
    ctx.counters.eventsStored += out.stored;
    ctx.counters.redeliveries += out.redelivered;
    ctx.counters.conflicts += out.conflicts;
    if (out.gap) ctx.counters.gaps += 1;
    if (out.heldBack > 0) ctx.faults.noteSlowDrain();
    if (out.gap) ctx.log.warn({ gw, hwm: hwmBefore, first: batch.first_seq }, 'gap before the batch; acked at hwm');
    const previous = lastAnswer.get(gw) ?? { acked_seq: hwmBefore, rejected: [] };
    lastAnswer.set(gw, out.ack);
    switch (ctx.faults.answerFault(true)) {
      case 'lost_ack':
        reply.hijack(); // stored and committed; the gateway never hears it and must resend
        req.raw.socket.destroy();
        return reply;
      case 'duplicate_ack':
        return answer(previous, false);
      default:
        return answer(out.ack, false);
    }
  });

  app.post<GwRoute>('/sync/v1/gateways/:gw/retries', async (req, reply) => {
    if (!(await preFaults(req, reply))) return reply;
    const gw = req.params.gw;
    const raw = auth(req);
    const body = await decodeBody(raw, checkRetry);
    checkRetryShape(
      body.gateway_id,
      gw,
      body.events.map((e) => e.seq),
    );
    ctx.counters.retries += 1;
    const db = ctx.db();
    const out = ingestRetry(db, gw, body, {
      judge: (e) => judgeEvent(db, ctx.rules, e, (s) => ctx.faults.rejectsEvent(s)),
      now: ctx.now(),
    });
    if (ctx.faults.answerFault(false) === 'lost_ack') {
      reply.hijack();
      req.raw.socket.destroy();
      return reply;
    }
    if (ctx.faults.has('retry_without_accepted')) return answer({ acked_seq: out.ack.acked_seq, rejected: out.ack.rejected }, false);
    return answer(out.ack, false);
  });

  app.get<GwRoute>('/sync/v1/gateways/:gw/cursor', async (req, reply) => {
    if (!(await preFaults(req, reply))) return reply;
    auth(req);
    ctx.counters.cursorReads += 1;
    const reply_: CursorReply = { acked_seq: ctx.db().hwm(req.params.gw) };
    return answer(reply_);
  });

  app.get<GwRoute>('/sync/v1/gateways/:gw/shops', async (req, reply) => {
    if (!(await preFaults(req, reply))) return reply;
    auth(req);
    if (ctx.shops === undefined) return reply.code(404).send({ error: { code: 'SYNC_NOT_FOUND', message: 'this cloud does not publish shop authorisations' } });
    const shops: ShopAuthorisations = { shops: ctx.shops.list(ctx.db()), server_time: ctx.now() };
    return answer(shops);
  });

  app.get<GwRoute>('/sync/v1/gateways/:gw/changes', async (req, reply) => {
    if (!(await preFaults(req, reply))) return reply;
    auth(req);
    const afterRaw = req.query.after ?? '';
    const after = parseCursor(afterRaw);
    const limit = ctx.faults.has('ignores_change_limit') ? SYNC_LIMITS.maxChanges : parseLimit(req.query.limit, DEFAULT_CHANGE_PAGE);
    const rows = ctx.db().changes(after, limit + 1);
    const page = rows.slice(0, limit);
    ctx.counters.changePages += 1;
    const changes: ChangesPage = {
      changes: page.map((r) => ({ cursor: String(r.cursor), kind: r.kind, ...JSON.parse(r.body) }) as Change),
      // The request's own cursor when nothing is new (sync.ts ChangesPage.next_cursor).
      next_cursor: page.length > 0 ? String(page[page.length - 1]!.cursor) : ctx.faults.has('empty_page_loses_cursor') ? '' : afterRaw,
      has_more: rows.length > limit,
    };
    return answer(changes, false);
  });
}

function toSyncError(err: FastifyError | SyncRequestError): SyncRequestError {
  if (err instanceof SyncRequestError) return err;
  const status = err.statusCode ?? 500;
  if (status === 413) return tooLarge(err.message);
  if (status >= 400 && status < 500) return new SyncRequestError(status === 415 ? 400 : status, SYNC_REQUEST_ERRORS.malformed, err.message);
  return new SyncRequestError(500, 'SYNC_INTERNAL', err.message);
}
