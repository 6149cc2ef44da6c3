/**
 * Printing: the print-exception list (labels that failed and were not printed since) and the
 * guarded reprint (issue 5 "Job ledger", "Reprint guard"; docs/http.md "Printing").
 */
import { clientError, ReprintGuard } from '../../printing/reprint-guard.js';
import type { ReprintRequest } from '../../printing/reprint-plan.js';
import type { HttpDeps } from '../deps.js';
import { sendWireError } from '../errors.js';
import { bearer, errorResponses } from '../schemas/common.js';
import {
  DEFAULT_EXCEPTION_PAGE,
  PrintExceptionList,
  PrintExceptionQuery,
  printExceptionToWire,
  ReprintBody,
  ReprintReply,
} from '../schemas/printing.js';
import { ShipmentParams } from '../schemas/shipments.js';
import type { App } from '../type-provider.js';

export function registerPrintingRoutes(app: App, deps: HttpDeps): void {
  // One guard per app: its failure counts must outlive a request.
  const guard = new ReprintGuard({
    maxFailures: deps.config.printing.reprint.maxFailures,
    windowMs: deps.config.printing.reprint.windowMs,
    passwordHash: (name) => deps.store.getSupervisor(name)?.secretHash ?? null,
  });

  app.get(
    '/api/v1/print/exceptions',
    {
      config: { auth: 'read' },
      schema: {
        tags: ['printing'],
        summary: 'Shipments whose label failed and has not been printed since ("print exception"), with printer and cause',
        security: bearer,
        querystring: PrintExceptionQuery,
        response: { 200: PrintExceptionList, ...errorResponses },
      },
    },
    async (request) => ({
      exceptions: deps.store.printExceptions({ limit: request.query.limit ?? DEFAULT_EXCEPTION_PAGE }).map(printExceptionToWire),
    }),
  );

  app.post(
    '/api/v1/shipments/:shipmentId/reprint',
    {
      config: { auth: 'scan' },
      schema: {
        tags: ['printing'],
        summary: "Print a shipment's label again (same waybill, new job), authorised by a supervisor's password",
        description:
          'Audited as `shipment.reprinted`. The same `request_id` again answers with the same job id and ' +
          '`duplicate: true`, and prints nothing. A wrong password and an unknown supervisor answer the same ' +
          '403 PKL_SUPERVISOR_PASSWORD_WRONG; after `printing.reprint.maxFailures` wrong passwords within ' +
          '`printing.reprint.windowMs` the supervisor is locked out for that long (429 PKL_REPRINT_LOCKED, ' +
          'Retry-After). A label still printing → 409 PKL_PRINT_PENDING.',
        security: bearer,
        params: ShipmentParams,
        body: ReprintBody,
        response: { 200: ReprintReply, ...errorResponses },
      },
    },
    async (request, reply) => {
      const { shipmentId } = request.params;
      const { supervisor, password, request_id: requestId, note } = request.body;
      const outcome = await guard.check(supervisor, password);
      if (!outcome.ok) {
        // The audit line keeps the real reason; the client cannot tell an unknown name from a
        // wrong password.
        request.log.warn(
          { audit: 'reprint', code: outcome.code, supervisor, shipmentId, requestId, failures: outcome.failures },
          'reprint refused by the supervisor guard',
        );
        const err = clientError(outcome);
        if (outcome.code === 'PKL_REPRINT_LOCKED') void reply.header('retry-after', String(err.details?.retryAfterS ?? 1));
        throw err;
      }
      const req: ReprintRequest = { supervisor, requestId };
      if (note !== undefined) req.note = note;
      const result = await deps.stations.reprint(shipmentId, req);
      if (!result.ok) {
        request.log.info({ audit: 'reprint', code: result.error.code, supervisor, shipmentId, requestId }, 'reprint refused');
        return sendWireError(reply, result.error);
      }
      request.log.info(
        { audit: 'reprint', supervisor, shipmentId, requestId, jobId: result.jobId, duplicate: result.duplicate },
        result.duplicate ? 'reprint request repeated; nothing printed' : 'label reprinted',
      );
      return { job_id: result.jobId, duplicate: result.duplicate };
    },
  );
}
