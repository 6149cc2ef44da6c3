/** Order import (offline demo, ERPs without a cloud connector) and lookup. */
import { PacklineError } from '../../../../contracts/errors.js';
import type { HttpDeps } from '../deps.js';
import { bearer, errorResponses } from '../schemas/common.js';
import { OrderImportBody, OrderImportReply, OrderOutWire, OrderParams, batchProblem, orderFromWire, orderToWire } from '../schemas/orders.js';
import type { App } from '../type-provider.js';

/** Order import takes whole ERP batches; every other route keeps the small default limit. */
export const ORDER_IMPORT_BODY_LIMIT = 5 * 1024 * 1024;

export function registerOrderRoutes(app: App, deps: HttpDeps): void {
  app.post(
    '/api/v1/orders',
    {
      bodyLimit: ORDER_IMPORT_BODY_LIMIT,
      config: { auth: 'admin' },
      schema: {
        tags: ['orders'],
        summary: 'Import orders (JSON array); older revisions are skipped',
        security: bearer,
        body: OrderImportBody,
        response: { 200: OrderImportReply, ...errorResponses },
      },
    },
    async (request) => {
      const problem = batchProblem(request.body);
      if (problem !== null) throw new PacklineError('PKL_PAYLOAD_INVALID', problem);
      // Low disk: new work is refused so that open shipments can still finish (storage/types.ts).
      if (deps.store.diskLow()) {
        throw new PacklineError('PKL_DISK_FULL', { freeMb: deps.store.stats().diskFreeMb ?? null });
      }
      const now = Date.now();
      const result = await deps.orders.import(request.body.map((o) => orderFromWire(o, now)));
      request.log.info({ ...result, received: request.body.length }, 'orders imported');
      return result;
    },
  );

  app.get(
    '/api/v1/orders/:orderId',
    {
      config: { auth: 'read', station: 'order' },
      schema: {
        tags: ['orders'],
        summary: 'One order, with its latest shipment',
        security: bearer,
        params: OrderParams,
        response: { 200: OrderOutWire, ...errorResponses },
      },
    },
    async (request) => {
      const { orderId } = request.params;
      const order = deps.store.getOrder(orderId);
      if (order === null) throw new PacklineError('PKL_NOT_FOUND', { what: `order ${orderId}` });
      return orderToWire(order, deps.store.latestShipmentForOrder(orderId));
    },
  );
}
