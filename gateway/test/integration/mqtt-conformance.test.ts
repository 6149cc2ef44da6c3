/**
 * The embedded broker against the normative statements of MQTT 3.1.1 (OASIS Standard, 2014)
 * that devices and standard clients rely on, with raw packets (mqtt-packet) over real TCP, and
 * the broker-level rules of docs/mqtt.md: maximum packet size, retained topics, device state
 * validation, coded answers in a device's own subtree and one refusal counter per reason.
 */
import { Writable } from 'node:stream';
import type { MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load.js';
import type { Config } from '../../src/config/schema.js';
import { EmbeddedBroker } from '../../src/broker/embedded-broker.js';
import { EmbeddedLink } from '../../src/broker/embedded-link.js';
import { MQTT_REFUSAL_REASONS } from '../../src/broker/refusals.js';
import { createLogger } from '../../src/lib/logger.js';
import { client, collect, makeDirectory, silentLogger, waitFor } from './broker-helpers.js';
import { connectRaw, RawClient, returnCodeOf } from './raw-mqtt.js';

const DEVICES = [
  { id: 'scanner-1', role: 'scanner', station: 'st-1' },
  { id: 'printer-1', role: 'printer', station: 'st-1' },
  { id: 'svc', role: 'service' },
];

function config(mqtt: Record<string, unknown>): Config {
  return parseConfig({ gatewayId: 'gw-conf', mqtt: { host: '127.0.0.1', port: 0, ...mqtt } }) as Config;
}

/** A logger whose JSON lines a test can read. */
function capturingLogger(): { logger: ReturnType<typeof createLogger>; lines: Array<Record<string, unknown>> } {
  const lines: Array<Record<string, unknown>> = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, cb) {
      for (const l of chunk.toString().split('\n')) if (l.trim()) lines.push(JSON.parse(l) as Record<string, unknown>);
      cb();
    },
  });
  return { logger: createLogger('info', sink), lines };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('MQTT 3.1.1 conformance and broker rules of the embedded broker', () => {
  let broker: EmbeddedBroker;
  let secrets: Record<string, string>;
  let port: number;
  let logLines: Array<Record<string, unknown>>;
  const mqttClients: MqttClient[] = [];
  const raws: RawClient[] = [];

  beforeAll(async () => {
    const dir = await makeDirectory(DEVICES);
    secrets = dir.secrets;
    const cap = capturingLogger();
    logLines = cap.lines;
    broker = new EmbeddedBroker({
      config: config({ limits: { maxPacketSize: 65536, idleTimeout: 1 } }),
      directory: dir.directory,
      logger: cap.logger,
    });
    await broker.start();
    port = broker.ports().tcp as number;
  });

  afterAll(async () => {
    for (const r of raws) r.end();
    await Promise.all(mqttClients.map((c) => c.endAsync(true).catch(() => undefined)));
    await broker?.stop();
  });

  const as = async (id: string) => {
    const user = id.split(':')[0] as string;
    const c = await client(`mqtt://127.0.0.1:${port}`, { clientId: id, username: user, password: secrets[user] });
    mqttClients.push(c);
    return c;
  };
  const raw = async (f: Parameters<typeof connectRaw>[1]) => {
    const r = await connectRaw(port, f);
    raws.push(r.client);
    return r;
  };
  const device = (id: string, extra: { clientId?: string; keepalive?: number; clean?: boolean } = {}) =>
    raw({ clientId: extra.clientId ?? id, username: id, password: secrets[id], keepalive: extra.keepalive ?? 60, clean: extra.clean ?? true });

  // ---- CONNECT ----------------------------------------------------------------------------

  it('keep-alive 0 is accepted: "a Keep Alive value of zero (0) has the effect of turning off the keep alive mechanism" (§3.1.2.10, with [MQTT-3.1.2-24])', async () => {
    const { client: c, returnCode } = await device('scanner-1', { clientId: 'scanner-1:ka0', keepalive: 0 });
    expect(returnCode).toBe(0);
    c.send({ cmd: 'pingreq' });
    expect(await c.next('pingresp')).not.toBeNull();
  });

  it('keep-alive 65535 s, the largest the two-byte field holds (§3.1.2.10), is accepted', async () => {
    const { returnCode } = await device('scanner-1', { clientId: 'scanner-1:kamax', keepalive: 65535 });
    expect(returnCode).toBe(0);
  });

  it('[MQTT-3.1.2-24] a client silent for 1.5 × its keep-alive is disconnected and its will published [MQTT-3.1.2-8]', async () => {
    const svc = await as('svc:ka');
    const got = collect(svc);
    await svc.subscribeAsync('dev/printer-1/state', { qos: 1 });
    const c = await RawClient.open(port);
    raws.push(c);
    c.send({
      cmd: 'connect',
      protocolId: 'MQTT',
      protocolVersion: 4,
      clean: true,
      clientId: 'printer-1:ka1',
      keepalive: 1,
      username: 'printer-1',
      password: Buffer.from(secrets['printer-1'] as string),
      will: { topic: 'dev/printer-1/state', payload: Buffer.from('{"state":"offline"}'), qos: 1, retain: false },
    });
    expect(returnCodeOf(await c.next('connack'))).toBe(0);
    await c.waitClosed();
    await waitFor(() => got.some((m) => m.payload === '{"state":"offline"}'), 'will after keep-alive expiry');
  });

  it('keep-alive 0 connections without any traffic are closed after mqtt.limits.idleTimeout (half-open sockets reaped)', async () => {
    const before = broker.stats().idleClosed;
    const { client: c, returnCode } = await device('scanner-1', { clientId: 'scanner-1:idle', keepalive: 0 });
    expect(returnCode).toBe(0);
    await c.waitClosed();
    expect(broker.stats().idleClosed).toBeGreaterThan(before);
  });

  it('[MQTT-3.1.3-8] an empty client id with CleanSession=0 is refused with return code 2 and the connection closed', async () => {
    const before = broker.stats().refused.client_id;
    const { client: c, returnCode } = await raw({ clientId: '', clean: false, username: 'svc', password: secrets.svc });
    expect(returnCode).toBe(2);
    await c.waitClosed();
    expect(broker.stats().refused.client_id).toBe(before + 1);
  });

  it('[MQTT-3.1.3-6] an empty client id with CleanSession=1 is given an id by the server (service account)', async () => {
    const { returnCode } = await raw({ clientId: '', clean: true, username: 'svc', password: secrets.svc });
    expect(returnCode).toBe(0);
  });

  it('[MQTT-3.1.2-2] protocol level 5 is answered with return code 1 (unacceptable protocol level) and closed', async () => {
    const before = broker.stats().refused.protocol;
    const { client: c, returnCode } = await raw({ clientId: 'scanner-1', protocolVersion: 5, username: 'scanner-1', password: secrets['scanner-1'] });
    expect(returnCode).toBe(1);
    await c.waitClosed();
    expect(broker.stats().refused.protocol).toBe(before + 1);
  });

  it('§3.2.2.3: every refused CONNECT gets a return code MQTT 3.1.1 defines (1–5), never 6', async () => {
    const cases = [
      { clientId: 'scanner-1', username: 'scanner-1', password: 'wrong' }, // 4
      { clientId: 'ghost', username: 'ghost', password: 'x' }, // 4
      { clientId: 'anon' }, // 5 (no anonymous clients)
      { clientId: 'printer-1', username: 'scanner-1', password: secrets['scanner-1'] }, // 2: not its id
      { clientId: 'scanner-1:k', username: 'scanner-1', password: secrets['scanner-1'], keepalive: 0 }, // 0
      { clientId: 'scanner-1:k2', username: 'scanner-1', password: secrets['scanner-1'], keepalive: 7200 }, // 0
    ];
    const codes = [];
    for (const f of cases) {
      const r = await raw(f);
      codes.push(r.returnCode);
      // "If a server sends a CONNACK packet containing a non-zero return code it MUST then close the Network Connection" [MQTT-3.2.2-5].
      if (r.returnCode !== 0) await r.client.waitClosed();
    }
    expect(codes).toEqual([4, 4, 5, 2, 0, 0]);
  });

  it('[MQTT-3.1.4-2] a second connection with the same client id takes over: the first one is disconnected', async () => {
    const first = await device('scanner-1', { clientId: 'scanner-1:dup' });
    expect(first.returnCode).toBe(0);
    const second = await device('scanner-1', { clientId: 'scanner-1:dup' });
    expect(second.returnCode).toBe(0);
    await first.client.waitClosed();
    expect(second.client.closed).toBe(false);
  });

  // ---- maximum packet size ----------------------------------------------------------------

  it('a PUBLISH over mqtt.limits.maxPacketSize is delivered to nobody, the client is disconnected and it is counted', async () => {
    const svc = await as('svc:big');
    const got = collect(svc);
    await svc.subscribeAsync('#', { qos: 1 });
    const before = broker.stats().refused.packet_too_large;
    const { client: c } = await device('scanner-1', { clientId: 'scanner-1:big' });
    c.send({ cmd: 'publish', topic: 'dev/scanner-1/evt/scan', payload: Buffer.alloc(2 * 1024 * 1024, 0x41), qos: 1, messageId: 1, retain: false, dup: false });
    await c.waitClosed();
    expect(await c.next('puback')).toBeNull();
    expect(broker.stats().refused.packet_too_large).toBe(before + 1);
    // The broker still routes: a small message after the big one arrives, the big one never did.
    const { client: ok } = await device('scanner-1', { clientId: 'scanner-1:small' });
    ok.send({ cmd: 'publish', topic: 'dev/scanner-1/evt/scan', payload: Buffer.from('{"code":"after"}'), qos: 1, messageId: 2, retain: false, dup: false });
    await waitFor(() => got.some((m) => m.payload === '{"code":"after"}'), 'the small message');
    expect(got.filter((m) => m.topic === 'dev/scanner-1/evt/scan').map((m) => m.payload.length)).toEqual([16]);
  });

  it('an oversized packet is refused from its fixed header alone: the body is never awaited or buffered', async () => {
    const { client: c } = await device('scanner-1', { clientId: 'scanner-1:hdr' });
    // PUBLISH QoS 0, Remaining Length 200,000,000 (§2.2.3 variable-length encoding), no body sent.
    let n = 200_000_000;
    const len: number[] = [];
    do {
      let b = n % 128;
      n = Math.floor(n / 128);
      if (n > 0) b |= 0x80;
      len.push(b);
    } while (n > 0);
    c.write(Buffer.from([0x30, ...len]));
    await c.waitClosed();
  });

  // ---- retained topics, device state, own-subtree answers -----------------------------------

  it('a retained PUBLISH on a command topic is acknowledged [MQTT-3.3.5-2], not stored and not replayed to a new subscriber', async () => {
    const before = broker.stats().refused.retain;
    const svc = await as('svc:ret');
    await svc.publishAsync('dev/printer-1/cmd/print', JSON.stringify({ job_id: 'J-RET', format: 'zpl', data: '^XA^XZ', copies: 1 }), { qos: 1, retain: true });
    expect(broker.stats().refused.retain).toBe(before + 1);
    const printer = await as('printer-1:ret');
    const got = collect(printer);
    await printer.subscribeAsync('dev/printer-1/cmd/+', { qos: 1 });
    await printer.publishAsync('dev/printer-1/state', '{"state":"online"}', { qos: 1, retain: true });
    const watcher = await as('svc:ret2');
    const states = collect(watcher);
    await watcher.subscribeAsync('dev/printer-1/state', { qos: 1 });
    await waitFor(() => states.some((m) => m.payload === '{"state":"online"}'), 'retained device state (allowed)');
    await sleep(300);
    expect(got).toEqual([]);
  });

  it('the gateway’s own link refuses a retained publish outside the retained topics too', async () => {
    const link = new EmbeddedLink(broker, silentLogger());
    await link.start();
    await expect(link.publish('dev/printer-1/cmd/print', '{}', { retain: true })).rejects.toThrow(/not a retained topic/);
    await link.publish('station/st-1/view', '{}', { retain: true, qos: 0 });
    await link.stop();
  });

  it('a dev/{id}/state payload that is not a DeviceState is refused with a coded error and not retained', async () => {
    const before = broker.stats().refused.state_invalid;
    const scanner = await as('scanner-1:st');
    const errs = collect(scanner);
    await scanner.subscribeAsync('dev/scanner-1/err', { qos: 1 });
    await scanner.publishAsync('dev/scanner-1/state', 'hello', { qos: 1, retain: true });
    await scanner.publishAsync('dev/scanner-1/state', '{"state":"sleepy"}', { qos: 1, retain: true });
    await waitFor(() => errs.length >= 2, 'two errors');
    expect(errs.map((e) => (JSON.parse(e.payload) as { code: string }).code)).toEqual(['PKL_PAYLOAD_NOT_JSON', 'PKL_PAYLOAD_INVALID']);
    expect(broker.stats().refused.state_invalid).toBe(before + 2);
    const watcher = await as('svc:st');
    const got = collect(watcher);
    await watcher.subscribeAsync('dev/scanner-1/state', { qos: 1 });
    await sleep(300);
    expect(got).toEqual([]);
  });

  it('PKL_TOPIC_UNKNOWN for a topic outside the contract in the device’s own subtree, with its msg_id; role and ACL answers too', async () => {
    const scanner = await as('scanner-1:tu');
    const errs = collect(scanner);
    await scanner.subscribeAsync('dev/scanner-1/err', { qos: 1 });
    const before = broker.stats().refused.acl_publish;
    await scanner.publishAsync('dev/scanner-1/evt/foo', '{"msg_id":"m-foo","code":"1"}', { qos: 1 });
    await scanner.publishAsync('dev/scanner-1/evt/weight', '{"msg_id":"m-w","grams":1,"stable":true}', { qos: 1 });
    await scanner.publishAsync('dev/scanner-1/ack', '{"msg_id":"m-a"}', { qos: 1 });
    await scanner.publishAsync('dev/printer-1/evt/print_result', '{"msg_id":"m-p"}', { qos: 1 }); // not its subtree: no answer
    await waitFor(() => errs.length >= 3, 'three errors');
    await sleep(200);
    const wires = errs.map((e) => JSON.parse(e.payload) as { code: string; msg_id?: string });
    expect(wires.map((w) => [w.code, w.msg_id])).toEqual([
      ['PKL_TOPIC_UNKNOWN', 'm-foo'],
      ['PKL_DEVICE_ROLE_MISMATCH', 'm-w'],
      ['PKL_ACL_DENIED', 'm-a'],
    ]);
    expect(broker.stats().refused.acl_publish).toBe(before + 4);
  });

  it('ACL refusals are logged, at most one line per client per interval, with the count', async () => {
    const scanner = await as('scanner-1:log');
    const before = logLines.filter((l) => l.msg === 'mqtt refused by ACL' && l.clientId === 'scanner-1:log').length;
    for (let i = 0; i < 5; i++) await scanner.publishAsync('dev/printer-1/cmd/print', '{}', { qos: 1 });
    const after = logLines.filter((l) => l.msg === 'mqtt refused by ACL' && l.clientId === 'scanner-1:log');
    expect(after.length - before).toBe(1);
    expect(after[0]).toMatchObject({ action: 'publish', topic: 'dev/printer-1/cmd/print', deviceId: 'scanner-1' });
  });

  it('counts refused subscriptions (SUBACK 0x80, §3.9.3) and refused credentials by reason', async () => {
    const s0 = broker.stats().refused;
    const { client: scanner } = await device('scanner-1', { clientId: 'scanner-1:sub' });
    scanner.send({
      cmd: 'subscribe',
      messageId: 7,
      subscriptions: [
        { topic: 'dev/printer-1/cmd/+', qos: 1 },
        { topic: 'dev/scanner-1/cmd/+', qos: 1 },
      ],
    });
    expect((await scanner.next('suback'))?.granted).toEqual([128, 1]);
    await raw({ clientId: 'scanner-1:bad', username: 'scanner-1', password: 'wrong' });
    const s1 = broker.stats().refused;
    expect(s1.acl_subscribe - s0.acl_subscribe).toBe(1);
    expect(s1.auth - s0.auth).toBe(1);
  });
});

describe('refusal counters under tight limits: rate limit, flood disconnect, connection limit', () => {
  let broker: EmbeddedBroker;
  let secrets: Record<string, string>;
  let port: number;
  const raws: RawClient[] = [];

  beforeAll(async () => {
    const dir = await makeDirectory(DEVICES);
    secrets = dir.secrets;
    broker = new EmbeddedBroker({
      config: config({ limits: { publishRate: 0.01, publishBurst: 5, disconnectAfterRefused: 10, maxConnections: 2 } }),
      directory: dir.directory,
      logger: silentLogger(),
    });
    await broker.start();
    port = broker.ports().tcp as number;
  });

  afterAll(async () => {
    for (const r of raws) r.end();
    await broker?.stop();
  });

  it('rate_limited and flood_disconnect: over the bucket, acknowledged [MQTT-3.3.5-2] and dropped, then disconnected', async () => {
    const { client: c, returnCode } = await connectRaw(port, { clientId: 'scanner-1', username: 'scanner-1', password: secrets['scanner-1'] });
    raws.push(c);
    expect(returnCode).toBe(0);
    const publish = (i: number) =>
      c.send({ cmd: 'publish', topic: 'dev/scanner-1/evt/scan', payload: Buffer.from('{"code":"x"}'), qos: 1, messageId: i, retain: false, dup: false });
    for (let i = 1; i <= 8; i++) publish(i); // burst 5: three over the limit
    for (let i = 1; i <= 8; i++) expect((await c.next('puback'))?.messageId).toBe(i);
    expect(broker.stats().refused.rate_limited).toBe(3);
    for (let i = 9; i <= 20; i++) publish(i);
    await c.waitClosed();
    const r = broker.stats().refused;
    expect(r.rate_limited).toBeGreaterThanOrEqual(9);
    expect(r.flood_disconnect).toBe(1);
  });

  it('connection_limit: the connection over mqtt.limits.maxConnections is closed without CONNACK', async () => {
    const a = await connectRaw(port, { clientId: 'svc:a', username: 'svc', password: secrets.svc });
    const b = await connectRaw(port, { clientId: 'svc:b', username: 'svc', password: secrets.svc });
    raws.push(a.client, b.client);
    expect([a.returnCode, b.returnCode]).toEqual([0, 0]);
    const c = await connectRaw(port, { clientId: 'svc:c', username: 'svc', password: secrets.svc });
    raws.push(c.client);
    expect(c.returnCode).toBeNull();
    expect(broker.stats().refused.connection_limit).toBe(1);
  });

  it('every reason of packline_mqtt_refused_total has a counter', () => {
    expect(Object.keys(broker.stats().refused).sort()).toEqual([...MQTT_REFUSAL_REASONS].sort());
  });
});

describe('lab sandbox (mqtt.allowAnonymous with mqtt.labTopics)', () => {
  let broker: EmbeddedBroker;
  let port: number;
  const clients: MqttClient[] = [];

  beforeAll(async () => {
    const dir = await makeDirectory(DEVICES);
    broker = new EmbeddedBroker({
      config: config({ allowAnonymous: true, labTopics: ['lab/#'] }),
      directory: dir.directory,
      logger: silentLogger(),
    });
    await broker.start();
    port = broker.ports().tcp as number;
  });

  afterAll(async () => {
    await Promise.all(clients.map((c) => c.endAsync(true).catch(() => undefined)));
    await broker?.stop();
  });

  it('anonymous clients are confined to the sandbox: a filter outside it is refused, # sees only the sandbox, retain works there', async () => {
    const a = await client(`mqtt://127.0.0.1:${port}`, { clientId: 'lab-a' });
    clients.push(a);
    const got = collect(a);
    await a.subscribeAsync('#', { qos: 1 });
    const raw = await connectRaw(port, { clientId: 'lab-raw' });
    raw.client.send({
      cmd: 'subscribe',
      messageId: 1,
      subscriptions: [
        { topic: 'test/nosubscribe', qos: 1 },
        { topic: 'lab/+', qos: 1 },
      ],
    });
    expect((await raw.client.next('suback'))?.granted).toEqual([128, 1]);
    raw.client.end();
    await a.publishAsync('lab/x', 'kept', { qos: 1, retain: true });
    await a.publishAsync('dev/scanner-1/evt/scan', '{"code":"1"}', { qos: 1 }); // outside: dropped
    await waitFor(() => got.some((m) => m.topic === 'lab/x'), 'sandbox message');
    await sleep(200);
    expect(got.map((m) => m.topic).filter((t) => t !== 'lab/x')).toEqual([]);
    const b = await client(`mqtt://127.0.0.1:${port}`, { clientId: 'lab-b' });
    clients.push(b);
    const gotB = collect(b);
    await b.subscribeAsync('lab/#', { qos: 1 });
    await waitFor(() => gotB.some((m) => m.payload === 'kept'), 'retained sandbox message');
  });
});
