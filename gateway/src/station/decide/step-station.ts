/**
 * The packing-station state machine: scan → interception check → item verification →
 * weighing (weight lock + tolerance) → waybill → last interception gate → label → print
 * result. Pure and deterministic: the same state, input and lookups give the same step. Each
 * input has its own decider (scan.ts, weigh.ts, print-result.ts, override.ts,
 * order-update.ts; the label gate in label-gate.ts). docs/shipment-flow.md has the diagram,
 * every code and every event.
 */
import { onBatchScan } from './batch-scan.js';
import { onOrderUpdated } from './order-update.js';
import { onOverride } from './override.js';
import { onStagingScan } from './presale-release.js';
import { onPreprint, onPreprintedScan } from './preprint.js';
import { onPrintResult } from './print-result.js';
import { onRelabelScan } from './relabel.js';
import { onReset, onScan } from './scan.js';
import { Step } from './step.js';
import { onWeight } from './weigh.js';
import type { StationContext, StationInput, StationState, StationStep } from '../types.js';

export { initialStationState, isActiveState } from './step.js';
export { needsVerification, packingCheckpoints, verificationComplete } from './verification.js';

export function stepStation(state: StationState, input: StationInput, ctx: StationContext): StationStep {
  const w = new Step(state, input, ctx);
  switch (input.kind) {
    case 'scan': {
      // A presale parcel's staging label (presale-release.ts), at any station.
      const staged = ctx.presale?.byBarcode(input.code) ?? null;
      if (staged !== null) {
        onStagingScan(w, staged, input.operator ?? null);
        break;
      }
      // A parcel whose label was printed ahead for a batch: re-checked, then shipped (preprint.ts).
      if (onPreprintedScan(w, input.code, input.operator ?? null)) break;
      // A parcel switched to another carrier after its label printed: the new label (relabel.ts).
      if (onRelabelScan(w, input.code)) break;
      // A station working a batch: its item and pre-pack barcodes run post-print (batch-scan.ts).
      const batch = ctx.batchFor?.(ctx.station.id) ?? null;
      const accepted = batch?.accepts(input.code) ?? null;
      if (batch !== null && accepted !== null) onBatchScan(w, batch, accepted, input.code, input.operator ?? null);
      else onScan(w, input.code, input.operator ?? null);
      break;
    }
    case 'weight':
      onWeight(w, input.grams, input.stable);
      break;
    case 'print_result':
      onPrintResult(w, input.jobId, input.status, input.reason ?? null);
      break;
    case 'supervisor_override':
      onOverride(w, input.supervisor, input.shipmentId ?? null, input.note ?? null);
      break;
    case 'order_updated':
      onOrderUpdated(w, input.orderId);
      break;
    case 'reset':
      onReset(w);
      break;
    case 'preprint':
      onPreprint(w, input.batchId, input.limit, input.operator ?? null);
      break;
  }
  return w.finish();
}
