/**
 * Test support: an in-memory stand-in for the store's order cache and shipment rows that
 * applies a step's writes the way the runtime does (atomically, before the next input).
 */
import type { StationConfig } from '../../../config/schema.js';
import type { Order, OrderLine, PrintJob, Shipment, StationWrite } from '../../domain.js';
import { initialStationState, stepStation } from '../step-station.js';
import type { OrderLookups, ShipmentConfig, StationContext, StationInput, StationState, StationStep } from '../../types.js';

export const SHIPMENT_CONFIG: ShipmentConfig = {
  weight: { toleranceGrams: 50, tolerancePercent: 5 },
  checkpoints: ['packing', 'weighing', 'direct_shipment'],
  defaultPackagingGrams: 30,
};

export const STATION: StationConfig = {
  id: 'st-1',
  scanner: 'scan-1',
  scale: 'scale-1',
  printer: 'prn-1',
  display: 'disp-1',
  channel: 1,
  verifyItems: 'always',
};

export function line(sku: string, qty: number, unitGrams: number, barcode = `690${sku}`): OrderLine {
  return { sku, barcode, name: `商品${sku}`, qty, unitGrams };
}

export function makeOrder(orderId: string, patch: Partial<Order> = {}): Order {
  return {
    orderId,
    shop: 'tmall-1',
    barcodes: [`PK${orderId}`, `SF${orderId}`],
    lines: [line('A', 1, 470)],
    packagingGrams: null,
    flags: { refundRequested: false, refunded: false, cancelled: false, platformClosed: false, shipped: false },
    carrier: 'SF',
    waybill: `SF${orderId}`,
    printData: { receiverName: '张三', receiverPhone: '138****0000', receiverAddress: '浙江省杭州市余杭区文一西路 1 号' },
    shipBy: null,
    revision: 1,
    updatedAt: 0,
    ...patch,
  };
}

export class World implements OrderLookups {
  orders = new Map<string, Order>();
  shipments = new Map<string, Shipment>();
  jobs = new Map<string, PrintJob>();
  events: Array<{ type: string; subject: string; data: unknown }> = [];
  units: StationWrite[][] = [];
  private n = 0;

  /** ULID-length ids so that measured byte counts are realistic. */
  newId = (prefix: string): string => `${prefix}-01HF3Z9V6Q${String(++this.n).padStart(16, '0')}`;

  addOrder(o: Order): Order {
    this.orders.set(o.orderId, o);
    return o;
  }

  patchOrder(orderId: string, patch: Partial<Order>): Order {
    const o = this.orders.get(orderId);
    if (o === undefined) throw new Error(`no order ${orderId}`);
    const next = { ...o, ...patch, revision: o.revision + 1 };
    this.orders.set(orderId, next);
    return next;
  }

  apply(writes: readonly StationWrite[]): void {
    if (writes.length > 0) this.units.push([...writes]);
    for (const w of writes) {
      if (w.op === 'shipment.put') this.shipments.set(w.shipment.shipmentId, w.shipment);
      else if (w.op === 'printjob.put') this.jobs.set(w.job.jobId, w.job);
      else if (w.op === 'event') this.events.push({ type: w.type, subject: w.subject, data: w.data });
    }
  }

  findOrderByBarcode(code: string): Order | null {
    for (const o of this.orders.values()) if (o.orderId === code || o.barcodes.includes(code)) return o;
    return null;
  }
  getOrder(orderId: string): Order | null {
    return this.orders.get(orderId) ?? null;
  }
  shipmentsForOrder(orderId: string): Shipment[] {
    return [...this.shipments.values()].filter((s) => s.orderId === orderId).reverse();
  }
  getShipment(shipmentId: string): Shipment | null {
    return this.shipments.get(shipmentId) ?? null;
  }
  eventTypes(): string[] {
    return this.events.map((e) => e.type);
  }
}

export function stationContext(world: World, patch: Partial<StationContext> = {}): StationContext {
  return {
    findOrderByBarcode: (c) => world.findOrderByBarcode(c),
    getOrder: (id) => world.getOrder(id),
    shipmentsForOrder: (id) => world.shipmentsForOrder(id),
    getShipment: (id) => world.getShipment(id),
    station: STATION,
    shipment: SHIPMENT_CONFIG,
    newId: world.newId,
    ...patch,
  };
}

type InputOf<K extends StationInput['kind']> = Omit<Extract<StationInput, { kind: K }>, 'kind' | 'at' | 'deviceId'> & {
  at?: number;
  deviceId?: string;
};

/** One station driven input by input; each step's writes are applied before the next input. */
export class Bench {
  state: StationState;
  last!: StationStep;
  clock = 1_700_000_000_000;
  readonly ctx: StationContext;

  constructor(
    readonly world = new World(),
    ctxPatch: Partial<StationContext> = {},
  ) {
    this.ctx = stationContext(world, ctxPatch);
    this.state = initialStationState(this.ctx.station.id, this.clock);
  }

  send(input: StationInput): StationStep {
    const step = stepStation(this.state, input, this.ctx);
    this.world.apply(step.writes);
    this.state = step.state;
    this.last = step;
    return step;
  }

  private at(a?: number): number {
    this.clock = a ?? this.clock + 100;
    return this.clock;
  }

  scan(code: string, o: Partial<InputOf<'scan'>> = {}): StationStep {
    return this.send({ kind: 'scan', code, at: this.at(o.at), deviceId: o.deviceId ?? 'scan-1', operator: o.operator });
  }
  weigh(grams: number, stable = true, at?: number): StationStep {
    return this.send({ kind: 'weight', grams, stable, at: this.at(at), deviceId: 'scale-1' });
  }
  /** The scale is emptied (arms the weight lock) and then shows the parcel, stable. */
  place(grams: number): StationStep {
    this.weigh(0);
    return this.weigh(grams);
  }
  printed(jobId: string, deviceId = 'prn-1'): StationStep {
    return this.send({ kind: 'print_result', jobId, status: 'printed', at: this.at(), deviceId });
  }
  printFailed(jobId: string, reason = 'paper out', deviceId = 'prn-1'): StationStep {
    return this.send({ kind: 'print_result', jobId, status: 'failed', reason, at: this.at(), deviceId });
  }
  override(supervisor: string, shipmentId?: string): StationStep {
    return this.send({ kind: 'supervisor_override', supervisor, shipmentId, at: this.at(), deviceId: 'api' });
  }
  orderUpdated(orderId: string): StationStep {
    return this.send({ kind: 'order_updated', orderId, at: this.at(), deviceId: 'cloud' });
  }
  reset(): StationStep {
    return this.send({ kind: 'reset', at: this.at(), deviceId: 'api' });
  }

  get shipment(): Shipment {
    const s = this.state.shipment;
    if (s === null) throw new Error('no shipment on screen');
    return s;
  }
  prints(step: StationStep = this.last) {
    return step.commands.filter((c) => c.kind === 'print');
  }
  jobId(step: StationStep = this.last): string {
    const p = this.prints(step)[0];
    if (p === undefined || p.kind !== 'print') throw new Error('no print command');
    return p.payload.job_id;
  }
}
