/**
 * Batches and pre-pack jobs as the gateway keeps them: each batch and job is a meta row
 * (`batch.{id}`, `prepack.{id}`, listed in `batch.index` / `prepack.index`) written with its
 * event (`batch.created`, `batch.started`…) in one unit, so the store and the log (synced
 * upstream) never disagree. Per-parcel progress is not a row: it is the station's own commit
 * (the shipment and its `batch.parcel_selected` event), replayed from the batch's events at
 * start. Every change runs through one queue (read, decide, commit, then adopt), the station
 * flow's decide-commit-send shape.
 */
import { PacklineError, type ErrorCode, type ErrorDetails } from '../../../contracts/errors.js';
import type { StationView } from '../../../contracts/payloads.js';
import type { Logger } from '../lib/logger.js';
import { SerialQueue } from '../station/apply/serial-queue.js';
import { compositionBarcodes } from '../station/decide/composition.js';
import type { EventRecord, Order, Shipment, StationWrite } from '../station/domain.js';
import { batchEvent, EVENT, type EventType } from '../station/events.js';
import type { PreprintLink, StationBatch } from '../station/types.js';
import { type Batch, type BatchMode, cancelBatch, finishBatch, pauseBatch, startBatch, type Transition } from './batch.js';
import { BatchBook, type BatchProgress } from './batch-book.js';
import { PreprintBook, preprintLink } from './preprint-book.js';
import { type BatchRule, buildBatches, manualBatch } from './build.js';
import { type PrepackJob, prepackBarcode, validComposition } from './prepack.js';

const INDEX = 'batch.index';
const PREPACK_INDEX = 'prepack.index';
const batchKey = (id: string) => `batch.${id}`;
const prepackKey = (id: string) => `prepack.${id}`;

/** A meta row or an event: what a batch change writes, as one unit. */
export type BatchWrite = { op: 'meta.put'; key: string; value: string } | Extract<StationWrite, { op: 'event' }>;

/** What the batches need of the store (the SQLite store implements it structurally). */
export interface BatchStore {
  getMeta(key: string): string | null;
  write(ops: BatchWrite[]): Promise<unknown>;
  getOrder(orderId: string): Order | null;
  getShipment(shipmentId: string): Shipment | null;
  pendingOrders(limit: number): Order[];
  eventsForSubject(subject: string, limit: number): EventRecord[];
  listShipments(q: { orderId?: string; limit?: number }): Shipment[];
}

export interface BatchServiceDeps {
  store: BatchStore;
  logger: Logger;
  newId(prefix: 'B' | 'K'): string;
  now(): number;
  /** Station ids known to the gateway (a batch is started at one of them). */
  stationExists(stationId: string): boolean;
  /** Orders of a same-composition group before it counts as "same SKU" (default 2). */
  minGroup?: number;
  /** A batch changed at a station (started, paused, done): its screen is drawn again. */
  changed?(stationId: string): void;
}

export type BatchResult<T> = { ok: true; value: T } | { ok: false; code: ErrorCode; details: ErrorDetails };

export interface BatchSummary extends Batch {
  progress: BatchProgress;
}

/** Orders read for building at most (the rest wait for the next build). */
const BUILD_SCAN = 20_000;

export class BatchService {
  readonly name = 'batches';
  readonly book = new BatchBook();
  /** Labels printed ahead for pre-print batches (decide/preprint.ts). */
  readonly preprints = new PreprintBook((id) => this.book.get(id)?.orders.length ?? 0);
  /** A committed unit that concerns batches, for whoever follows them (the recall list). */
  private readonly followers: Array<(writes: readonly StationWrite[]) => void> = [];
  private readonly queue: SerialQueue;
  private started = false;

  constructor(private readonly deps: BatchServiceDeps) {
    this.queue = new SerialQueue(10_000, (err) => deps.logger.error({ err }, 'batch change failed'));
  }

  async start(): Promise<void> {
    if (this.started) return;
    const { store } = this.deps;
    for (const id of readIndex(store, PREPACK_INDEX)) {
      const raw = store.getMeta(prepackKey(id));
      if (raw !== null) this.book.putPrepack(JSON.parse(raw) as PrepackJob);
    }
    for (const id of readIndex(store, INDEX)) {
      const raw = store.getMeta(batchKey(id));
      if (raw === null) continue;
      const batch = JSON.parse(raw) as Batch;
      this.book.put(batch);
      // Progress is the replay of the batch's own events, then the fate of each pick's shipment.
      const events = store.eventsForSubject(`batch:${id}`, 1_000_000);
      const asWrites = events.map((e): StationWrite => ({ op: 'event', type: e.type, subject: e.subject, data: e.data }));
      this.book.observe(asWrites);
      this.preprints.observe(asWrites);
      for (const e of events) {
        const sid = (e.data as { shipment_id?: unknown }).shipment_id;
        if (e.type !== EVENT.batchParcelSelected || typeof sid !== 'string') continue;
        const s = store.getShipment(sid);
        if (s !== null) {
          this.book.observe([{ op: 'shipment.put', shipment: s }]);
          this.preprints.shipment(s);
        }
      }
      // Orders still pending by the events but labelled meanwhile (order by order, or events
      // already pruned from the log): their shipment rows say so.
      if (batch.state === 'open' || batch.state === 'working') {
        for (const orderId of batch.orders) {
          if (!this.book.isPending(id, orderId)) continue;
          for (const shipment of store.listShipments({ orderId, limit: 20 })) this.book.observe([{ op: 'shipment.put', shipment }]);
        }
      }
    }
    this.started = true;
  }

  async stop(): Promise<void> {
    if (!this.started) return;
    this.started = false;
    await this.queue.idle();
  }

  /** The station view's batch block (docs/mqtt.md station view), or null. */
  view(stationId: string): NonNullable<StationView['batch']> | null {
    const b = this.book.working(stationId);
    if (b === null) return null;
    const p = this.book.progressOf(b.batchId)!;
    return {
      batch_id: b.batchId,
      mode: b.mode,
      composition: b.composition,
      total: p.total,
      taken: p.taken,
      removed: p.removed,
      remaining: p.remaining,
      next_order_id: p.next?.orderId ?? null,
      next_seq: p.next?.seq ?? null,
    };
  }

  /** Follows every committed unit the batches see (station steps, removals). */
  follow(fn: (writes: readonly StationWrite[]) => void): void {
    this.followers.push(fn);
  }

  /** Batch pre-print as the station's deciders see it (StationContext.preprint). */
  readonly preprint: PreprintLink = preprintLink(this.book, this.preprints);

  /** Post-print's view of the batch a station works (StationContext.batchFor). */
  forStation(stationId: string): StationBatch | null {
    return this.book.forStation(stationId);
  }

  list(): BatchSummary[] {
    return this.book
      .list()
      .map((b) => this.summary(b))
      .sort((a, b) => b.createdAt - a.createdAt);
  }

  get(batchId: string): BatchSummary | null {
    const b = this.book.get(batchId);
    return b === null ? null : this.summary(b);
  }

  working(stationId: string): BatchSummary | null {
    const b = this.book.working(stationId);
    return b === null ? null : this.summary(b);
  }

  private summary(b: Batch): BatchSummary {
    return { ...b, progress: this.book.progressOf(b.batchId)! };
  }

  /** The batches the rules would build now (nothing written). */
  preview(rules: readonly BatchRule[]): Batch[] {
    let n = 0;
    return buildBatches({
      pending: this.deps.store.pendingOrders(BUILD_SCAN),
      taken: this.book.held(),
      rules,
      minGroup: this.deps.minGroup ?? 2,
      prepackStock: this.book.prepackStock(),
      newId: () => `preview-${++n}`,
      at: this.deps.now(),
    });
  }

  build(rules: readonly BatchRule[]): Promise<BatchResult<Batch[]>> {
    return this.run(async () => {
      const batches = buildBatches({
        pending: this.deps.store.pendingOrders(BUILD_SCAN),
        taken: this.book.held(),
        rules,
        minGroup: this.deps.minGroup ?? 2,
        prepackStock: this.book.prepackStock(),
        newId: () => this.deps.newId('B'),
        at: this.deps.now(),
      });
      if (batches.length === 0) return { ok: false, code: 'PKL_BATCH_EMPTY', details: {} };
      await this.create(batches);
      return { ok: true, value: batches };
    });
  }

  buildManual(orderIds: readonly string[], opts: { mode?: BatchMode; weigh?: boolean } = {}): Promise<BatchResult<Batch>> {
    return this.run(async () => {
      const built = manualBatch({
        orders: orderIds.map((id) => this.deps.store.getOrder(id)),
        orderIds,
        taken: this.book.held(),
        batchId: this.deps.newId('B'),
        at: this.deps.now(),
        ...opts,
      });
      if (!built.ok) return built;
      await this.create([built.batch]);
      return { ok: true, value: built.batch };
    });
  }

  private async create(batches: Batch[]): Promise<void> {
    const ops: BatchWrite[] = [];
    for (const b of batches) {
      ops.push({ op: 'meta.put', key: batchKey(b.batchId), value: JSON.stringify(b) });
      ops.push(
        batchEvent(EVENT.batchCreated, b.batchId, {
          structure: b.structure,
          composition: b.composition,
          carrier: b.carrier,
          shop: b.shop,
          mode: b.mode,
          orders: b.orders.length,
          order_ids: b.orders.join(','),
        }) as BatchWrite,
      );
    }
    const ids = [...readIndex(this.deps.store, INDEX), ...batches.map((b) => b.batchId)];
    ops.push({ op: 'meta.put', key: INDEX, value: JSON.stringify(ids) });
    await this.deps.store.write(ops);
    for (const b of batches) this.book.put(b);
  }

  startAt(batchId: string, stationId: string, opts: { mode?: BatchMode; weigh?: boolean } = {}): Promise<BatchResult<BatchSummary>> {
    return this.run(async () => {
      if (!this.deps.stationExists(stationId)) throw new PacklineError('PKL_STATION_UNKNOWN', { stationId });
      const busy = this.book.working(stationId);
      if (busy !== null && busy.batchId !== batchId) return { ok: false, code: 'PKL_BATCH_STATION_BUSY', details: { stationId, batchId: busy.batchId } };
      return this.transition(
        batchId,
        (b) => startBatch(b, stationId, opts, this.deps.now()),
        EVENT.batchStarted,
        (b) => ({
          station_id: b.stationId,
          mode: b.mode,
          weigh: b.weigh,
        }),
      );
    });
  }

  pause(batchId: string): Promise<BatchResult<BatchSummary>> {
    return this.run(() =>
      this.transition(
        batchId,
        (b) => pauseBatch(b, this.deps.now()),
        EVENT.batchPaused,
        () => ({}),
      ),
    );
  }

  cancel(batchId: string): Promise<BatchResult<BatchSummary>> {
    return this.run(() =>
      this.transition(
        batchId,
        (b) => cancelBatch(b, this.deps.now()),
        EVENT.batchCancelled,
        () => ({}),
      ),
    );
  }

  private async transition(
    batchId: string,
    step: (b: Batch) => Transition,
    type: EventType,
    data: (b: Batch) => Record<string, string | number | boolean | null>,
  ): Promise<BatchResult<BatchSummary>> {
    const prev = this.book.get(batchId);
    if (prev === null) return { ok: false, code: 'PKL_BATCH_NOT_FOUND', details: { batchId } };
    const t = step(prev);
    if (!t.ok) return t;
    if (t.batch !== prev) {
      await this.deps.store.write([
        { op: 'meta.put', key: batchKey(batchId), value: JSON.stringify(t.batch) },
        batchEvent(type, batchId, { station_id: prev.stationId, ...data(t.batch) }) as BatchWrite,
      ]);
      this.book.put(t.batch);
      for (const s of new Set([prev.stationId, t.batch.stationId])) if (s !== null) this.deps.changed?.(s);
    }
    return { ok: true, value: this.summary(t.batch) };
  }

  /**
   * A station step committed (StationRuntime calls this with its writes, after the commit):
   * picks and removals move the batch on; a batch with nothing left and no parcel still on its
   * way to a label is done.
   */
  committed(writes: readonly StationWrite[]): void {
    const touched = this.book.observe(writes);
    this.preprints.observe(writes);
    for (const f of this.followers) f(writes);
    for (const batchId of touched) {
      const b = this.book.get(batchId);
      const p = this.book.progressOf(batchId);
      if (b === null || p === null || b.state !== 'working' || p.remaining > 0 || this.book.openPicks(batchId) > 0) continue;
      void this.run(() =>
        this.transition(
          batchId,
          (x) => finishBatch(x, this.deps.now()),
          EVENT.batchDone,
          () => ({ shipped: p.taken, removed: p.removed }),
        ),
      );
    }
  }

  /**
   * Orders changed in the cache (a refund, a cancel): one that is now intercepted and still
   * waits for its turn in a batch leaves it at once (`batch.order_removed`), so the screen's
   * count and next order are right before the packer gets there.
   */
  ordersChanged(orderIds: readonly string[]): void {
    for (const orderId of orderIds) {
      const batchId = this.book.holderOf(orderId);
      if (batchId === null) continue;
      void this.run(async (): Promise<BatchResult<null>> => {
        const none = { ok: true, value: null } as const;
        const order = this.deps.store.getOrder(orderId);
        const f = order?.flags;
        if (f === undefined || !(f.refundRequested || f.refunded || f.cancelled || f.platformClosed || f.shipped)) return none;
        const batch = this.book.get(batchId);
        if (batch === null || !this.book.isPending(batchId, orderId)) return none;
        const code = f.shipped
          ? 'PKL_INTERCEPT_ALREADY_SHIPPED'
          : f.refunded
            ? 'PKL_INTERCEPT_REFUNDED'
            : f.refundRequested
              ? 'PKL_INTERCEPT_REFUND_REQUESTED'
              : f.cancelled
                ? 'PKL_INTERCEPT_CANCELLED'
                : 'PKL_INTERCEPT_PLATFORM_CLOSED';
        const ev = batchEvent(EVENT.batchOrderRemoved, batchId, { order_id: orderId, seq: batch.orders.indexOf(orderId) + 1, code, by: 'order_update' });
        await this.deps.store.write([ev as BatchWrite]);
        this.committed([ev]);
        if (batch.stationId !== null) this.deps.changed?.(batch.stationId);
        return none;
      });
    }
  }

  // ---- pre-pack jobs -----------------------------------------------------------------------

  createPrepack(composition: string, units: number): Promise<BatchResult<PrepackJob & { barcodes: string[] }>> {
    return this.run(async () => {
      if (!validComposition(composition))
        throw new PacklineError('PKL_PAYLOAD_INVALID', { reason: `composition "${composition}" is not barcode*qty[+barcode*qty…]` });
      if (!Number.isInteger(units) || units < 1 || units > 10_000) throw new PacklineError('PKL_PAYLOAD_INVALID', { reason: 'units must be 1…10000' });
      const job: PrepackJob = { jobId: this.deps.newId('K'), composition, units, createdAt: this.deps.now() };
      await this.deps.store.write([
        { op: 'meta.put', key: prepackKey(job.jobId), value: JSON.stringify(job) },
        { op: 'meta.put', key: PREPACK_INDEX, value: JSON.stringify([...readIndex(this.deps.store, PREPACK_INDEX), job.jobId]) },
        {
          op: 'event',
          type: EVENT.prepackCreated,
          subject: `prepack:${job.jobId}`,
          data: { composition, units, items: compositionBarcodes(composition).join(',') },
        },
      ]);
      this.book.putPrepack(job);
      return { ok: true, value: { ...job, barcodes: Array.from({ length: units }, (_, i) => prepackBarcode(job.jobId, i + 1)) } };
    });
  }

  prepacks(): Array<PrepackJob & { left: number }> {
    return this.book.prepackJobs().map((j) => ({ ...j, left: this.book.prepackLeft(j.jobId) }));
  }

  /** Runs one change in the queue; a PacklineError thrown inside is its coded refusal. */
  private run<T>(task: () => Promise<BatchResult<T>> | BatchResult<T>): Promise<BatchResult<T>> {
    return new Promise((resolve, reject) => {
      const pushed = this.queue.push(async () => {
        try {
          resolve(await task());
        } catch (err) {
          if (err instanceof PacklineError) resolve({ ok: false, code: err.code, details: err.details ?? {} });
          else reject(err);
        }
      });
      if (!pushed) resolve({ ok: false, code: 'PKL_OVERLOADED', details: {} });
    });
  }
}

function readIndex(store: Pick<BatchStore, 'getMeta'>, key: string): string[] {
  const raw = store.getMeta(key);
  if (raw === null) return [];
  const v = JSON.parse(raw) as unknown;
  return Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : [];
}
