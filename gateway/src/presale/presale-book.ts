/**
 * Presale as the gateway knows it, folded from the event log (no table of its own): which
 * orders are presale and unpaid (`order.imported` with `presale: true`, until an `order.paid`),
 * and every staged parcel with its fate (`presale.staged`, `presale.released`,
 * `presale.unpacked`). No I/O: presale-service.ts feeds it the log at start and every committed
 * write after, so what it says is what is on disk.
 *
 * A payment is final (it is applied once per order, docs/sync.md §18): an order is unpaid while
 * its latest import says presale and no payment was recorded. A refund or cancel after the
 * payment is an ordinary interception.
 */
import { EVENT } from '../station/events.js';
import { parseStagingBarcode } from '../label/staging-label.js';
import type { StagedParcel } from '../station/types.js';

export interface StagedRecord extends StagedParcel {
  stationId: string;
  stagedAt: number;
  jobId: string | null;
  /** The shipment opened for the carrier label when it was released. */
  releasedShipmentId: string | null;
  releasedAt: number | null;
  unpackedAt: number | null;
  unpackedBy: string | null;
}

/** One log entry as the fold reads it. */
export interface PresaleLogEvent {
  type: string;
  subject: string;
  data: Record<string, unknown>;
  at: number;
}

/** Event types the fold reads. */
export const PRESALE_LOG_TYPES: readonly string[] = [EVENT.orderImported, EVENT.presalePaid, EVENT.presaleStaged, EVENT.presaleReleased, EVENT.presaleUnpacked];

const str = (v: unknown): string | null => (typeof v === 'string' ? v : null);
const num = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);

export class PresaleBook {
  /** Orders whose latest import says presale. */
  private readonly presale = new Set<string>();
  /** Orders whose payment was recorded. */
  private readonly paid = new Set<string>();
  private readonly staged = new Map<string, StagedRecord>();
  /** Order id → its latest staged parcel's staging id. */
  private readonly byOrder = new Map<string, string>();
  /** Staging id → the interception code that put it on the unpack list. */
  private readonly unpack = new Map<string, string>();

  /**
   * Folds one event; returns the order it concerns when it changed what the book says of that
   * order (null otherwise).
   */
  fold(e: PresaleLogEvent): string | null {
    const orderId = str(e.data.order_id);
    if (orderId === null) return null;
    switch (e.type) {
      case EVENT.orderImported: {
        const was = this.presale.has(orderId);
        if (e.data.presale === true) this.presale.add(orderId);
        else this.presale.delete(orderId);
        return was === this.presale.has(orderId) ? null : orderId;
      }
      case EVENT.presalePaid: {
        if (this.paid.has(orderId)) return null;
        this.paid.add(orderId);
        return orderId;
      }
      case EVENT.presaleStaged: {
        const stagingId = str(e.data.staging_id) ?? e.subject.replace(/^presale:/, '');
        if (this.staged.has(stagingId)) return null;
        this.staged.set(stagingId, {
          stagingId,
          orderId,
          state: 'staged',
          grams: num(e.data.grams),
          expectedGrams: num(e.data.expected_grams),
          stationId: str(e.data.station_id) ?? '',
          stagedAt: e.at,
          jobId: str(e.data.job_id),
          releasedShipmentId: null,
          releasedAt: null,
          unpackedAt: null,
          unpackedBy: null,
        });
        this.byOrder.set(orderId, stagingId);
        return orderId;
      }
      case EVENT.presaleReleased:
      case EVENT.presaleUnpacked: {
        const stagingId = str(e.data.staging_id) ?? e.subject.replace(/^presale:/, '');
        const rec = this.staged.get(stagingId);
        if (rec === undefined || rec.state !== 'staged') return null;
        if (e.type === EVENT.presaleReleased) {
          this.staged.set(stagingId, { ...rec, state: 'released', releasedShipmentId: str(e.data.shipment_id), releasedAt: e.at });
        } else {
          this.staged.set(stagingId, { ...rec, state: 'unpacked', unpackedAt: e.at, unpackedBy: str(e.data.by) });
        }
        this.unpack.delete(stagingId);
        return orderId;
      }
      default:
        return null;
    }
  }

  unpaid(orderId: string): boolean {
    return this.presale.has(orderId) && !this.paid.has(orderId);
  }

  isPaid(orderId: string): boolean {
    return this.paid.has(orderId);
  }

  stagedFor(orderId: string): StagedRecord | null {
    const id = this.byOrder.get(orderId);
    return id === undefined ? null : (this.staged.get(id) ?? null);
  }

  get(stagingId: string): StagedRecord | null {
    return this.staged.get(stagingId) ?? null;
  }

  byBarcode(code: string): StagedRecord | null {
    const id = parseStagingBarcode(code);
    return id === null ? null : (this.staged.get(id) ?? null);
  }

  /** Puts a parcel on the unpack list (its order was stopped before payment) or takes it off (null). */
  setUnpack(stagingId: string, reason: string | null): boolean {
    const rec = this.staged.get(stagingId);
    const before = this.unpack.get(stagingId) ?? null;
    const next = rec?.state === 'staged' ? reason : null;
    if (next === null) this.unpack.delete(stagingId);
    else this.unpack.set(stagingId, next);
    return before !== next;
  }

  unpackReason(stagingId: string): string | null {
    return this.unpack.get(stagingId) ?? null;
  }

  /** Parcels still on the presale shelf (staged, neither released nor unpacked). */
  onShelf(): StagedRecord[] {
    return [...this.staged.values()].filter((r) => r.state === 'staged');
  }

  all(): StagedRecord[] {
    return [...this.staged.values()];
  }

  /** Parcels on the unpack list, staged first first. */
  unpackList(): Array<StagedRecord & { reason: string }> {
    const out: Array<StagedRecord & { reason: string }> = [];
    for (const [id, reason] of this.unpack) {
      const rec = this.staged.get(id);
      if (rec !== undefined) out.push({ ...rec, reason });
    }
    return out.sort((a, b) => a.stagedAt - b.stagedAt);
  }

  /** Counts for screens: on the shelf unpaid, paid and waiting for their scan, to unpack. */
  counts(): { staged: number; ready: number; unpack: number } {
    let staged = 0;
    let ready = 0;
    for (const r of this.staged.values()) {
      if (r.state !== 'staged' || this.unpack.has(r.stagingId)) continue;
      if (this.unpaid(r.orderId)) staged += 1;
      else ready += 1;
    }
    return { staged, ready, unpack: this.unpack.size };
  }
}
