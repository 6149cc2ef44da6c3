/**
 * The courier overload plan, the I/O around carrier-holds.ts: holds, releases, switches and
 * the carrier recall list, one action at a time, each committed before it is adopted. After a
 * release or a switch the affected orders are signalled as changed, so the stations re-run the
 * label gate of their held shipments (a switched order labels with its new waybill).
 */
import { PacklineError, type ErrorCode, type ErrorDetails } from '../../../contracts/errors.js';
import type { Config } from '../config/schema.js';
import type { Logger } from '../lib/logger.js';
import type { Shipment } from '../station/domain.js';
import type { WriteOp } from '../storage/types.js';
import {
  type CarrierHold,
  type CarrierRecall,
  decideCloudSwitch,
  decideHold,
  decidePulled,
  decideRelease,
  decideSwitch,
  emptyHoldState,
  foldHoldEvent,
  HOLD_LOG_TYPES,
  type HoldDecision,
  type HoldState,
  type SwitchValue,
} from './carrier-holds.js';
import { type HandoverStore, logRows, rowData, rowTime } from './handover-service.js';

export interface CarrierStore extends Omit<HandoverStore, 'write'> {
  write(ops: WriteOp[]): Promise<unknown>;
  openShipments(): Shipment[];
}

export interface CarrierDeps {
  config: Readonly<Config>;
  store: CarrierStore;
  logger: Logger;
  /** Tells the stations these orders changed (lib/signals.ts ordersChanged). */
  ordersChanged(orderIds: readonly string[]): void;
  /** Manifest a shipment is on, if any (handed over or being handed over). */
  onManifest(shipmentId: string): string | null;
  now?: () => number;
}

export type CarrierResult<T> = { ok: true; value: T } | { ok: false; code: ErrorCode; details: ErrorDetails };

export class CarrierService {
  readonly name = 'carrier-holds';
  private readonly st: HoldState = emptyHoldState();
  private chain: Promise<unknown> = Promise.resolve();
  private readonly now: () => number;

  constructor(private readonly deps: CarrierDeps) {
    this.now = deps.now ?? Date.now;
  }

  async start(): Promise<void> {
    for (const row of logRows(this.deps.store, HOLD_LOG_TYPES)) foldHoldEvent(this.st, { type: row.type, data: rowData(row), at: rowTime(row) });
  }

  async stop(): Promise<void> {
    await this.chain.catch(() => undefined);
  }

  /** The label gate's question (synchronous, in memory). */
  holdOf(carrier: string | null): { reason: string } | null {
    if (carrier === null) return null;
    const h = this.st.holds.get(carrier);
    return h === undefined ? null : { reason: h.reason };
  }

  holds(): CarrierHold[] {
    return [...this.st.holds.values()];
  }

  /** Voided labels not pulled yet (and, with `all`, those pulled too). */
  recalls(all = false): CarrierRecall[] {
    return [...this.st.recalls.values()].filter((r) => all || r.pulledAt === null);
  }

  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.chain.then(fn, fn);
    this.chain = run.catch(() => undefined);
    return run;
  }

  private async commit<T>(d: HoldDecision<T>): Promise<CarrierResult<T>> {
    if (!d.ok) return d;
    if (d.writes.length > 0) {
      try {
        await this.deps.store.write(d.writes);
      } catch (err) {
        if (err instanceof PacklineError) return { ok: false, code: err.code, details: err.details ?? {} };
        return { ok: false, code: 'PKL_STORE_UNAVAILABLE', details: { reason: String(err) } };
      }
    }
    return { ok: true, value: d.value };
  }

  /** Orders of open shipments held at a label gate because of this carrier's hold. */
  private heldOrders(carrier: string): string[] {
    const out = new Set<string>();
    for (const s of this.deps.store.openShipments()) {
      if (s.state !== 'held' || s.reasonCode !== 'PKL_CARRIER_HELD') continue;
      const o = this.deps.store.getOrder(s.orderId);
      if (o?.carrier === carrier) out.add(s.orderId);
    }
    return [...out];
  }

  hold(carrier: string, reason: string, by: string): Promise<CarrierResult<CarrierHold>> {
    return this.serial(async () => {
      const r = await this.commit(decideHold(this.st, { carrier, reason, by, at: this.now() }));
      if (r.ok) this.st.holds.set(carrier, r.value);
      if (r.ok) this.deps.logger.warn({ audit: 'carrier_hold', carrier, reason, by }, `carrier ${carrier} held: no labels`);
      return r;
    });
  }

  release(carrier: string, by: string): Promise<CarrierResult<{ orders: number }>> {
    return this.serial(async () => {
      const r = await this.commit(decideRelease(this.st, { carrier, by }));
      if (!r.ok) return r;
      this.st.holds.delete(carrier);
      const orders = this.heldOrders(carrier);
      this.deps.logger.info({ audit: 'carrier_release', carrier, by, orders: orders.length }, `carrier ${carrier} released`);
      if (orders.length > 0) this.deps.ordersChanged(orders);
      return { ok: true, value: { orders: orders.length } };
    });
  }

  /**
   * Switches orders of the held carrier `from` to `to`: the given ones, or every order held
   * at a label gate for it. Each order is its own unit (one bad order does not stop the rest);
   * `requestId` makes a retried request change nothing (switch id = request id + order id).
   */
  switch(input: {
    from: string;
    to: string;
    orderIds?: readonly string[];
    by: string;
    requestId: string;
  }): Promise<CarrierResult<{ switched: SwitchValue[]; refused: Array<{ orderId: string; code: ErrorCode; details: ErrorDetails }> }>> {
    return this.serial(async () => {
      if (!this.st.holds.has(input.from)) return { ok: false, code: 'PKL_CARRIER_NOT_HELD', details: { carrier: input.from } };
      const ids = input.orderIds ?? this.heldOrders(input.from);
      const switched: SwitchValue[] = [];
      const refused: Array<{ orderId: string; code: ErrorCode; details: ErrorDetails }> = [];
      for (const orderId of ids) {
        const order = this.deps.store.getOrder(orderId);
        if (order === null) {
          refused.push({ orderId, code: 'PKL_ORDER_NOT_FOUND', details: { barcode: orderId } });
          continue;
        }
        const shipments = this.deps.store.listShipments({ orderId, limit: 100 });
        const handedOver = shipments.map((s) => this.deps.onManifest(s.shipmentId)).find((m) => m !== null) ?? null;
        const d = decideSwitch(this.st, {
          order,
          shipments,
          to: input.to,
          switchId: `${input.requestId}:${orderId}`,
          by: input.by,
          at: this.now(),
          pool: this.deps.config.handover.waybillPool[input.to],
          handedOver,
        });
        const r = await this.commit(d);
        if (!r.ok) {
          refused.push({ orderId, code: r.code, details: r.details });
          continue;
        }
        const v = r.value;
        if (!v.duplicate) {
          this.st.switches.add(v.switchId);
          this.st.usedWaybills.add(v.newWaybill);
          if (v.recalled && v.oldWaybill !== null) {
            this.st.recalls.set(v.oldWaybill, {
              kind: 'carrier_switch',
              waybill: v.oldWaybill,
              orderId,
              fromCarrier: v.fromCarrier,
              toCarrier: v.toCarrier,
              switchId: v.switchId,
              at: this.now(),
              pulledAt: null,
            });
          }
        }
        switched.push(v);
      }
      const changed = switched.filter((s) => !s.duplicate).map((s) => s.orderId);
      this.deps.logger.warn(
        { audit: 'carrier_switch', from: input.from, to: input.to, by: input.by, switched: changed.length, refused: refused.length },
        `orders switched from ${input.from} to ${input.to}`,
      );
      if (changed.length > 0) this.deps.ordersChanged(changed);
      return { ok: true, value: { switched, refused } };
    });
  }

  /**
   * Orders changed (cloud feed, API import): a shipment held for a carrier hold whose order now
   * names another carrier and waybill was switched by the cloud — recorded once as a switch
   * with source `cloud`. Called synchronously from the ordersChanged signal, before the
   * stations' queued re-check runs, so the held shipment still shows the carrier it was held for.
   */
  ordersChanged(orderIds: readonly string[]): void {
    const heldFor = new Map<string, string>();
    for (const s of this.deps.store.openShipments()) {
      if (s.state !== 'held' || s.reasonCode !== 'PKL_CARRIER_HELD' || !orderIds.includes(s.orderId)) continue;
      // The row keeps the carrier the order had when the shipment opened: the one held.
      if (s.carrier !== null) heldFor.set(s.orderId, s.carrier);
    }
    for (const [orderId, from] of heldFor) {
      void this.serial(async () => {
        const order = this.deps.store.getOrder(orderId);
        if (order === null) return;
        const d = decideCloudSwitch(this.st, { order, heldFrom: from, by: 'cloud' });
        if (d === null) return;
        const r = await this.commit(d);
        if (!r.ok) {
          this.deps.logger.warn({ orderId, code: r.code }, 'cloud carrier switch not recorded');
          return;
        }
        this.st.switches.add(r.value.switchId);
        this.st.usedWaybills.add(r.value.newWaybill);
        this.deps.logger.info(
          { audit: 'carrier_switch', source: 'cloud', orderId, from, to: r.value.toCarrier },
          `order ${orderId} switched by the cloud from ${from} to ${r.value.toCarrier}`,
        );
      });
    }
  }

  pulled(waybill: string, by: string): Promise<CarrierResult<CarrierRecall>> {
    return this.serial(async () => {
      const r = await this.commit(decidePulled(this.st, { waybill, by, at: this.now() }));
      if (r.ok) this.st.recalls.set(waybill, r.value);
      return r;
    });
  }
}
