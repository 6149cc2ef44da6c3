/**
 * The reference cloud's per-event business rules. An event a rule refuses is still stored
 * (status `rejected`) and counted in the cumulative ack, so it never blocks the events behind
 * it (contracts/sync.ts header); it travels back in `BatchAck.rejected` with one of these
 * codes, the cloud's own catalogue (sync.ts RejectedEvent.code).
 */
import { TypeCompiler } from '@sinclair/typebox/compiler';
import { BATCH_SYNC_EVENTS, BatchParcelEventData, type RejectedEvent, type SyncEvent } from '../../../../contracts/sync.js';

const batchParcelCheck = TypeCompiler.Compile(BatchParcelEventData);
const batchParcelValid = (data: unknown): boolean => batchParcelCheck.Check(data);
import type { CloudDb } from './cloud-db.js';
import { type BlockingFlag, SHIPPED_EVENT, orderClosed } from './cloud-orders.js';

export const REJECT_CODES = {
  /** `data` is not a JSON object. */
  payloadInvalid: 'PAYLOAD_INVALID',
  /** A parcel shipped for an order the cloud has cancelled or closed. */
  orderCancelled: 'ORDER_CANCELLED',
  /** An order event for an order the cloud does not know (only with `rejectUnknownOrders`). */
  orderUnknown: 'ORDER_UNKNOWN',
  /** Refused by the `rejectSubjects` / `rejectShare` fault mode. */
  injected: 'TEST_REJECTED',
} as const;

export interface CloudRules {
  /** Order states that refuse a `shipment.shipped` for the order (default cancelled, closed). */
  shippedBlockedBy: readonly BlockingFlag[];
  /**
   * Refuse `shipment.shipped` for an order the cloud never had. Off by default: the demo floor
   * also imports orders straight into the gateway's API.
   */
  rejectUnknownOrders: boolean;
}

export const DEFAULT_RULES: Readonly<CloudRules> = Object.freeze({
  shippedBlockedBy: ['cancelled', 'closed'] as const,
  rejectUnknownOrders: false,
});

export type Verdict = Omit<RejectedEvent, 'seq'> | null;

/** The rules, against the order state as it is now (earlier events of the batch applied). */
export function judgeEvent(db: CloudDb, rules: CloudRules, e: Pick<SyncEvent, 'type' | 'subject' | 'data'>, injected: (subject: string) => boolean): Verdict {
  if (typeof e.data !== 'object' || e.data === null || Array.isArray(e.data)) {
    return { code: REJECT_CODES.payloadInvalid, reason: `data of a ${e.type} event must be a JSON object` };
  }
  if (e.type === SHIPPED_EVENT) {
    const orderId = (e.data as { order_id?: unknown }).order_id;
    if (typeof orderId !== 'string') {
      return { code: REJECT_CODES.payloadInvalid, reason: 'shipment.shipped without a string order_id' };
    }
    const flag = orderClosed(db, orderId, rules.shippedBlockedBy);
    if (flag !== null) return { code: REJECT_CODES.orderCancelled, reason: `order ${orderId} is ${flag} in the cloud` };
    if (rules.rejectUnknownOrders && db.order(orderId) === null) {
      return { code: REJECT_CODES.orderUnknown, reason: `order ${orderId} is unknown to the cloud` };
    }
  }
  if (e.type === BATCH_SYNC_EVENTS.parcelSelected || e.type === BATCH_SYNC_EVENTS.orderRemoved) {
    // The per-parcel batch events name their order and place (contracts/sync.ts BatchParcelEventData).
    if (!batchParcelValid(e.data) || !e.subject.startsWith('batch:')) {
      return { code: REJECT_CODES.payloadInvalid, reason: `${e.type} needs subject batch:{id} and data {order_id, seq}` };
    }
  }
  if (injected(e.subject)) return { code: REJECT_CODES.injected, reason: `rejected by the test fault mode (subject ${e.subject})` };
  return null;
}
