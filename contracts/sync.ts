/**
 * The cloud sync wire contract (docs/sync.md is its prose form): what the gateway sends to
 * the cloud order system, what the cloud answers, and the cloud's change feed the gateway
 * pulls. The gateway (cloud-sync/), the reference cloud (simulators/src/cloud/reference/) and
 * the sync benchmark all import this one module, so the two sides cannot drift.
 *
 * Guarantees (docs/sync.md §1):
 * - Upstream is at-least-once; the cloud dedupes on the permanent natural key
 *   (gateway_id, seq), never on a TTL'd idempotency cache: an outage may last longer than
 *   any such cache lives. The effect is exactly once.
 * - The cloud acknowledges the highest CONTIGUOUS seq it has durably stored (a cumulative
 *   ack, like TCP or a Kafka offset); the gateway advances its cursor only on that ack.
 * - An event the cloud refuses (validation, business rule) is still stored, as rejected, and
 *   counted in the ack, so it never blocks the events behind it; it is reported back in
 *   `rejected` with the cloud's reason and can be resubmitted after a fix (retries).
 * - The change feed is read with an opaque cursor, never by time window.
 *
 * Pure: no I/O; node:crypto and node:zlib are used only for the signature and body codec.
 */
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { type Static, type TSchema, Type } from '@sinclair/typebox';
import { Id, Millis, Nullable, OrderInWire } from './orders.js';

/**
 * The contract version, in every request (`v` of a body, and the {@link SYNC_HEADERS.version}
 * header on every request) and every answer (`v`). Compatibility rule (docs/sync.md §1.1):
 * - additive changes (a new optional field, a new error code, a new change kind or event
 *   type) do NOT change the version: every reader ignores fields it does not know, and a
 *   change kind it does not know is rejected alone (the feed moves on);
 * - anything else (a field removed, renamed, retyped or made required, a meaning changed)
 *   is a new version. A cloud refuses a request version it does not speak with 400
 *   SYNC_VERSION_UNSUPPORTED; the gateway treats an answer whose `v` it does not speak (an
 *   absent `v` is read as 1) as a contract error.
 */
export const SYNC_PROTOCOL_VERSION = 1;

/**
 * Every wire object is open: fields a reader does not know are ignored (and counted by the
 * gateway), so a newer peer can add optional fields without breaking an older one.
 */
const WIRE = { additionalProperties: true } as const;
/**
 * A copy of a schema shared with a stricter API (the HTTP order import refuses unknown fields,
 * docs/http.md) that is open like every sync wire object.
 */
function openCopy<T extends TSchema>(schema: T): T {
  const walk = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(walk);
    if (v === null || typeof v !== 'object') return v;
    const out: Record<string | symbol, unknown> = {};
    for (const k of Reflect.ownKeys(v)) {
      const x = (v as Record<string | symbol, unknown>)[k];
      out[k] = k === 'additionalProperties' && x === false ? true : walk(x);
    }
    return out;
  };
  return walk(schema) as T;
}

/** `v` of an answer: optional (absent = 1), see {@link SYNC_PROTOCOL_VERSION}. */
const AnswerVersion = Type.Optional(Type.Integer({ minimum: 1, description: 'contract version of the answer; absent = 1' }));

/** Paths under the cloud's base URL. `{gw}` is the gateway id. */
export const SYNC_PATHS = {
  /** POST, gzip JSON {@link BatchBody} → {@link BatchAck}. */
  batches: (gw: string) => `/sync/v1/gateways/${encodeURIComponent(gw)}/batches`,
  /** POST, gzip JSON {@link RetryBody} → {@link BatchAck}: resubmits events that were rejected. */
  retries: (gw: string) => `/sync/v1/gateways/${encodeURIComponent(gw)}/retries`,
  /** GET → {@link CursorReply}: the cloud's side of the two-sided checkpoint. */
  cursor: (gw: string) => `/sync/v1/gateways/${encodeURIComponent(gw)}/cursor`,
  /** GET ?after=<cursor>&limit=<n> → {@link ChangesPage} (signed like a batch, empty body). */
  changes: (gw: string) => `/sync/v1/gateways/${encodeURIComponent(gw)}/changes`,
  /**
   * GET → {@link ShopAuthorisations} (signed like the cursor, empty body): when the platform
   * authorisation of each shop this gateway ships for expires. Optional for a cloud: a 404
   * means it does not publish them (the gateway's preflight then says "unknown").
   */
  shops: (gw: string) => `/sync/v1/gateways/${encodeURIComponent(gw)}/shops`,
} as const;

/** Request headers (lower case, as Node delivers them). */
export const SYNC_HEADERS = {
  gateway: 'x-packline-gateway',
  /** Epoch ms when the request was signed (the cloud may refuse a stale one). */
  timestamp: 'x-packline-timestamp',
  /** `v1=<hex HMAC-SHA256>` over {@link signingString}. */
  signature: 'x-packline-signature',
  /** `<gateway>:<first seq>-<last seq>` for batches; the same batch always has the same key. */
  idempotencyKey: 'idempotency-key',
  /** The contract version the request speaks ({@link SYNC_PROTOCOL_VERSION}); on every request. */
  version: 'x-packline-sync-version',
} as const;

/** Bounds a batch (the gateway closes a batch at whichever is reached first). */
export const SYNC_LIMITS = {
  /** Largest number of events in one batch the cloud must accept. */
  maxBatchEvents: 5_000,
  /** Largest uncompressed batch body the cloud must accept. */
  maxBatchBytes: 4 * 1024 * 1024,
  /** Largest compressed request body the cloud must accept. */
  maxWireBytes: 2 * 1024 * 1024,
  /** Largest change page. */
  maxChanges: 1_000,
  /** A request signed more than this far from the cloud's clock may be refused (replay window). */
  signatureSkewMs: 15 * 60_000,
} as const;

// ---- upstream: events ----------------------------------------------------------------

/** One event of the gateway's append-only log, as it travels. */
export const SyncEvent = Type.Object(
  {
    seq: Type.Integer({ minimum: 1, description: 'gap-free per gateway' }),
    hlc: Type.String({ pattern: '^\\d{13}\\.\\d{6}$', description: 'hybrid logical clock wallMs.counter' }),
    boot: Type.Integer({ minimum: 0, description: 'boot counter when recorded' }),
    clock_unsynced: Type.Boolean({ description: 'recorded before the wall clock was known to be synchronised' }),
    type: Type.String({ minLength: 1, maxLength: 64 }),
    subject: Type.String({ minLength: 1, maxLength: 200 }),
    data: Type.Unknown(),
  },
  WIRE,
);
export type SyncEvent = Static<typeof SyncEvent>;

export const BatchBody = Type.Object(
  {
    v: Type.Literal(SYNC_PROTOCOL_VERSION),
    gateway_id: Id,
    first_seq: Type.Integer({ minimum: 1 }),
    last_seq: Type.Integer({ minimum: 1 }),
    /** Gateway wall time when the batch was built (information only; ordering is by seq). */
    sent_at: Millis,
    events: Type.Array(SyncEvent, { minItems: 1, maxItems: SYNC_LIMITS.maxBatchEvents }),
  },
  WIRE,
);
export type BatchBody = Static<typeof BatchBody>;

/** Resubmission of events the cloud rejected before; any seqs, in ascending order. */
export const RetryBody = Type.Object(
  {
    v: Type.Literal(SYNC_PROTOCOL_VERSION),
    gateway_id: Id,
    events: Type.Array(SyncEvent, { minItems: 1, maxItems: SYNC_LIMITS.maxBatchEvents }),
  },
  WIRE,
);
export type RetryBody = Static<typeof RetryBody>;

export const RejectedEvent = Type.Object(
  {
    seq: Type.Integer({ minimum: 1 }),
    /** The cloud's stable reason code (its own catalogue, e.g. `ORDER_UNKNOWN`). */
    code: Type.String({ minLength: 1, maxLength: 64 }),
    reason: Type.String({ maxLength: 1000 }),
  },
  WIRE,
);
export type RejectedEvent = Static<typeof RejectedEvent>;

/**
 * The cloud's answer to a batch (HTTP 200) or a retry. `acked_seq` is the highest contiguous
 * seq stored for this gateway (it may be below the batch: a gap was found, resend from
 * acked_seq + 1; or above it: the batch was a duplicate). `rejected` lists events of this
 * request stored as rejected; for a retry, `accepted` lists the seqs now accepted.
 */
export const BatchAck = Type.Object(
  {
    v: AnswerVersion,
    acked_seq: Type.Integer({ minimum: 0 }),
    /**
     * Events of this request held as rejected: those stored now AND those stored as rejected
     * before and redelivered now (a lost ack must not lose a rejection).
     */
    rejected: Type.Array(RejectedEvent),
    accepted: Type.Optional(Type.Array(Type.Integer({ minimum: 1 }))),
    /** True when no event of the request was new (every one was stored before: a redelivery). */
    duplicate: Type.Optional(Type.Boolean()),
  },
  WIRE,
);
export type BatchAck = Static<typeof BatchAck>;

/**
 * The cloud's answer to a retry (HTTP 200): `accepted` lists the seqs it now holds as accepted
 * (also one accepted before: that answer may have been lost), `rejected` those still refused.
 * A seq in neither was never stored by the cloud. `acked_seq` (its cumulative ack) may be
 * added; the gateway does not need it here.
 */
export const RetryAck = Type.Object(
  {
    v: AnswerVersion,
    accepted: Type.Array(Type.Integer({ minimum: 1 })),
    rejected: Type.Array(RejectedEvent),
    acked_seq: Type.Optional(Type.Integer({ minimum: 0 })),
  },
  WIRE,
);
export type RetryAck = Static<typeof RetryAck>;

export const CursorReply = Type.Object(
  {
    v: AnswerVersion,
    acked_seq: Type.Integer({ minimum: 0 }),
  },
  WIRE,
);
export type CursorReply = Static<typeof CursorReply>;

/**
 * One shop's platform authorisation (the OAuth grant that lets the cloud fetch orders and
 * waybills for the shop; Taobao/Tmall, JD, Pinduoduo grants expire and must be renewed by the
 * shop owner). An expired grant means no new orders and no waybills for that shop.
 */
export const ShopAuthorisation = Type.Object(
  {
    shop: Type.String({ minLength: 1, maxLength: 64 }),
    platform: Type.Optional(Type.String({ maxLength: 32 })),
    /** When the grant expires (epoch ms); null: it does not expire. */
    expires_at: Nullable(Millis),
  },
  WIRE,
);
export type ShopAuthorisation = Static<typeof ShopAuthorisation>;

/** The cloud's answer to GET {@link SYNC_PATHS.shops}. */
export const ShopAuthorisations = Type.Object(
  {
    v: AnswerVersion,
    shops: Type.Array(ShopAuthorisation, { maxItems: 10_000 }),
    /** The cloud's clock when it answered (epoch ms): lets the gateway check its own clock. */
    server_time: Millis,
  },
  WIRE,
);
export type ShopAuthorisations = Static<typeof ShopAuthorisations>;

/** Error body of a refused request (4xx/5xx), same shape as the gateway's HTTP errors. */
export const SyncErrorBody = Type.Object({
  error: Type.Object({
    code: Type.String(),
    message: Type.String(),
    details: Type.Optional(Type.Object({}, { additionalProperties: true })),
  }),
});
export type SyncErrorBody = Static<typeof SyncErrorBody>;

/** Codes the cloud uses in {@link SyncErrorBody} for a whole refused request. */
export const SYNC_REQUEST_ERRORS = {
  /** Missing or wrong signature, unknown gateway: configuration, not retried blindly. */
  unauthorized: 'SYNC_UNAUTHORIZED',
  /** Timestamp outside {@link SYNC_LIMITS.signatureSkewMs}. */
  stale: 'SYNC_STALE_REQUEST',
  /** Not gzip, not JSON, or not a BatchBody. */
  malformed: 'SYNC_MALFORMED',
  /** Over a size limit. */
  tooLarge: 'SYNC_TOO_LARGE',
  /** The cloud cannot store right now (503): retried with backoff. */
  unavailable: 'SYNC_UNAVAILABLE',
  /** The request's contract version is one the cloud does not speak (400); details.supported lists its versions. */
  versionUnsupported: 'SYNC_VERSION_UNSUPPORTED',
  /** An endpoint this cloud does not offer (404), e.g. the optional shops endpoint. */
  notFound: 'SYNC_NOT_FOUND',
  /** The cloud failed unexpectedly (500): retried with backoff. */
  internal: 'SYNC_INTERNAL',
} as const;

/** HTTP status of each request error (docs/sync.md §6 lists them with their meaning). */
export const SYNC_REQUEST_ERROR_STATUS: Readonly<Record<(typeof SYNC_REQUEST_ERRORS)[keyof typeof SYNC_REQUEST_ERRORS], number>> = {
  SYNC_UNAUTHORIZED: 401,
  SYNC_STALE_REQUEST: 401,
  SYNC_MALFORMED: 400,
  SYNC_TOO_LARGE: 413,
  SYNC_UNAVAILABLE: 503,
  SYNC_VERSION_UNSUPPORTED: 400,
  SYNC_NOT_FOUND: 404,
  SYNC_INTERNAL: 500,
};

/**
 * Codes the gateway gives a change it cannot apply. The change is quarantined (kept in the
 * event log as {@link SYNC_EVENT.changeRejected}, which travels upstream in order), an alert
 * goes out, and the feed moves on: one bad change never holds back the ones behind it.
 */
export const CHANGE_REJECT_CODES = {
  /** Not a change object, or a required field is missing or of the wrong type. */
  malformed: 'CHANGE_MALFORMED',
  /** A `kind` this gateway does not know (a newer cloud): ignored rather than guessed at. */
  unknownKind: 'CHANGE_KIND_UNKNOWN',
  /** Well formed, but the gateway cannot apply it (e.g. an order its cache refuses). */
  unapplicable: 'CHANGE_UNAPPLICABLE',
} as const;

// ---- downstream: the change feed -----------------------------------------------------

/** Order statuses the cloud pushes down; each maps to an interception flag (docs/sync.md §7.3). */
export const ORDER_STATUSES = ['refund_requested', 'refund_withdrawn', 'refunded', 'cancelled', 'closed', 'shipped_elsewhere'] as const;
export type OrderStatus = (typeof ORDER_STATUSES)[number];

export const Change = Type.Union([
  Type.Object(
    {
      cursor: Type.String({ minLength: 1, maxLength: 128 }),
      kind: Type.Literal('order.upsert'),
      /** The whole order in the import format (contracts/orders.ts), open like every sync object. */
      order: openCopy(OrderInWire),
    },
    WIRE,
  ),
  Type.Object(
    {
      cursor: Type.String({ minLength: 1, maxLength: 128 }),
      kind: Type.Literal('order.status'),
      order_id: Id,
      status: Type.Union(ORDER_STATUSES.map((s) => Type.Literal(s))),
      /** The order's revision after this change; an older one never overwrites a newer. */
      revision: Type.Integer({ minimum: 0 }),
      at: Millis,
    },
    WIRE,
  ),
  Type.Object(
    {
      cursor: Type.String({ minLength: 1, maxLength: 128 }),
      kind: Type.Literal('order.cancel_request'),
      order_id: Id,
      /** The owner's request id; the answer (an event) carries it back. */
      request_id: Type.String({ minLength: 1, maxLength: 128 }),
      reason: Type.Optional(Type.String({ maxLength: 500 })),
      /** The order's revision when the owner asked, if the cloud tracks it (information only). */
      revision: Type.Optional(Type.Integer({ minimum: 0 })),
      at: Millis,
    },
    WIRE,
  ),
  // Picking (docs/sync.md §17): the floor's locations and the stock on them.
  Type.Object(
    {
      cursor: Type.String({ minLength: 1, maxLength: 128 }),
      kind: Type.Literal('location.upsert'),
      /** The code is the barcode on the shelf label. A location is replaced whole; sending it again is harmless. */
      location: Type.Object(
        {
          code: Type.String({ minLength: 1, maxLength: 128 }),
          zone: Type.String({ minLength: 1, maxLength: 64 }),
          aisle: Type.Integer({ minimum: 0, maximum: 10_000 }),
          bay: Type.Integer({ minimum: 0, maximum: 10_000 }),
          level: Type.Integer({ minimum: 0, maximum: 100 }),
          /** The site's walk sequence; when every location of a pick list has one, it is the path. */
          walk_seq: Type.Optional(Type.Union([Type.Integer({ minimum: 0 }), Type.Null()])),
          kind: Type.Union([Type.Literal('pick'), Type.Literal('reserve')]),
          /** Pick-face capacity in units (replenishment fills up to it). */
          capacity: Type.Optional(Type.Union([Type.Integer({ minimum: 0 }), Type.Null()])),
          /** Replenish when the face falls below this many units. */
          trigger: Type.Optional(Type.Union([Type.Integer({ minimum: 0 }), Type.Null()])),
        },
        WIRE,
      ),
      at: Millis,
    },
    WIRE,
  ),
  Type.Object(
    {
      cursor: Type.String({ minLength: 1, maxLength: 128 }),
      kind: Type.Literal('stock.set'),
      location: Type.String({ minLength: 1, maxLength: 128 }),
      sku: Type.String({ minLength: 1, maxLength: 64 }),
      /** Units at the location as the cloud counts them. */
      qty: Type.Integer({ minimum: 0, maximum: 10_000_000 }),
      /** Per location and SKU; an older or equal one is skipped (exactly once through redelivery). */
      revision: Type.Integer({ minimum: 0 }),
      /**
       * The highest gateway event seq the cloud had applied when it counted: the gateway adds its
       * own moves of this SKU here recorded after that seq (picks the cloud has not seen yet).
       */
      as_of_seq: Type.Integer({ minimum: 0 }),
      at: Millis,
    },
    WIRE,
  ),
  // Presale (docs/sync.md §18): the payment that releases a presale order packed ahead.
  Type.Object(
    {
      cursor: Type.String({ minLength: 1, maxLength: 128 }),
      kind: Type.Literal('order.paid'),
      order_id: Id,
      /** The order's revision after the payment, if the cloud tracks it (information only: a payment is applied once per order). */
      revision: Type.Optional(Type.Integer({ minimum: 0 })),
      at: Millis,
    },
    WIRE,
  ),
]);
export type Change = Static<typeof Change>;

export const ChangesPage = Type.Object(
  {
    v: AnswerVersion,
    changes: Type.Array(Change, { maxItems: SYNC_LIMITS.maxChanges }),
    /** Cursor to send as `after` next time (equals the request's when there was nothing new). */
    next_cursor: Type.String({ maxLength: 128 }),
    has_more: Type.Boolean(),
  },
  WIRE,
);
export type ChangesPage = Static<typeof ChangesPage>;

/** Event types the gateway writes in answer to cloud requests (they travel upstream in order). */
export const SYNC_EVENT = {
  /** Cancel accepted: the shipment was still pending; data {request_id, order_id}. */
  cancelAccepted: 'order.cancel_accepted',
  /** Cancel refused: work had started; data {request_id, order_id, shipment_id, state, code}. */
  cancelRefused: 'order.cancel_refused',
  /** Pre-shipment callback (前置回传): data {order_id, shipment_id, waybill, trigger}. */
  shipConfirmed: 'shipment.ship_confirmed',
  /**
   * A change the gateway could not apply, quarantined: data {cursor, kind, order_id, code,
   * reason, change} (code from {@link CHANGE_REJECT_CODES}; `change` is the raw change as JSON
   * text, cut at 4 000 characters).
   */
  changeRejected: 'sync.change_rejected',
  /**
   * A parcel handed to its courier when its handover manifest closed (docs/handover.md);
   * subject `shipment:{id}`, data {order_id, manifest_id, carrier, waybill, handed_over_at}.
   * Once per shipment.
   */
  handedOver: 'shipment.handed_over',
  /** A handover manifest closed; subject `manifest:{id}`, data {carrier, parcels, expected, closed_by}. */
  manifestClosed: 'handover.manifest_closed',
  /**
   * A held order moved to another carrier (docs/handover.md "Courier overload"); subject
   * `order:{id}`, data {order_id, from_carrier, to_carrier, old_waybill, new_waybill, source,
   * switch_id}. Once per switch_id; the old waybill is void.
   */
  carrierSwitched: 'order.carrier_switched',
} as const;

// ---- batches (peak packing modes, docs/packing-modes.md) ------------------------------

/**
 * Batch events the gateway sends upstream (subject `batch:{id}`; pre-pack jobs `prepack:{id}`),
 * in the log's order like every event. The data of the per-parcel ones is fixed here so the
 * cloud can check them ({@link BatchParcelEventData}); the others carry figures only.
 */
export const BATCH_SYNC_EVENTS = {
  created: 'batch.created',
  started: 'batch.started',
  paused: 'batch.paused',
  cancelled: 'batch.cancelled',
  done: 'batch.done',
  parcelSelected: 'batch.parcel_selected',
  orderRemoved: 'batch.order_removed',
  prepackCreated: 'prepack.created',
} as const;

/** Data of `batch.parcel_selected` and `batch.order_removed`: the order and its place in the batch. */
export const BatchParcelEventData = Type.Object(
  {
    order_id: Type.String({ minLength: 1, maxLength: 128 }),
    seq: Type.Integer({ minimum: 1 }),
    /** parcel_selected: the shipment opened for the order, the barcode scanned, the pre-pack job of a pre-pack unit. */
    shipment_id: Type.Optional(Type.String({ minLength: 1, maxLength: 128 })),
    barcode: Type.Optional(Type.String({ maxLength: 128 })),
    prepack_job_id: Type.Optional(Type.String({ maxLength: 128 })),
    /** order_removed: the interception code that removed it, and `by`: `order_update` when a cache change did, `recall_pulled` when its pre-printed label was pulled. */
    code: Type.Optional(Type.String({ maxLength: 64 })),
    by: Type.Optional(Type.String({ maxLength: 32 })),
  },
  { additionalProperties: true },
);
export type BatchParcelEventData = Static<typeof BatchParcelEventData>;

// ---- presale (peak packing modes, docs/packing-modes.md "Presale", docs/sync.md §18) ----

/**
 * Presale events the gateway sends upstream, in the log's order like every event. `paid` has
 * subject `order:{id}` (the `order.paid` change applied, once per order); the parcel ones have
 * subject `presale:{staging_id}` and are written once per staged parcel each
 * ({@link PresaleParcelEventData}): staged (packed, weighed, staging label printed, no carrier
 * label), released (paid: taken off the presale shelf to be labelled) or unpacked (its order
 * was stopped before payment). A staged parcel is released or unpacked, never both.
 */
export const PRESALE_SYNC_EVENTS = {
  paid: 'order.paid',
  staged: 'presale.staged',
  released: 'presale.released',
  unpacked: 'presale.unpacked',
} as const;

/** Data of `presale.staged`, `presale.released` and `presale.unpacked`. */
export const PresaleParcelEventData = Type.Object(
  {
    order_id: Type.String({ minLength: 1, maxLength: 128 }),
    staging_id: Type.String({ minLength: 1, maxLength: 128 }),
    /** staged: the shipment packed and weighed at the station; released: the shipment opened for the carrier label. */
    shipment_id: Type.Optional(Type.String({ minLength: 1, maxLength: 128 })),
    station_id: Type.Optional(Type.String({ maxLength: 128 })),
    /** staged: the parcel's weight and the staging label's print job. */
    grams: Type.Optional(Type.Number()),
    job_id: Type.Optional(Type.String({ maxLength: 128 })),
    /** unpacked: the interception code that put it on the unpack list, and who unpacked it. */
    reason: Type.Optional(Type.String({ maxLength: 64 })),
    by: Type.Optional(Type.String({ maxLength: 64 })),
  },
  { additionalProperties: true },
);
export type PresaleParcelEventData = Static<typeof PresaleParcelEventData>;

// ---- signing ---------------------------------------------------------------------------

export function batchIdempotencyKey(gatewayId: string, firstSeq: number, lastSeq: number): string {
  return `${gatewayId}:${firstSeq}-${lastSeq}`;
}

/**
 * What is signed: method, path (with query), gateway, timestamp, idempotency key (or empty)
 * and the SHA-256 of the exact body bytes on the wire (compressed), one per line. Signing the
 * wire bytes means the cloud verifies before it decompresses anything (no zip bomb before auth).
 */
export function signingString(p: { method: string; path: string; gatewayId: string; timestamp: number; idempotencyKey?: string; body: Uint8Array }): string {
  const bodyHash = createHash('sha256').update(p.body).digest('hex');
  return ['v1', p.method.toUpperCase(), p.path, p.gatewayId, String(p.timestamp), p.idempotencyKey ?? '', bodyHash].join('\n');
}

/** `v1=<hex>`: HMAC-SHA256 (RFC 2104) of {@link signingString} with the gateway's key. */
export function signRequest(key: string | Uint8Array, p: Parameters<typeof signingString>[0]): string {
  return `v1=${createHmac('sha256', key).update(signingString(p)).digest('hex')}`;
}

/** Constant-time check of a `v1=<hex>` signature. */
export function verifyRequest(key: string | Uint8Array, signature: string, p: Parameters<typeof signingString>[0]): boolean {
  const expected = Buffer.from(signRequest(key, p));
  const got = Buffer.from(signature);
  return got.length === expected.length && timingSafeEqual(got, expected);
}

/** Shipment record of the cloud pull feed (`GET /api/v1/shipments?after=`), see docs/http.md. */
export const FeedShipment = Type.Object({
  seq: Type.Integer({ description: 'seq of the event that last changed this shipment; the feed cursor' }),
  shipment_id: Type.String(),
  order_id: Type.String(),
  station_id: Type.String(),
  state: Type.String(),
  reason_code: Nullable(Type.String()),
  carrier: Nullable(Type.String()),
  waybill: Nullable(Type.String()),
  actual_grams: Nullable(Type.Number()),
  expected_grams: Nullable(Type.Number()),
  operator: Nullable(Type.String()),
  opened_at: Type.Integer(),
  shipped_at: Nullable(Type.Integer()),
  /** True once the cloud acknowledged the event at `seq` through the outbox. */
  cloud_acked: Type.Boolean(),
  /** Set when a pre-shipment callback reported this shipment early; later changes are not re-sent. */
  ship_confirmed_at: Nullable(Type.Integer()),
});
export type FeedShipment = Static<typeof FeedShipment>;

// ---- MQTT bridge envelope (fleets) ---------------------------------------------------------
//
// For fleets the gateway may reach the cloud through a cloud MQTT broker instead of HTTPS
// (cloud-sync/src/transports/mqtt-bridge-transport.ts; the cloud side is a bridge that turns
// each envelope back into the HTTP request above, simulators/src/cloud/mqtt-bridge-server.ts).
// The envelope carries the HTTP request verbatim (method, path, headers, exact body bytes), so
// the signature made above the transport is verified end to end whatever carried it.
//
//   packline/sync/{gatewayId}/req        gateway → bridge   QoS 1, {@link SyncBridgeRequest}
//   packline/sync/{gatewayId}/res/{id}   bridge  → gateway  QoS 1, {@link SyncBridgeResponse}
//
// The gateway subscribes to `packline/sync/{gatewayId}/res/+` before it publishes anything,
// so no answer can arrive before its subscription. Both sides use a clean session: an answer
// for a gateway that is disconnected is dropped by the broker and the gateway retries after
// its timeout.
//
// QoS 1 is at-least-once (MQTT 3.1.1 §4.3.2, MQTT 5.0 §4.3.2): the broker may deliver a
// request twice and the bridge may answer twice. Both are harmless here: the cloud dedupes
// batches on (gateway_id, seq) and answers with a cumulative ack, retries and the cursor /
// change-feed reads are idempotent, and the gateway drops an answer whose id is no longer
// pending. QoS 2 would buy nothing the protocol does not already give, at two more packets.
//
// Why the correlation id travels in the payload and the topic, not in MQTT 5 Response Topic /
// Correlation Data (MQTT 5.0 §3.3.2.3.5, §3.3.2.3.6): those properties have no MQTT 3.1.1
// encoding, and a fleet's path to the cloud often has a 3.1.1 hop that would strip them
// silently: a mosquitto bridge connects as 3.1.1 unless told otherwise (mosquitto.conf(5),
// `bridge_protocol_version`, default mqttv311) and some managed IoT brokers accept 3.1.1 only.
// The envelope works over either version, is readable with mosquitto_sub when debugging, and
// the per-gateway topics let a broker ACL confine each gateway to its own prefix, e.g.
// mosquitto `pattern write packline/sync/%u/req` / `pattern read packline/sync/%u/res/#`.
// Debian 12's mosquitto 2.0 speaks 5.0 too; switching later would change this section only.

/** First topic level of the bridge; nothing else in Packline publishes under it. */
export const SYNC_BRIDGE_ROOT = 'packline/sync';

/** Topic builders of the MQTT bridge (the only place its topic strings are spelt). */
export const syncBridgeTopics = {
  /** Where a gateway publishes its requests. */
  request: (gatewayId: string) => `${SYNC_BRIDGE_ROOT}/${gatewayId}/req`,
  /** Where the bridge answers one request. */
  response: (gatewayId: string, id: string) => `${SYNC_BRIDGE_ROOT}/${gatewayId}/res/${id}`,
  /** What a gateway subscribes to for its answers. */
  responses: (gatewayId: string) => `${SYNC_BRIDGE_ROOT}/${gatewayId}/res/+`,
  /** What a bridge serving every gateway subscribes to. */
  allRequests: `${SYNC_BRIDGE_ROOT}/+/req`,
} as const;

/** Lower-case RFC 9562 UUID text (what crypto.randomUUID() produces); safe as a topic level. */
export const SYNC_BRIDGE_ID_PATTERN = '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$';
const BRIDGE_ID_RE = new RegExp(SYNC_BRIDGE_ID_PATTERN);
const BRIDGE_GATEWAY_RE = new RegExp(Id.pattern ?? '^$');

export type SyncBridgeTopic = { kind: 'request'; gatewayId: string } | { kind: 'response'; gatewayId: string; id: string };

/** Parses a bridge topic; null for anything else (including ids that are not valid ids). */
export function parseSyncBridgeTopic(topic: string): SyncBridgeTopic | null {
  const parts = topic.split('/');
  if (parts[0] !== 'packline' || parts[1] !== 'sync') return null;
  const gatewayId = parts[2];
  if (gatewayId === undefined || !BRIDGE_GATEWAY_RE.test(gatewayId)) return null;
  if (parts.length === 4 && parts[3] === 'req') return { kind: 'request', gatewayId };
  const id = parts[4];
  if (parts.length === 5 && parts[3] === 'res' && id !== undefined && BRIDGE_ID_RE.test(id)) {
    return { kind: 'response', gatewayId, id };
  }
  return null;
}

/** One sync request as the gateway publishes it (UTF-8 JSON). */
export const SyncBridgeRequest = Type.Object(
  {
    id: Type.String({ pattern: SYNC_BRIDGE_ID_PATTERN, description: 'correlation id; the answer topic ends with it' }),
    method: Type.Union([Type.Literal('GET'), Type.Literal('POST')]),
    path: Type.String({ minLength: 1, maxLength: 4096, pattern: '^/', description: 'path with query, as for HTTP' }),
    headers: Type.Record(Type.String(), Type.String(), { description: 'lower-case names, verbatim' }),
    body_b64: Nullable(Type.String({ description: 'exact wire bytes (gzip for batches), base64 (RFC 4648 §4)' })),
  },
  { additionalProperties: false },
);
export type SyncBridgeRequest = Static<typeof SyncBridgeRequest>;

/** The cloud's answer as the bridge publishes it: the HTTP status and the parsed body. */
export const SyncBridgeResponse = Type.Object(
  {
    id: Type.String({ pattern: SYNC_BRIDGE_ID_PATTERN }),
    status: Type.Integer({ minimum: 100, maximum: 599 }),
    headers: Type.Optional(Type.Record(Type.String(), Type.String())),
    body: Type.Unknown({ description: 'JSON value of the answer (text if it was not JSON), or null when empty' }),
  },
  { additionalProperties: false },
);
export type SyncBridgeResponse = Static<typeof SyncBridgeResponse>;
