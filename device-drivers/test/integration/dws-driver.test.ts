/**
 * The DWS driver against its line simulator over real TCP on 127.0.0.1, bridged onto a real
 * (throwaway, no-auth) aedes broker; a plain MQTT client plays the gateway and answers diverts.
 */
import net from 'node:net';
import { Aedes } from 'aedes';
import mqtt, { type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ParcelEvent } from '../../../contracts/payloads.js';
import { dwsDefinition } from '../../src/conveyor/definitions.js';
import { DwsDriver } from '../../src/conveyor/dws-driver.js';
import { TcpServerTransport, tcpClientTransport } from '../../src/conveyor/tcp-transport.js';
import { DwsLineTcpSim } from '../../../simulators/src/dws/dws-line-sim.js';

const REPLY_TIMEOUT_MS = 400;

interface Rig {
  broker: Aedes;
  server: net.Server;
  url: string;
  gw: MqttClient;
  /** Everything the "gateway" client received, in order. */
  got: Array<{ topic: string; body: Record<string, unknown> }>;
}

async function until<T>(what: string, probe: () => T | undefined | false, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = probe();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

async function startRig(deviceId: string): Promise<Rig> {
  const broker = await Aedes.createBroker();
  const server = net.createServer(broker.handle);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `mqtt://127.0.0.1:${(server.address() as net.AddressInfo).port}`;
  const gw = await mqtt.connectAsync(url, { clientId: 'test-gateway', protocolVersion: 4 });
  const got: Rig['got'] = [];
  gw.on('message', (topic, payload) => got.push({ topic, body: JSON.parse(payload.toString()) as Record<string, unknown> }));
  await gw.subscribeAsync([`dev/${deviceId}/evt/parcel`, `dev/${deviceId}/state`], { qos: 1 });
  return { broker, server, url, gw, got };
}

async function stopRig(r: Rig): Promise<void> {
  await r.gw.endAsync();
  await new Promise<void>((res) => r.broker.close(() => res()));
  await new Promise<void>((res) => r.server.close(() => res()));
}

const parcels = (r: Rig, seq?: number) =>
  r.got.filter((m) => m.topic.endsWith('/evt/parcel') && (seq === undefined || m.body['seq'] === seq)).map((m) => m.body as ParcelEvent);
const lastState = (r: Rig) => r.got.filter((m) => m.topic.endsWith('/state')).at(-1)?.body;
const divert = (r: Rig, id: string, body: object) => r.gw.publishAsync(`dev/${id}/cmd/divert`, JSON.stringify(body), { qos: 1 });

describe('DWS driver: the line connects to the gateway (STX/ETX semicolon telegrams)', () => {
  const id = 'dws-1';
  let rig: Rig;
  let transport: TcpServerTransport;
  let driver: DwsDriver;
  let sim: DwsLineTcpSim;

  beforeAll(async () => {
    rig = await startRig(id);
    const definition = dwsDefinition('generic-dws-stx-semicolon');
    transport = new TcpServerTransport({ host: '127.0.0.1', port: 0 });
    driver = new DwsDriver({
      deviceId: id,
      definition,
      replyTimeoutMs: REPLY_TIMEOUT_MS,
      transport,
      mqtt: { url: rig.url, password: 'unused-by-this-broker' },
      backoff: { initialMs: 50, maxMs: 200 },
    });
    await driver.start();
    sim = new DwsLineTcpSim({ template: definition.telegram, role: 'dial', port: transport.port, redialMs: 50 });
    await sim.start();
    await sim.waitConnected();
    await until('state online', () => lastState(rig)?.['state'] === 'online');
  });

  afterAll(async () => {
    await sim?.stop();
    await driver?.stop();
    if (rig) await stopRig(rig);
  });

  it('publishes a parcel event and sends the chute the gateway chose', async () => {
    const seq = sim.sendParcel({ barcode: 'SF1234567890', grams: 1234, lengthMm: 300, widthMm: 200, heightMm: 150 });
    const [event] = await until('parcel event', () => parcels(rig, seq).length > 0 && parcels(rig, seq));
    expect(event).toMatchObject({ seq, barcode: 'SF1234567890', grams: 1234, length_mm: 300, width_mm: 200, height_mm: 150 });
    expect(event!.msg_id).toMatch(new RegExp(`^${id}-${seq}-[0-9a-f]{10}$`));
    await divert(rig, id, { seq, barcode: 'SF1234567890', chute: 'C07', reason: 'carrier' });
    expect(await sim.waitForReply(seq)).toMatchObject({ seq, chute: 'C07' });
  });

  it('answers the default chute itself when no divert comes in time; a late divert changes nothing', async () => {
    const seq = sim.sendParcel({ barcode: null, grams: 800, lengthMm: 100, widthMm: 100, heightMm: 100 });
    const [event] = await until('no-read parcel event', () => parcels(rig, seq).length > 0 && parcels(rig, seq));
    expect(event!.barcode).toBeNull();
    const reply = await sim.waitForReply(seq);
    expect(reply.chute).toBe('999');
    // A timer never fires early: the default came after the line's timeout, not before.
    expect(reply.latencyMs).toBeGreaterThanOrEqual(REPLY_TIMEOUT_MS - 5);
    const late = driver.stats().lateDiverts;
    await divert(rig, id, { seq, barcode: null, chute: 'C01', reason: 'no_read' });
    await until('late divert counted', () => driver.stats().lateDiverts === late + 1);
    expect(sim.replies.filter((r) => r.seq === seq)).toHaveLength(1);
  });

  it('turns a repeated telegram into one event, and repeats the reply once answered', async () => {
    const seq = sim.sendParcel({ barcode: 'JD0001', grams: 500, lengthMm: 10, widthMm: 10, heightMm: 10 });
    sim.resendLast();
    const marker = sim.sendParcel({ barcode: 'JD0002', grams: 500, lengthMm: 10, widthMm: 10, heightMm: 10 });
    await until('the later parcel event', () => parcels(rig, marker).length > 0);
    expect(parcels(rig, seq)).toHaveLength(1);
    await divert(rig, id, { seq, barcode: 'JD0001', chute: 'C03', reason: 'carrier' });
    await sim.waitForReply(seq);
    sim.sendGarbage(sim.codec.encodeParcel({ seq, barcode: 'JD0001', grams: 500, lengthMm: 10, widthMm: 10, heightMm: 10 }));
    await until('the reply repeated', () => sim.replies.filter((r) => r.seq === seq).length === 2);
    expect(sim.replies.filter((r) => r.seq === seq).map((r) => r.chute)).toEqual(['C03', 'C03']);
    expect(parcels(rig, seq)).toHaveLength(1);
    expect(driver.stats().duplicates).toBe(2);
  });

  it('survives garbage, a truncated telegram and a malformed one on the same connection', async () => {
    const before = driver.stats().errors.PKL_FRAME_INVALID ?? 0;
    sim.sendGarbage('\x00\xffline noise');
    sim.sendTruncated({ barcode: 'CUT', grams: 1, lengthMm: 1, widthMm: 1, heightMm: 1 });
    sim.sendGarbage('\x02000777;X;heavy;1;1;1\x03');
    const seq = sim.sendParcel({ barcode: 'AFTER', grams: 2000, lengthMm: 1, widthMm: 1, heightMm: 1 });
    await until('parcel after garbage', () => parcels(rig, seq).length > 0);
    expect((driver.stats().errors.PKL_FRAME_INVALID ?? 0) - before).toBe(3);
    expect(sim.connections).toBe(1);
    expect(driver.stats().connections).toBe(1);
  });

  it('goes offline when the line drops, and back online when it reconnects', async () => {
    const mark = rig.got.length;
    sim.dropConnection();
    // Look at every state since the drop: offline may be followed by online between two polls.
    const offline = await until('state offline', () => rig.got.slice(mark).find((m) => m.topic.endsWith('/state') && m.body['state'] === 'offline'));
    expect(offline.body['reason']).toMatch(/line connection closed/);
    await until('line redialled', () => sim.connections === 2 && sim.connected);
    await until('state online', () => lastState(rig)?.['state'] === 'online');
    const seq = sim.sendParcel({ barcode: 'AGAIN', grams: 1, lengthMm: 1, widthMm: 1, heightMm: 1 });
    await until('parcel event after reconnect', () => parcels(rig, seq).length > 0);
    await divert(rig, id, { seq, barcode: 'AGAIN', chute: 'C09', reason: 'carrier' });
    expect((await sim.waitForReply(seq)).chute).toBe('C09');
  });
});

describe('DWS driver: the gateway dials the line (fixed-width CR LF telegrams)', () => {
  const id = 'dws-2';
  let rig: Rig;
  let driver: DwsDriver;
  let sim: DwsLineTcpSim;

  beforeAll(async () => {
    rig = await startRig(id);
    const definition = dwsDefinition('generic-dws-fixed-crlf');
    sim = new DwsLineTcpSim({ template: definition.telegram, role: 'listen', seqModulo: 10_000 });
    await sim.start();
    driver = new DwsDriver({
      deviceId: id,
      definition,
      replyTimeoutMs: REPLY_TIMEOUT_MS,
      transport: tcpClientTransport({ host: '127.0.0.1', port: sim.port }),
      mqtt: { url: rig.url, password: 'unused-by-this-broker' },
      backoff: { initialMs: 50, maxMs: 200 },
    });
    await driver.start();
    await sim.waitConnected();
  });

  afterAll(async () => {
    await driver?.stop();
    await sim?.stop();
    if (rig) await stopRig(rig);
  });

  it('bridges parcel → divert, refuses a chute too wide for the telegram (default instead), and redials after a drop', async () => {
    const seq = sim.sendParcel({ barcode: '4006381333931', grams: 2500, lengthMm: 410, widthMm: 305, heightMm: 99 });
    await until('parcel event', () => parcels(rig, seq).length > 0);
    await divert(rig, id, { seq, barcode: '4006381333931', chute: '12', reason: 'carrier' });
    expect((await sim.waitForReply(seq)).chute).toBe('12');

    const wide = sim.sendParcel({ barcode: 'W1', grams: 1, lengthMm: 1, widthMm: 1, heightMm: 1 });
    await until('parcel event', () => parcels(rig, wide).length > 0);
    await divert(rig, id, { seq: wide, barcode: 'W1', chute: 'TOOWIDE', reason: 'carrier' });
    expect((await sim.waitForReply(wide)).chute).toBe('000');
    expect(driver.stats().errors.PKL_PAYLOAD_INVALID).toBe(1);
    expect(driver.stats().timeouts).toBe(0);

    sim.dropConnection();
    await until('driver redialled', () => sim.connections === 2 && sim.connected);
    const after = sim.sendParcel({ barcode: 'R1', grams: 1, lengthMm: 1, widthMm: 1, heightMm: 1 });
    await until('parcel event after redial', () => parcels(rig, after).length > 0);
    expect(sim.badReplies).toEqual([]);
  });

  it('publishes error + reason while the line is unreachable, and keeps retrying', async () => {
    const closed = net.createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    const port = (closed.address() as net.AddressInfo).port;
    await new Promise<void>((r) => closed.close(() => r()));
    const lost = new DwsDriver({
      deviceId: id,
      definition: dwsDefinition('generic-dws-fixed-crlf'),
      transport: tcpClientTransport({ host: '127.0.0.1', port }),
      mqtt: { url: rig.url, password: 'x', clientId: `${id}:probe` },
      backoff: { initialMs: 20, maxMs: 40 },
    });
    const mark = rig.got.length;
    await lost.start();
    try {
      const err = await until('state error', () => rig.got.slice(mark).find((m) => m.topic.endsWith('/state') && m.body['state'] === 'error'));
      expect(err.body['reason']).toMatch(/line unreachable \(tcp 127\.0\.0\.1:\d+\): .*ECONNREFUSED/);
      expect(lost.state.state).toBe('error');
    } finally {
      await lost.stop();
    }
  });
});
