/**
 * The batches and pre-pack jobs in memory, with each batch order's progress: pending, taken
 * (a shipment picked it: being packed, labelled or shipped) or removed (intercepted before its
 * turn). No I/O: batch-service.ts loads it from the store and feeds it every committed write
 * that concerns it, so what it says is always what is on disk.
 */
import { compositionBarcodes } from '../station/decide/composition.js';
import type { StationWrite } from '../station/domain.js';
import { EVENT } from '../station/events.js';
import type { BatchCode, StationBatch } from '../station/types.js';
import { type Batch, holdsOrders } from './batch.js';
import { type PrepackJob, parsePrepackBarcode } from './prepack.js';

export type OrderProgress = 'pending' | 'taken' | 'removed';

export interface BatchProgress {
  total: number;
  taken: number;
  removed: number;
  remaining: number;
  /** The next order a scan would pick (first pending in sequence), or null. */
  next: { orderId: string; seq: number } | null;
}

interface Entry {
  batch: Batch;
  progress: Map<string, OrderProgress>;
  /** Item barcodes of its composition. */
  items: Set<string>;
}

export class BatchBook {
  private readonly batches = new Map<string, Entry>();
  /** Order id → the open or working batch holding it. */
  private readonly holder = new Map<string, string>();
  private readonly prepacks = new Map<string, PrepackJob>();
  /** Pre-pack unit barcode → the order it shipped with. */
  private readonly prepackUsed = new Map<string, string>();
  /** Shipment id → batch id, for picks whose shipment may still be abandoned. */
  private readonly picks = new Map<string, { batchId: string; orderId: string; barcode: string }>();

  put(batch: Batch, progress?: ReadonlyMap<string, OrderProgress>): void {
    const prev = this.batches.get(batch.batchId);
    const p = new Map<string, OrderProgress>();
    for (const id of batch.orders) p.set(id, progress?.get(id) ?? prev?.progress.get(id) ?? 'pending');
    this.batches.set(batch.batchId, { batch, progress: p, items: new Set(batch.composition === null ? [] : compositionBarcodes(batch.composition)) });
    for (const id of batch.orders) {
      if (holdsOrders(batch)) this.holder.set(id, batch.batchId);
      else if (this.holder.get(id) === batch.batchId) this.holder.delete(id);
    }
  }

  get(batchId: string): Batch | null {
    return this.batches.get(batchId)?.batch ?? null;
  }

  list(): Batch[] {
    return [...this.batches.values()].map((e) => e.batch);
  }

  /** Orders held by open or working batches (never batched twice). */
  held(): ReadonlySet<string> {
    return new Set(this.holder.keys());
  }

  holderOf(orderId: string): string | null {
    return this.holder.get(orderId) ?? null;
  }

  /** The batch a station works, or null. */
  working(stationId: string): Batch | null {
    for (const e of this.batches.values()) if (e.batch.state === 'working' && e.batch.stationId === stationId) return e.batch;
    return null;
  }

  progressOf(batchId: string): BatchProgress | null {
    const e = this.batches.get(batchId);
    if (e === undefined) return null;
    let taken = 0;
    let removed = 0;
    let next: BatchProgress['next'] = null;
    e.batch.orders.forEach((id, i) => {
      const p = e.progress.get(id);
      if (p === 'taken') taken += 1;
      else if (p === 'removed') removed += 1;
      else if (next === null) next = { orderId: id, seq: i + 1 };
    });
    return { total: e.batch.orders.length, taken, removed, remaining: e.batch.orders.length - taken - removed, next };
  }

  /** Marks an order (after a committed store change said so). */
  mark(batchId: string, orderId: string, p: OrderProgress): void {
    const e = this.batches.get(batchId);
    if (e?.progress.has(orderId)) e.progress.set(orderId, p);
  }

  isPending(batchId: string, orderId: string): boolean {
    return this.batches.get(batchId)?.progress.get(orderId) === 'pending';
  }

  /** Picks of the batch whose shipment has not shipped yet (being weighed, labelled, printed). */
  openPicks(batchId: string): number {
    let n = 0;
    for (const p of this.picks.values()) if (p.batchId === batchId) n += 1;
    return n;
  }

  putPrepack(job: PrepackJob): void {
    this.prepacks.set(job.jobId, job);
  }

  prepackJobs(): PrepackJob[] {
    return [...this.prepacks.values()];
  }

  prepackUsedBy(barcode: string): string | null {
    return this.prepackUsed.get(barcode) ?? null;
  }

  /** Units of a job not yet shipped. */
  prepackLeft(jobId: string): number {
    const job = this.prepacks.get(jobId);
    if (job === undefined) return 0;
    let used = 0;
    for (const code of this.prepackUsed.keys()) if (code.startsWith(`${jobId}-`)) used += 1;
    return job.units - used;
  }

  /** Pre-packed units in stock per composition (batch building classifies orders by it). */
  prepackStock(): Map<string, number> {
    const out = new Map<string, number>();
    for (const job of this.prepacks.values()) out.set(job.composition, (out.get(job.composition) ?? 0) + this.prepackLeft(job.jobId));
    return out;
  }

  /**
   * A committed unit (a station step, a restore): picks take their order (and pre-pack unit),
   * removals remove it, and a pick whose shipment was abandoned or intercepted gives the
   * order back or removes it.
   */
  observe(writes: readonly StationWrite[]): Set<string> {
    const touched = new Set<string>();
    for (const w of writes) {
      if (w.op === 'event' && w.subject.startsWith('batch:')) {
        const batchId = w.subject.slice('batch:'.length);
        const d = w.data as { order_id?: unknown; shipment_id?: unknown; barcode?: unknown; prepack_job_id?: unknown };
        if (typeof d.order_id !== 'string') continue;
        if (w.type === EVENT.batchParcelSelected) {
          this.mark(batchId, d.order_id, 'taken');
          if (typeof d.shipment_id === 'string') this.picks.set(d.shipment_id, { batchId, orderId: d.order_id, barcode: String(d.barcode ?? '') });
          if (typeof d.prepack_job_id === 'string' && typeof d.barcode === 'string') this.prepackUsed.set(d.barcode, d.order_id);
          touched.add(batchId);
        } else if (w.type === EVENT.batchOrderRemoved) {
          this.mark(batchId, d.order_id, 'removed');
          // A pre-printed label pulled from the recall list: its pick is closed with it.
          if (typeof d.shipment_id === 'string') this.picks.delete(d.shipment_id);
          touched.add(batchId);
        }
      } else if (w.op === 'shipment.put') {
        const pick = this.picks.get(w.shipment.shipmentId);
        if (pick === undefined) {
          // A batch order packed order by order (at any station) leaves the batch's pending list.
          const holder = this.holder.get(w.shipment.orderId);
          const st = w.shipment.state;
          if (holder !== undefined && this.isPending(holder, w.shipment.orderId) && (st === 'labelling' || st === 'printed' || st === 'shipped')) {
            this.mark(holder, w.shipment.orderId, 'taken');
            touched.add(holder);
          }
          continue;
        }
        const st = w.shipment.state;
        if (st === 'abandoned' && w.shipment.reasonCode === 'PKL_PRESALE_STAGED') {
          // A presale parcel packed and staged (station/decide/presale-stage.ts): its turn in the
          // batch is done; its staging label releases it once paid.
          this.picks.delete(w.shipment.shipmentId);
          touched.add(pick.batchId);
        } else if (st === 'abandoned' || st === 'intercepted') {
          this.mark(pick.batchId, pick.orderId, st === 'abandoned' ? 'pending' : 'removed');
          if (this.prepackUsed.get(pick.barcode) === pick.orderId) this.prepackUsed.delete(pick.barcode);
          this.picks.delete(w.shipment.shipmentId);
          touched.add(pick.batchId);
        } else if (st === 'shipped') {
          this.picks.delete(w.shipment.shipmentId);
          touched.add(pick.batchId);
        }
      }
    }
    return touched;
  }

  /** The batch a station works, as its post-print decider sees it. */
  forStation(stationId: string): StationBatch | null {
    const batch = this.working(stationId);
    if (batch === null || batch.mode !== 'postprint') return null;
    const e = this.batches.get(batch.batchId)!;
    return {
      batchId: batch.batchId,
      weigh: batch.weigh,
      accepts: (code): BatchCode | null => {
        if (e.items.has(code)) return { kind: 'item' };
        for (const job of this.prepacks.values()) {
          if (job.composition !== batch.composition) continue;
          if (parsePrepackBarcode(code, job) !== null) return { kind: 'prepack', jobId: job.jobId, usedBy: this.prepackUsed.get(code) ?? null };
        }
        return null;
      },
      contains: (orderId) => e.progress.has(orderId),
      remaining: () => {
        const out: Array<{ orderId: string; seq: number }> = [];
        batch.orders.forEach((id, i) => {
          if (e.progress.get(id) === 'pending') out.push({ orderId: id, seq: i + 1 });
        });
        return out;
      },
    };
  }
}
