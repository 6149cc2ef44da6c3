/** Shipment history (newest first) and one shipment. */
import { PacklineError } from '../../../../contracts/errors.js';
import type { HttpDeps } from '../deps.js';
import { bearer, errorResponses } from '../schemas/common.js';
import {
  DEFAULT_SHIPMENT_PAGE,
  ShipmentListReply,
  ShipmentParams,
  ShipmentQueryWire,
  ShipmentWire,
  shipmentToWire,
} from '../schemas/shipments.js';
import type { App } from '../type-provider.js';

export function registerShipmentRoutes(app: App, deps: HttpDeps): void {
  app.get(
    '/api/v1/shipments',
    {
      config: { auth: 'read' },
      schema: {
        tags: ['shipments'],
        summary: 'Shipments, newest first, filtered by station, state or order',
        security: bearer,
        querystring: ShipmentQueryWire,
        response: { 200: ShipmentListReply, ...errorResponses },
      },
    },
    async (request) => {
      const q = request.query;
      const limit = q.limit ?? DEFAULT_SHIPMENT_PAGE;
      const rows = deps.store.listShipments({
        ...(q.station !== undefined && { stationId: q.station }),
        ...(q.state !== undefined && { state: q.state }),
        ...(q.order !== undefined && { orderId: q.order }),
        ...(q.before !== undefined && { before: q.before }),
        limit,
      });
      const last = rows.at(-1);
      return {
        shipments: rows.map(shipmentToWire),
        next_before: rows.length === limit && last !== undefined ? last.updatedAt : null,
      };
    },
  );

  app.get(
    '/api/v1/shipments/:shipmentId',
    {
      config: { auth: 'read' },
      schema: {
        tags: ['shipments'],
        summary: 'One shipment',
        security: bearer,
        params: ShipmentParams,
        response: { 200: ShipmentWire, ...errorResponses },
      },
    },
    async (request) => {
      const { shipmentId } = request.params;
      const s = deps.store.getShipment(shipmentId);
      if (s === null) throw new PacklineError('PKL_SHIPMENT_NOT_FOUND', { shipmentId });
      return shipmentToWire(s);
    },
  );
}
