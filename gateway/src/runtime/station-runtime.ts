/**
 * Runs the packing stations: the I/O around the pure state machine (core/station-machine.ts).
 *
 * For each input, in the station's own queue: compute the step → commit its writes as one
 * unit (durable) → adopt the new state → send its commands (print, display) → publish the
 * station view → answer the device. Nothing is sent or acknowledged before the commit, so a
 * crash at any point leaves either nothing or the whole step on disk; after a restart the
 * state is rebuilt from the store and unanswered print jobs are re-issued with the same
 * job id (printers and drivers treat job ids as idempotent; docs/mqtt.md).
 */
import { PacklineError, toWireError } from '../../../contracts/errors.js';
import { type PrinterHealth, PrintRouter } from '../printing/print-router.js';
import { LabelTemplates, templateFix } from '../printing/label-templates.js';
import type { LabelOptions } from '../core/label/zpl-label.js';
import type { StationView } from '../../../contracts/payloads.js';
import { topics } from '../../../contracts/topics.js';
import type { BrokerLink } from '../broker/link.js';
import type { Config, StationConfig } from '../config/schema.js';
import { stationLabelFormat } from '../core/label/label-format.js';
import { storeLookups } from '../core/lookups.js';
import { infoAlert } from '../core/messages.js';
import { restoreStation } from '../core/restore.js';
import { stepStation } from '../core/station-machine.js';
import { renderStationView } from '../core/station-view.js';
import type { Command, OrderLookups, StationContext, StationInput, StationState, StationStep } from '../core/types.js';
import type { ManualScanResult, ReprintResult, ShipUnlabelledResult, StationService, StationSummary } from '../http/deps.js';
import type { Logger } from '../lib/logger.js';
import type { Metrics, ShipmentResult } from '../metrics.js';
import { planReprint, type ReprintPlan, type ReprintRequest } from '../printing/reprint-plan.js';
import { planShipUnlabelled, type ShipUnlabelledRequest } from '../printing/ship-unlabelled-plan.js';
import type { Shipment, Store, WriteOp } from '../storage/types.js';
import type { IdSource } from './ids.js';
import type { DeviceEvent, EventOwner, Outcome } from './ingress.js';
import { SerialQueue } from './serial-queue.js';

/** Inputs waiting per station before new ones are refused with PKL_OVERLOADED. */
const QUEUE_LIMIT = 1000;

interface Station {
  cfg: StationConfig;
  state: StationState;
  /** Operator logged in at the station by PDA (restored from the log after a restart). */
  operator: string | null;
  queue: SerialQueue;
  viewScheduled: boolean;
}

export interface StationRuntimeDeps {
  config: Readonly<Config>;
  store: Store;
  link: BrokerLink;
  metrics: Metrics;
  logger: Logger;
  ids: IdSource;
  isOnline(deviceId: string): boolean;
  now?: () => number;
}

export class StationRuntime implements EventOwner, StationService {
  readonly name = 'stations';
  private readonly stations = new Map<string, Station>();
  private readonly lookups: OrderLookups;
  private readonly now: () => number;
  private started = false;

  private readonly preShipment: (shop: string) => boolean;
  private readonly router: PrintRouter;
  /** Label options: the site's templates per carrier (printing/label-templates.ts). */
  private readonly label: LabelOptions;
  private readonly templates: LabelTemplates;
  /** Last state each printer announced (`dev/{id}/state`): online, offline, or error + reason. */
  private readonly printerStates = new Map<string, { state: string; reason: string | null }>();

  constructor(private readonly deps: StationRuntimeDeps) {
    this.lookups = storeLookups(deps.store);
    const shops = new Set(deps.config.sync.preShipmentCallbackShops);
    this.preShipment = (shop) => shops.has('*') || shops.has(shop);
    const p = deps.config.printing;
    this.router = new PrintRouter({ channels: p.channels, routes: p.routes, queueLimit: p.queueLimit });
    this.templates = new LabelTemplates(p.templates);
    this.label = { templates: this.templates };
    this.now = deps.now ?? Date.now;
  }

  private context(cfg: StationConfig): StationContext {
    return {
      ...this.lookups,
      station: cfg,
      shipment: this.deps.config.shipment,
      newId: (prefix) => this.deps.ids.next(prefix),
      preShipmentCallback: this.preShipment,
      routePrinter: (job) =>
        this.router.route({ channel: cfg.channel, stationPrinter: cfg.printer, carrier: job.carrier, shop: job.shop }, (id) => this.printerHealth(id), job.exclude ?? []),
      labelFormat: stationLabelFormat(cfg, this.deps.config.devices),
      label: this.label,
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
    for (const cfg of config.stations) {
      const restored = restoreStation({ openShipments: open, pendingJobs: pending, at, itemScans }, this.context(cfg));
      if (restored.writes.length > 0) await store.write(restored.writes);
      const station: Station = {
        cfg,
        state: restored.state,
        operator: lastOperator(store, cfg.id),
        queue: new SerialQueue(QUEUE_LIMIT, (err) => logger.error({ err, stationId: cfg.id }, 'station step failed')),
        viewScheduled: false,
      };
      this.stations.set(cfg.id, station);
    }
    this.started = true;
    // Re-issue what devices still need: unanswered labels (to printers already back), and
    // every station's screen (retained, so screens that connect later get it too).
    for (const station of this.stations.values()) {
      this.reissueLabels(station, 'restart');
      this.publishView(station);
    }
  }

  /**
   * A device announced itself (`dev/{id}/state` online, published after it subscribed to its
   * commands, docs/mqtt.md). A printer that comes back gets every label still unanswered on
   * its station, with the same job ids: printers and drivers treat job ids as idempotent.
   */
  deviceState(deviceId: string, state: string, reason: string | null = null): void {
    this.printerStates.set(deviceId, { state, reason });
    if (!this.started || state !== 'online') return;
    // Labels may sit on any printer of a channel: re-issue those addressed to this one.
    for (const station of this.stations.values()) this.reissueLabels(station, 'printer online', deviceId);
  }

  /** What the print router needs to know about a printer (docs/mqtt.md device states). */
  private printerHealth(printerId: string): PrinterHealth {
    const st = this.printerStates.get(printerId);
    let inFlight = 0;
    for (const station of this.stations.values()) {
      for (const job of Object.values(station.state.pendingJobs)) if (job.printerId === printerId) inFlight += 1;
    }
    const online = st === undefined ? this.deps.isOnline(printerId) : st.state !== 'offline' && this.deps.isOnline(printerId);
    return { online, fault: st?.state === 'error' ? (st.reason ?? 'error') : null, inFlight };
  }

  private reissueLabels(station: Station, why: string, onlyPrinter?: string): void {
    for (const job of Object.values(station.state.pendingJobs)) {
      if (onlyPrinter !== undefined && job.printerId !== onlyPrinter) continue;
      this.send({
        kind: 'print',
        deviceId: job.printerId,
        payload: { job_id: job.jobId, shipment_id: job.shipmentId ?? undefined, format: job.format, data: job.data, copies: 1 },
      });
      this.deps.logger.info({ jobId: job.jobId, printer: job.printerId, why }, 're-issued unanswered print job');
    }
  }

  /** Waits for every queued input to finish (graceful shutdown), then refuses new ones. */
  async stop(): Promise<void> {
    if (!this.started) return;
    this.started = false;
    await Promise.all([...this.stations.values()].map((s) => s.queue.idle()));
  }

  // ---- EventOwner ----------------------------------------------------------------------

  submit(event: DeviceEvent, settle: (outcome: Outcome) => void): boolean {
    const owner = event.binding.owner;
    // A print result belongs to the station whose label it answers: with print channels a
    // printer prints for several stations (and a spare for none).
    const jobId = event.kind === 'print_result' ? (event.payload as { job_id?: unknown }).job_id : undefined;
    const byJob = typeof jobId === 'string' ? [...this.stations.values()].find((s) => s.state.pendingJobs[jobId] !== undefined) : undefined;
    const station = byJob ?? (owner ? this.stations.get(owner.id) : undefined);
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

  /**
   * PDA log-in records who works the station (durably, then acknowledged); later scans carry
   * that operator. A confirmation is recorded for the task flow (docs/mqtt.md §7).
   */
  private async applyPda(station: Station, event: DeviceEvent, settle: (o: Outcome) => void): Promise<void> {
    const writes: WriteOp[] = [];
    let operator: string | null = station.operator;
    if (event.kind === 'pda_login') {
      const p = event.payload as DeviceEvent<'pda_login'>['payload'];
      if (p.station_id !== undefined && p.station_id !== station.cfg.id) {
        settle({ ok: false, code: 'PKL_DEVICE_NOT_BOUND', details: { deviceId: `${event.deviceId} (station ${p.station_id})` } });
        return;
      }
      operator = p.operator;
      writes.push({ op: 'event', type: 'station.operator_login', subject: `station:${station.cfg.id}`, data: { operator, device_id: event.deviceId } });
    } else {
      const p = event.payload as DeviceEvent<'pda_confirm'>['payload'];
      writes.push({
        op: 'event',
        type: 'task.confirmed',
        subject: `task:${p.task_id}`,
        data: { result: p.result, note: p.note, station_id: station.cfg.id, operator, device_id: event.deviceId },
      });
    }
    if (event.msgId !== undefined) writes.push({ op: 'dedupe', deviceId: event.deviceId, msgId: event.msgId });
    try {
      const result = await this.deps.store.write(writes);
      station.operator = operator;
      const seq = result.seqs[0];
      settle(seq === undefined ? { ok: true } : { ok: true, seq });
    } catch (err) {
      if (err instanceof PacklineError && err.code === 'PKL_DUPLICATE_MESSAGE') return settle({ ok: true });
      const code = err instanceof PacklineError ? err.code : 'PKL_STORE_UNAVAILABLE';
      settle({ ok: false, code, details: err instanceof PacklineError ? (err.details ?? {}) : {} });
    }
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

  /** Feeds an order-cache change to every station showing that order (refund arrived, waybill came). */
  orderUpdated(orderId: string): void {
    for (const station of this.stations.values()) {
      if (station.state.shipment?.orderId !== orderId) continue;
      station.queue.push(() =>
        this.apply(station, { kind: 'order_updated', orderId, at: this.now(), deviceId: 'cloud' }, undefined, () => undefined),
      );
    }
  }

  // ---- reprint (issue 5) --------------------------------------------------------------------

  /**
   * Prints a shipment's label again on its station's printer: one unit (new job + the
   * `shipment.reprinted` audit event, printing/reprint-plan.ts), then the print command. Runs in
   * the station's queue, so it sees the print results and reprints before it. The supervisor's
   * password was checked by the caller (printing/reprint-guard.ts).
   */
  reprint(shipmentId: string, request: ReprintRequest): Promise<ReprintResult> {
    return this.inShipmentStation(shipmentId, 'reprint', (station) => this.applyReprint(station, shipmentId, request));
  }

  /**
   * Runs a supervisor action on a shipment in the queue of the station that owns it, so it
   * sees every print result and action before it. Refusals and failures are results.
   */
  private inShipmentStation<T extends { ok: true }>(
    shipmentId: string,
    action: string,
    run: (station: Station) => Promise<T | Failed>,
  ): Promise<T | Failed> {
    let shipment: Shipment | null;
    try {
      shipment = this.deps.store.getShipment(shipmentId);
    } catch (err) {
      return Promise.resolve(failed(err));
    }
    if (shipment === null) return Promise.resolve({ ok: false, error: toWireError('PKL_SHIPMENT_NOT_FOUND', { shipmentId }) });
    const station = this.stations.get(shipment.stationId);
    if (!this.started || station === undefined) {
      return Promise.resolve({ ok: false, error: toWireError('PKL_STATION_UNKNOWN', { stationId: shipment.stationId }) });
    }
    return new Promise((resolve) => {
      const queued = station.queue.push(async () => {
        try {
          resolve(await run(station));
        } catch (err) {
          this.deps.logger.error({ err, shipmentId }, `${action} failed`);
          resolve(failed(err));
        }
      });
      if (!queued) resolve({ ok: false, error: toWireError('PKL_OVERLOADED') });
    });
  }

  private async applyReprint(station: Station, shipmentId: string, request: ReprintRequest): Promise<ReprintResult> {
    const { store, logger, config } = this.deps;
    const ctx = this.context(station.cfg);
    const current = station.state.shipment;
    const shipment = current?.shipmentId === shipmentId ? current : store.getShipment(shipmentId);
    const plan: ReprintPlan = planReprint({
      shipmentId,
      shipment,
      jobs: store.printJobsForShipment(shipmentId),
      events: store.eventsForSubject(`shipment:${shipmentId}`, 10_000),
      order: shipment === null ? null : ctx.getOrder(shipment.orderId),
      pending: station.state.pendingJobs,
      // Through the print router like a first label (issue 5): a faulted station printer is skipped.
      printerId: reprintPrinter(ctx, station.cfg.printer, shipment === null ? null : ctx.getOrder(shipment.orderId)),
      format: ctx.labelFormat ?? 'zpl',
      label: ctx.label,
      checkpoints: config.shipment.checkpoints,
      shipmentsForOrder: shipment === null ? [] : ctx.shipmentsForOrder(shipment.orderId),
      newJobId: () => ctx.newId('J'),
      at: this.now(),
      request,
    });
    if (plan.kind === 'refused') return { ok: false, error: toWireError(plan.code, plan.details) };
    if (plan.kind === 'duplicate') {
      logger.info({ shipmentId, jobId: plan.jobId, requestId: request.requestId }, 'reprint request seen before; nothing printed');
      return { ok: true, jobId: plan.jobId, duplicate: true };
    }
    await store.write(plan.writes);
    // Like a label job of the state machine: answered by a print_result, re-issued when the
    // printer comes back or after a restart (restore.ts), with the same job id.
    const st = station.state;
    const onScreen = st.shipment?.shipmentId === shipmentId;
    station.state = {
      ...st,
      pendingJobs: { ...st.pendingJobs, [plan.job.jobId]: plan.job },
      shipment: onScreen ? plan.shipment : st.shipment,
      // The screen stops showing the print failure it was reprinted for.
      alert: onScreen ? infoAlert('label_queued', { waybill: plan.shipment.waybill ?? '' }) : st.alert,
    };
    this.send(plan.command);
    this.scheduleView(station);
    logger.info(
      { shipmentId, jobId: plan.job.jobId, printer: plan.job.printerId, supervisor: request.supervisor, requestId: request.requestId },
      'label reprinted',
    );
    return { ok: true, jobId: plan.job.jobId, duplicate: false };
  }

  // ---- shipping without a printed label (issue 5) ---------------------------------------------

  /**
   * Records a shipment whose label failed as shipped without a label printed here (the
   * supervisor's password was checked by the caller), in the station's queue like a reprint.
   * printing/ship-unlabelled-plan.ts decides; the same request id again changes nothing.
   */
  shipUnlabelled(shipmentId: string, request: ShipUnlabelledRequest): Promise<ShipUnlabelledResult> {
    return this.inShipmentStation(shipmentId, 'ship without label', (station) => this.applyShipUnlabelled(station, shipmentId, request));
  }

  private async applyShipUnlabelled(station: Station, shipmentId: string, request: ShipUnlabelledRequest): Promise<ShipUnlabelledResult> {
    const { store, logger, config } = this.deps;
    const ctx = this.context(station.cfg);
    const current = station.state.shipment;
    const shipment = current?.shipmentId === shipmentId ? current : store.getShipment(shipmentId);
    const plan = planShipUnlabelled({
      shipmentId,
      shipment,
      jobs: store.printJobsForShipment(shipmentId),
      events: store.eventsForSubject(`shipment:${shipmentId}`, 10_000),
      order: shipment === null ? null : ctx.getOrder(shipment.orderId),
      pending: station.state.pendingJobs,
      checkpoints: config.shipment.checkpoints,
      shipmentsForOrder: shipment === null ? [] : ctx.shipmentsForOrder(shipment.orderId),
      at: this.now(),
      request,
    });
    if (plan.kind === 'refused') return { ok: false, error: toWireError(plan.code, plan.details) };
    if (plan.kind === 'duplicate') return { ok: true, duplicate: true };
    await store.write(plan.writes);
    const st = station.state;
    if (st.shipment?.shipmentId === shipmentId) {
      station.state = { ...st, shipment: plan.shipment, alert: infoAlert('shipped', { waybill: plan.shipment.waybill ?? '' }, 'ok') };
    }
    this.deps.metrics.shipment('shipped');
    this.scheduleView(station);
    logger.info({ shipmentId, supervisor: request.supervisor, requestId: request.requestId }, 'shipped without a printed label');
    return { ok: true, duplicate: false };
  }

  // ---- the step ----------------------------------------------------------------------------

  private async apply(
    station: Station,
    input: StationInput,
    msgId: string | undefined,
    settle: (o: Outcome) => void,
  ): Promise<void> {
    const { store, metrics, logger } = this.deps;
    let step: StationStep;
    try {
      step = stepStation(station.state, input, this.context(station.cfg));
    } catch (err) {
      if (err instanceof PacklineError) {
        settle({ ok: false, code: err.code, details: err.details ?? {} });
        return;
      }
      logger.error({ err, stationId: station.cfg.id, input: input.kind }, 'state machine failed');
      settle({ ok: false, code: 'PKL_INTERNAL', details: { ref: `${station.cfg.id}:${input.at}` } });
      return;
    }
    let seq: number | undefined;
    if (step.writes.length > 0) {
      const writes: WriteOp[] = step.writes;
      // The message id is stored with the effect it produced, so a redelivery after a restart
      // is still recognised. A refusal is not stored: a corrected retry must be applied.
      if (msgId !== undefined && step.reply.ok) {
        writes.push({ op: 'dedupe', deviceId: input.deviceId, msgId });
      }
      if (store.diskLow() && opensNewWork(input, station.state)) {
        settle({ ok: false, code: 'PKL_DISK_FULL', details: { freeMb: store.stats().diskFreeMb ?? null } });
        return;
      }
      try {
        const result = await store.write(writes);
        seq = result.seqs[result.seqs.length - 1];
      } catch (err) {
        if (err instanceof PacklineError && err.code === 'PKL_DUPLICATE_MESSAGE') {
          // The same message id committed meanwhile (a redelivery raced the first copy):
          // nothing of this unit was applied, and the first copy's effect stands.
          settle({ ok: true });
          return;
        }
        const code = err instanceof PacklineError ? err.code : 'PKL_STORE_UNAVAILABLE';
        logger.error({ err, stationId: station.cfg.id }, 'could not commit station step');
        settle({ ok: false, code, details: err instanceof PacklineError ? (err.details ?? {}) : { reason: String(err) } });
        return;
      }
    }
    const before = station.state.shipment;
    station.state = step.state;
    for (const command of step.commands) {
      if (command.kind === 'print' && input.kind === 'weight') metrics.observeScanToPrint((this.now() - input.at) / 1000);
      this.send(command);
    }
    const after = station.state.shipment;
    if (after !== null && (before?.shipmentId !== after.shipmentId || before.state !== after.state || before.reasonCode !== after.reasonCode)) {
      const result = stationResult(after);
      if (result !== null) metrics.shipment(result);
    }
    this.scheduleView(station);
    const reply = step.reply;
    if (reply.ok) settle(seq === undefined ? { ok: true } : { ok: true, seq });
    else settle({ ok: false, code: reply.code, details: reply.details });
  }

  private send(command: Command): void {
    const { link, logger } = this.deps;
    link.publish(topics.command(command.deviceId, command.kind), JSON.stringify(command.payload), { qos: 1 }).catch(
      (err: unknown) => logger.warn({ err, deviceId: command.deviceId, kind: command.kind }, 'could not send command'),
    );
  }

  private render(station: Station): StationView {
    const shipment = station.state.shipment;
    const order = shipment ? this.deps.store.getOrder(shipment.orderId) : null;
    return renderStationView(station.state, order);
  }

  /** One retained view publish per station per tick, however many inputs that tick applied. */
  private scheduleView(station: Station): void {
    if (station.viewScheduled) return;
    station.viewScheduled = true;
    setImmediate(() => {
      station.viewScheduled = false;
      this.publishView(station);
    });
  }

  private publishView(station: Station): void {
    const { link, logger } = this.deps;
    link
      .publish(topics.stationView(station.cfg.id), JSON.stringify(this.render(station)), { qos: 0, retain: true })
      .catch((err: unknown) => logger.warn({ err, stationId: station.cfg.id }, 'could not publish station view'));
  }
}

/** The printer a reprint goes to: the channel's choice, else the station's own printer. */
function reprintPrinter(ctx: StationContext, own: string, order: { carrier: string | null; shop: string } | null): string {
  if (order === null || ctx.routePrinter === undefined) return own;
  const route = ctx.routePrinter({ carrier: order.carrier, shop: order.shop });
  return route.ok ? route.printerId : own;
}

/** A store or bug failure as a reprint answer. */
type Failed = Extract<ReprintResult, { ok: false }>;

function failed(err: unknown): Failed {
  if (err instanceof PacklineError) return { ok: false, error: err.toWire() };
  return { ok: false, error: toWireError('PKL_STORE_UNAVAILABLE', { reason: String(err) }) };
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
function stationResult(s: Shipment): ShipmentResult | null {
  switch (s.state) {
    case 'shipped':
    case 'intercepted':
    case 'abandoned':
      return s.state;
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
function itemScansFromLog(store: Store, open: readonly Shipment[]): Record<string, Record<string, number>> {
  const out: Record<string, Record<string, number>> = {};
  for (const s of open) {
    if (s.state !== 'verifying') continue;
    const counts: Record<string, number> = {};
    for (const e of store.eventsForSubject(`shipment:${s.shipmentId}`, 10_000)) {
      if (e.type !== 'shipment.item_scanned') continue;
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
function lastOperator(store: Store, stationId: string): string | null {
  const last = store.lastEvent(`station:${stationId}`, 'station.operator_login')?.data as { operator?: unknown } | undefined;
  return typeof last?.operator === 'string' ? last.operator : null;
}
