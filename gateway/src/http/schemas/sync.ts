/** Cloud sync on the HTTP wire: status, failures, retry, reconciliation, the pull feed. */
import { type Static, Type } from '@sinclair/typebox';
import { GatewayLinkState as GatewayLinkStateSchema } from '../../../../contracts/payloads.js';
import { FeedShipment } from '../../../../contracts/sync.js';
import { Nullable } from './common.js';

export const FEED_DEFAULT_LIMIT = 100;
export const FEED_MAX_LIMIT = 500;

export const ShipmentFeedReply = Type.Object({
  records: Type.Array(FeedShipment, { description: 'in seq order; a shipment appears again when it changes again' }),
  next_cursor: Type.Integer({ description: 'pass as `after` next time' }),
  high_water: Type.Integer({ description: 'highest seq in the event log now' }),
  pruned_through: Type.Integer({
    description: 'retention pruned every seq up to this (all acknowledged by the cloud); a cursor below it replays only what is left; 0 = nothing pruned',
  }),
});

const OutboxStatsWire = Type.Object({
  acked_seq: Type.Integer(),
  last_seq: Type.Integer(),
  backlog: Type.Integer(),
  requests: Type.Integer({ description: 'batch requests sent, answered or not' }),
  events_sent: Type.Integer({ description: 'events those requests carried, answered or not (a resend counts again)' }),
  wire_bytes: Type.Integer({ description: 'compressed bytes of those requests' }),
  batches: Type.Integer({ description: 'batch requests answered with a readable ack' }),
  events_answered: Type.Integer({ description: 'events those answered requests carried' }),
  timeouts: Type.Integer({ description: 'batch requests that got no answer within the timeout' }),
  contract_errors: Type.Integer({ description: 'answers that did not match the sync contract' }),
  retry_requests: Type.Integer(),
  batch_events: Type.Integer({ description: 'batch size in use now (shrinks on timeouts and refusals)' }),
  timeout_ms: Type.Integer({ description: 'request timeout in use now (adapts to a slow cloud, within 1–4 × sync.timeoutMs)' }),
  unknown_fields: Type.Integer({ description: 'fields in cloud answers this gateway does not know (ignored)' }),
  duplicate_acks: Type.Integer(),
  stale_acks: Type.Integer(),
  rejected: Type.Integer(),
  last_ack_at: Nullable(Type.Integer()),
  last_error: Nullable(Type.String()),
});

const InboundStatsWire = Type.Object({
  cursor: Type.String(),
  pages: Type.Integer(),
  applied: Type.Integer(),
  skipped: Type.Integer(),
  quarantined: Type.Integer({ description: 'changes the gateway could not apply: stored as sync.change_rejected events, alerted, reported upstream' }),
  last_quarantined: Nullable(
    Type.Object({
      cursor: Nullable(Type.String()),
      kind: Nullable(Type.String()),
      order_id: Nullable(Type.String()),
      code: Type.String(),
      reason: Type.String(),
    }),
  ),
  last_pull_at: Nullable(Type.Integer()),
  last_error: Nullable(Type.String()),
});

export const SyncStatusReply = Type.Object({
  enabled: Type.Boolean(),
  link: GatewayLinkStateSchema,
  outbox: Nullable(OutboxStatsWire),
  inbound: Nullable(InboundStatsWire),
  waybill_coverage: Type.Object({
    open: Type.Integer({ description: 'open orders (not intercepted, not shipped)' }),
    with_waybill: Type.Integer({ description: 'of those, with a pre-fetched waybill: they can ship offline' }),
    percent: Type.Number(),
    alarm: Type.Boolean(),
  }),
  pre_shipment_callback: Type.Object({
    shops: Type.Array(Type.String()),
    note: Type.String(),
  }),
});
export type SyncStatusReply = Static<typeof SyncStatusReply>;

export const SyncFailureWire = Type.Object({
  seq: Type.Integer(),
  code: Type.String(),
  reason: Type.String(),
  state: Type.Union([Type.Literal('failed'), Type.Literal('retry_requested'), Type.Literal('resolved')]),
  attempts: Type.Integer(),
  first_failed_at: Type.Integer(),
  last_failed_at: Type.Integer(),
  resolved_at: Nullable(Type.Integer()),
  event: Nullable(Type.Object({ type: Type.String(), subject: Type.String(), data: Type.Unknown() }, { description: 'the event itself' })),
});

export const SyncFailureQuery = Type.Object(
  {
    state: Type.Optional(
      Type.Union([Type.Literal('open'), Type.Literal('failed'), Type.Literal('retry_requested'), Type.Literal('resolved')], { default: 'open' }),
    ),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, default: 100 })),
  },
  { additionalProperties: false },
);

export const SyncFailureList = Type.Object({ failures: Type.Array(SyncFailureWire) });

export const SyncRetryBody = Type.Object(
  {
    seqs: Type.Optional(Type.Array(Type.Integer({ minimum: 1 }), { maxItems: 1000, description: 'events to resubmit; absent or empty = every failed one' })),
  },
  { additionalProperties: false },
);
export const SyncRetryReply = Type.Object({ requested: Type.Array(Type.Integer()) });

export const ReconciliationReply = Type.Object({
  generated_at: Type.Integer(),
  acked_seq: Type.Integer(),
  high_water: Type.Integer(),
  conflicts: Type.Array(
    Type.Object({
      kind: Type.Union([
        Type.Literal('shipped_while_intercepted'),
        Type.Literal('cancel_refused'),
        Type.Literal('not_acknowledged'),
        Type.Literal('sync_failed'),
      ]),
      /** What to do about it, for the supervisor. */
      action: Type.String(),
      shipment_id: Nullable(Type.String()),
      order_id: Nullable(Type.String()),
      seq: Nullable(Type.Integer()),
      detail: Type.String(),
    }),
  ),
  /** Stock moves (picks, shorts, corrections, returns, replenishment) the cloud has not acknowledged, and where (docs/sync.md §14). */
  stock: Type.Object({
    moves_not_acknowledged: Type.Integer(),
    /** Locations whose stock the cloud does not know yet (first 50, sorted). */
    locations: Type.Array(Type.String()),
    more_locations: Type.Integer(),
  }),
});
export type ReconciliationReply = Static<typeof ReconciliationReply>;
