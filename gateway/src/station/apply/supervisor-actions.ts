/**
 * Supervisor actions on a shipment: a reprint and shipping a failed label without printing.
 * The supervisor's password was checked by the caller (printing/reprint-guard.ts). Each runs
 * in the queue of the station that owns the shipment, so it sees every print result and
 * action before it; the pure plans (decide/reprint-plan.ts, decide/ship-unlabelled-plan.ts)
 * decide, the unit is committed, and only then is the print command sent. Refusals and
 * failures are results, never throws.
 */
import { PacklineError, toWireError } from '../../../../contracts/errors.js';
import type { Logger } from '../../lib/logger.js';
import type { Shipment } from '../domain.js';
import { infoAlert } from '../decide/messages.js';
import { planReprint, type ReprintPlan, type ReprintRequest } from '../decide/reprint-plan.js';
import { planShipUnlabelled, type ShipUnlabelledRequest } from '../decide/ship-unlabelled-plan.js';
import type { FlowHistory, FlowMetrics, FlowReads, ReprintResult, ShipUnlabelledResult, UnitWriter } from '../ports.js';
import type { Command, StationContext, StationState } from '../types.js';
import type { SerialQueue } from './serial-queue.js';

/** A station as the supervisor actions see it. */
export interface ActionStation {
  readonly id: string;
  readonly printer: string;
  state: StationState;
  readonly queue: SerialQueue;
}

export interface SupervisorActionsDeps {
  store: FlowReads & FlowHistory & UnitWriter;
  logger: Logger;
  metrics: FlowMetrics;
  checkpoints: StationContext['shipment']['checkpoints'];
  now(): number;
  /** The running station by id (undefined: unknown, or the runtime is stopped). */
  station(stationId: string): ActionStation | undefined;
  context(station: ActionStation): StationContext;
  send(command: Command): void;
  /** The station's screen changed. */
  changed(station: ActionStation): void;
}

/** A store or bug failure as an action's answer. */
type Failed = Extract<ReprintResult, { ok: false }>;

function failed(err: unknown): Failed {
  if (err instanceof PacklineError) return { ok: false, error: err.toWire() };
  return { ok: false, error: toWireError('PKL_STORE_UNAVAILABLE', { reason: String(err) }) };
}

/** The printer a reprint goes to: the channel's choice, else the station's own printer. */
function reprintPrinter(ctx: StationContext, own: string, order: { carrier: string | null; shop: string } | null): string {
  if (order === null || ctx.routePrinter === undefined) return own;
  const route = ctx.routePrinter({ carrier: order.carrier, shop: order.shop });
  return route.ok ? route.printerId : own;
}

export class SupervisorActions {
  constructor(private readonly deps: SupervisorActionsDeps) {}

  /**
   * Prints a shipment's label again: one unit (new job + the `shipment.reprinted` audit
   * event), then the print command.
   */
  reprint(shipmentId: string, request: ReprintRequest): Promise<ReprintResult> {
    return this.inShipmentStation(shipmentId, 'reprint', (station) => this.applyReprint(station, shipmentId, request));
  }

  /** Records a shipment whose label failed as shipped without a label printed here. */
  shipUnlabelled(shipmentId: string, request: ShipUnlabelledRequest): Promise<ShipUnlabelledResult> {
    return this.inShipmentStation(shipmentId, 'ship without label', (station) => this.applyShipUnlabelled(station, shipmentId, request));
  }

  private inShipmentStation<T extends { ok: true }>(
    shipmentId: string,
    action: string,
    run: (station: ActionStation) => Promise<T | Failed>,
  ): Promise<T | Failed> {
    let shipment: Shipment | null;
    try {
      shipment = this.deps.store.getShipment(shipmentId);
    } catch (err) {
      return Promise.resolve(failed(err));
    }
    if (shipment === null) return Promise.resolve({ ok: false, error: toWireError('PKL_SHIPMENT_NOT_FOUND', { shipmentId }) });
    const station = this.deps.station(shipment.stationId);
    if (station === undefined) {
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

  private async applyReprint(station: ActionStation, shipmentId: string, request: ReprintRequest): Promise<ReprintResult> {
    const { store, logger } = this.deps;
    const ctx = this.deps.context(station);
    const current = station.state.shipment;
    const shipment = current?.shipmentId === shipmentId ? current : store.getShipment(shipmentId);
    const plan: ReprintPlan = planReprint({
      shipmentId,
      shipment,
      jobs: store.printJobsForShipment(shipmentId),
      events: store.eventsForSubject(`shipment:${shipmentId}`, 10_000),
      order: shipment === null ? null : ctx.getOrder(shipment.orderId),
      pending: station.state.pendingJobs,
      // Through the print router like a first label: a faulted station printer is skipped.
      printerId: reprintPrinter(ctx, station.printer, shipment === null ? null : ctx.getOrder(shipment.orderId)),
      format: ctx.labelFormat ?? 'zpl',
      label: ctx.label,
      checkpoints: this.deps.checkpoints,
      shipmentsForOrder: shipment === null ? [] : ctx.shipmentsForOrder(shipment.orderId),
      newJobId: () => ctx.newId('J'),
      at: this.deps.now(),
      request,
    });
    if (plan.kind === 'refused') return { ok: false, error: toWireError(plan.code, plan.details) };
    if (plan.kind === 'duplicate') {
      logger.info({ shipmentId, jobId: plan.jobId, requestId: request.requestId }, 'reprint request seen before; nothing printed');
      return { ok: true, jobId: plan.jobId, duplicate: true };
    }
    await store.write(plan.writes);
    // Like a label job of the state machine: answered by a print_result, re-issued when the
    // printer comes back or after a restart (decide/restore.ts), with the same job id.
    const st = station.state;
    const onScreen = st.shipment?.shipmentId === shipmentId;
    station.state = {
      ...st,
      pendingJobs: { ...st.pendingJobs, [plan.job.jobId]: plan.job },
      shipment: onScreen ? plan.shipment : st.shipment,
      // The screen stops showing the print failure it was reprinted for.
      alert: onScreen ? infoAlert('label_queued', { waybill: plan.shipment.waybill ?? '' }) : st.alert,
    };
    this.deps.send(plan.command);
    this.deps.changed(station);
    logger.info(
      { shipmentId, jobId: plan.job.jobId, printer: plan.job.printerId, supervisor: request.supervisor, requestId: request.requestId },
      'label reprinted',
    );
    return { ok: true, jobId: plan.job.jobId, duplicate: false };
  }

  private async applyShipUnlabelled(station: ActionStation, shipmentId: string, request: ShipUnlabelledRequest): Promise<ShipUnlabelledResult> {
    const { store, logger } = this.deps;
    const ctx = this.deps.context(station);
    const current = station.state.shipment;
    const shipment = current?.shipmentId === shipmentId ? current : store.getShipment(shipmentId);
    const plan = planShipUnlabelled({
      shipmentId,
      shipment,
      jobs: store.printJobsForShipment(shipmentId),
      events: store.eventsForSubject(`shipment:${shipmentId}`, 10_000),
      order: shipment === null ? null : ctx.getOrder(shipment.orderId),
      pending: station.state.pendingJobs,
      checkpoints: this.deps.checkpoints,
      shipmentsForOrder: shipment === null ? [] : ctx.shipmentsForOrder(shipment.orderId),
      at: this.deps.now(),
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
    this.deps.changed(station);
    logger.info({ shipmentId, supervisor: request.supervisor, requestId: request.requestId }, 'shipped without a printed label');
    return { ok: true, duplicate: false };
  }
}
