/**
 * What retention may delete, decided from rows read inside the writer's transaction (no I/O
 * here, so the rules are tested on their own: retention-plan.test.ts). The pruner
 * (retention-pruner.ts) reads the candidates, asks {@link planPrune}, and deletes exactly
 * the plan in the same transaction, so nothing can change between the decision and the delete.
 *
 * The rules, each a promise the rest of the gateway relies on:
 * - An event is deleted only when the cloud acknowledged it (seq ≤ `sync.acked_seq`, the
 *   cloud's cumulative ack, docs/sync.md §1) and it is older than the event window.
 * - Events go as a prefix of the log: the mark `store.events_pruned_through` (meta) says every
 *   seq up to it is gone except the few kept on purpose below; above it the log stays
 *   gap-free. So a reader that finds no row for a seq ≤ the mark knows it was pruned, not lost.
 * - Kept below the mark: an event with an open sync failure (a supervisor retries it with its
 *   stored content, docs/sync.md §4); an event about a shipment that is not settled
 *   ({@link SETTLED_SHIPMENT_STATES}: a restart rebuilds a verifying shipment's item counts from its events); the
 *   latest event of each type about a station (its PDA operator after a restart). They go
 *   once that reason ends.
 * - An order goes, with its barcodes, shipments and print jobs, only when it is closed
 *   (shipped — by its flag or a shipped shipment — or cancelled, refunded, closed by the
 *   platform), all its shipments are settled, no print job of it is pending, no
 *   change is held for it, it and all its shipments are older than the order window, and
 *   no event about it or its shipments is beyond the cloud's ack.
 */
import type { OrderFlags, PrintJobState, ShipmentState } from './types.js';

export interface RetentionWindows {
  /** Closed orders, their shipments and print jobs: kept this long after their last change (ms). */
  ordersMs: number;
  /** Events the cloud acknowledged: kept this long after they were written (ms). */
  eventsMs: number;
}

export interface OrderCandidate {
  orderId: string;
  flags: OrderFlags;
  updatedAt: number;
  shipments: Array<{ shipmentId: string; state: ShipmentState; updatedAt: number }>;
  /** States of the print jobs of its shipments. */
  jobStates: PrintJobState[];
  /** A status change is held for it (meta `held.order.{id}`). */
  held: boolean;
  /** Highest event seq about the order or any of its shipments, or null. */
  lastEventSeq: number | null;
}

export interface EventCandidate {
  seq: number;
  /** Wall-clock part of its HLC stamp (ms). */
  wallMs: number;
  subject: string;
  type: string;
  /** The cloud rejected it and the failure is not resolved. */
  openSyncFailure: boolean;
  /** Its subject is a shipment whose state is not settled (false: not a shipment subject, or no such row). */
  openShipment: boolean;
  /** It is the newest event of its type about its subject. */
  latestOfSubjectType: boolean;
}

export interface PruneInput {
  now: number;
  windows: RetentionWindows;
  /** The cloud's cumulative ack (meta `sync.acked_seq`). */
  ackedSeq: number;
  /** Every seq ≤ this was pruned except those kept (meta `store.events_pruned_through`). */
  prunedThrough: number;
  orders: OrderCandidate[];
  /** Events with seq > prunedThrough, ascending, contiguous from prunedThrough + 1 (a prefix of what is left). */
  events: EventCandidate[];
  /** Events kept below the mark, re-examined: each goes once its reason to stay ends. */
  keptBelow: EventCandidate[];
  /**
   * Event types whose state is rebuilt from the log at start-up (picking and stock: the
   * picking runtime folds them from seq 0), so they are never pruned, however old.
   */
  keepEventTypes?: readonly string[];
}

export interface PrunePlan {
  /** Orders to delete with their barcodes, shipments and print jobs. */
  orders: string[];
  /** The new mark: every event in (prunedThrough, eventsThrough] goes except `keepEvents`. */
  eventsThrough: number;
  /** Seqs to delete: the prefix's events not kept, and kept ones whose reason ended. */
  deleteEvents: number[];
}

const ACTIVE_JOB_STATES: readonly PrintJobState[] = ['queued', 'sent', 'printing'];

/**
 * Shipment states nothing happens after: shipped, abandoned, and intercepted (the parcel was
 * stopped at a checkpoint; a new scan opens a new shipment). A held, labelling or printed
 * shipment still waits for someone, so it and its order stay.
 */
export const SETTLED_SHIPMENT_STATES: readonly ShipmentState[] = ['shipped', 'abandoned', 'intercepted'];

export function orderClosed(o: Pick<OrderCandidate, 'flags' | 'shipments'>): boolean {
  const f = o.flags;
  return f.shipped || f.cancelled || f.refunded || f.platformClosed || o.shipments.some((s) => s.state === 'shipped');
}

/** Why the order stays, or null when it may go. */
export function orderKeepReason(o: OrderCandidate, input: Pick<PruneInput, 'now' | 'windows' | 'ackedSeq'>): string | null {
  const cutoff = input.now - input.windows.ordersMs;
  if (!orderClosed(o)) return 'open';
  if (o.held) return 'held';
  if (o.shipments.some((s) => !SETTLED_SHIPMENT_STATES.includes(s.state))) return 'shipment in progress';
  if (o.jobStates.some((s) => ACTIVE_JOB_STATES.includes(s))) return 'print job pending';
  if (o.updatedAt > cutoff || o.shipments.some((s) => s.updatedAt > cutoff)) return 'in window';
  if (o.lastEventSeq !== null && o.lastEventSeq > input.ackedSeq) return 'not acknowledged';
  return null;
}

/** Why an acknowledged, old event stays below the mark, or null. */
export function eventKeepReason(e: EventCandidate, keepEventTypes: readonly string[] = []): string | null {
  if (keepEventTypes.includes(e.type)) return 'state rebuilt from the log';
  if (e.openSyncFailure) return 'sync failed';
  if (e.openShipment) return 'shipment in progress';
  if (e.subject.startsWith('station:') && e.latestOfSubjectType) return 'latest of station';
  return null;
}

export function planPrune(input: PruneInput): PrunePlan {
  const orders = input.orders.filter((o) => orderKeepReason(o, input) === null).map((o) => o.orderId);
  const cutoff = input.now - input.windows.eventsMs;
  const deleteEvents: number[] = [];
  let through = input.prunedThrough;
  for (const e of input.events) {
    // A prefix only: the first event that must stay ends it (contiguity is the caller's promise; a hole ends it too).
    if (e.seq !== through + 1 || e.seq > input.ackedSeq || e.wallMs > cutoff) break;
    through = e.seq;
    if (eventKeepReason(e, input.keepEventTypes) === null) deleteEvents.push(e.seq);
  }
  for (const e of input.keptBelow) {
    if (e.seq <= input.prunedThrough && e.seq <= input.ackedSeq && eventKeepReason(e, input.keepEventTypes) === null) deleteEvents.push(e.seq);
  }
  return { orders, eventsThrough: through, deleteEvents };
}
