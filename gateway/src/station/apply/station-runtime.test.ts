/**
 * The station runtime's commit path over a fake store and link (station/ports.ts): a step is
 * committed as one unit before anything is sent or acknowledged, a refusal writes nothing, a
 * store failure sends nothing, and a crash between the commit and the send leaves a job that
 * the next start re-issues with the same job id.
 */
import { describe, expect, it } from 'vitest';
import { PacklineError } from '../../../../contracts/errors.js';
import { topics } from '../../../../contracts/topics.js';
import { parseConfig } from '../../config/load.js';
import { createLogger } from '../../lib/logger.js';
import type { CommandLink, DeviceBinding, DeviceEvent, FlowMetrics, FlowResult, FlowStore, Outcome } from '../ports.js';
import { anOrder } from '../../storage/test-fixtures.js';
import type { EventRecord, Order, PrintJob, Shipment, StationWrite } from '../domain.js';
import { commitUnit, decide, settled } from './commit.js';
import { LineRuntime } from './line-runtime.js';
import { StationRuntime, VIEW_MIN_INTERVAL_MS } from './station-runtime.js';

const config = parseConfig({
  dataDir: '/nonexistent',
  devices: [
    { id: 'st-1-scanner', role: 'scanner', station: 'st-1' },
    { id: 'st-1-scale', role: 'scale', station: 'st-1' },
    { id: 'st-1-printer', role: 'printer', station: 'st-1' },
    { id: 'line-1-dws', role: 'conveyor', station: 'line-1' },
  ],
  stations: [{ id: 'st-1', scanner: 'st-1-scanner', scale: 'st-1-scale', printer: 'st-1-printer', verifyItems: 'never' }],
  lines: [{ id: 'line-1', device: 'line-1-dws', chutes: { ZTO: 'C01' }, exceptionChute: 'EXC', defaultChute: 'DEFAULT' }],
});

/** The store's rows in memory; `write` applies a unit atomically or not at all. */
class FakeStore implements FlowStore {
  orders = new Map<string, Order>();
  shipments = new Map<string, Shipment>();
  jobs = new Map<string, PrintJob>();
  events: EventRecord[] = [];
  dedupes = new Set<string>();
  units: StationWrite[][] = [];
  /** Set to make the next write fail with this error (nothing applied). */
  failNext: Error | null = null;
  /** Set to apply the next unit durably and then never answer (the process died after the fsync). */
  dieAfterCommit = false;
  low = false;

  async write(ops: StationWrite[]): Promise<{ seqs: number[] }> {
    if (this.failNext !== null) {
      const err = this.failNext;
      this.failNext = null;
      throw err;
    }
    for (const op of ops) {
      if (op.op === 'dedupe' && this.dedupes.has(`${op.deviceId}/${op.msgId}`)) {
        throw new PacklineError('PKL_DUPLICATE_MESSAGE', { deviceId: op.deviceId, msgId: op.msgId });
      }
    }
    const seqs: number[] = [];
    for (const op of ops) {
      if (op.op === 'shipment.put') this.shipments.set(op.shipment.shipmentId, op.shipment);
      else if (op.op === 'printjob.put') this.jobs.set(op.job.jobId, op.job);
      else if (op.op === 'dedupe') this.dedupes.add(`${op.deviceId}/${op.msgId}`);
      else {
        const seq = this.events.length + 1;
        this.events.push({ seq, hlc: String(seq), boot: 1, clockUnsynced: false, type: op.type, subject: op.subject, data: op.data });
        seqs.push(seq);
      }
    }
    this.units.push(ops);
    if (this.dieAfterCommit) return new Promise(() => undefined);
    return { seqs };
  }
  diskLow(): boolean {
    return this.low;
  }
  stats(): { diskFreeMb?: number } {
    return { diskFreeMb: 12 };
  }
  getOrder(orderId: string): Order | null {
    return this.orders.get(orderId) ?? null;
  }
  findOrderByBarcode(code: string): Order | null {
    for (const o of this.orders.values()) if (o.orderId === code || o.barcodes.includes(code)) return o;
    return null;
  }
  getShipment(shipmentId: string): Shipment | null {
    return this.shipments.get(shipmentId) ?? null;
  }
  listShipments(q: { orderId?: string }): Shipment[] {
    return [...this.shipments.values()].filter((s) => q.orderId === undefined || s.orderId === q.orderId);
  }
  openShipments(): Shipment[] {
    return [...this.shipments.values()].filter((s) => s.state !== 'shipped' && s.state !== 'abandoned');
  }
  pendingPrintJobs(): PrintJob[] {
    return [...this.jobs.values()].filter((j) => j.state === 'queued' || j.state === 'sent' || j.state === 'printing');
  }
  printJobsForShipment(shipmentId: string): PrintJob[] {
    return [...this.jobs.values()].filter((j) => j.shipmentId === shipmentId);
  }
  eventsForSubject(subject: string, limit: number): EventRecord[] {
    return this.events.filter((e) => e.subject === subject).slice(0, limit);
  }
  lastEvent(subject: string, type: string): EventRecord | null {
    return this.events.filter((e) => e.subject === subject && e.type === type).at(-1) ?? null;
  }
}

class FakeLink implements CommandLink {
  sent: Array<{ topic: string; payload: Record<string, unknown> }> = [];
  async publish(topic: string, payload: string): Promise<void> {
    // An empty payload clears a retained message.
    this.sent.push({ topic, payload: payload === '' ? {} : (JSON.parse(payload) as Record<string, unknown>) });
  }
  commands(kind: 'print' | 'display' | 'divert'): Array<Record<string, unknown>> {
    return this.sent.filter((m) => m.topic.endsWith(`/cmd/${kind}`)).map((m) => m.payload);
  }
}

class CountingMetrics implements FlowMetrics {
  results: FlowResult[] = [];
  shipment(result: FlowResult): void {
    this.results.push(result);
  }
  observeScanToPrint(): void {}
}

function rig(store = new FakeStore()) {
  const link = new FakeLink();
  const metrics = new CountingMetrics();
  let n = 0;
  let now = 1_000;
  const runtime = new StationRuntime({
    config,
    store,
    link,
    metrics,
    logger: createLogger('silent'),
    ids: { next: (prefix) => `${prefix}-t-${n++}` },
    isOnline: () => true,
    now: () => now,
  });
  const binding = (deviceId: string, role: DeviceBinding['role']): DeviceBinding => ({ deviceId, role, owner: { type: 'station', id: 'st-1' } });
  /**
   * Submits a device event and waits for its outcome; with `settledOrDead` set, resolves
   * undefined once the store holds the unit but no answer came (the process "died").
   */
  const submit = async (
    event: Omit<DeviceEvent, 'at' | 'binding'> & { role: DeviceBinding['role'] },
    settledOrDead?: () => boolean,
  ): Promise<Outcome | undefined> => {
    now += 10;
    return new Promise((resolve) => {
      const { role, ...rest } = event;
      runtime.submit({ ...rest, at: now, binding: binding(event.deviceId, role) } as DeviceEvent, resolve);
      if (settledOrDead !== undefined) {
        const poll = setInterval(() => {
          if (!settledOrDead()) return;
          clearInterval(poll);
          // Let a (wrong) answer that was already under way arrive first.
          setImmediate(() => resolve(undefined));
        }, 5);
      }
    });
  };
  const scan = (code: string, msgId?: string) => submit({ deviceId: 'st-1-scanner', role: 'scanner', kind: 'scan', payload: { code }, msgId });
  const weigh = (grams: number, msgId?: string, dead?: () => boolean) =>
    submit({ deviceId: 'st-1-scale', role: 'scale', kind: 'weight', payload: { grams, stable: true, unit: 'g' }, msgId } as never, dead);
  return { store, link, metrics, runtime, scan, weigh, submit };
}

const ORDER = anOrder({ orderId: 'O-1', barcodes: ['TB1'], lines: [{ sku: 'A', barcode: '690', name: 'Mug', qty: 1, unitGrams: 350 }], packagingGrams: 50 });

describe('station runtime: decide → commit → send', () => {
  it('commits a step as one unit (with its message id) before its command is sent and its ack given', async () => {
    const r = rig();
    r.store.orders.set('O-1', ORDER);
    await r.runtime.start();
    expect(await r.scan('TB1', 'm-1')).toEqual({ ok: true, seq: 1 });
    expect(r.store.units).toHaveLength(1);
    const unit = r.store.units[0]!;
    expect(unit.map((o) => o.op)).toEqual(['shipment.put', 'event', 'dedupe']);
    await r.weigh(0);
    const ok = await r.weigh(400, 'm-2');
    expect(ok).toMatchObject({ ok: true });
    const labelUnit = r.store.units.at(-1)!;
    const job = labelUnit.find((o) => o.op === 'printjob.put');
    expect(job).toBeDefined();
    // The command carries the job the unit committed.
    const prints = r.link.commands('print');
    expect(prints).toHaveLength(1);
    expect(prints[0]).toMatchObject({ job_id: job?.op === 'printjob.put' ? job.job.jobId : '', copies: 1 });
    expect(labelUnit.at(-1)).toEqual({ op: 'dedupe', deviceId: 'st-1-scale', msgId: 'm-2' });
    await r.runtime.stop();
  });

  it('station views are coalesced per station and the view after the last change is always published', async () => {
    const r = rig();
    r.store.orders.set('O-1', ORDER);
    await r.runtime.start();
    const views = () => r.link.sent.filter((m) => m.topic === topics.stationView('st-1')).map((m) => m.payload);
    // Let the start-up view out, then apply steps back to back.
    await new Promise((resolve) => setTimeout(resolve, VIEW_MIN_INTERVAL_MS + 5));
    const before = views().length;
    await r.scan('TB1', 'm-1');
    await r.weigh(0);
    await r.weigh(400, 'm-2');
    // The final view may still be waiting for its interval: poll (no time assertion).
    while (views().at(-1)?.state !== 'labelling') await new Promise((resolve) => setTimeout(resolve, 10));
    const published = views().length - before;
    expect(published).toBeGreaterThanOrEqual(1);
    expect(views().at(-1)).toEqual(r.runtime.view('st-1'));
    // Stop publishes a view still waiting for its interval.
    await r.scan('690', 'm-3');
    await r.runtime.stop();
    expect(views().at(-1)).toEqual(r.runtime.view('st-1'));
  });

  it('the view of a removed station waiting for its interval does not bring the cleared retained view back', async () => {
    const r = rig();
    r.store.orders.set('O-1', ORDER);
    await r.runtime.start();
    const views = () => r.link.sent.filter((m) => m.topic === topics.stationView('st-1'));
    // The start-up view went out just now: this step's view waits for the interval.
    await r.scan('TB1', 'm-1');
    await r.runtime.removeStation('st-1');
    expect(views().at(-1)?.payload).toEqual({});
    await new Promise((resolve) => setTimeout(resolve, VIEW_MIN_INTERVAL_MS + 20));
    expect(views().at(-1)?.payload).toEqual({});
    await r.runtime.stop();
  });

  it('a refusal writes nothing and stores no message id (a corrected retry is applied)', async () => {
    const r = rig();
    await r.runtime.start();
    expect(await r.scan('NOPE', 'm-1')).toEqual({ ok: false, code: 'PKL_ORDER_NOT_FOUND', details: { barcode: 'NOPE' } });
    expect(r.store.units).toEqual([]);
    expect(r.store.dedupes.size).toBe(0);
    r.store.orders.set('O-1', ORDER);
    expect(await r.scan('TB1', 'm-1')).toMatchObject({ ok: true });
    await r.runtime.stop();
  });

  it('a store failure answers its code and sends nothing; the state stays as before', async () => {
    const r = rig();
    r.store.orders.set('O-1', ORDER);
    await r.runtime.start();
    await r.scan('TB1');
    await r.weigh(0);
    r.store.failNext = new PacklineError('PKL_STORE_UNAVAILABLE', { reason: 'writer crashed' });
    expect(await r.weigh(400)).toEqual({ ok: false, code: 'PKL_STORE_UNAVAILABLE', details: { reason: 'writer crashed' } });
    expect(r.link.commands('print')).toEqual([]);
    expect(r.runtime.view('st-1')?.state).toBe('weighing');
    expect(r.store.jobs.size).toBe(0);
    await r.runtime.stop();
  });

  it('a redelivery that raced its first copy is acknowledged and changes nothing more', async () => {
    const r = rig();
    r.store.orders.set('O-1', ORDER);
    await r.runtime.start();
    expect(await r.scan('TB1', 'm-1')).toMatchObject({ ok: true });
    const shipments = r.store.shipments.size;
    // The runtime would open a second shipment for the same code: the store refuses the unit.
    expect(await r.scan('TB1', 'm-1')).toEqual({ ok: true });
    expect(r.store.shipments.size).toBe(shipments);
    await r.runtime.stop();
  });

  it('a disk nearly full refuses new work with PKL_DISK_FULL and writes nothing', async () => {
    const r = rig();
    r.store.orders.set('O-1', ORDER);
    r.store.low = true;
    await r.runtime.start();
    expect(await r.scan('TB1')).toEqual({ ok: false, code: 'PKL_DISK_FULL', details: { freeMb: 12 } });
    expect(r.store.units).toEqual([]);
    await r.runtime.stop();
  });

  it('a crash between the commit and the send: the next start re-issues the label with the same job id', async () => {
    const store = new FakeStore();
    store.orders.set('O-1', ORDER);
    const first = rig(store);
    await first.runtime.start();
    await first.scan('TB1');
    await first.weigh(0);
    store.dieAfterCommit = true;
    // The label unit reaches the disk, then the process dies: no ack, no print command.
    expect(await first.weigh(400, undefined, () => store.pendingPrintJobs().length > 0)).toBeUndefined();
    expect(first.link.commands('print')).toEqual([]);
    const [job] = store.pendingPrintJobs();
    expect(job).toBeDefined();
    store.dieAfterCommit = false;

    const second = rig(store);
    await second.runtime.start();
    const prints = second.link.commands('print');
    expect(prints).toEqual([{ job_id: job!.jobId, shipment_id: job!.shipmentId, format: job!.format, data: job!.data, copies: 1 }]);
    // The printer's answer to the re-issued job ships the parcel, exactly once.
    const answer = await second.submit({
      deviceId: 'st-1-printer',
      role: 'printer',
      kind: 'print_result',
      payload: { job_id: job!.jobId, status: 'printed' },
      msgId: undefined,
    } as never);
    expect(answer).toMatchObject({ ok: true });
    expect(store.getShipment(job!.shipmentId!)?.state).toBe('shipped');
    expect(store.events.filter((e) => e.type === 'shipment.shipped')).toHaveLength(1);
    await second.runtime.stop();
  });
});

describe('the one commit path', () => {
  it('keeps the code of a coded error thrown while deciding, and turns a bug into PKL_INTERNAL', () => {
    const bugs: unknown[] = [];
    const coded = decide(
      () => {
        throw new PacklineError('PKL_TEMPLATE_INVALID', { template: 'sf' });
      },
      'st-1:1',
      (e) => bugs.push(e),
    );
    expect(coded).toEqual({ ok: false, code: 'PKL_TEMPLATE_INVALID', details: { template: 'sf' } });
    expect(bugs).toEqual([]);
    const bug = decide(
      () => {
        throw new TypeError('x is undefined');
      },
      'st-1:2',
      (e) => bugs.push(e),
    );
    expect(bug).toEqual({ ok: false, code: 'PKL_INTERNAL', details: { ref: 'st-1:2' } });
    expect(bugs).toHaveLength(1);
  });

  it('an empty unit commits nothing; a unit with only a message id stores it', async () => {
    const store = new FakeStore();
    expect(await commitUnit(store, [])).toEqual({ kind: 'committed', seq: undefined });
    expect(store.units).toEqual([]);
    const c = await commitUnit(store, [], { dedupe: { deviceId: 'd', msgId: 'm' } });
    expect(settled(c)).toEqual({ ok: true });
    expect(store.units).toEqual([[{ op: 'dedupe', deviceId: 'd', msgId: 'm' }]]);
  });

  it('the line runtime answers on the same path: ack with its seq, a redelivery once', async () => {
    const store = new FakeStore();
    store.orders.set('O-1', ORDER);
    const link = new FakeLink();
    const metrics = new CountingMetrics();
    let n = 0;
    const lines = new LineRuntime({ config, store, link, metrics, logger: createLogger('silent'), ids: { next: (p) => `${p}-l-${n++}` } });
    await lines.start();
    const binding: DeviceBinding = { deviceId: 'line-1-dws', role: 'conveyor', owner: { type: 'line', id: 'line-1' } };
    const parcel = (msgId: string) =>
      new Promise<Outcome>((resolve) =>
        lines.submit(
          { deviceId: 'line-1-dws', binding, kind: 'parcel', payload: { seq: 1, barcode: 'TB1', grams: 400 }, msgId, at: 5 } as DeviceEvent,
          resolve,
        ),
      );
    const first = await parcel('p-1');
    expect(first).toMatchObject({ ok: true });
    expect(link.commands('divert')).toHaveLength(1);
    expect(link.sent[0]?.topic).toBe(topics.command('line-1-dws', 'divert'));
    expect(await parcel('p-1')).toEqual({ ok: true });
    expect(store.units).toHaveLength(1);
    await lines.stop();
  });
});
