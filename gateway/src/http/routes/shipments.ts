/** Shipment history (newest first) and one shipment. */
import { Type } from '@sinclair/typebox';
import { PacklineError } from '../../../../contracts/errors.js';
import { ownStation, requestRole } from '../auth.js';
import type { HttpDeps } from '../deps.js';
import { bearer, errorResponses } from '../schemas/common.js';
import { DEFAULT_SHIPMENT_PAGE, ShipmentListReply, ShipmentParams, ShipmentQueryWire, ShipmentWire, shipmentToWire } from '../schemas/shipments.js';
import { FEED_DEFAULT_LIMIT, FEED_MAX_LIMIT, ShipmentFeedReply } from '../schemas/sync.js';
import type { App } from '../type-provider.js';
import { shipmentFeed } from '../../sync/shipment-feed.js';

export function registerShipmentRoutes(app: App, deps: HttpDeps): void {
  app.get(
    '/api/v1/shipments',
    {
      config: { auth: 'read', station: 'route' },
      schema: {
        tags: ['shipments'],
        summary: 'Shipments, newest first, filtered by station, state or order; with `after`, the cloud pull feed in seq order',
        security: bearer,
        querystring: ShipmentQueryWire,
        response: { 200: Type.Union([ShipmentListReply, ShipmentFeedReply]), ...errorResponses },
      },
    },
    async (request) => {
      const q = request.query;
      if (q.after !== undefined) {
        // The pull feed holds every shipment of every shop: the cloud's (admin) token only.
        if (requestRole(request) !== 'admin') throw new PacklineError('PKL_FORBIDDEN', { action: 'read the shipment feed (admin token)' });
        if (q.station !== undefined || q.state !== undefined || q.order !== undefined || q.before !== undefined) {
          throw new PacklineError('PKL_PAYLOAD_INVALID', { reason: '`after` (the feed) cannot be combined with filters' });
        }
        return shipmentFeed(deps.store, q.after, Math.min(q.limit ?? FEED_DEFAULT_LIMIT, FEED_MAX_LIMIT), deps.sync.ackedSeq());
      }
      const limit = q.limit ?? DEFAULT_SHIPMENT_PAGE;
      // A station token lists its own station's shipments only.
      const own = ownStation(request);
      if (own !== null && q.station !== undefined && q.station !== own) {
        throw new PacklineError('PKL_TOKEN_STATION_SCOPE', { tokenStation: own, reason: `station ${q.station} is not this token's` });
      }
      const station = own ?? q.station;
      const rows = deps.store.listShipments({
        ...(station !== undefined && { stationId: station }),
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
      config: { auth: 'read', station: 'shipment' },
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
