/**
 * Packing stations at a fixed total rate (open loop, as bench/loadgen.ts drives them) rather
 * than as fast as the gateway answers: the live load of the outage soak and the fault
 * scenarios, which must not turn into a throughput test on a shared machine. Every
 * acknowledged print result (and every acknowledged seq) is recorded in the ledger.
 */
import type { MqttClient } from 'mqtt';
import type { ChildGateway } from '../support/child-gateway.js';
import { device, Inbox, replyTopics, stationDevices } from '../support/floor.js';
import type { AckLedger } from './floor-load.js';

export interface PacedOrder {
  orderId: string;
  grams: number;
}

export interface PacedFigures {
  shipments: number;
  /** Parcels refused with a coded error, by code. */
  refused: Record<string, number>;
  /** Parcels that got no answer in time (the gateway was down or too busy). */
  timeouts: number;
  /** Parcels started later than their slot (the station was still busy). */
  late: number;
}

class Station {
  private clients: MqttClient[] = [];
  private scanner!: MqttClient;
  private scale!: MqttClient;
  private printer!: MqttClient;
  private scanReplies!: Inbox;
  private printerIn!: Inbox;
  private readonly seenJobs = new Set<string>();
  private n = 0;

  constructor(
    private readonly g: ChildGateway,
    private readonly i: number,
    private readonly runTag: string,
    private readonly timeoutMs: number,
  ) {}

  async connect(): Promise<void> {
    const d = stationDevices(this.i);
    const open = async (id: string) => {
      const c = await device(this.g.mqttUrl, id, this.g.secrets[id] ?? '');
      c.on('error', () => undefined);
      this.clients.push(c);
      return c;
    };
    [this.scanner, this.scale, this.printer] = await Promise.all([open(d.scanner), open(d.scale), open(d.printer)]);
    this.scanReplies = await Inbox.open(this.scanner, replyTopics(d.scanner));
    this.printerIn = await Inbox.open(this.printer, [`dev/${d.printer}/cmd/print`, ...replyTopics(d.printer)]);
  }

  /** One parcel, start to finish; pushes what was acknowledged into the ledger. */
  async ship(order: PacedOrder, ledger: AckLedger, f: PacedFigures): Promise<void> {
    const d = stationDevices(this.i);
    const tag = `${this.runTag}-${this.i}-${this.n++}`;
    const pub = (c: MqttClient, topic: string, payload: unknown) => c.publishAsync(topic, JSON.stringify(payload), { qos: 1 });
    try {
      await pub(this.scale, `dev/${d.scale}/evt/weight`, { grams: 0, stable: true });
      await pub(this.scanner, `dev/${d.scanner}/evt/scan`, { msg_id: `o${tag}`, code: order.orderId });
      const opened = await this.scanReplies.next((m) => m.payload.msg_id === `o${tag}`, this.timeoutMs);
      if (opened.topic.endsWith('/err')) {
        const code = String(opened.payload.code);
        f.refused[code] = (f.refused[code] ?? 0) + 1;
        return;
      }
      ledger.seqs.push(Number(opened.payload.seq));
      await pub(this.scale, `dev/${d.scale}/evt/weight`, { grams: order.grams, stable: true });
      const job = await this.printerIn.next((m) => m.topic.endsWith('/cmd/print') && !this.seenJobs.has(String(m.payload.job_id)), this.timeoutMs);
      const jobId = String(job.payload.job_id);
      this.seenJobs.add(jobId);
      await pub(this.printer, `dev/${d.printer}/evt/print_result`, { msg_id: `p${tag}`, job_id: jobId, status: 'printed' });
      const ack = await this.printerIn.next((m) => m.payload.msg_id === `p${tag}`, this.timeoutMs);
      if (ack.topic.endsWith('/ack')) {
        ledger.shipments.push({ orderId: order.orderId, shipmentId: String(job.payload.shipment_id), jobId, seq: Number(ack.payload.seq) });
        ledger.seqs.push(Number(ack.payload.seq));
        f.shipments += 1;
      } else {
        const code = String(ack.payload.code);
        f.refused[code] = (f.refused[code] ?? 0) + 1;
      }
    } catch {
      f.timeouts += 1;
    }
  }

  async close(): Promise<void> {
    await Promise.all(this.clients.map((c) => c.endAsync(true).catch(() => undefined)));
  }
}

export interface PacedLoad {
  figures: PacedFigures;
  /** Stops starting parcels, waits for the ones in progress, disconnects. */
  stop(): Promise<PacedFigures>;
}

export async function startPacedStations(
  g: ChildGateway,
  ledger: AckLedger,
  o: { stations: number; ratePerSecond: number; runTag: string; next(): PacedOrder | null; timeoutMs?: number; firstStation?: number },
): Promise<PacedLoad> {
  const first = o.firstStation ?? 1;
  const stations = Array.from({ length: o.stations }, (_, k) => new Station(g, first + k, o.runTag, o.timeoutMs ?? 10_000));
  for (let k = 0; k < stations.length; k += 25) await Promise.all(stations.slice(k, k + 25).map((s) => s.connect()));
  const figures: PacedFigures = { shipments: 0, refused: {}, timeouts: 0, late: 0 };
  const intervalMs = (1000 * o.stations) / Math.max(0.001, o.ratePerSecond);
  let running = true;
  const start = performance.now();
  const loops = stations.map(async (s, k) => {
    let due = start + (intervalMs * k) / o.stations;
    while (running) {
      const wait = due - performance.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      else if (wait < -5) figures.late += 1;
      if (!running) break;
      const order = o.next();
      if (order === null) break;
      await s.ship(order, ledger, figures);
      due += intervalMs;
    }
  });
  return {
    figures,
    stop: async () => {
      running = false;
      await Promise.all(loops);
      await Promise.all(stations.map((s) => s.close()));
      return figures;
    },
  };
}
