/**
 * An in-memory Store for tests of components that sit above storage (HTTP API, station
 * logic). Same contract as the SQLite store: units apply atomically (validated fully before
 * anything changes), event seqs are gap-free from 1, reads return copies so callers cannot
 * mutate stored rows. Not durable, not for production.
 */
import { PacklineError } from '../../../contracts/errors.js';
import {
  FINAL_SHIPMENT_STATES,
  type DeviceRecord,
  type EventRecord,
  type Order,
  type PrintJob,
  type Shipment,
  type ShipmentQuery,
  type Store,
  type StoreStats,
  type WriteOp,
  type WriteResult,
} from '../../src/storage/types.js';

const FINAL_STATES = new Set<string>(FINAL_SHIPMENT_STATES);
const FINAL_JOB_STATES = new Set(['printed', 'failed', 'cancelled']);

const copy = <T>(v: T): T => structuredClone(v);

export class MemoryStore implements Store {
  readonly boot = 1;
  private orders = new Map<string, Order>();
  private shipments = new Map<string, Shipment>();
  private jobs = new Map<string, PrintJob>();
  private devices = new Map<string, DeviceRecord>();
  private meta = new Map<string, string>();
  private dedupe = new Set<string>();
  private events: EventRecord[] = [];
  private commits = 0;
  private units = 0;
  private started = false;

  constructor(private readonly now: () => number = Date.now) {}

  async start(): Promise<void> {
    this.started = true;
  }

  async stop(): Promise<void> {
    this.started = false;
  }

  async write(ops: WriteOp[]): Promise<WriteResult> {
    if (!this.started) throw new PacklineError('PKL_STORE_UNAVAILABLE', { reason: 'store not started' });
    // Stage on copies, then swap: a unit that fails half-way changes nothing.
    const orders = new Map(this.orders);
    const shipments = new Map(this.shipments);
    const jobs = new Map(this.jobs);
    const devices = new Map(this.devices);
    const meta = new Map(this.meta);
    const dedupe = new Set(this.dedupe);
    const events = [...this.events];
    const seqs: number[] = [];
    const stale: number[] = [];
    for (const [index, op] of ops.entries()) {
      switch (op.op) {
        case 'order.put': {
          const old = orders.get(op.order.orderId);
          if (old === undefined || old.revision <= op.order.revision) orders.set(op.order.orderId, copy(op.order));
          else stale.push(index);
          break;
        }
        case 'order.flags': {
          const old = orders.get(op.orderId);
          if (old === undefined) throw new PacklineError('PKL_NOT_FOUND', { what: `order ${op.orderId}` });
          if (op.revision !== undefined && op.revision < old.revision) {
            stale.push(index);
            break;
          }
          orders.set(op.orderId, {
            ...old,
            flags: { ...old.flags, ...op.flags },
            revision: op.revision ?? old.revision,
            updatedAt: this.now(),
          });
          break;
        }
        case 'shipment.put':
          shipments.set(op.shipment.shipmentId, copy(op.shipment));
          break;
        case 'printjob.put':
          jobs.set(op.job.jobId, copy(op.job));
          break;
        case 'device.put':
          devices.set(op.device.deviceId, copy(op.device));
          break;
        case 'device.delete':
          devices.delete(op.deviceId);
          break;
        case 'meta.put':
          meta.set(op.key, op.value);
          break;
        case 'dedupe':
          dedupe.add(`${op.deviceId}\u0000${op.msgId}`);
          break;
        case 'event': {
          const seq = events.length + 1;
          const wall = this.now();
          events.push({
            seq,
            hlc: `${String(wall).padStart(15, '0')}.${String(seq).padStart(6, '0')}`,
            boot: this.boot,
            clockUnsynced: false,
            type: op.type,
            subject: op.subject,
            data: copy(op.data),
          });
          seqs.push(seq);
          break;
        }
        default: {
          const never: never = op;
          throw new PacklineError('PKL_INTERNAL', { ref: `unknown op ${JSON.stringify(never)}` });
        }
      }
    }
    // Resolve on a later tick, like a real commit.
    await new Promise<void>((resolve) => setImmediate(resolve));
    this.orders = orders;
    this.shipments = shipments;
    this.jobs = jobs;
    this.devices = devices;
    this.meta = meta;
    this.dedupe = dedupe;
    this.events = events;
    this.commits += 1;
    this.units += 1;
    return stale.length > 0 ? { seqs, stale } : { seqs };
  }

  getOrder(orderId: string): Order | null {
    const o = this.orders.get(orderId);
    return o === undefined ? null : copy(o);
  }

  findOrderByBarcode(code: string): Order | null {
    const direct = this.getOrder(code);
    if (direct !== null) return direct;
    for (const o of this.orders.values()) if (o.barcodes.includes(code) || o.waybill === code) return copy(o);
    return null;
  }

  getShipment(shipmentId: string): Shipment | null {
    const s = this.shipments.get(shipmentId);
    return s === undefined ? null : copy(s);
  }

  openShipments(): Shipment[] {
    return [...this.shipments.values()].filter((s) => !FINAL_STATES.has(s.state)).map(copy);
  }

  listShipments(q: ShipmentQuery): Shipment[] {
    return [...this.shipments.values()]
      .filter(
        (s) =>
          (q.stationId === undefined || s.stationId === q.stationId) &&
          (q.state === undefined || s.state === q.state) &&
          (q.orderId === undefined || s.orderId === q.orderId) &&
          (q.before === undefined || s.updatedAt < q.before),
      )
      .sort((a, b) => b.updatedAt - a.updatedAt || (a.shipmentId < b.shipmentId ? 1 : -1))
      .slice(0, q.limit ?? 100)
      .map(copy);
  }

  latestShipmentForOrder(orderId: string): Shipment | null {
    let latest: Shipment | null = null;
    for (const s of this.shipments.values()) {
      if (s.orderId === orderId && (latest === null || s.openedAt >= latest.openedAt)) latest = s;
    }
    return latest === null ? null : copy(latest);
  }

  getPrintJob(jobId: string): PrintJob | null {
    const j = this.jobs.get(jobId);
    return j === undefined ? null : copy(j);
  }

  pendingPrintJobs(): PrintJob[] {
    return [...this.jobs.values()].filter((j) => !FINAL_JOB_STATES.has(j.state)).map(copy);
  }

  hasDedupe(deviceId: string, msgId: string): boolean {
    return this.dedupe.has(`${deviceId}\u0000${msgId}`);
  }

  getDevice(deviceId: string): DeviceRecord | null {
    const d = this.devices.get(deviceId);
    return d === undefined ? null : copy(d);
  }

  listDevices(): DeviceRecord[] {
    return [...this.devices.values()].map(copy);
  }

  readEvents(afterSeq: number, limit: number): EventRecord[] {
    return this.events.slice(afterSeq, afterSeq + limit).map(copy);
  }

  getMeta(key: string): string | null {
    return this.meta.get(key) ?? null;
  }

  /** Tests flip this to exercise the disk-full refusal. */
  lowOnDisk = false;

  diskLow(): boolean {
    return this.lowOnDisk;
  }

  stats(): StoreStats {
    return {
      lastSeq: this.events.length,
      boot: this.boot,
      commits: this.commits,
      unitsWritten: this.units,
      pendingUnits: 0,
      dbBytes: 0,
      walBytes: 0,
    };
  }
}
