/**
 * Picking on PDAs, the I/O around the pure core: one serial queue for every picking decision
 * (they all read the one picking state), decide → commit the events as ONE unit (durable) →
 * fold them into the state → send the PDA its task or answer → acknowledge. Nothing is sent
 * before the commit; a crash anywhere leaves the whole decision on disk or none of it, and a
 * restart replays the picking events of the log into a fresh state (start()), so stock and
 * waves are exact after a kill -9.
 *
 * Serves the PDA contract (docs/mqtt.md §8) as the ingress owner of the pick_* kinds, the HTTP
 * API (http/routes/picking.ts) and the dashboard through PickingService.
 */
import type { ErrorCode, Refusal } from '../../../contracts/errors.js';
import { toWireError } from '../../../contracts/errors.js';
import type { EventPayloads } from '../../../contracts/payloads.js';
import { PICK_CONTRACT_VERSION } from '../../../contracts/payloads.js';
import { topics } from '../../../contracts/topics.js';
import type { Checkpoint } from '../config/schema.js';
import type { Logger } from '../lib/logger.js';
import { commitUnit, settled } from '../station/apply/commit.js';
import { SerialQueue } from '../station/apply/serial-queue.js';
import { checkInterception } from '../station/decide/intercept.js';
import type { Order, Shipment, StationWrite } from '../station/domain.js';
import type { CommandLink, DeviceEvent, EventOwner, Outcome, UnitWriter } from '../station/ports.js';
import { isPickEventType, PICK_EVENT, PICK_EVENT_TYPES, type PickEvent, pickEvent } from './events.js';
import {
  cancelWave,
  confirmPick,
  confirmReplenishment,
  type Decision,
  decideShort,
  type PickDeps,
  pullIntercepted,
  type ReplenishDefaults,
  releaseWave,
  reportShort,
  sortUnit,
  startPick,
  taskReplenishment,
} from './pick-decide.js';
import { orderPicking, type OrderPickingView } from './order-picking.js';
import { type PickingSnapshot, readSnapshot, SNAPSHOT_VERSION, writeSnapshot } from './snapshot.js';
import { PickingState } from './state.js';
import { locationStock, pickerRates, replenishmentViews, shortViews, type WaveView, waveView } from './views.js';
import { type BuildResult, buildWaves, DEFAULT_WAVE_RULES, type WaveRules } from './wave-builder.js';

/** What picking needs of the store (narrow, owned here; the SQLite store implements it). */
export interface PickingStore extends UnitWriter {
  getOrder(orderId: string): Order | null;
  findOrderByBarcode(code: string): Order | null;
  listShipments(q: { orderId?: string; limit?: number }): Shipment[];
  ordersAwaitingPick(limit: number): Order[];
  eventRowsOfTypes(
    types: readonly string[],
    afterSeq: number,
    limit: number,
    scan: number,
  ): { rows: Array<{ seq: number; type: string; subject: string; data: string; hlc: string }>; scannedTo: number };
  stats(): { diskFreeMb?: number; lastSeq?: number };
}

export interface PickingRuntimeDeps {
  store: PickingStore;
  link: CommandLink;
  logger: Logger;
  /** `config.shipment.checkpoints`: pick start runs the flag rules when `pick_start` is enabled. */
  checkpoints: readonly Checkpoint[];
  /** Unique id stem (gateway id + boot) for wave and request ids. */
  idStem: string;
  /** Whether an order held short may ship what was picked (partial shipment); default: yes. */
  partialAllowed?: (order: Order | null) => boolean;
  /** Config picking.waves: the rules of a build where the request names none, and the orders it looks at. */
  waveDefaults?: Partial<WaveRules>;
  pendingOrders?: number;
  /** Config picking.replenishment. */
  replenish?: ReplenishDefaults;
  /** Where the picking state's snapshot lives (snapshot.ts); absent: every start replays the whole log. */
  snapshotFile?: string;
  /** Events a start's replay must fold to write a snapshot at once (default SNAPSHOT_EVERY); a clean stop always writes one. */
  snapshotEvery?: number;
  /** A unit was sorted at a station (a PDA of that station): its screen shows the slot (StationView.picking). */
  onStationSort?: (stationId: string) => void;
  now?: () => number;
}

/** The picking block of a station screen (contracts/payloads.ts StationView.picking). */
export interface StationPickingView {
  order: { wave_id: string; order_id: string; slot: number; state: string } | null;
  sorted: { wave_id: string; order_id: string; slot: number; sku: string; item: string; at: number } | null;
}

/** Pending orders looked at per build unless config picking.waves.pendingOrders says otherwise. */
const PENDING_LIMIT = 20_000;
const QUEUE_LIMIT = 2000;
/** Picking events a replay at start must have folded for a snapshot to be written right after it. */
export const SNAPSHOT_EVERY = 50_000;

export type PickResult<T extends object = object> = ({ ok: true } & T) | Refusal;

export interface PickingService {
  build(rules: Partial<WaveRules>, preview: boolean): Promise<PickResult<{ waves: WaveView[]; left_out: BuildResult['leftOut'] }>>;
  waves(state?: string): WaveView[];
  wave(waveId: string): WaveView | null;
  release(waveId: string, deviceId: string | null): Promise<PickResult<{ wave: WaveView }>>;
  cancel(waveId: string, reason: string): Promise<PickResult<{ wave: WaveView }>>;
  shorts(): ReturnType<typeof shortViews>;
  decideShort(orderId: string, action: 'release' | 'cancel', supervisor: string): Promise<PickResult>;
  stock(location: string): ReturnType<typeof locationStock>;
  replenishments(): ReturnType<typeof replenishmentViews>;
  taskReplenishment(requestId: string, deviceId: string | null): Promise<PickResult>;
  confirmReplenishment(requestId: string, qty: number | null): Promise<PickResult>;
  /** Locations and stock from the inbound feed (or an import): `location.upserted` / `stock.set` events. */
  importFloor(events: PickEvent[]): Promise<PickResult<{ seq: number | null }>>;
  summary(): {
    waves: { open: number; picking: number; closed: number };
    units: number;
    picked: number;
    shorts: number;
    replenishments: number;
    pickers: ReturnType<typeof pickerRates>;
  };
}

export class PickingRuntime implements EventOwner, PickingService {
  readonly name = 'picking';
  /** The fold of the picking events (replaced only at start, when a snapshot is loaded). */
  state = new PickingState();
  private readonly queue: SerialQueue;
  private readonly now: () => number;
  private counter = 0;
  private started = false;
  /** Highest log seq looked at for picking events (own and written by others, e.g. the cloud feed). */
  private lastSeq = 0;
  /** Seqs of own events folded at commit, not to fold again when the log is read after them. */
  private readonly ownSeqs = new Set<number>();
  /**
   * A unit is being committed: its rows may already be visible to the WAL reader before the
   * commit resolves and they are folded as own, so nothing reads the log meanwhile.
   */
  private committing = false;
  private readonly deps: PickDeps;
  /** The last picking event read from the log (the snapshot's check that the log is the same). */
  private lastPick = { seq: 0, hlc: '' };
  /** Picking events folded since the last snapshot, and the snapshot being written. */
  private sinceSnapshot = 0;
  private snapshotting: Promise<void> | null = null;
  /** The last unit sorted at each station (not durable: a screen hint; the sort itself is the `pick.sorted` event). */
  private readonly sortedAt = new Map<string, NonNullable<StationPickingView['sorted']>>();

  constructor(private readonly d: PickingRuntimeDeps) {
    this.now = d.now ?? Date.now;
    this.queue = new SerialQueue(QUEUE_LIMIT, (err) => d.logger.error({ err }, 'picking task failed'));
    this.deps = {
      order: (id) => d.store.getOrder(id),
      intercept: (o) => this.intercept(o),
      newRequestId: () => this.newId('R'),
      ...(d.replenish !== undefined && { replenish: d.replenish }),
    };
  }

  private newId(prefix: 'W' | 'R'): string {
    return `${prefix}-${this.d.idStem}-${(this.counter++).toString(36)}`;
  }

  /** The one interception check at pick start (开始配货): duplicate guard always, flags when enabled. */
  private intercept(order: Order): ErrorCode | null {
    return (
      checkInterception(order, { checkpoint: 'pick_start', enabled: this.d.checkpoints, shipments: this.d.store.listShipments({ orderId: order.orderId }) })
        ?.code ?? null
    );
  }

  /** Replays the picking events of the log into the state (exact stock after a crash). */
  async start(): Promise<void> {
    if (this.started) return;
    const from = this.loadSnapshot();
    const n = this.catchUp();
    this.started = true;
    this.d.logger.info(
      { events: n, fromSnapshotSeq: from, waves: this.state.waves.size, locations: this.state.locations.size },
      from === null ? 'picking state rebuilt from the log' : 'picking state loaded from its snapshot and the log after it',
    );
    this.maybeSnapshot();
  }

  /** Loads the snapshot when it belongs to this log; returns its seq, or null (the whole log is replayed). */
  private loadSnapshot(): number | null {
    const file = this.d.snapshotFile;
    if (file === undefined) return null;
    const snap = readSnapshot(file);
    if (snap === null) return null;
    const last = this.d.store.stats().lastSeq ?? 0;
    const at = snap.pick_seq === 0 ? null : this.d.store.eventRowsOfTypes(PICK_EVENT_TYPES, snap.pick_seq - 1, 1, 1).rows[0];
    const same = snap.seq <= last && (snap.pick_seq === 0 || (at !== undefined && at !== null && at.seq === snap.pick_seq && at.hlc === snap.pick_hlc));
    if (!same) {
      this.d.logger.warn({ file, seq: snap.seq, lastSeq: last }, 'picking snapshot does not match this log: replaying the whole log');
      return null;
    }
    this.state = PickingState.fromSnapshot(snap.state);
    this.lastSeq = snap.seq;
    this.lastPick = { seq: snap.pick_seq, hlc: snap.pick_hlc };
    return snap.seq;
  }

  /**
   * Writes a snapshot (after a start's long replay, at a clean stop), at a point where the state
   * is exactly the fold of the log up to `lastSeq` (no own event folded ahead of it).
   */
  private maybeSnapshot(force = false): Promise<void> | null {
    const file = this.d.snapshotFile;
    if (file === undefined || this.snapshotting !== null || this.committing || this.ownSeqs.size > 0) return this.snapshotting;
    if (!force && this.sinceSnapshot < (this.d.snapshotEvery ?? SNAPSHOT_EVERY)) return null;
    const snap: PickingSnapshot = {
      v: SNAPSHOT_VERSION,
      seq: this.lastSeq,
      pick_seq: this.lastPick.seq,
      pick_hlc: this.lastPick.hlc,
      state: this.state.toSnapshot(),
    };
    const text = JSON.stringify(snap);
    this.sinceSnapshot = 0;
    this.snapshotting = writeSnapshot(file, text)
      .catch((err: unknown) => this.d.logger.warn({ err, file }, 'could not write the picking snapshot (the log still has everything)'))
      .finally(() => {
        this.snapshotting = null;
      });
    return this.snapshotting;
  }

  /** Takes a snapshot now (tests, bench); resolves when it is on disk. */
  async snapshotNow(): Promise<void> {
    this.catchUp();
    await this.snapshotting;
    await this.maybeSnapshot(true);
  }

  /**
   * Folds picking events of the log not folded yet: at start the whole log (the rebuild), later
   * what others wrote (the cloud feed's locations and stock counts, sync/change-applier.ts).
   * Synchronous WAL reads; run before every decision and every read.
   */
  private catchUp(): number {
    if (this.committing) return 0;
    let n = 0;
    for (;;) {
      const { rows, scannedTo } = this.d.store.eventRowsOfTypes(PICK_EVENT_TYPES, this.lastSeq, 10_000, 100_000);
      for (const r of rows) {
        this.lastPick = { seq: r.seq, hlc: r.hlc };
        if (this.ownSeqs.delete(r.seq) || !isPickEventType(r.type)) continue;
        this.sinceSnapshot++;
        this.state.apply({ type: r.type, subject: r.subject, data: JSON.parse(r.data) } as PickEvent, r.seq, hlcMs(r.hlc));
        n++;
      }
      if (scannedTo <= this.lastSeq) break;
      this.lastSeq = scannedTo;
    }
    return n;
  }

  /**
   * A clean stop writes a snapshot when anything was folded since the last one. Not during the
   * run: the JSON text of a season's state is made on the main thread (seconds for 1M picking
   * events, bench/README.md "picking" (4)), which must not stall scans; at start and stop
   * nothing waits on it.
   */
  async stop(): Promise<void> {
    this.started = false;
    await this.queue.idle();
    this.catchUp();
    if (this.sinceSnapshot > 0) {
      await this.snapshotting;
      await this.maybeSnapshot(true);
    }
    await this.snapshotting;
  }

  /** Runs a decision in the queue: commit its events as one unit, then fold them in. */
  private run<T extends object>(
    decideFn: () => (Decision & T) | Refusal,
    opts: { dedupe?: { deviceId: string; msgId: string } | undefined } = {},
  ): Promise<{ outcome: Outcome; decision: (Decision & T) | Refusal; duplicate: boolean }> {
    return new Promise((resolve) => {
      const pushed = this.queue.push(async () => {
        this.catchUp();
        const decision = decideFn();
        if (!decision.ok) {
          resolve({ outcome: decision, decision, duplicate: false });
          return;
        }
        const writes: StationWrite[] = decision.events.map((e) => ({ op: 'event', type: e.type, subject: e.subject, data: e.data }));
        this.committing = true;
        let committed: Awaited<ReturnType<typeof commitUnit>>;
        try {
          committed = await commitUnit(this.d.store, writes, { dedupe: opts.dedupe });
        } finally {
          this.committing = false;
        }
        if (committed.kind === 'committed') {
          // A unit's events have consecutive seqs ending at the unit's last (assigned at commit).
          const at = this.now();
          const last = committed.seq ?? 0;
          decision.events.forEach((e, i) => {
            const seq = last - decision.events.length + 1 + i;
            if (seq > this.lastSeq) this.ownSeqs.add(seq);
            this.state.apply(e, seq, at);
            this.sinceSnapshot++;
          });
        }
        resolve({ outcome: settled(committed), decision, duplicate: committed.kind === 'duplicate' });
      });
      if (!pushed)
        resolve({
          outcome: { ok: false, code: 'PKL_OVERLOADED', details: {} },
          decision: { ok: false, code: 'PKL_OVERLOADED', details: {} },
          duplicate: false,
        });
    });
  }

  // ---- orders changed (cloud feed, API): pull intercepted orders from open waves ----------

  orderUpdated(orderId: string): void {
    if (!this.started || !this.state.orderWave.has(orderId)) return;
    void this.run(() => ({ ok: true, events: pullIntercepted(this.state, this.deps, orderId) }));
  }

  // ---- PDA (EventOwner) ---------------------------------------------------------------

  submit(event: DeviceEvent, settle: (outcome: Outcome) => void): boolean {
    if (!this.started) {
      settle({ ok: false, code: 'PKL_STORE_UNAVAILABLE', details: {} });
      return true;
    }
    const dedupe = event.msgId === undefined ? undefined : { deviceId: event.deviceId, msgId: event.msgId };
    const dev = event.deviceId;
    const answer = (p: Promise<{ outcome: Outcome; decision: Decision | Refusal; duplicate: boolean }>, after?: (d: Decision) => void) => {
      p.then(({ outcome, decision, duplicate }) => {
        if (outcome.ok && decision.ok && !duplicate) after?.(decision);
        settle(outcome);
      });
    };
    switch (event.kind) {
      case 'pick_request': {
        const p = event.payload as EventPayloads['pick_request'];
        let refusal: Refusal | null = null;
        this.run(() => {
          const d = this.decideRequest(dev, p.order);
          if ('flag' in d) {
            refusal = d.flag;
            return { ok: true, events: d.events };
          }
          return d;
        }).then(({ outcome }) => {
          if (outcome.ok && refusal === null) this.offerCurrent(dev);
          settle(outcome.ok && refusal !== null ? refusal : outcome);
        });
        return true;
      }
      case 'pick_accept': {
        const p = event.payload as EventPayloads['pick_accept'];
        answer(
          this.run(() => startPick(this.state, p.task_id, dev, p.operator ?? null, this.deps), { dedupe }),
          () => this.offer(dev, p.task_id),
        );
        return true;
      }
      case 'pick_line': {
        const p = event.payload as EventPayloads['pick_line'];
        answer(
          this.run(() => confirmPick(this.state, p.task_id, { location: p.location, item: p.item, qty: p.qty, deviceId: dev }, this.deps), { dedupe }),
          (d) => this.afterPick(dev, p.task_id, d),
        );
        return true;
      }
      case 'pick_short': {
        const p = event.payload as EventPayloads['pick_short'];
        answer(
          this.run(
            () => reportShort(this.state, p.task_id, { location: p.location, item: p.item, found: p.found, reason: p.reason, deviceId: dev }, this.deps),
            { dedupe },
          ),
          (d) => this.afterPick(dev, p.task_id, d),
        );
        return true;
      }
      case 'pick_sort': {
        const p = event.payload as EventPayloads['pick_sort'];
        answer(
          // An order intercepted since pick start was pulled when its change arrived (orderUpdated), so it gets no unit here.
          this.run(() => sortUnit(this.state, p.task_id, p.item), { dedupe }),
          (d) => {
            const sorted = !d.ok ? undefined : d.events.find((e) => e.type === PICK_EVENT.unitSorted);
            if (sorted === undefined) return;
            const data = sorted.data as { order_id: string; slot: number; sku: string };
            this.send(dev, { v: PICK_CONTRACT_VERSION, type: 'sort', task_id: p.task_id, item: p.item, order_id: data.order_id, slot: data.slot });
            // Sorting at a packing station: its screen shows the slot too.
            const owner = event.binding.owner;
            if (owner?.type === 'station') {
              this.sortedAt.set(owner.id, { wave_id: p.task_id, order_id: data.order_id, slot: data.slot, sku: data.sku, item: p.item, at: this.now() });
              this.d.onStationSort?.(owner.id);
            }
          },
        );
        return true;
      }
      case 'replenish_confirm': {
        const p = event.payload as EventPayloads['replenish_confirm'];
        answer(this.run(() => confirmReplenishment(this.state, p.task_id, p.qty ?? null), { dedupe }));
        return true;
      }
      default:
        settle({ ok: false, code: 'PKL_DEVICE_ROLE_MISMATCH', details: { deviceId: dev, role: event.binding.role, kind: event.kind } });
        return true;
    }
  }

  /** Ask for work: with an order barcode, a one-order pick list (interception first); else the oldest wave open to this PDA. */
  private decideRequest(deviceId: string, code: string | undefined): Decision | { ok: true; events: PickEvent[]; flag: Refusal } {
    if (code !== undefined) {
      const order = this.d.store.findOrderByBarcode(code);
      if (order === null) return { ok: false, code: 'PKL_ORDER_NOT_FOUND', details: { barcode: code } };
      const inWave = this.state.orderWave.get(order.orderId);
      if (inWave !== undefined) {
        const w = this.state.waves.get(inWave);
        if (w?.mode === 'order' && (w.device === null || w.device === deviceId)) return { ok: true, events: [] };
        return { ok: false, code: 'PKL_PICK_ORDER_BUSY', details: { orderId: order.orderId, waveId: inWave } };
      }
      const ic = this.intercept(order);
      if (ic !== null) {
        // Refused with the intercept code, and the order flagged (durably) so no wave takes it.
        const flag = pickEvent(PICK_EVENT.orderPulled, `order:${order.orderId}`, { wave_id: '', order_id: order.orderId, code: ic, returned: [] });
        return {
          ok: true,
          events: this.state.flagged.get(order.orderId) === ic ? [] : [flag],
          flag: { ok: false, code: ic, details: { orderId: order.orderId } },
        };
      }
      const r = buildWaves({
        state: this.state,
        orders: [order],
        rules: { ...DEFAULT_WAVE_RULES, groupBy: [], maxLines: 10_000, maxUnits: 100_000 },
        intercept: () => null,
        newWaveId: () => this.newId('W'),
        mode: 'order',
      });
      const left = r.leftOut[0];
      if (left !== undefined)
        return {
          ok: false,
          code: left.code,
          details: { orderId: order.orderId, sku: left.sku ?? null, waveId: this.state.orderWave.get(order.orderId) ?? null },
        };
      const waveId = r.waves[0]?.waveId as string;
      return { ok: true, events: [...r.events, pickEvent(PICK_EVENT.waveReleased, `wave:${waveId}`, { wave_id: waveId, device_id: deviceId })] };
    }
    return this.nextFor(deviceId) === null ? { ok: false, code: 'PKL_WAVE_EMPTY', details: {} } : { ok: true, events: [] };
  }

  /** The task this PDA should work on: its own started wave, else the oldest released to it or to any. */
  private nextFor(deviceId: string): string | null {
    let best: { id: string; seq: number; rank: number } | null = null;
    for (const w of this.state.waves.values()) {
      const rank =
        w.state === 'picking' && w.device === deviceId
          ? 0
          : w.state === 'released' && w.device === deviceId
            ? 1
            : w.state === 'released' && w.device === null
              ? 2
              : -1;
      if (rank < 0) continue;
      if (best === null || rank < best.rank || (rank === best.rank && w.builtSeq < best.seq)) best = { id: w.waveId, seq: w.builtSeq, rank };
    }
    return best?.id ?? null;
  }

  private offerCurrent(deviceId: string): void {
    const id = this.nextFor(deviceId);
    if (id !== null) this.offer(deviceId, id);
  }

  /** The task offer on dev/{id}/cmd/task: the pick list in path order, what is left of it. */
  private offer(deviceId: string, waveId: string): void {
    const w = this.state.waves.get(waveId);
    if (w === undefined) return;
    const v = waveView(this.state, w);
    this.send(deviceId, {
      v: PICK_CONTRACT_VERSION,
      type: 'pick',
      task_id: v.wave_id,
      mode: v.mode,
      state: v.state,
      orders: v.orders.map((o) => ({ order_id: o.order_id, slot: o.slot, state: o.state, code: o.code })),
      lines: v.lines.map((l) => ({ line_no: l.line_no, location: l.location, sku: l.sku, barcodes: l.barcodes, qty: l.qty, picked: l.picked, short: l.short })),
    });
  }

  private afterPick(deviceId: string, waveId: string, d: Decision): void {
    if (!d.ok) return;
    if (d.events.some((e) => e.type === PICK_EVENT.waveClosed)) this.send(deviceId, { v: PICK_CONTRACT_VERSION, type: 'closed', task_id: waveId });
  }

  private send(deviceId: string, payload: Record<string, unknown>): void {
    this.d.link
      .publish(topics.command(deviceId, 'task'), JSON.stringify(payload), { qos: 1 })
      .catch((err: unknown) => this.d.logger.warn({ err, deviceId }, 'could not send task'));
  }

  // ---- PickingService (HTTP, dashboard) -----------------------------------------------

  async build(rules: Partial<WaveRules>, preview: boolean): Promise<PickResult<{ waves: WaveView[]; left_out: BuildResult['leftOut'] }>> {
    const full: WaveRules = { ...DEFAULT_WAVE_RULES, ...this.d.waveDefaults, ...rules };
    let result: BuildResult | null = null;
    const compute = (): Decision => {
      result = buildWaves({
        state: this.state,
        orders: this.d.store.ordersAwaitingPick(this.d.pendingOrders ?? PENDING_LIMIT),
        rules: full,
        intercept: (o) => this.intercept(o),
        newWaveId: () => this.newId('W'),
      });
      if (result.waves.length === 0) return { ok: false, code: 'PKL_WAVE_EMPTY', details: {} };
      return { ok: true, events: preview ? [] : result.events };
    };
    const { outcome } = await this.run(compute);
    const r = result as BuildResult | null;
    if (!outcome.ok) return outcome;
    if (r === null) return { ok: false, code: 'PKL_INTERNAL', details: { ref: 'build' } };
    const views = preview
      ? r.waves.map((p) => {
          // A preview is not committed: show it through a scratch state holding only this build.
          const scratch = new PickingState();
          for (const [code, loc] of this.state.locations) scratch.locations.set(code, loc);
          const e = r.events.find((x) => x.type === PICK_EVENT.waveBuilt && (x.data as { wave_id: string }).wave_id === p.waveId);
          if (e !== undefined) scratch.apply(e);
          return waveView(scratch, scratch.waves.get(p.waveId) as NonNullable<ReturnType<typeof scratch.waves.get>>);
        })
      : r.waves.map((p) => this.wave(p.waveId) as WaveView);
    return { ok: true, waves: views, left_out: r.leftOut };
  }

  waves(state?: string): WaveView[] {
    this.catchUp();
    return [...this.state.waves.values()].filter((w) => state === undefined || w.state === state).map((w) => waveView(this.state, w));
  }

  wave(waveId: string): WaveView | null {
    const w = this.state.waves.get(waveId);
    return w === undefined ? null : waveView(this.state, w);
  }

  private async act(decideFn: () => Decision): Promise<PickResult> {
    const { outcome } = await this.run(decideFn);
    return outcome.ok ? { ok: true } : outcome;
  }

  async release(waveId: string, deviceId: string | null): Promise<PickResult<{ wave: WaveView }>> {
    const r = await this.act(() => releaseWave(this.state, waveId, deviceId));
    if (!r.ok) return r;
    if (deviceId !== null) this.offer(deviceId, waveId);
    return { ok: true, wave: this.wave(waveId) as WaveView };
  }

  async cancel(waveId: string, reason: string): Promise<PickResult<{ wave: WaveView }>> {
    const device = this.state.waves.get(waveId)?.device ?? null;
    const r = await this.act(() => cancelWave(this.state, waveId, reason));
    if (!r.ok) return r;
    if (device !== null) this.send(device, { v: PICK_CONTRACT_VERSION, type: 'cancelled', task_id: waveId, reason });
    return { ok: true, wave: this.wave(waveId) as WaveView };
  }

  shorts() {
    return shortViews(this.state);
  }

  /** A station screen's picking block: the slot of the order at the station, the last unit sorted there; null: neither. */
  stationView(stationId: string, orderId: string | null): StationPickingView | null {
    const at = orderId === null ? null : orderPicking(this.state, orderId);
    const sorted = this.sortedAt.get(stationId) ?? null;
    if (at === null && sorted === null) return null;
    return {
      order: at === null || orderId === null ? null : { wave_id: at.waveId, order_id: orderId, slot: at.slot, state: at.state },
      sorted,
    };
  }

  /** Where an order stands in picking (the packing station's StationContext.pickingState). */
  orderPicking(orderId: string): OrderPickingView | null {
    return orderPicking(this.state, orderId);
  }

  decideShort(orderId: string, action: 'release' | 'cancel', supervisor: string): Promise<PickResult> {
    const allowed = this.d.partialAllowed ?? (() => true);
    return this.act(() => decideShort(this.state, orderId, action, supervisor, allowed(this.d.store.getOrder(orderId))));
  }

  stock(location: string) {
    this.catchUp();
    return locationStock(this.state, location);
  }

  replenishments() {
    return replenishmentViews(this.state);
  }

  async taskReplenishment(requestId: string, deviceId: string | null): Promise<PickResult> {
    const r = await this.act(() => taskReplenishment(this.state, requestId, deviceId));
    const rep = this.state.replenishments.get(requestId);
    if (r.ok && deviceId !== null && rep !== undefined) {
      this.send(deviceId, { v: PICK_CONTRACT_VERSION, type: 'replenish', task_id: requestId, from: rep.from, to: rep.location, sku: rep.sku, qty: rep.qty });
    }
    return r;
  }

  confirmReplenishment(requestId: string, qty: number | null): Promise<PickResult> {
    return this.act(() => confirmReplenishment(this.state, requestId, qty));
  }

  async importFloor(events: PickEvent[]): Promise<PickResult<{ seq: number | null }>> {
    const { outcome } = await this.run(() => ({ ok: true, events }));
    return outcome.ok ? { ok: true, seq: outcome.seq ?? null } : outcome;
  }

  summary() {
    this.catchUp();
    let open = 0;
    let picking = 0;
    let closed = 0;
    let units = 0;
    let picked = 0;
    for (const w of this.state.waves.values()) {
      if (w.state === 'built' || w.state === 'released') open++;
      else if (w.state === 'picking') picking++;
      else if (w.state === 'closed') closed++;
      if (w.state === 'cancelled') continue;
      for (const l of w.lines) {
        for (const [, q] of l.demands) units += q;
        picked += l.picked;
      }
    }
    let shorts = 0;
    for (const h of this.state.shortHolds.values()) if (h === 'held') shorts++;
    let reps = 0;
    for (const r of this.state.replenishments.values()) if (r.state !== 'done') reps++;
    return { waves: { open, picking, closed }, units, picked, shorts, replenishments: reps, pickers: pickerRates(this.state) };
  }
}

/** The wall-clock milliseconds of an encoded HLC `wallMs.counter` (lib/hlc.ts encodeHlc), or null. */
function hlcMs(hlc: string): number | null {
  const ms = Number(hlc.split('.')[0]);
  return Number.isFinite(ms) ? ms : null;
}

/** A refusal in the wire form (HTTP answers use it). */
export function wireRefusal(r: Refusal) {
  return toWireError(r.code, r.details);
}
