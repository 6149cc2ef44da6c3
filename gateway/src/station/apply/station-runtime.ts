/**
 * Runs the packing stations: the I/O around the pure state machine (decide/step-station.ts).
 *
 * For each input, in the station's own queue: compute the step → commit its writes as one
 * unit (durable) → adopt the new state → send its commands (print, display) → publish the
 * station view → answer the device. Nothing is sent or acknowledged before the commit, so a
 * crash at any point leaves either nothing or the whole step on disk; after a restart the
 * state is rebuilt from the store and unanswered print jobs are re-issued with the same
 * job id (printers and drivers treat job ids as idempotent; docs/mqtt.md).
 */
import { PrinterJobCounts } from './printer-job-counts.js';
import { toWireError } from '../../../../contracts/errors.js';
import type { StationView } from '../../../../contracts/payloads.js';
import { topics } from '../../../../contracts/topics.js';
import type { Config, StationConfig } from '../../config/schema.js';
import { stationLabelFormat } from '../../label/label-format.js';
import type { LabelOptions } from '../../label/zpl-label.js';
import type { Logger } from '../../lib/logger.js';
import { LabelTemplates, templateFix } from '../../printing/label-templates.js';
import type { Shipment, StationWrite } from '../domain.js';
import { PrintRouter } from '../decide/print-router.js';
import type { ReprintRequest } from '../decide/reprint-plan.js';
import { restoreStation } from '../decide/restore.js';
import type { ShipUnlabelledRequest } from '../decide/ship-unlabelled-plan.js';
import { renderStationView } from '../decide/station-view.js';
import { stepStation } from '../decide/step-station.js';
import { EVENT } from '../events.js';
import type {
  BatchLink,
  CommandLink,
  DeviceEvent,
  EventOwner,
  FlowMetrics,
  FlowResult,
  FlowStore,
  IdSource,
  ManualScanResult,
  PresaleLink,
  Outcome,
  ReprintResult,
  ShipUnlabelledResult,
  StationService,
  StationSummary,
} from '../ports.js';
import type { OrderLookups, StationContext, StationInput, StationState } from '../types.js';
import { commitUnit, decide, settled } from './commit.js';
import { PrinterFleet } from './printer-fleet.js';
import { SerialQueue } from './serial-queue.js';
import { storeLookups } from './store-lookups.js';
import { SupervisorActions } from './supervisor-actions.js';

/** A pre-print's answer: the committed writes of its step, or the refusal. */
export type PreprintResult = { ok: true; writes: readonly StationWrite[] } | { ok: false; error: ReturnType<typeof toWireError> };

/** Inputs waiting per station before new ones are refused with PKL_OVERLOADED. */
const QUEUE_LIMIT = 1000;

/**
 * A station's view is published at most this often (latest view wins): one parcel's scan,
 * item, weight and print-result steps follow each other within milliseconds, and a view per
 * step was ~5 % of the main thread at 100 shipments/s. A tenth of a second is below what an
 * operator notices on the screen; the view after the last change is always published.
 */
export const VIEW_MIN_INTERVAL_MS = 100;

interface Station {
  readonly id: string;
  readonly printer: string;
  cfg: StationConfig;
  state: StationState;
  /** Takes the station's jobs out of the printers' counts (the station was removed). */
  uncount(): void;
  /** Operator logged in at the station by PDA (restored from the log after a restart). */
  operator: string | null;
  queue: SerialQueue;
  /** A view publish is due (next tick, or when the interval since the last one has passed). */
  viewTimer: NodeJS.Timeout | NodeJS.Immediate | null;
  /** When the last view was published (performance.now(): monotonic). */
  viewAt: number;
}

export interface StationRuntimeDeps {
  config: Readonly<Config>;
  store: FlowStore;
  link: CommandLink;
  metrics: FlowMetrics;
  logger: Logger;
  ids: IdSource;
  isOnline(deviceId: string): boolean;
  now?: () => number;
  /** Devices that show a station's alerts (provisioning/stations.ts displayTargets); absent: its display. */
  displayTargets?: (station: StationConfig) => readonly string[];
  /** The hold on a carrier (courier overload plan, gateway/src/handover/); absent: none. */
  carrierHold?: (carrier: string | null) => { reason: string } | null;
  /** Refusal of new parcels during a UPS shutdown (gateway/src/handover/power.ts); absent: none. */
  newWorkRefusal?: StationContext['newWorkRefusal'];
  /** Batches worked at stations (post-print); absent: every station works order by order. */
  batches?: BatchLink;
  /** Where an order stands in picking (gateway/src/picking/); absent: orders are packed as scanned. */
  pickingState?: StationContext['pickingState'];
  /** Presale parcels (gateway/src/presale/); absent: no order is presale. */
  presale?: PresaleLink;
  /** The screen's picking block (the order's slot, the last unit sorted here); absent or null: none. */
  pickingView?: (stationId: string, orderId: string | null) => StationView['picking'] | null;
  /** Voided labels of carrier switches still to pull (relabel on their next scan); absent: no relabel. */
  voidedLabel?: StationContext['voidedLabel'];
  anyVoided?: StationContext['anyVoided'];
  /** The recall list's block of every station view (gateway/src/recalls/); absent or null: none shown. */
  recallView?: () => StationView['recalls'] | null;
}

export class StationRuntime implements EventOwner, StationService {
  readonly name = 'stations';
  /** Unanswered jobs per printer over every station, kept by each station's `state` setter. */
  private readonly jobCounts = new PrinterJobCounts();
  private readonly stations = new Map<string, Station>();
  private readonly lookups: OrderLookups;
  private readonly now: () => number;
  private started = false;

  private readonly preShipment: (shop: string) => boolean;
  private readonly router: PrintRouter;
  /** Label options: the site's templates per carrier (printing/label-templates.ts). */
  private readonly label: LabelOptions;
  private readonly templates: LabelTemplates;
  private readonly printers: PrinterFleet;
  private readonly actions: SupervisorActions;

  constructor(private readonly deps: StationRuntimeDeps) {
    this.lookups = storeLookups(deps.store);
    const shops = new Set(deps.config.sync.preShipmentCallbackShops);
    this.preShipment = (shop) => shops.has('*') || shops.has(shop);
    const p = deps.config.printing;
    this.router = new PrintRouter({ channels: p.channels, routes: p.routes, queueLimit: p.queueLimit });
    this.templates = new LabelTemplates(p.templates);
    this.label = { templates: this.templates };
    this.now = deps.now ?? Date.now;
    this.printers = new PrinterFleet({
      link: deps.link,
      logger: deps.logger,
      isOnline: (id) => deps.isOnline(id),
      inFlight: (printerId) => this.inFlightOn(printerId),
    });
    this.actions = new SupervisorActions({
      store: deps.store,
      logger: deps.logger,
      metrics: deps.metrics,
      checkpoints: deps.config.shipment.checkpoints,
      now: () => this.now(),
      station: (id) => (this.started ? this.stations.get(id) : undefined),
      context: (station) => this.context((station as Station).cfg),
      send: (command) => this.printers.send(command),
      changed: (station) => this.scheduleView(station as Station),
    });
  }

  /**
   * A station's context is built once: everything in it is fixed for the run (config,
   * lookups, the router and printer health are read when called), and building it per step —
   * the label format looked up in the device list each time — showed in the core profile.
   */
  private readonly contexts = new WeakMap<StationConfig, StationContext>();

  private context(cfg: StationConfig): StationContext {
    let ctx = this.contexts.get(cfg);
    if (ctx === undefined) {
      ctx = this.buildContext(cfg);
      this.contexts.set(cfg, ctx);
    }
    return ctx;
  }

  private buildContext(cfg: StationConfig): StationContext {
    return {
      ...this.lookups,
      station: cfg,
      shipment: this.deps.config.shipment,
      newId: (prefix) => this.deps.ids.next(prefix),
      preShipmentCallback: this.preShipment,
      routePrinter: (job) =>
        this.router.route(
          { channel: cfg.channel, stationPrinter: cfg.printer, carrier: job.carrier, shop: job.shop },
          (id) => this.printers.health(id),
          job.exclude ?? [],
        ),
      labelFormat: stationLabelFormat(cfg, this.deps.config.devices),
      label: this.label,
      ...(this.deps.displayTargets ? { displayTargets: this.deps.displayTargets(cfg) } : {}),
      ...(this.deps.carrierHold ? { carrierHold: this.deps.carrierHold } : {}),
      ...(this.deps.newWorkRefusal ? { newWorkRefusal: this.deps.newWorkRefusal } : {}),
      ...(this.deps.batches ? { batchFor: (id: string) => this.deps.batches?.forStation(id) ?? null } : {}),
      ...(this.deps.pickingState ? { pickingState: this.deps.pickingState } : {}),
      ...(this.deps.presale ? { presale: this.deps.presale.station } : {}),
      ...(this.deps.batches?.preprint ? { preprint: this.deps.batches.preprint } : {}),
      ...(this.deps.voidedLabel ? { voidedLabel: this.deps.voidedLabel } : {}),
      ...(this.deps.anyVoided ? { anyVoided: this.deps.anyVoided } : {}),
    };
  }

  async start(): Promise<void> {
    if (this.started) return;
    const { store, logger, config } = this.deps;
    // A label that cannot be drawn is said once here, with the fix, not first at a station.
    for (const e of this.templates.problems()) logger.error({ code: e.code, fix: templateFix(e) }, `labels will fail: ${e.message}; fix: ${templateFix(e)}`);
    const at = this.now();
    const open = store.openShipments();
    const pending = store.pendingPrintJobs();
    const itemScans = itemScansFromLog(store, open);
    for (const cfg of config.stations) await this.open(cfg, { openShipments: open, pendingJobs: pending, at, itemScans });
    this.started = true;
    // Re-issue what devices still need: unanswered labels (to printers already back), and
    // every station's screen (retained, so screens that connect later get it too).
    for (const station of this.stations.values()) {
      this.reissueLabels(station, 'restart');
      this.publishView(station);
    }
  }

  /** Rebuilds a station from the store (its open shipment, unanswered labels, operator). */
  private async open(cfg: StationConfig, from: Parameters<typeof restoreStation>[0]): Promise<Station> {
    const { store, logger } = this.deps;
    const restored = restoreStation(from, this.context(cfg));
    if (restored.writes.length > 0) {
      await store.write(restored.writes);
      this.deps.batches?.committed(restored.writes);
      this.deps.presale?.committed(restored.writes);
    }
    const counts = this.jobCounts;
    let state = restored.state;
    let counted = true;
    counts.replace(null, state.pendingJobs);
    const station: Station = {
      id: cfg.id,
      printer: cfg.printer,
      cfg,
      // Every replacement of the state reports its jobs to the printers' counts.
      get state() {
        return state;
      },
      set state(next: StationState) {
        if (counted) counts.replace(state.pendingJobs, next.pendingJobs);
        state = next;
      },
      uncount() {
        if (counted) counts.replace(state.pendingJobs, null);
        counted = false;
      },
      operator: lastOperator(store, cfg.id),
      queue: new SerialQueue(QUEUE_LIMIT, (err) => logger.error({ err, stationId: cfg.id }, 'station step failed')),
      viewTimer: null,
      viewAt: -Infinity,
    };
    this.stations.set(cfg.id, station);
    return station;
  }

  /** Opens a station provisioned at run time (packline station add), without a restart. */
  async addStation(cfg: StationConfig): Promise<void> {
    if (this.stations.has(cfg.id)) return;
    const { store } = this.deps;
    const open = store.openShipments();
    const station = await this.open(cfg, {
      openShipments: open,
      pendingJobs: store.pendingPrintJobs(),
      at: this.now(),
      itemScans: itemScansFromLog(store, open),
    });
    if (!this.started) return;
    this.reissueLabels(station, 'station opened');
    this.publishView(station);
  }

  /** Closes a run-time station once its queued inputs are done; its retained view is cleared. */
  async removeStation(stationId: string): Promise<void> {
    const station = this.stations.get(stationId);
    if (station === undefined) return;
    this.stations.delete(stationId);
    await station.queue.idle();
    // Its jobs no longer load the channel's printers.
    station.uncount();
    // A view still waiting for its interval must not bring the retained view back.
    this.cancelView(station);
    // An empty retained message clears the retained view [MQTT-3.3.1-10].
    await this.deps.link.publish(topics.stationView(stationId), '', { qos: 0, retain: true }).catch(() => undefined);
  }

  /**
   * A device announced itself (`dev/{id}/state` online, published after it subscribed to its
   * commands, docs/mqtt.md). A printer that comes back gets every label still unanswered on
   * its station, with the same job ids: printers and drivers treat job ids as idempotent.
   */
  deviceState(deviceId: string, state: string, reason: string | null = null): void {
    const online = this.printers.announce(deviceId, state, reason);
    if (!this.started || !online) return;
    // Labels may sit on any printer of a channel: re-issue those addressed to this one.
    for (const station of this.stations.values()) this.reissueLabels(station, 'printer online', deviceId);
  }

  /** Unanswered jobs on one printer over every station (the print router's load figure). */
  private inFlightOn(printerId: string): number {
    return this.jobCounts.of(printerId);
  }

  private reissueLabels(station: Station, why: string, onlyPrinter?: string): void {
    this.printers.reissue(Object.values(station.state.pendingJobs), why, onlyPrinter);
  }

  /** Waits for every queued input to finish (graceful shutdown), then refuses new ones. */
  async stop(): Promise<void> {
    if (!this.started) return;
    this.started = false;
    await Promise.all([...this.stations.values()].map((s) => s.queue.idle()));
    // A view still waiting for its interval goes out now: screens keep the final state.
    for (const station of this.stations.values()) {
      if (!this.cancelView(station)) continue;
      this.publishView(station);
    }
  }

  // ---- EventOwner ----------------------------------------------------------------------

  submit(event: DeviceEvent, settle: (outcome: Outcome) => void): boolean {
    const owner = event.binding.owner;
    // A print result belongs to the station whose label it answers: with print channels a
    // printer prints for several stations (and a spare for none).
    const jobId = event.kind === 'print_result' ? (event.payload as { job_id?: unknown }).job_id : undefined;
    const bound = owner ? this.stations.get(owner.id) : undefined;
    const station = typeof jobId === 'string' ? (this.stationOfJob(jobId, bound) ?? bound) : bound;
    if (!this.started || station === undefined) {
      settle({ ok: false, code: 'PKL_STATION_UNKNOWN', details: { stationId: owner?.id ?? '' } });
      return true;
    }
    if (event.kind === 'pda_login' || event.kind === 'pda_confirm') {
      return station.queue.push(() => this.applyPda(station, event, settle));
    }
    const input = toStationInput(event);
    if (input === null) {
      settle({ ok: false, code: 'PKL_DEVICE_ROLE_MISMATCH', details: { deviceId: event.deviceId, role: event.binding.role, kind: event.kind } });
      return true;
    }
    // Scans carry the operator logged in at the station (PDA log-in), for the audit trail.
    if (input.kind === 'scan' && station.operator !== null) input.operator = station.operator;
    return station.queue.push(() => this.apply(station, input, event.msgId, settle));
  }

  /** The station whose label `jobId` is: the printer's own station first (the usual case), then the others. */
  private stationOfJob(jobId: string, first: Station | undefined): Station | undefined {
    if (first !== undefined && first.state.pendingJobs[jobId] !== undefined) return first;
    for (const s of this.stations.values()) if (s.state.pendingJobs[jobId] !== undefined) return s;
    return undefined;
  }

  /**
   * PDA log-in records who works the station (durably, then acknowledged); later scans carry
   * that operator. A confirmation is recorded for the task flow (docs/mqtt.md §7).
   */
  private async applyPda(station: Station, event: DeviceEvent, settle: (o: Outcome) => void): Promise<void> {
    const writes: StationWrite[] = [];
    let operator: string | null = station.operator;
    if (event.kind === 'pda_login') {
      const p = event.payload as DeviceEvent<'pda_login'>['payload'];
      if (p.station_id !== undefined && p.station_id !== station.cfg.id) {
        settle({ ok: false, code: 'PKL_DEVICE_NOT_BOUND', details: { deviceId: `${event.deviceId} (station ${p.station_id})` } });
        return;
      }
      operator = p.operator;
      writes.push({ op: 'event', type: EVENT.operatorLogin, subject: `station:${station.cfg.id}`, data: { operator, device_id: event.deviceId } });
    } else {
      const p = event.payload as DeviceEvent<'pda_confirm'>['payload'];
      writes.push({
        op: 'event',
        type: EVENT.taskConfirmed,
        subject: `task:${p.task_id}`,
        data: { result: p.result, note: p.note, station_id: station.cfg.id, operator, device_id: event.deviceId },
      });
    }
    const dedupe = event.msgId === undefined ? undefined : { deviceId: event.deviceId, msgId: event.msgId };
    const committed = await commitUnit(this.deps.store, writes, { dedupe });
    // A duplicate changed nothing now; the first copy's log-in already stands.
    if (committed.kind === 'committed') station.operator = operator;
    settle(settled(committed));
  }

  // ---- StationService (HTTP) -------------------------------------------------------------

  list(): StationSummary[] {
    return [...this.stations.values()].map((s) => {
      const dev = (id: string) => ({ deviceId: id, online: this.deps.isOnline(id) });
      const summary: StationSummary = {
        stationId: s.cfg.id,
        state: s.state.shipment?.state ?? 'idle',
        shipmentId: s.state.shipment?.shipmentId ?? null,
        devices: { scanner: dev(s.cfg.scanner), scale: dev(s.cfg.scale), printer: dev(s.cfg.printer) },
      };
      if (s.cfg.display !== undefined) summary.devices.display = dev(s.cfg.display);
      return summary;
    });
  }

  view(stationId: string): StationView | null {
    const s = this.stations.get(stationId);
    return s ? this.render(s) : null;
  }

  manualScan(stationId: string, code: string, operator?: string): Promise<ManualScanResult> {
    const input: StationInput = { kind: 'scan', code, at: this.now(), deviceId: 'api' };
    if (operator !== undefined) input.operator = operator;
    return this.applyFromApi(stationId, input);
  }

  override(stationId: string, supervisor: string, note?: string): Promise<ManualScanResult> {
    const input: StationInput = { kind: 'supervisor_override', supervisor, at: this.now(), deviceId: 'api' };
    if (note !== undefined) input.note = note;
    return this.applyFromApi(stationId, input);
  }

  private applyFromApi(stationId: string, input: StationInput): Promise<ManualScanResult> {
    const station = this.stations.get(stationId);
    if (!this.started || station === undefined) {
      return Promise.resolve({ ok: false, error: toWireError('PKL_STATION_UNKNOWN', { stationId }) });
    }
    return new Promise((resolve) => {
      const queued = station.queue.push(() =>
        this.apply(station, input, undefined, (o) => {
          resolve(o.ok ? { ok: true, view: this.render(station) } : { ok: false, error: toWireError(o.code, o.details) });
        }),
      );
      if (!queued) resolve({ ok: false, error: toWireError('PKL_OVERLOADED') });
    });
  }

  /**
   * Prints the next `limit` labels of a pre-print batch ahead at this station (its printer or
   * channel), in the station's queue like any input; the answer carries the step's committed
   * writes (the labels, removals) for the caller to report.
   */
  preprint(stationId: string, batchId: string, limit: number, operator?: string): Promise<PreprintResult> {
    const station = this.stations.get(stationId);
    if (!this.started || station === undefined) {
      return Promise.resolve({ ok: false, error: toWireError('PKL_STATION_UNKNOWN', { stationId }) });
    }
    const input: StationInput = { kind: 'preprint', batchId, limit, at: this.now(), deviceId: 'api' };
    if (operator !== undefined) input.operator = operator;
    return new Promise((resolve) => {
      let writes: readonly StationWrite[] = [];
      const queued = station.queue.push(() =>
        this.apply(
          station,
          input,
          undefined,
          (o) => resolve(o.ok ? { ok: true, writes } : { ok: false, error: toWireError(o.code, o.details) }),
          (w) => {
            writes = w;
          },
        ),
      );
      if (!queued) resolve({ ok: false, error: toWireError('PKL_OVERLOADED') });
    });
  }

  /** Feeds an order-cache change to every station showing that order (refund arrived, waybill came). */
  orderUpdated(orderId: string): void {
    for (const station of this.stations.values()) {
      if (station.state.shipment?.orderId !== orderId) continue;
      station.queue.push(() => this.apply(station, { kind: 'order_updated', orderId, at: this.now(), deviceId: 'cloud' }, undefined, () => undefined));
    }
  }

  // ---- supervisor actions (apply/supervisor-actions.ts) ------------------------------------

  reprint(shipmentId: string, request: ReprintRequest): Promise<ReprintResult> {
    return this.actions.reprint(shipmentId, request);
  }

  shipUnlabelled(shipmentId: string, request: ShipUnlabelledRequest): Promise<ShipUnlabelledResult> {
    return this.actions.shipUnlabelled(shipmentId, request);
  }

  // ---- the step ----------------------------------------------------------------------------

  private async apply(
    station: Station,
    input: StationInput,
    msgId: string | undefined,
    settle: (o: Outcome) => void,
    seen?: (writes: readonly StationWrite[]) => void,
  ): Promise<void> {
    const { store, metrics, logger } = this.deps;
    const decided = decide(
      () => stepStation(station.state, input, this.context(station.cfg)),
      `${station.cfg.id}:${input.at}`,
      (err) => logger.error({ err, stationId: station.cfg.id, input: input.kind }, 'state machine failed'),
    );
    if (!decided.ok) return settle(decided);
    const step = decided.value;
    const committed = await commitUnit(store, step.writes, {
      // The message id is stored with the effect it produced; a refusal is not stored, so a
      // corrected retry is applied. A step that writes nothing stores no id either.
      dedupe: msgId !== undefined && step.reply.ok && step.writes.length > 0 ? { deviceId: input.deviceId, msgId } : undefined,
      opensNewWork: opensNewWork(input, station.state),
    });
    if (committed.kind === 'duplicate') return settle({ ok: true });
    if (committed.kind === 'failed') {
      if (committed.cause !== undefined) logger.error({ err: committed.cause, stationId: station.cfg.id }, 'could not commit station step');
      return settle(committed.refused);
    }
    const before = station.state.shipment;
    station.state = step.state;
    if (step.writes.length > 0) this.deps.batches?.committed(step.writes);
    if (step.writes.length > 0) this.deps.presale?.committed(step.writes);
    seen?.(step.writes);
    for (const command of step.commands) {
      if (command.kind === 'print' && input.kind === 'weight') metrics.observeScanToPrint((this.now() - input.at) / 1000);
      this.printers.send(command);
    }
    const after = station.state.shipment;
    if (after !== null && (before?.shipmentId !== after.shipmentId || before.state !== after.state || before.reasonCode !== after.reasonCode)) {
      const result = stationResult(after);
      if (result !== null) metrics.shipment(result);
    }
    // The shipment a scan of the next order left behind is no longer the station's: it is
    // counted from the step's writes (it never shows up as the station's state).
    for (const w of step.writes) {
      if (w.op === 'shipment.put' && w.shipment.shipmentId !== after?.shipmentId && w.shipment.state === 'abandoned') metrics.shipment('abandoned');
    }
    this.scheduleView(station);
    const reply = step.reply;
    if (reply.ok) settle(settled(committed));
    else settle({ ok: false, code: reply.code, details: reply.details });
  }

  private render(station: Station): StationView {
    const shipment = station.state.shipment;
    const order = shipment ? this.deps.store.getOrder(shipment.orderId) : null;
    const view = renderStationView(station.state, order);
    const batch = this.deps.batches?.view(station.cfg.id) ?? null;
    if (batch !== null) view.batch = batch;
    const presale = this.deps.presale?.view() ?? null;
    if (presale !== null) view.presale = presale;
    const picking = this.deps.pickingView?.(station.cfg.id, shipment?.orderId ?? null) ?? null;
    if (picking !== null && picking !== undefined) view.picking = picking;
    const recalls = this.deps.recallView?.() ?? null;
    if (recalls !== null && recalls !== undefined) view.recalls = recalls;
    return view;
  }

  /** Draws a station's screen again (its batch started, stopped or moved on elsewhere). */
  refreshView(stationId: string): void {
    const station = this.stations.get(stationId);
    if (station !== undefined && this.started) this.scheduleView(station);
  }

  /**
   * One retained view publish per station per VIEW_MIN_INTERVAL_MS, however many inputs it
   * applied: the first change publishes on the next tick, later ones within the interval
   * share one publish at its end, rendered then (latest state wins, never a stale one).
   */
  private scheduleView(station: Station): void {
    if (station.viewTimer !== null) return;
    const publish = (): void => {
      station.viewTimer = null;
      this.publishView(station);
    };
    const wait = station.viewAt + VIEW_MIN_INTERVAL_MS - performance.now();
    station.viewTimer = wait > 0 ? setTimeout(publish, wait) : setImmediate(publish);
  }

  /** Drops a view publish still waiting; true if there was one. */
  private cancelView(station: Station): boolean {
    const timer = station.viewTimer;
    if (timer === null) return false;
    clearTimeout(timer as NodeJS.Timeout);
    clearImmediate(timer as NodeJS.Immediate);
    station.viewTimer = null;
    return true;
  }

  private publishView(station: Station): void {
    const { link, logger } = this.deps;
    station.viewAt = performance.now();
    link
      .publish(topics.stationView(station.cfg.id), JSON.stringify(this.render(station)), { qos: 0, retain: true })
      .catch((err: unknown) => logger.warn({ err, stationId: station.cfg.id }, 'could not publish station view'));
  }
}

/** Whether this input would start a new shipment (refused while the disk is nearly full). */
function opensNewWork(input: StationInput, state: StationState): boolean {
  if (input.kind !== 'scan') return false;
  const s = state.shipment;
  return s === null || !['verifying', 'weighing', 'held'].includes(s.state);
}

function toStationInput(event: DeviceEvent): StationInput | null {
  const base = { at: event.at, deviceId: event.deviceId };
  switch (event.kind) {
    case 'scan': {
      const p = event.payload as DeviceEvent<'scan'>['payload'];
      return { ...base, kind: 'scan', code: p.code };
    }
    case 'weight': {
      const p = event.payload as DeviceEvent<'weight'>['payload'];
      return { ...base, kind: 'weight', grams: p.grams, stable: p.stable };
    }
    case 'print_result': {
      const p = event.payload as DeviceEvent<'print_result'>['payload'];
      const input: StationInput = { ...base, kind: 'print_result', jobId: p.job_id, status: p.status };
      if (p.reason !== undefined) input.reason = p.reason;
      return input;
    }
    default:
      return null;
  }
}

/** How a shipment's new state counts in packline_shipments_total. */
function stationResult(s: Shipment): FlowResult | null {
  switch (s.state) {
    case 'shipped':
    case 'intercepted':
      return s.state;
    case 'abandoned':
      return s.reasonCode === 'PKL_PRESALE_STAGED' ? 'staged' : 'abandoned';
    case 'held':
      if (s.reasonCode === 'PKL_AWAITING_WAYBILL') return 'awaiting_waybill';
      if (s.reasonCode === 'PKL_WEIGHT_OUT_OF_TOLERANCE') return 'weight_rejected';
      return 'held';
    case 'labelling':
      return s.reasonCode === 'PKL_PRINT_FAILED' ? 'print_failed' : null;
    default:
      return null;
  }
}

/** Item counts of open shipments being verified, rebuilt from their acknowledged item-scan events. */
function itemScansFromLog(store: FlowStore, open: readonly Shipment[]): Record<string, Record<string, number>> {
  const out: Record<string, Record<string, number>> = {};
  for (const s of open) {
    if (s.state !== 'verifying') continue;
    const counts: Record<string, number> = {};
    for (const e of store.eventsForSubject(`shipment:${s.shipmentId}`, 10_000)) {
      if (e.type !== EVENT.itemScanned) continue;
      const d = e.data as { barcode?: unknown; scanned?: unknown };
      if (typeof d.barcode === 'string' && typeof d.scanned === 'number') {
        counts[d.barcode] = Math.max(counts[d.barcode] ?? 0, d.scanned);
      }
    }
    out[s.shipmentId] = counts;
  }
  return out;
}

/** The operator of the station's latest PDA log-in, from the event log. */
function lastOperator(store: FlowStore, stationId: string): string | null {
  const last = store.lastEvent(`station:${stationId}`, EVENT.operatorLogin)?.data as { operator?: unknown } | undefined;
  return typeof last?.operator === 'string' ? last.operator : null;
}
