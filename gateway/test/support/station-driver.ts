/**
 * Drives one packing station's devices through complete shipments as fast as the gateway
 * answers, recording what the gateway acknowledged. Used by the crash test: after a
 * SIGKILL, everything recorded here must be in the store.
 */
import type { MqttClient } from 'mqtt';
import { device, Inbox, replyTopics, stationDevices } from './floor.js';

export interface AckedShipment {
  orderId: string;
  shipmentId: string;
  jobId: string;
  /** Event-log seq the gateway returned for the print result (the shipped event). */
  seq: number;
}

export interface StationDriver {
  /** Shipments whose `print_result` the gateway acknowledged (so: durably shipped). */
  acked: AckedShipment[];
  /** Every seq the gateway returned in an ack. */
  ackedSeqs: number[];
  stop(): Promise<void>;
  done: Promise<void>;
  /** Why the run ended early, if it did (a timeout while the gateway was down, say). */
  error?: unknown;
}

export interface DriverOptions {
  mqttUrl: string;
  secrets: Record<string, string>;
  station: number;
  /** Gives the next order to ship (id, item barcodes with quantities, parcel grams), or null when out of orders. */
  nextOrder(): { orderId: string; items: string[]; grams: number } | null;
  /** Makes message ids unique across driver runs (ids are deduplicated across restarts). */
  runTag: string;
  /** Per-message wait for the gateway; a crash shows up as a timeout here. */
  timeoutMs?: number;
  /** Pause between parcels (a packer's pace); none by default (as fast as the gateway answers). */
  pauseMs?: number;
}

export async function startStationDriver(o: DriverOptions): Promise<StationDriver> {
  const d = stationDevices(o.station);
  const secret = (id: string) => {
    const s = o.secrets[id];
    if (s === undefined) throw new Error(`no secret for ${id}`);
    return s;
  };
  const clients: MqttClient[] = [];
  const scanner = await device(o.mqttUrl, d.scanner, secret(d.scanner));
  clients.push(scanner);
  const scale = await device(o.mqttUrl, d.scale, secret(d.scale));
  clients.push(scale);
  const printer = await device(o.mqttUrl, d.printer, secret(d.printer));
  clients.push(printer);
  for (const c of clients) c.on('error', () => undefined);
  const scanReplies = await Inbox.open(scanner, replyTopics(d.scanner));
  const printerIn = await Inbox.open(printer, [`dev/${d.printer}/cmd/print`, ...replyTopics(d.printer)]);
  const timeout = o.timeoutMs ?? 10_000;
  const driver: StationDriver = { acked: [], ackedSeqs: [], stop: async () => undefined, done: Promise.resolve() };
  let running = true;
  let n = 0;
  const run = async () => {
    while (running) {
      const order = o.nextOrder();
      if (order === null) return;
      const tag = `${o.runTag}-${o.station}-${n++}`;
      const pub = (c: MqttClient, topic: string, payload: unknown) => c.publishAsync(topic, JSON.stringify(payload), { qos: 1 });
      await pub(scale, `dev/${d.scale}/evt/weight`, { grams: 0, stable: true });
      await pub(scanner, `dev/${d.scanner}/evt/scan`, { msg_id: `o${tag}`, code: order.orderId });
      const opened = await scanReplies.next((m) => m.payload.msg_id === `o${tag}`, timeout);
      if (opened.topic.endsWith('/err')) continue;
      driver.ackedSeqs.push(Number(opened.payload.seq));
      for (const [i, code] of order.items.entries()) {
        await pub(scanner, `dev/${d.scanner}/evt/scan`, { msg_id: `i${tag}-${i}`, code });
        const r = await scanReplies.next((m) => m.payload.msg_id === `i${tag}-${i}`, timeout);
        if (r.payload.seq !== undefined) driver.ackedSeqs.push(Number(r.payload.seq));
      }
      await pub(scale, `dev/${d.scale}/evt/weight`, { grams: order.grams, stable: true });
      const job = await printerIn.next((m) => m.topic.endsWith('/cmd/print') && !seenJobs.has(String(m.payload.job_id)), timeout);
      const jobId = String(job.payload.job_id);
      seenJobs.add(jobId);
      await pub(printer, `dev/${d.printer}/evt/print_result`, { msg_id: `p${tag}`, job_id: jobId, status: 'printed' });
      const ack = await printerIn.next((m) => m.payload.msg_id === `p${tag}`, timeout);
      if (ack.topic.endsWith('/ack')) {
        driver.acked.push({ orderId: order.orderId, shipmentId: String(job.payload.shipment_id), jobId, seq: Number(ack.payload.seq) });
        driver.ackedSeqs.push(Number(ack.payload.seq));
      }
      if (o.pauseMs) await new Promise((r) => setTimeout(r, o.pauseMs));
    }
  };
  const seenJobs = new Set<string>();
  driver.done = run().catch((err: unknown) => {
    if (running) driver.error = err; // a killed gateway ends the run with a timeout; stop() ends it too
  });
  driver.stop = async () => {
    running = false;
    await Promise.all(clients.map((c) => c.endAsync(true).catch(() => undefined)));
  };
  return driver;
}
