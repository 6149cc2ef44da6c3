/**
 * Presale (预售订单打包), the I/O around presale-book.ts: the book is rebuilt from the event log
 * at start, fed every committed station unit (staging and release are written by the station
 * step, station/decide/presale-*.ts) and every order change (an import, a payment, a refund or
 * cancel from the feed or the API), and serves the stations their presale lookups, the screens
 * their counts and the API the shelf and the unpack list. Marking a parcel unpacked runs in one
 * queue: read, decide, commit (`presale.unpacked`, durable), then adopt.
 */
import type { ErrorCode, ErrorDetails } from '../../../contracts/errors.js';
import type { StationView } from '../../../contracts/payloads.js';
import type { Checkpoint } from '../config/schema.js';
import { rowData, rowTime, logRows } from '../handover/handover-service.js';
import type { Logger } from '../lib/logger.js';
import { checkOrderFlags, LABEL_GATE } from '../station/decide/intercept.js';
import type { EventRecord, Order, StationWrite } from '../station/domain.js';
import { EVENT } from '../station/events.js';
import type { StationPresale } from '../station/types.js';
import type { RawEventRow } from '../storage/types.js';
import { PRESALE_LOG_TYPES, PresaleBook, type StagedRecord } from './presale-book.js';

/** What presale needs of the store (the SQLite store implements it structurally). */
export interface PresaleStore {
  getOrder(orderId: string): Order | null;
  lastEvent(subject: string, type: string): EventRecord | null;
  eventRowsOfTypes(types: readonly string[], afterSeq: number, limit: number, scan: number): { rows: RawEventRow[]; scannedTo: number };
  stats(): { lastSeq: number };
  write(ops: StationWrite[]): Promise<unknown>;
}

export interface PresaleDeps {
  store: PresaleStore;
  logger: Logger;
  /** config `shipment.checkpoints`: the label gate's interception rules decide the unpack list. */
  checkpoints: readonly Checkpoint[];
  now?: () => number;
  /** The shelf or the unpack list changed: the station screens are drawn again. */
  changed?: () => void;
}

export type PresaleResult<T> = { ok: true; value: T } | { ok: false; code: ErrorCode; details: ErrorDetails };

/** Unpack-list entries a station screen lists (the count says how many there are in all). */
const VIEW_LIST = 10;

export class PresaleService {
  readonly name = 'presale';
  readonly book = new PresaleBook();
  private readonly now: () => number;
  private chain: Promise<unknown> = Promise.resolve();
  /**
   * The station view's block, computed once per change: every station's view is rendered up
   * to 10 times a second, and counting a peak's thousands of staged parcels each time would
   * cost more than the rest of the view (undefined: to be computed).
   */
  private viewCache: NonNullable<StationView['presale']> | null | undefined;

  /** The stations' lookups (StationContext.presale). */
  readonly station: StationPresale = {
    unpaid: (orderId) => this.book.unpaid(orderId),
    stagedFor: (orderId) => this.book.stagedFor(orderId),
    byBarcode: (code) => this.book.byBarcode(code),
  };

  constructor(private readonly deps: PresaleDeps) {
    this.now = deps.now ?? Date.now;
  }

  async start(): Promise<void> {
    for (const row of logRows(this.deps.store, PRESALE_LOG_TYPES)) {
      this.book.fold({ type: row.type, subject: row.subject, data: rowData(row), at: rowTime(row) });
    }
    for (const r of this.book.onShelf()) this.recheck(r.orderId);
  }

  async stop(): Promise<void> {
    await this.chain.catch(() => undefined);
  }

  /** A station unit committed (StationRuntime, after the commit): staging and release move the book on. */
  committed(writes: readonly StationWrite[]): void {
    let changed = false;
    for (const w of writes) {
      if (w.op !== 'event' || !w.type.startsWith('presale.')) continue;
      const orderId = this.book.fold({ type: w.type, subject: w.subject, data: w.data as Record<string, unknown>, at: this.now() });
      if (orderId !== null) {
        this.recheck(orderId);
        changed = true;
      }
    }
    if (changed) this.changedNow();
  }

  /**
   * Orders changed in the cache (imported, paid, refunded, cancelled): what the log now says of
   * their presale state is read back (the import and the payment are the sync unit's or the
   * API's own events, committed before this is called), and a staged parcel whose order was
   * stopped goes on the unpack list (or off it, a refund withdrawn).
   */
  ordersChanged(orderIds: readonly string[]): void {
    let changed = false;
    for (const orderId of orderIds) {
      const subject = `order:${orderId}`;
      for (const type of [EVENT.orderImported, EVENT.presalePaid]) {
        const e = this.deps.store.lastEvent(subject, type);
        if (e !== null && this.book.fold({ type: e.type, subject: e.subject, data: (e.data ?? {}) as Record<string, unknown>, at: this.now() }) !== null) {
          changed = true;
        }
      }
      if (this.recheck(orderId)) changed = true;
    }
    if (changed) this.changedNow();
  }

  /** Puts the order's staged parcel on the unpack list or takes it off; true when that changed. */
  private recheck(orderId: string): boolean {
    const rec = this.book.stagedFor(orderId);
    if (rec === null || rec.state !== 'staged') return false;
    const order = this.deps.store.getOrder(orderId);
    // Payment after a stop changes nothing: the order must not leave either way.
    const icpt = order === null ? null : checkOrderFlags(order, LABEL_GATE, this.deps.checkpoints);
    const moved = this.book.setUnpack(rec.stagingId, icpt?.code ?? null);
    if (moved) this.viewCache = undefined;
    return moved;
  }

  /** The station view's presale block (docs/mqtt.md), or null when there is no presale parcel. */
  view(): NonNullable<StationView['presale']> | null {
    if (this.viewCache !== undefined) return this.viewCache;
    this.viewCache = this.computeView();
    return this.viewCache;
  }

  private computeView(): NonNullable<StationView['presale']> | null {
    const c = this.book.counts();
    if (c.staged + c.ready + c.unpack === 0) return null;
    return {
      ...c,
      unpack_list: this.book
        .unpackList()
        .slice(0, VIEW_LIST)
        .map((r) => ({ staging_id: r.stagingId, order_id: r.orderId, reason: r.reason })),
    };
  }

  /** Every staged parcel, with whether it is paid and why it is on the unpack list (if it is). */
  list(state?: StagedRecord['state']): Array<StagedRecord & { paid: boolean; unpackReason: string | null }> {
    return this.book
      .all()
      .filter((r) => state === undefined || r.state === state)
      .sort((a, b) => a.stagedAt - b.stagedAt)
      .map((r) => ({ ...r, paid: !this.book.unpaid(r.orderId), unpackReason: this.book.unpackReason(r.stagingId) }));
  }

  get(stagingId: string): (StagedRecord & { paid: boolean; unpackReason: string | null }) | null {
    const r = this.book.get(stagingId);
    return r === null ? null : { ...r, paid: !this.book.unpaid(r.orderId), unpackReason: this.book.unpackReason(r.stagingId) };
  }

  counts(): { staged: number; ready: number; unpack: number } {
    return this.book.counts();
  }

  unpackList(): Array<StagedRecord & { reason: string }> {
    return this.book.unpackList();
  }

  /**
   * Marks a parcel of the unpack list unpacked (its items back to stock): `presale.unpacked`,
   * once per parcel. The same call again answers `duplicate` and writes nothing; a parcel not
   * on the list (its order may still ship) is refused.
   */
  markUnpacked(stagingId: string, by: string): Promise<PresaleResult<{ parcel: StagedRecord; duplicate: boolean }>> {
    return this.serial(async () => {
      const rec = this.book.get(stagingId);
      if (rec === null) return { ok: false, code: 'PKL_PRESALE_UNKNOWN', details: { stagingId } };
      if (rec.state === 'unpacked') return { ok: true, value: { parcel: rec, duplicate: true } };
      if (rec.state === 'released') return { ok: false, code: 'PKL_PRESALE_RELEASED', details: { stagingId, shipmentId: rec.releasedShipmentId } };
      this.recheck(rec.orderId);
      const reason = this.book.unpackReason(stagingId);
      if (reason === null) return { ok: false, code: 'PKL_PRESALE_NOT_UNPACKABLE', details: { stagingId, orderId: rec.orderId } };
      const event: StationWrite = {
        op: 'event',
        type: EVENT.presaleUnpacked,
        subject: `presale:${stagingId}`,
        data: { order_id: rec.orderId, staging_id: stagingId, shipment_id: stagingId, reason, by },
      };
      await this.deps.store.write([event]);
      this.book.fold({ type: event.type, subject: event.subject, data: event.data as Record<string, unknown>, at: this.now() });
      this.changedNow();
      return { ok: true, value: { parcel: this.book.get(stagingId) as StagedRecord, duplicate: false } };
    });
  }

  /** The book changed: the view block is computed again and the screens are drawn again. */
  private changedNow(): void {
    this.viewCache = undefined;
    this.deps.changed?.();
  }

  /** Runs `fn` after every earlier change (one decision at a time over the same book). */
  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.chain.then(fn, fn);
    this.chain = run.catch(() => undefined);
    return run;
  }
}
