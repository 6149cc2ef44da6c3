/**
 * A small store-backed StationService for HTTP tests. The real one is the lead's station
 * runtime (shipment state machine, weighing, printing); this one only implements enough of
 * the flow for the API to be exercised end to end against a real store: an order scan opens
 * a shipment (refused for intercepted orders), item scans are counted (wrong / extra items
 * refused), and the last item moves the shipment to `weighing`.
 */
import type { WireError } from '../../../contracts/errors.js';
import { toWireError } from '../../../contracts/errors.js';
import type { PrintCommand, StationView } from '../../../contracts/payloads.js';
import { CHECKPOINTS } from '../../src/config/schema.js';
import type { ManualScanResult, ReprintResult, ShipUnlabelledResult, StationService, StationSummary } from '../../src/http/deps.js';
import { planReprint, type ReprintRequest } from '../../src/station/decide/reprint-plan.js';
import { planShipUnlabelled, type ShipUnlabelledRequest } from '../../src/station/decide/ship-unlabelled-plan.js';
import type { Shipment, Store } from '../../src/storage/types.js';

export interface TestStation {
  id: string;
  scanner: string;
  scale: string;
  printer: string;
  display?: string;
}

export class StoreStationService implements StationService {
  private readonly open = new Map<string, string>(); // stationId → shipmentId
  private readonly alerts = new Map<string, WireError | null>();
  private n = 0;

  constructor(
    private readonly store: Store,
    private readonly stations: TestStation[],
    private readonly online: (deviceId: string) => boolean = () => true,
  ) {}

  list(): StationSummary[] {
    return this.stations.map((s) => {
      const shipment = this.current(s.id);
      const dev = (id: string) => ({ deviceId: id, online: this.online(id) });
      return {
        stationId: s.id,
        state: shipment?.state ?? 'idle',
        shipmentId: shipment?.shipmentId ?? null,
        devices: {
          scanner: dev(s.scanner),
          scale: dev(s.scale),
          printer: dev(s.printer),
          ...(s.display !== undefined && { display: dev(s.display) }),
        },
      };
    });
  }

  view(stationId: string): StationView | null {
    if (!this.stations.some((s) => s.id === stationId)) return null;
    const shipment = this.current(stationId);
    const order = shipment === null ? null : this.store.getOrder(shipment.orderId);
    const alert = this.alerts.get(stationId) ?? null;
    return {
      station_id: stationId,
      state: shipment?.state ?? 'idle',
      shipment_id: shipment?.shipmentId ?? null,
      order_id: shipment?.orderId ?? null,
      lines: (order?.lines ?? []).map((l) => ({
        sku: l.sku,
        barcode: l.barcode,
        name: l.name,
        qty: l.qty,
        scanned: shipment?.scanned[l.barcode] ?? 0,
      })),
      expected_grams: shipment?.expectedGrams ?? null,
      weight: null,
      waybill: shipment?.waybill ?? null,
      carrier: shipment?.carrier ?? null,
      label: null,
      alert: alert === null ? null : { level: 'alert', code: alert.code, message: alert.message, message_zh: alert.message_zh },
      updated_at: shipment?.updatedAt ?? 0,
    };
  }

  async manualScan(stationId: string, code: string, operator?: string): Promise<ManualScanResult> {
    if (!this.stations.some((s) => s.id === stationId)) {
      return { ok: false, error: toWireError('PKL_STATION_UNKNOWN', { stationId }) };
    }
    const error = await this.apply(stationId, code, operator ?? null);
    this.alerts.set(stationId, error);
    if (error !== null) return { ok: false, error };
    return { ok: true, view: this.view(stationId) as StationView };
  }

  /** This stand-in never holds a shipment (it has no scale), so there is nothing to release. */
  async override(stationId: string, _supervisor: string, _note?: string): Promise<ManualScanResult> {
    if (!this.stations.some((s) => s.id === stationId)) {
      return { ok: false, error: toWireError('PKL_STATION_UNKNOWN', { stationId }) };
    }
    const s = this.current(stationId);
    return {
      ok: false,
      error: toWireError('PKL_SHIPMENT_STATE', { shipmentId: s?.shipmentId ?? '-', state: s?.state ?? 'idle', action: 'override' }),
    };
  }

  /** Print commands a reprint sent (this stand-in has no printers), in order. */
  readonly printCommands: Array<{ deviceId: string; payload: PrintCommand }> = [];
  private reprints: Promise<unknown> = Promise.resolve();
  private jobs = 0;

  /**
   * The production reprint plan (station/decide/reprint-plan.ts) over the store, one request at a
   * time as a station queue would run them; jobs out are the store's unanswered ones.
   */
  reprint(shipmentId: string, request: ReprintRequest): Promise<ReprintResult> {
    const run = this.reprints.then(async (): Promise<ReprintResult> => {
      const shipment = this.store.getShipment(shipmentId);
      const station = this.stations.find((s) => s.id === shipment?.stationId);
      if (shipment !== null && station === undefined) {
        return { ok: false, error: toWireError('PKL_STATION_UNKNOWN', { stationId: shipment.stationId }) };
      }
      const printerId = station?.printer ?? '-';
      const pending = this.store.pendingPrintJobs().filter((j) => j.printerId === printerId);
      const plan = planReprint({
        shipmentId,
        shipment,
        jobs: this.store.printJobsForShipment(shipmentId),
        events: this.store.eventsForSubject(`shipment:${shipmentId}`, 10_000),
        order: shipment === null ? null : this.store.getOrder(shipment.orderId),
        pending: Object.fromEntries(pending.map((j) => [j.jobId, j])),
        printerId,
        format: 'zpl',
        checkpoints: CHECKPOINTS,
        shipmentsForOrder: shipment === null ? [] : this.store.listShipments({ orderId: shipment.orderId }),
        newJobId: () => `J-test-${++this.jobs}`,
        at: Date.now(),
        request,
      });
      if (plan.kind === 'refused') return { ok: false, error: toWireError(plan.code, plan.details) };
      if (plan.kind === 'duplicate') return { ok: true, jobId: plan.jobId, duplicate: true };
      await this.store.write(plan.writes);
      this.printCommands.push({ deviceId: plan.command.deviceId, payload: plan.command.payload });
      return { ok: true, jobId: plan.job.jobId, duplicate: false };
    });
    this.reprints = run.catch(() => undefined);
    return run;
  }

  /** The production plan (station/decide/ship-unlabelled-plan.ts) over the store, queued like reprints. */
  shipUnlabelled(shipmentId: string, request: ShipUnlabelledRequest): Promise<ShipUnlabelledResult> {
    const run = this.reprints.then(async (): Promise<ShipUnlabelledResult> => {
      const shipment = this.store.getShipment(shipmentId);
      const station = this.stations.find((s) => s.id === shipment?.stationId);
      const pending = this.store.pendingPrintJobs().filter((j) => j.printerId === (station?.printer ?? '-'));
      const plan = planShipUnlabelled({
        shipmentId,
        shipment,
        jobs: this.store.printJobsForShipment(shipmentId),
        events: this.store.eventsForSubject(`shipment:${shipmentId}`, 10_000),
        order: shipment === null ? null : this.store.getOrder(shipment.orderId),
        pending: Object.fromEntries(pending.map((j) => [j.jobId, j])),
        checkpoints: CHECKPOINTS,
        shipmentsForOrder: shipment === null ? [] : this.store.listShipments({ orderId: shipment.orderId }),
        at: Date.now(),
        request,
      });
      if (plan.kind === 'refused') return { ok: false, error: toWireError(plan.code, plan.details) };
      if (plan.kind === 'duplicate') return { ok: true, duplicate: true };
      await this.store.write(plan.writes);
      return { ok: true, duplicate: false };
    });
    this.reprints = run.catch(() => undefined);
    return run;
  }

  private current(stationId: string): Shipment | null {
    const id = this.open.get(stationId);
    return id === undefined ? null : this.store.getShipment(id);
  }

  private async apply(stationId: string, code: string, operator: string | null): Promise<WireError | null> {
    const now = Date.now();
    const shipment = this.current(stationId);
    const order = this.store.findOrderByBarcode(code);
    if (order !== null) {
      const f = order.flags;
      const intercept = f.refunded
        ? 'PKL_INTERCEPT_REFUNDED'
        : f.refundRequested
          ? 'PKL_INTERCEPT_REFUND_REQUESTED'
          : f.cancelled
            ? 'PKL_INTERCEPT_CANCELLED'
            : null;
      if (intercept !== null) return toWireError(intercept, { orderId: order.orderId });
      this.n += 1;
      const next: Shipment = {
        shipmentId: `S-${stationId}-${now}-${this.n}`,
        orderId: order.orderId,
        stationId,
        state: 'verifying',
        reasonCode: null,
        scanned: {},
        expectedGrams: order.lines.reduce((g, l) => g + l.qty * l.unitGrams, order.packagingGrams ?? 30),
        actualGrams: null,
        carrier: order.carrier,
        waybill: order.waybill,
        labelJobId: null,
        operator,
        openedAt: now,
        updatedAt: now,
        shippedAt: null,
      };
      await this.store.write([
        { op: 'shipment.put', shipment: next },
        { op: 'event', type: 'shipment.opened', subject: `shipment:${next.shipmentId}`, data: { stationId } },
      ]);
      this.open.set(stationId, next.shipmentId);
      return null;
    }
    if (shipment === null) return toWireError('PKL_NO_OPEN_SHIPMENT', { stationId });
    const lines = this.store.getOrder(shipment.orderId)?.lines ?? [];
    const line = lines.find((l) => l.barcode === code);
    if (line === undefined) return toWireError('PKL_ITEM_WRONG', { barcode: code, orderId: shipment.orderId });
    const count = (shipment.scanned[code] ?? 0) + 1;
    if (count > line.qty) {
      return toWireError('PKL_ITEM_EXTRA', { barcode: code, orderId: shipment.orderId, expected: line.qty });
    }
    const scanned = { ...shipment.scanned, [code]: count };
    const done = lines.every((l) => (scanned[l.barcode] ?? 0) >= l.qty);
    await this.store.write([{ op: 'shipment.put', shipment: { ...shipment, scanned, state: done ? 'weighing' : 'verifying', updatedAt: now } }]);
    return null;
  }
}
