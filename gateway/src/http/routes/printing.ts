/**
 * Printing: the print-exception list (labels that failed and were not printed since) and the
 * guarded reprint (docs/printing.md; docs/http.md "Printing").
 */
import type { ReprintGuard } from '../../printing/reprint-guard.js';
import { requireSupervisor } from '../supervisor-check.js';
import type { ReprintRequest } from '../../station/decide/reprint-plan.js';
import type { ShipUnlabelledRequest } from '../../station/decide/ship-unlabelled-plan.js';
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
  ShipUnlabelledBody,
  ShipUnlabelledReply,
} from '../schemas/printing.js';
import { ShipmentParams } from '../schemas/shipments.js';
import type { App } from '../type-provider.js';
import { ownStation } from '../auth.js';

/** How many exceptions of every station are looked through for one station's list. */
const STATION_EXCEPTION_SCAN = 1000;

export function registerPrintingRoutes(app: App, deps: HttpDeps, guard: ReprintGuard): void {
  app.get(
    '/api/v1/print/exceptions',
    {
      config: { auth: 'read', station: 'route' },
      schema: {
        tags: ['printing'],
        summary: 'Shipments whose label failed and has not been printed since ("print exception"), with printer and cause',
        security: bearer,
        querystring: PrintExceptionQuery,
        response: { 200: PrintExceptionList, ...errorResponses },
      },
    },
    async (request) => {
      const limit = request.query.limit ?? DEFAULT_EXCEPTION_PAGE;
      // A station token sees its own station's exceptions (they carry receivers' data).
      const own = ownStation(request);
      const rows =
        own === null
          ? deps.store.printExceptions({ limit })
          : deps.store
              .printExceptions({ limit: STATION_EXCEPTION_SCAN })
              .filter((e) => e.shipment.stationId === own)
              .slice(0, limit);
      return { exceptions: rows.map(printExceptionToWire) };
    },
  );

  app.post(
    '/api/v1/shipments/:shipmentId/reprint',
    {
      config: { auth: 'scan', station: 'shipment' },
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
      const station = deps.store.getShipment(shipmentId)?.stationId;
      await requireSupervisor(guard, request, reply, { supervisor, password }, { action: 'reprint', shipmentId, requestId }, station);
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

  app.post(
    '/api/v1/shipments/:shipmentId/ship-unlabelled',
    {
      config: { auth: 'scan', station: 'shipment' },
      schema: {
        tags: ['printing'],
        summary: "Ship a parcel whose label failed without a label printed here, authorised by a supervisor's password",
        description:
          'For the parcel that leaves with a waybill written or printed elsewhere while its printer is down ' +
          '(直接发货). Only for a shipment whose label failed and was not printed since (a print exception); ' +
          'never while a job is still out (409 PKL_PRINT_PENDING) or for an order that must not leave ' +
          '(the interception codes). Records the ordinary `shipment.shipped` event (marked `unlabelled`) ' +
          'and the `shipment.shipped_unlabelled` audit event. The same guard and lockout as reprints; the ' +
          'same `request_id` again answers `duplicate: true` and changes nothing.',
        security: bearer,
        params: ShipmentParams,
        body: ShipUnlabelledBody,
        response: { 200: ShipUnlabelledReply, ...errorResponses },
      },
    },
    async (request, reply) => {
      const { shipmentId } = request.params;
      const { supervisor, password, request_id: requestId, note } = request.body;
      const station = deps.store.getShipment(shipmentId)?.stationId;
      await requireSupervisor(guard, request, reply, { supervisor, password }, { action: 'ship-unlabelled', shipmentId, requestId }, station);
      const req: ShipUnlabelledRequest = { supervisor, requestId };
      if (note !== undefined) req.note = note;
      const result = await deps.stations.shipUnlabelled(shipmentId, req);
      if (!result.ok) {
        request.log.info({ audit: 'ship-unlabelled', code: result.error.code, supervisor, shipmentId, requestId }, 'ship without label refused');
        return sendWireError(reply, result.error);
      }
      request.log.info(
        { audit: 'ship-unlabelled', supervisor, shipmentId, requestId, duplicate: result.duplicate },
        result.duplicate ? 'ship without label repeated; nothing changed' : 'shipped without a printed label',
      );
      return { shipment_id: shipmentId, duplicate: result.duplicate };
    },
  );
}
