/** The core's read-only lookups, served by the store (synchronous WAL reads, no I/O wait). */
import type { FlowReads } from '../ports.js';
import type { OrderLookups } from '../types.js';

/** Orders never have many shipments; the limit only bounds a pathological re-scan loop. */
const SHIPMENTS_PER_ORDER = 1000;

export function storeLookups(store: FlowReads): OrderLookups {
  return {
    findOrderByBarcode: (code) => store.findOrderByBarcode(code),
    getOrder: (orderId) => store.getOrder(orderId),
    shipmentsForOrder: (orderId) => store.listShipments({ orderId, limit: SHIPMENTS_PER_ORDER }),
    getShipment: (shipmentId) => store.getShipment(shipmentId),
  };
}
