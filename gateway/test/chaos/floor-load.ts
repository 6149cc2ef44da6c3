/**
 * The load the chaos harness puts on a gateway: packing stations (the crash test's station
 * driver, gateway/test/support/station-driver.ts: scale, scanner and printer over MQTT, each
 * with its own credentials, closed loop) and DWS lines (parcel telegrams, each acknowledged
 * with the event-log seq it was committed at). Everything the gateway acknowledged is
 * recorded, because after a crash everything recorded here must be in the store.
 *
 * Orders come from the reference cloud (its change feed), a share of them intercepted there
 * (refunded) before they reach a station, so the checker's intercept rule is exercised.
 */
import type { MqttClient } from 'mqtt';
import type { ChildGateway } from '../support/child-gateway.js';
import { device, lineDevice, wireOrder, wireOrderGrams } from '../support/floor.js';
import { type AckedShipment, type StationDriver, startStationDriver } from '../support/station-driver.js';
import { api, type ChaosRig, until } from './rig.js';

export interface AckedParcel {
  barcode: string;
  seq: number;
}

/** What the gateway acknowledged, over every run against one data directory. */
export class AckLedger {
  readonly shipments: AckedShipment[] = [];
  readonly parcels: AckedParcel[] = [];
  readonly seqs: number[] = [];

  get count(): number {
    return this.seqs.length;
  }
}

/**
 * Orders created in the cloud ahead of the load, `O-<prefix>-<n>`. Every `interceptEvery`-th
 * order is refunded in the cloud right after it is created: a station scanning it must be
 * refused, and nothing may ship for it after the gateway applied the refund.
 */
export class OrderPool {
  private created = 0;
  private taken = 0;
  readonly intercepted = new Set<string>();

  constructor(
    private readonly rig: ChaosRig,
    private readonly prefix: string,
    private readonly interceptEvery = 20,
  ) {}

  id(n: number): string {
    return `O-${this.prefix}-${String(n).padStart(7, '0')}`;
  }

  /** Makes sure `ahead` orders beyond the ones taken exist in the cloud and on the gateway. */
  async ensure(g: ChildGateway, ahead: number): Promise<void> {
    const want = this.taken + ahead;
    if (this.created >= want) return;
    const orders: Array<Record<string, unknown>> = [];
    for (let n = this.created; n < want; n++) orders.push(wireOrder(this.id(n)));
    await this.rig.addOrders(orders);
    for (let n = this.created; n < want; n++) {
      if (this.interceptEvery > 0 && n % this.interceptEvery === this.interceptEvery - 1) {
        await this.rig.setStatus(this.id(n), 'refunded');
        this.intercepted.add(this.id(n));
      }
    }
    this.created = want;
    const last = this.id(want - 1);
    await until(`order ${last} to reach the gateway`, async () => (await api(g, `/api/v1/orders/${last}`)).status === 200, 60_000, 100);
  }

  /** The next order for a station (id, no item scans: stations run with verifyItems never). */
  next(): { orderId: string; items: string[]; grams: number } | null {
    if (this.taken >= this.created) return null;
    const orderId = this.id(this.taken++);
    return { orderId, items: [], grams: wireOrderGrams(wireOrder(orderId)) };
  }

  nextBarcode(): string | null {
    if (this.taken >= this.created) return null;
    return `PS-${this.id(this.taken++)}`;
  }
}

/** A DWS tunnel that sends one telegram after the other and records every acknowledged one. */
export interface DwsDriver {
  acked: AckedParcel[];
  ackedSeqs: number[];
  stop(): Promise<void>;
  done: Promise<void>;
}

export async function startDwsDriver(o: {
  mqttUrl: string;
  secrets: Record<string, string>;
  line: number;
  runTag: string;
  next(): string | null;
  timeoutMs?: number;
  /** Pause between telegrams (a line feeds parcels at its belt speed). */
  gapMs?: number;
}): Promise<DwsDriver> {
  const id = lineDevice(o.line).dws;
  const secret = o.secrets[id];
  if (secret === undefined) throw new Error(`no secret for ${id}`);
  const client: MqttClient = await device(o.mqttUrl, id, secret);
  client.on('error', () => undefined);
  const waiting = new Map<string, (p: Record<string, unknown>) => void>();
  client.on('message', (_topic, buf) => {
    try {
      const p = JSON.parse(buf.toString()) as Record<string, unknown>;
      const w = waiting.get(String(p.msg_id));
      if (w) {
        waiting.delete(String(p.msg_id));
        w(p);
      }
    } catch {
      // not ours
    }
  });
  await client.subscribeAsync([`dev/${id}/ack`, `dev/${id}/err`], { qos: 1 });
  const d: DwsDriver = { acked: [], ackedSeqs: [], stop: async () => undefined, done: Promise.resolve() };
  let running = true;
  let n = 0;
  const run = async () => {
    while (running) {
      const barcode = o.next();
      if (barcode === null) return;
      const msgId = `${o.runTag}-l${o.line}-${n}`;
      const reply = new Promise<Record<string, unknown>>((resolve, reject) => {
        const t = setTimeout(() => reject(new Error('timeout')), o.timeoutMs ?? 5_000);
        waiting.set(msgId, (p) => {
          clearTimeout(t);
          resolve(p);
        });
      });
      reply.catch(() => undefined); // awaited below; a failed publish must not leave it unhandled
      await client.publishAsync(`dev/${id}/evt/parcel`, JSON.stringify({ msg_id: msgId, seq: n++ % 4_294_967_296, barcode, grams: 450 }), { qos: 1 });
      const p = await reply;
      if (typeof p.seq === 'number') {
        d.acked.push({ barcode, seq: p.seq });
        d.ackedSeqs.push(p.seq);
      }
      if ((o.gapMs ?? 0) > 0) await new Promise((r) => setTimeout(r, o.gapMs));
    }
  };
  d.done = run().catch(() => undefined); // a killed gateway ends the run with a timeout
  d.stop = async () => {
    running = false;
    await client.endAsync(true).catch(() => undefined);
  };
  return d;
}

export interface FloorLoadOptions {
  stations: number;
  lines: number;
  runTag: string;
  stationOrders: OrderPool;
  lineOrders: OrderPool;
  timeoutMs?: number;
  lineGapMs?: number;
}

/** Stations and lines running against one gateway process until stopped (or it dies). */
export class FloorLoad {
  private stations: StationDriver[] = [];
  private lines: DwsDriver[] = [];

  private constructor() {}

  static async start(g: ChildGateway, o: FloorLoadOptions): Promise<FloorLoad> {
    const f = new FloorLoad();
    f.stations = await Promise.all(
      Array.from({ length: o.stations }, (_, i) =>
        startStationDriver({
          mqttUrl: g.mqttUrl,
          secrets: g.secrets,
          station: i + 1,
          runTag: o.runTag,
          timeoutMs: o.timeoutMs ?? 5_000,
          nextOrder: () => o.stationOrders.next(),
        }),
      ),
    );
    f.lines = await Promise.all(
      Array.from({ length: o.lines }, (_, j) =>
        startDwsDriver({
          mqttUrl: g.mqttUrl,
          secrets: g.secrets,
          line: j + 1,
          runTag: o.runTag,
          timeoutMs: o.timeoutMs ?? 5_000,
          gapMs: o.lineGapMs ?? 0,
          next: () => o.lineOrders.nextBarcode(),
        }),
      ),
    );
    return f;
  }

  /**
   * Stops every device and moves what was acknowledged into the ledger. After a SIGKILL no
   * acknowledgement can arrive any more (the gateway's sockets are gone with it), so the
   * drivers' pending waits are not awaited to their timeouts: their clients are closed and
   * they end on their own.
   */
  async stop(ledger: AckLedger): Promise<{ shipments: number; parcels: number; seqs: number }> {
    const all = [...this.stations, ...this.lines];
    await Promise.all(all.map((d) => d.stop()));
    await Promise.race([Promise.all(all.map((d) => d.done)), new Promise((r) => setTimeout(r, 200))]);
    const before = { shipments: ledger.shipments.length, parcels: ledger.parcels.length, seqs: ledger.seqs.length };
    for (const d of this.stations) {
      ledger.shipments.push(...d.acked);
      ledger.seqs.push(...d.ackedSeqs);
    }
    for (const d of this.lines) {
      ledger.parcels.push(...d.acked);
      ledger.seqs.push(...d.ackedSeqs);
    }
    return {
      shipments: ledger.shipments.length - before.shipments,
      parcels: ledger.parcels.length - before.parcels,
      seqs: ledger.seqs.length - before.seqs,
    };
  }
}
