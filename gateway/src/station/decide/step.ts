/**
 * The working copy of one station step, shared by the per-input deciders (scan.ts, weigh.ts,
 * label-gate.ts, print-result.ts, override.ts, order-update.ts): it collects the step's writes,
 * commands, reply and alert without touching the caller's state.
 */
import type { ErrorCode, ErrorDetails } from '../../../../contracts/errors.js';
import type { Shipment, ShipmentState, StationWrite } from '../domain.js';
import { type EventType, shipmentEvent } from '../events.js';
import type { GateSite } from './intercept.js';
import type { Command, Reply, StationAlert, StationContext, StationInput, StationState, StationStep } from '../types.js';

/** States in which the shipment is still being worked on at the station (abandonable). */
const ACTIVE: readonly ShipmentState[] = ['verifying', 'weighing', 'held'];

export function isActiveState(state: ShipmentState): boolean {
  return ACTIVE.includes(state);
}

export function isActive(s: Shipment | null): s is Shipment {
  return s !== null && ACTIVE.includes(s.state);
}

export function initialStationState(stationId: string, at = 0): StationState {
  return {
    stationId,
    shipment: null,
    verify: false,
    readyAt: null,
    armed: false,
    scale: null,
    pendingJobs: {},
    alert: null,
    updatedAt: at,
  };
}

/** Mutable working copy of one step; the caller's state is never mutated. */
export class Step {
  st: StationState;
  writes: StationWrite[] = [];
  commands: Command[] = [];
  reply: Reply = { ok: true };
  alert: StationAlert | null = null;

  constructor(
    prev: StationState,
    readonly input: StationInput,
    readonly ctx: StationContext,
  ) {
    this.st = { ...prev, pendingJobs: { ...prev.pendingJobs }, updatedAt: input.at };
  }

  get at(): number {
    return this.input.at;
  }

  /** Where the interception gate looks: the site's checkpoints and the order's shipments. */
  get gate(): GateSite {
    return { enabled: this.ctx.shipment.checkpoints, shipmentsForOrder: (id) => this.ctx.shipmentsForOrder(id) };
  }

  refuse(code: ErrorCode, details: ErrorDetails): void {
    this.reply = { ok: false, code, details };
  }

  show(alert: StationAlert): void {
    this.alert = alert;
    this.st.alert = alert;
  }

  /** Writes the row; if it is the shipment on screen, the screen follows. */
  put(s: Shipment): Shipment {
    this.writes.push({ op: 'shipment.put', shipment: s });
    if (this.st.shipment?.shipmentId === s.shipmentId) this.st.shipment = s;
    return s;
  }

  event(type: EventType, shipmentId: string, data: Record<string, string | number | boolean | null | undefined>): void {
    this.writes.push(shipmentEvent(type, shipmentId, data));
  }

  finish(): StationStep {
    const display = this.ctx.station.display;
    const targets = this.ctx.displayTargets ?? (display === undefined ? [] : [display]);
    if (this.alert !== null) {
      for (const deviceId of targets) {
        this.commands.push({
          kind: 'display',
          deviceId,
          payload: { level: this.alert.level, text: this.alert.message, text_zh: this.alert.messageZh },
        });
      }
    }
    return { state: this.st, writes: this.writes, commands: this.commands, reply: this.reply, alert: this.alert };
  }
}

export function shipmentOf(w: Step, shipmentId: string): Shipment | null {
  const cur = w.st.shipment;
  if (cur !== null && cur.shipmentId === shipmentId) return cur;
  // A shipment written earlier in this same step is newer than the lookup.
  for (let i = w.writes.length - 1; i >= 0; i--) {
    const op = w.writes[i];
    if (op?.op === 'shipment.put' && op.shipment.shipmentId === shipmentId) return op.shipment;
  }
  return w.ctx.getShipment(shipmentId);
}
