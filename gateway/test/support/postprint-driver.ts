/**
 * A packer at a station working a post-print batch, over MQTT with the station's own device
 * identities: empty scale → scan the item barcode → the parcel on the scale → the label the
 * gateway sends → `printed`. One scan, one parcel. Labels the gateway re-issues after a restart
 * (the same job id) are answered too. Used by the post-print integration test and the bench.
 */
import type { MqttClient } from 'mqtt';
import { device, Inbox, replyTopics, stationDevices } from './floor.js';

export interface PostprintParcel {
  shipmentId: string;
  jobId: string;
  /** Scan published → print command received (ms, this process's clock). */
  scanToLabelMs: number;
}

export interface PostprintDriver {
  parcels: PostprintParcel[];
  /** Scans the gateway refused, by code (PKL_BATCH_NO_ORDER or PKL_ORDER_NOT_FOUND ends the run). */
  refusals: Record<string, number>;
  /** Runs until the batch has no order left, `stop()`, or `max` parcels; rejects on a timeout. */
  run(opts: { item: string; grams: number; max?: number; onParcel?: (n: number) => Promise<void> | void }): Promise<void>;
  stop(): Promise<void>;
}

export async function startPostprintDriver(o: {
  mqttUrl: string;
  secrets: Record<string, string>;
  station: number;
  runTag: string;
  timeoutMs?: number;
}): Promise<PostprintDriver> {
  const d = stationDevices(o.station);
  const secret = (id: string) => o.secrets[id] ?? '';
  const scanner = await device(o.mqttUrl, d.scanner, secret(d.scanner));
  const scale = await device(o.mqttUrl, d.scale, secret(d.scale));
  const printer = await device(o.mqttUrl, d.printer, secret(d.printer));
  const clients: MqttClient[] = [scanner, scale, printer];
  for (const c of clients) c.on('error', () => undefined);
  const scans = await Inbox.open(scanner, replyTopics(d.scanner));
  const printerIn = await Inbox.open(printer, [`dev/${d.printer}/cmd/print`, ...replyTopics(d.printer)]);
  // Online after subscribing (docs/mqtt.md): the gateway re-issues labels still unanswered.
  await printer.publishAsync(`dev/${d.printer}/state`, JSON.stringify({ state: 'online' }), { qos: 1, retain: true });
  const timeout = o.timeoutMs ?? 10_000;
  const answered = new Set<string>();
  let running = true;
  let n = 0;
  const pub = (c: MqttClient, topic: string, payload: unknown) => c.publishAsync(topic, JSON.stringify(payload), { qos: 1 });
  const isNewJob = (m: { topic: string; payload: Record<string, unknown> }) => m.topic.endsWith('/cmd/print') && !answered.has(String(m.payload.job_id));
  const answer = async (job: { payload: Record<string, unknown> }, tag: string): Promise<void> => {
    const jobId = String(job.payload.job_id);
    answered.add(jobId);
    await pub(printer, `dev/${d.printer}/evt/print_result`, { msg_id: `p${tag}`, job_id: jobId, status: 'printed' });
    await printerIn.next((m) => m.payload.msg_id === `p${tag}`, timeout);
  };
  const driver: PostprintDriver = {
    parcels: [],
    refusals: {},
    async run({ item, grams, max, onParcel }) {
      // A label re-issued after a restart (its pick was committed before the crash): print it first.
      await new Promise((r) => setTimeout(r, 200));
      for (const m of printerIn.messages.filter(isNewJob)) await answer(m, `${o.runTag}-r${n++}`);
      let refusedInRow = 0;
      while (running && (max === undefined || driver.parcels.length < max)) {
        const tag = `${o.runTag}-${n++}`;
        await pub(scale, `dev/${d.scale}/evt/weight`, { grams: 0, stable: true });
        const t0 = performance.now();
        await pub(scanner, `dev/${d.scanner}/evt/scan`, { msg_id: `s${tag}`, code: item });
        const r = await scans.next((m) => m.payload.msg_id === `s${tag}`, timeout);
        if (r.topic.endsWith('/err')) {
          const code = String((r.payload.error as { code?: string } | undefined)?.code ?? r.payload.code);
          driver.refusals[code] = (driver.refusals[code] ?? 0) + 1;
          // Nothing left in the batch, or the batch closed after its last parcel (the station
          // works order by order again, so the item barcode names no order).
          if (code === 'PKL_BATCH_NO_ORDER' || code === 'PKL_ORDER_NOT_FOUND') return;
          if (++refusedInRow >= 20) throw new Error(`20 scans refused in a row: ${JSON.stringify(driver.refusals)}`);
          continue;
        }
        refusedInRow = 0;
        let job = printerIn.messages.find(isNewJob);
        if (job === undefined) {
          await pub(scale, `dev/${d.scale}/evt/weight`, { grams, stable: true });
          job = await printerIn.next(isNewJob, timeout);
        }
        const scanToLabelMs = performance.now() - t0;
        await answer(job, tag);
        driver.parcels.push({ shipmentId: String(job.payload.shipment_id), jobId: String(job.payload.job_id), scanToLabelMs });
        await onParcel?.(driver.parcels.length);
      }
    },
    async stop() {
      running = false;
      await Promise.all(clients.map((c) => c.endAsync(true).catch(() => undefined)));
    },
  };
  return driver;
}
