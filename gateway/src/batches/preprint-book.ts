/**
 * The labels printed ahead for pre-print batches (decide/preprint.ts): shipment id → its batch
 * and sequence number, from the `batch.parcel_selected` events with `preprint: true` (replayed
 * at start, then fed every committed unit), and which of them are still out — printed or
 * printing, the parcel not yet scanned. No I/O.
 */
import type { Shipment, StationWrite } from '../station/domain.js';
import { EVENT } from '../station/events.js';
import type { PreprintLink, PreprintPlace } from '../station/types.js';
import type { BatchBook } from './batch-book.js';

export interface PreprintEntry {
  shipmentId: string;
  orderId: string;
  batchId: string;
  seq: number;
  waybill: string | null;
}

export class PreprintBook {
  private readonly entries = new Map<string, PreprintEntry>();
  /** Shipments whose label is out and whose parcel was not scanned (nor intercepted, nor abandoned). */
  private readonly out = new Set<string>();

  constructor(private readonly totalOf: (batchId: string) => number) {}

  placeOf(shipmentId: string): PreprintPlace | null {
    const e = this.entries.get(shipmentId);
    return e === undefined ? null : { batchId: e.batchId, seq: e.seq, total: this.totalOf(e.batchId) };
  }

  entry(shipmentId: string): PreprintEntry | null {
    return this.entries.get(shipmentId) ?? null;
  }

  all(): PreprintEntry[] {
    return [...this.entries.values()];
  }

  /** Whether any pre-printed label waits for its parcel (a scan only looks for one then). */
  anyOut(): boolean {
    return this.out.size > 0;
  }

  /** Labels of a batch still out (printed or printing, parcel not scanned). */
  outFor(batchId: string): number {
    let n = 0;
    for (const id of this.out) if (this.entries.get(id)?.batchId === batchId) n += 1;
    return n;
  }

  observe(writes: readonly StationWrite[]): void {
    for (const w of writes) {
      if (w.op === 'event' && w.type === EVENT.batchParcelSelected && w.subject.startsWith('batch:')) {
        const d = w.data as { order_id?: unknown; shipment_id?: unknown; seq?: unknown; barcode?: unknown; preprint?: unknown };
        if (d.preprint !== true || typeof d.shipment_id !== 'string' || typeof d.order_id !== 'string') continue;
        this.entries.set(d.shipment_id, {
          shipmentId: d.shipment_id,
          orderId: d.order_id,
          batchId: w.subject.slice('batch:'.length),
          seq: typeof d.seq === 'number' ? d.seq : 0,
          waybill: typeof d.barcode === 'string' ? d.barcode : null,
        });
        this.out.add(d.shipment_id);
      } else if (w.op === 'shipment.put') {
        this.shipment(w.shipment);
      }
    }
  }

  /** A shipment row's state (committed, or read at start). */
  shipment(s: Shipment): void {
    if (!this.entries.has(s.shipmentId)) return;
    if (s.state === 'printed' || s.state === 'labelling') this.out.add(s.shipmentId);
    else this.out.delete(s.shipmentId);
  }
}

/** Batch pre-print as the station's deciders see it (StationContext.preprint). */
export function preprintLink(book: BatchBook, preprints: PreprintBook): PreprintLink {
  return {
    batch: (batchId) => {
      const b = book.get(batchId);
      if (b === null || b.mode !== 'preprint' || (b.state !== 'open' && b.state !== 'working')) return null;
      return {
        batchId,
        total: b.orders.length,
        remaining: () => {
          const out: Array<{ orderId: string; seq: number }> = [];
          b.orders.forEach((id, i) => {
            if (book.isPending(batchId, id)) out.push({ orderId: id, seq: i + 1 });
          });
          return out;
        },
      };
    },
    placeOf: (shipmentId) => preprints.placeOf(shipmentId),
    anyOut: () => preprints.anyOut(),
  };
}
