/** Cloud sync: link and outbox status, sync failures and their retry, reconciliation. */
import type { SyncFailure } from '../../storage/types.js';
import { reconciliationReport } from '../../sync/reconciliation.js';
import type { HttpDeps } from '../deps.js';
import { bearer, errorResponses } from '../schemas/common.js';
import { ReconciliationReply, SyncFailureList, SyncFailureQuery, SyncRetryBody, SyncRetryReply, SyncStatusReply } from '../schemas/sync.js';
import type { App } from '../type-provider.js';

const PRE_SHIPMENT_NOTE =
  'Shipments of these shops are reported shipped upstream as soon as the label is queued (前置回传); ' +
  'later changes to such a shipment (reweigh, reprint, cancel) are not re-sent as a ship confirmation.';

export function registerSyncRoutes(app: App, deps: HttpDeps): void {
  app.get(
    '/api/v1/sync',
    {
      config: { auth: 'read', station: 'any' },
      schema: {
        tags: ['sync'],
        summary: 'Cloud link state, outbox backlog, inbound feed, waybill coverage',
        security: bearer,
        response: { 200: SyncStatusReply, ...errorResponses },
      },
    },
    async () => {
      const s = deps.sync.status();
      const o = s.outbox;
      const i = s.inbound;
      return {
        enabled: s.enabled,
        link: s.link,
        outbox:
          o === null
            ? null
            : {
                acked_seq: o.ackedSeq,
                last_seq: o.lastSeq,
                backlog: o.backlog,
                requests: o.requests,
                events_sent: o.eventsSent,
                wire_bytes: o.wireBytes,
                batches: o.batches,
                events_answered: o.eventsAnswered,
                timeouts: o.timeouts,
                contract_errors: o.contractErrors,
                retry_requests: o.retryRequests,
                batch_events: o.batchEvents,
                timeout_ms: o.timeoutMs,
                unknown_fields: s.unknownFields,
                duplicate_acks: o.duplicateAcks,
                stale_acks: o.staleAcks,
                rejected: o.rejected,
                last_ack_at: o.lastAckAt,
                last_error: o.lastError,
              },
        inbound:
          i === null
            ? null
            : {
                cursor: i.cursor,
                pages: i.pages,
                applied: i.applied,
                skipped: i.skipped,
                quarantined: i.quarantined,
                last_quarantined: i.lastQuarantined === null ? null : (({ raw: _raw, ...q }) => q)(i.lastQuarantined),
                last_pull_at: i.lastPullAt,
                last_error: i.lastError,
              },
        waybill_coverage: {
          open: s.waybillCoverage.open,
          with_waybill: s.waybillCoverage.withWaybill,
          percent: s.waybillCoverage.percent,
          alarm: s.waybillCoverage.alarm,
        },
        pre_shipment_callback: { shops: deps.config.sync.preShipmentCallbackShops, note: PRE_SHIPMENT_NOTE },
      };
    },
  );

  app.get(
    '/api/v1/sync/failures',
    {
      config: { auth: 'read' },
      schema: {
        tags: ['sync'],
        summary: 'Events tagged "sync failed" (the cloud rejected them), with the cloud\'s reason',
        security: bearer,
        querystring: SyncFailureQuery,
        response: { 200: SyncFailureList, ...errorResponses },
      },
    },
    async (request) => {
      const failures = deps.sync.failures({ state: request.query.state ?? 'open', limit: request.query.limit ?? 100 });
      return { failures: failures.map((f) => failureToWire(f, deps)) };
    },
  );

  app.post(
    '/api/v1/sync/failures/retry',
    {
      config: { auth: 'admin' },
      schema: {
        tags: ['sync'],
        summary: 'Resubmit failed events after the cause was fixed (all when no seqs are given)',
        security: bearer,
        body: SyncRetryBody,
        response: { 200: SyncRetryReply, ...errorResponses },
      },
    },
    async (request) => {
      const requested = await deps.sync.requestRetry(request.body.seqs ?? []);
      request.log.info({ requested: requested.length }, 'sync retry requested');
      return { requested };
    },
  );

  app.get(
    '/api/v1/sync/reconciliation',
    {
      config: { auth: 'read' },
      schema: {
        tags: ['sync'],
        summary: 'Conflicts between gateway and cloud, each with the action to take',
        security: bearer,
        response: { 200: ReconciliationReply, ...errorResponses },
      },
    },
    async () => reconciliationReport(deps.store, deps.sync.ackedSeq(), Date.now()),
  );
}

function failureToWire(f: SyncFailure, deps: HttpDeps) {
  const row = deps.store.readEventRows(f.seq - 1, 1)[0];
  return {
    seq: f.seq,
    code: f.code,
    reason: f.reason,
    state: f.state,
    attempts: f.attempts,
    first_failed_at: f.firstFailedAt,
    last_failed_at: f.lastFailedAt,
    resolved_at: f.resolvedAt,
    event: row !== undefined && row.seq === f.seq ? { type: row.type, subject: row.subject, data: JSON.parse(row.data) as unknown } : null,
  };
}
