/**
 * Test harness for the simulator tests: a throwaway aedes broker on an ephemeral port (no
 * auth) and a tiny stand-in for the gateway's packing flow, so the simulators can be
 * exercised over real MQTT without the gateway.
 */
import { once } from 'node:events';
import { type AddressInfo, createServer, type Server } from 'node:net';
import { Aedes } from 'aedes';
import mqtt, { type MqttClient } from 'mqtt';

export interface TestBroker {
  url: string;
  close(): Promise<void>;
}

export async function startBroker(): Promise<TestBroker> {
  const broker = await Aedes.createBroker();
  // No Nagle on the broker side either, or small packets wait for delayed ACKs (~40 ms).
  const server: Server = createServer((socket) => {
    socket.setNoDelay(true);
    broker.handle(socket);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  return {
    url: `mqtt://127.0.0.1:${port}`,
    close: async () => {
      await new Promise<void>((r) => broker.close(() => r()));
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

/** A plain observer/commander client. */
export async function observer(
  url: string,
  subscriptions: string[],
): Promise<{ client: MqttClient; messages: { topic: string; payload: any; retain: boolean }[] }> {
  const client = await mqtt.connectAsync(url, { protocolVersion: 4, clientId: `obs-${Math.random().toString(36).slice(2)}` });
  const messages: { topic: string; payload: any; retain: boolean }[] = [];
  (client.stream as { setNoDelay?: (on: boolean) => void }).setNoDelay?.(true);
  client.on('message', (topic, buf, packet) => {
    let payload: unknown;
    try {
      payload = JSON.parse(buf.toString());
    } catch {
      payload = buf.toString();
    }
    messages.push({ topic, payload, retain: packet.retain });
  });
  if (subscriptions.length > 0) await client.subscribeAsync(subscriptions, { qos: 1 });
  return { client, messages };
}

export async function waitFor<T>(fn: () => T | undefined | false | null, timeoutMs = 20_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = fn();
    if (v) return v;
    if (Date.now() > end) throw new Error('waitFor: condition not met in time');
    await new Promise((r) => setTimeout(r, 10));
  }
}

export interface FakeGatewayOptions {
  /** Stable weights above this are refused with PKL_WEIGHT_OUT_OF_TOLERANCE. */
  maxGrams?: number;
  /** Put the msg_id of a refused event into err details (the recommended gateway behaviour). */
  errWithMsgId?: boolean;
}

/**
 * Stand-in for the gateway's packing flow. Devices are named `<station>-scanner`,
 * `<station>-scale`, `<station>-printer`: every scan is acked (a code starting with `200`,
 * the simulators' "wrong item", is refused with PKL_ITEM_WRONG); a stable non-zero weight is
 * acked and answered with a print command to the station's printer.
 */
export async function fakeGateway(url: string, opts: FakeGatewayOptions = {}) {
  const { client } = await observer(url, []);
  let seq = 0;
  let jobs = 0;
  const printResults: any[] = [];
  const send = (topic: string, payload: unknown) => client.publish(topic, JSON.stringify(payload), { qos: 1 });
  const err = (dev: string, code: string, msgId: string) =>
    send(`dev/${dev}/err`, {
      code,
      message: code,
      message_zh: code,
      details: opts.errWithMsgId === false ? {} : { msg_id: msgId },
    });
  client.on('message', (topic, buf) => {
    const [, dev, , kind] = topic.split('/') as [string, string, string, string];
    const ev = JSON.parse(buf.toString());
    const ack = () => send(`dev/${dev}/ack`, { msg_id: ev.msg_id, kind, seq: ++seq });
    const station = dev.replace(/-(scanner|scale|printer)$/, '');
    if (kind === 'scan') {
      if (String(ev.code).startsWith('200')) err(dev, 'PKL_ITEM_WRONG', ev.msg_id);
      else ack();
    } else if (kind === 'weight') {
      if (!ev.stable) return;
      if (ev.grams > (opts.maxGrams ?? Infinity)) return err(dev, 'PKL_WEIGHT_OUT_OF_TOLERANCE', ev.msg_id);
      ack();
      if (ev.grams > 20) {
        jobs++;
        send(`dev/${station}-printer/cmd/print`, {
          job_id: `job-${jobs}`,
          shipment_id: `shp-${jobs}`,
          format: 'zpl',
          data: `^XA^FO50,50^A0N,40,40^FDjob ${jobs}^FS^XZ`,
          copies: 1,
        });
      }
    } else if (kind === 'print_result') {
      printResults.push(ev);
      ack();
    }
  });
  await client.subscribeAsync('dev/+/evt/+', { qos: 1 });
  return { printResults, close: () => client.endAsync() };
}

export function stationCredentials(stations: string[]) {
  const devices: Record<string, { secret: string; role: string; station: string }> = {};
  for (const s of stations) {
    for (const role of ['scanner', 'scale', 'printer']) devices[`${s}-${role}`] = { secret: `pw-${s}-${role}`, role, station: s };
  }
  return { devices };
}
