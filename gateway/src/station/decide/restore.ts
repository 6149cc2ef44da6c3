/**
 * Rebuilds a station's state after a restart from what the store kept: the station's open
 * shipments (`Store.openShipments()` filtered by station) and its unanswered print jobs
 * (`Store.pendingPrintJobs()` for the station's printer). Pure: extra open shipments that can
 * no longer be worked on are returned as abandon writes for the runtime to commit.
 */
import type { PrintJob, Shipment, StationWrite } from '../domain.js';
import { EVENT, shipmentEvent } from '../events.js';
import { initialStationState, isActiveState } from './step.js';
import { needsVerification, verificationComplete } from './verification.js';
import type { StationContext, StationState } from '../types.js';

export interface RestoreInput {
  /** Open shipments (not in a final state); rows of other stations are ignored. */
  openShipments: readonly Shipment[];
  /** Unanswered print jobs; jobs of other printers are ignored. */
  pendingJobs: readonly PrintJob[];
  /** Restore time (gateway clock). */
  at: number;
  /**
   * Item counts per open shipment rebuilt from its acknowledged `shipment.item_scanned`
   * events (shipment id → barcode → count): item scans are not written to the row.
   */
  itemScans?: Readonly<Record<string, Readonly<Record<string, number>>>>;
}

export interface Restored {
  state: StationState;
  writes: StationWrite[];
}

function newestFirst(a: Shipment, b: Shipment): number {
  return b.openedAt - a.openedAt || b.updatedAt - a.updatedAt || (a.shipmentId < b.shipmentId ? 1 : -1);
}

export function restoreStation(input: RestoreInput, ctx: Pick<StationContext, 'station' | 'getOrder'>): Restored {
  const station = ctx.station;
  const state = initialStationState(station.id, input.at);
  const writes: StationWrite[] = [];
  for (const job of input.pendingJobs) {
    if (job.printerId === station.printer && job.shipmentId !== null) state.pendingJobs[job.jobId] = job;
  }
  const pendingShipments = new Set(Object.values(state.pendingJobs).map((j) => j.shipmentId));
  const mine = input.openShipments.filter((s) => s.stationId === station.id).sort(newestFirst);
  // Candidates for the screen: shipments still being worked on, and labelling ones with no job
  // out (their print failed, or their job was lost), which the operator has to see.
  const candidates = mine.filter((s) => isActiveState(s.state) || (s.state === 'labelling' && !pendingShipments.has(s.shipmentId)));
  const [current, ...stale] = candidates;
  for (const s of stale) {
    if (!isActiveState(s.state) && s.reasonCode !== 'PKL_PRINT_FAILED') continue; // a label may be out: keep it
    writes.push({
      op: 'shipment.put',
      shipment: { ...s, state: 'abandoned', reasonCode: 'PKL_SHIPMENT_ABANDONED', updatedAt: input.at },
    });
    writes.push(shipmentEvent(EVENT.abandoned, s.shipmentId, { by: 'restore', state: s.state }));
  }
  if (current !== undefined) {
    const order = ctx.getOrder(current.orderId);
    const scans = input.itemScans?.[current.shipmentId];
    if (current.state === 'verifying' && scans !== undefined && order !== null) {
      const scanned = { ...current.scanned, ...scans };
      const complete = verificationComplete(order, scanned);
      state.shipment = { ...current, scanned, state: complete ? 'weighing' : 'verifying' };
    } else {
      state.shipment = current;
    }
    state.verify = order !== null && needsVerification(order, station.verifyItems);
    // A weight taken before the restart is not trusted: the next stable reading after the
    // scale was seen empty counts (armed stays false until then).
    state.readyAt = state.shipment.state === 'verifying' ? null : input.at;
  }
  return { state, writes };
}
