/**
 * The embedded broker over real sockets: TCP, WebSocket and TLS listeners, authentication,
 * ACL (also driven by Debian's mosquitto_pub/mosquitto_sub), the flood defence and the
 * offline-queue cap.
 */
import { createServer, type Server } from 'node:http';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { skipWithout } from '../../../test-peers/peers.js';
import { parseConfig } from '../../src/config/load.js';
import type { Config } from '../../src/config/schema.js';
import { EmbeddedBroker } from '../../src/broker/embedded-broker.js';
import { EmbeddedLink } from '../../src/broker/embedded-link.js';
import type { InboundMessage } from '../../src/broker/link.js';
import { client, collect, makeDirectory, run, silentLogger, waitFor } from './broker-helpers.js';

const MOSQ_PUB = '/usr/bin/mosquitto_pub';
const MOSQ_SUB = '/usr/bin/mosquitto_sub';

const DEVICES = [
  { id: 'scanner-1', role: 'scanner', station: 'st-1' },
  { id: 'printer-1', role: 'printer', station: 'st-1' },
  { id: 'display-1', role: 'display', station: 'st-1' },
  { id: 'flood-1', role: 'scanner', station: 'st-2' },
  { id: 'queue-1', role: 'printer', station: 'st-2' },
  { id: 'svc', role: 'service' },
];

function config(mqtt: Record<string, unknown>): Config {
  return parseConfig({ gatewayId: 'gw-test', mqtt: { host: '127.0.0.1', port: 0, ...mqtt } }) as Config;
}

const noClients = skipWithout(import.meta.url, 'mosquitto-clients');

describe('embedded broker: TCP + WebSocket + mosquitto clients', () => {
  let http: Server;
  let httpPort: number;
  let broker: EmbeddedBroker;
  let link: EmbeddedLink;
  let secrets: Record<string, string>;
  let tcpUrl: string;
  const clients: MqttClient[] = [];
  const presence: Array<[string, boolean]> = [];

  beforeAll(async () => {
    const dir = await makeDirectory(DEVICES);
    secrets = dir.secrets;
    http = createServer((_req, res) => {
      res.statusCode = 404;
      res.end();
    });
    await new Promise<void>((r) => http.listen(0, '127.0.0.1', r));
    httpPort = (http.address() as { port: number }).port;
    broker = new EmbeddedBroker({
      config: config({ limits: { maxQueuedPerClient: 5 } }),
      directory: dir.directory,
      logger: silentLogger(),
      httpServer: http,
    });
    await broker.start();
    link = new EmbeddedLink(broker, silentLogger());
    link.onPresence((id, online) => presence.push([id, online]));
    await link.start();
    tcpUrl = `mqtt://127.0.0.1:${broker.ports().tcp}`;
  });

  afterAll(async () => {
    await Promise.all(clients.map((c) => c.endAsync(true).catch(() => undefined)));
    await link?.stop();
    await broker?.stop();
    await new Promise<void>((r) => http?.close(() => r()));
  });

  const as = async (id: string, url = tcpUrl, extra: Record<string, unknown> = {}) => {
    const user = id.split(':')[0] as string; // client id `{device}:{suffix}` authenticates as {device}
    const c = await client(url, { clientId: id, username: user, password: secrets[user], ...extra });
    clients.push(c);
    return c;
  };

  it('binds an ephemeral TCP port and publishes the retained gateway state', async () => {
    expect(broker.ports().tcp).toBeGreaterThan(0);
    const svc = await as('svc');
    const got = collect(svc);
    await svc.subscribeAsync('gateway/gw-test/state', { qos: 1 });
    await waitFor(() => got.length > 0, 'retained gateway state');
    expect(JSON.parse(got[0]!.payload)).toMatchObject({ state: 'online' });
  });

  it('authenticates over TCP and WebSocket and round-trips events and commands', async () => {
    const svc = await as('svc:ws', `ws://127.0.0.1:${httpPort}/mqtt`);
    const svcGot = collect(svc);
    await svc.subscribeAsync('dev/+/evt/+', { qos: 1 });
    const linkGot: InboundMessage[] = [];
    await link.subscribe('dev/+/evt/+', (m) => linkGot.push(m));

    const scanner = await as('scanner-1');
    const scannerGot = collect(scanner);
    await scanner.subscribeAsync('dev/scanner-1/cmd/+', { qos: 1 });
    await scanner.publishAsync('dev/scanner-1/evt/scan', JSON.stringify({ code: 'ABC', msg_id: 'm1' }), { qos: 1 });
    await waitFor(() => svcGot.length > 0 && linkGot.length > 0, 'scan at ws subscriber and link');
    expect(svcGot[0]).toEqual({ topic: 'dev/scanner-1/evt/scan', payload: '{"code":"ABC","msg_id":"m1"}' });
    expect(linkGot[0]).toMatchObject({ topic: 'dev/scanner-1/evt/scan', qos: 1, dup: false, retain: false });

    await link.publish('dev/scanner-1/cmd/display', JSON.stringify({ level: 'ok', text: 'hi', text_zh: '好' }));
    await waitFor(() => scannerGot.length > 0, 'command at scanner');
    expect(scannerGot[0]!.topic).toBe('dev/scanner-1/cmd/display');

    expect(link.connectedDevices().has('scanner-1')).toBe(true);
    expect(link.connectedDevices().has('svc')).toBe(true);
    expect(presence).toContainEqual(['scanner-1', true]);
    expect(broker.stats().messagesIn).toBeGreaterThanOrEqual(1);
    expect(broker.stats().messagesOut).toBeGreaterThanOrEqual(2);
  });

  it.skipIf(noClients)('refuses a wrong secret, an unknown device, anonymous clients and a foreign client id (mosquitto_pub)', async () => {
    const port = String(broker.ports().tcp);
    const before = broker.stats().authFailures;
    const base = ['-h', '127.0.0.1', '-p', port, '-t', 'dev/scanner-1/evt/scan', '-m', '{}', '-q', '1'];
    const wrong = await run(MOSQ_PUB, [...base, '-i', 'scanner-1', '-u', 'scanner-1', '-P', 'not-the-secret']);
    expect(wrong.code).not.toBe(0);
    expect(wrong.stderr).toMatch(/bad user name or password/i);
    const unknown = await run(MOSQ_PUB, [...base, '-i', 'ghost', '-u', 'ghost', '-P', 'x']);
    expect(unknown.code).not.toBe(0);
    const anon = await run(MOSQ_PUB, [...base, '-i', 'anon']);
    expect(anon.code).not.toBe(0);
    expect(anon.stderr).toMatch(/not authori[sz]ed/i);
    const foreignId = await run(MOSQ_PUB, [...base, '-i', 'printer-1', '-u', 'scanner-1', '-P', secrets['scanner-1']!]);
    expect(foreignId.code).not.toBe(0);
    expect(foreignId.stderr).toMatch(/identifier rejected/i);
    expect(broker.stats().authFailures - before).toBe(4);

    const ok = await run(MOSQ_PUB, [...base, '-i', 'scanner-1:cli', '-u', 'scanner-1', '-P', secrets['scanner-1']!]);
    expect(ok.code).toBe(0);
  });

  it.skipIf(noClients)('a scanner cannot publish a print command: the printer never receives it', async () => {
    const printer = await as('printer-1');
    const got = collect(printer);
    await printer.subscribeAsync('dev/printer-1/cmd/+', { qos: 1 });
    const deniedBefore = broker.stats().aclDenied.publish;
    const forged = await run(MOSQ_PUB, [
      '-h',
      '127.0.0.1',
      '-p',
      String(broker.ports().tcp),
      '-i',
      'scanner-1:forge',
      '-u',
      'scanner-1',
      '-P',
      secrets['scanner-1']!,
      '-t',
      'dev/printer-1/cmd/print',
      '-q',
      '1',
      '-m',
      JSON.stringify({ job_id: 'evil', format: 'zpl', data: '^XA^XZ', copies: 1 }),
    ]);
    // MQTT 3.1.1 §3.3.5: the refused PUBLISH is acknowledged and dropped, the connection kept.
    expect(forged.code).toBe(0);
    expect(broker.stats().aclDenied.publish).toBe(deniedBefore + 1);
    // Sentinel from the gateway: once it arrives, the forged command would have arrived first.
    await link.publish('dev/printer-1/cmd/print', JSON.stringify({ job_id: 'real', format: 'zpl', data: '^XA^XZ', copies: 1 }));
    await waitFor(() => got.length > 0, 'sentinel print command');
    expect(got.map((m) => JSON.parse(m.payload).job_id)).toEqual(['real']);
  });

  it.skipIf(noClients)('a scanner cannot subscribe to another device’s commands (mosquitto_sub and MQTT.js)', async () => {
    const before = broker.stats().aclDenied.subscribe;
    const sub = await run(MOSQ_SUB, [
      '-h',
      '127.0.0.1',
      '-p',
      String(broker.ports().tcp),
      '-i',
      'scanner-1:sub',
      '-u',
      'scanner-1',
      '-P',
      secrets['scanner-1']!,
      '-t',
      'dev/printer-1/cmd/+',
      '-q',
      '1',
      '-C',
      '1',
      '-W',
      '5',
      '-d',
    ]);
    // mosquitto_sub 2.0.11 reports the SUBACK 0x80 and gives up (its exit code stays 0).
    expect(sub.stdout).toMatch(/Subscribed \(mid: \d+\): 128/);
    expect(sub.stderr).toMatch(/All subscription requests were denied/);
    const scanner = await as('scanner-1:js');
    await expect(scanner.subscribeAsync('dev/printer-1/cmd/+', { qos: 1 })).rejects.toThrow();
    await expect(scanner.subscribeAsync('#', { qos: 0 })).rejects.toThrow();
    expect(broker.stats().aclDenied.subscribe - before).toBe(3);
    // Its own command topic is still fine on the same connection.
    const granted = await scanner.subscribeAsync('dev/scanner-1/cmd/+', { qos: 1 });
    expect(granted[0]?.qos).toBe(1);
  });

  it('caps a persistent client’s offline queue at maxQueuedPerClient, dropping the oldest', async () => {
    const first = await client(tcpUrl, { clientId: 'queue-1', username: 'queue-1', password: secrets['queue-1'], clean: false });
    await first.subscribeAsync('dev/queue-1/cmd/+', { qos: 1 });
    await first.endAsync();
    const droppedBefore = broker.stats().queueDropped;
    for (let i = 0; i < 12; i++) await link.publish('dev/queue-1/cmd/print', JSON.stringify({ n: i }), { qos: 1 });
    expect(broker.stats().queueDropped - droppedBefore).toBe(7);

    const again = await as('queue-1', tcpUrl, { clean: false });
    const got = collect(again);
    await waitFor(() => got.length >= 5, 'queued commands after reconnect');
    await link.publish('dev/queue-1/cmd/print', JSON.stringify({ n: 'sentinel' }), { qos: 1 });
    await waitFor(() => got.some((m) => m.payload.includes('sentinel')), 'sentinel');
    const ns = got.map((m) => JSON.parse(m.payload).n).filter((n) => n !== 'sentinel');
    expect(ns.sort((a, b) => a - b)).toEqual([7, 8, 9, 10, 11]);
  });

  it('reports presence going offline', async () => {
    const c = await as('display-1');
    await waitFor(() => link.connectedDevices().has('display-1'), 'display online');
    await c.endAsync();
    await waitFor(() => !link.connectedDevices().has('display-1'), 'display offline');
    expect(presence).toContainEqual(['display-1', false]);
  });
});

describe('embedded broker: TLS listener and connection cap', () => {
  let dir: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'pkl-tls-'));
    const r = await run('openssl', [
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-days',
      '1',
      '-subj',
      '/CN=127.0.0.1',
      '-addext',
      'subjectAltName=IP:127.0.0.1',
      '-keyout',
      join(dir, 'key.pem'),
      '-out',
      join(dir, 'cert.pem'),
    ]);
    expect(r.code, r.stderr).toBe(0);
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('accepts MQTT over TLS with a verified certificate and enforces maxConnections', async () => {
    const { directory, secrets } = await makeDirectory(DEVICES);
    const broker = new EmbeddedBroker({
      config: config({
        tls: { port: 0, certFile: join(dir, 'cert.pem'), keyFile: join(dir, 'key.pem') },
        limits: { maxConnections: 2 },
      }),
      directory,
      logger: silentLogger(),
    });
    await broker.start();
    const opened: MqttClient[] = [];
    try {
      const tlsPort = broker.ports().tls;
      expect(tlsPort).toBeGreaterThan(0);
      const ca = await readFile(join(dir, 'cert.pem'));
      const svc = await client(`mqtts://127.0.0.1:${tlsPort}`, { clientId: 'svc', username: 'svc', password: secrets.svc, ca });
      opened.push(svc);
      const got = collect(svc);
      await svc.subscribeAsync('dev/+/evt/+', { qos: 1 });
      const scanner = await client(`mqtts://127.0.0.1:${tlsPort}`, {
        clientId: 'scanner-1',
        username: 'scanner-1',
        password: secrets['scanner-1'],
        ca,
      });
      opened.push(scanner);
      await scanner.publishAsync('dev/scanner-1/evt/scan', '{"code":"T"}', { qos: 1 });
      await waitFor(() => got.length > 0, 'scan over TLS');

      // Third connection while two are up: refused.
      const third = client(`mqtt://127.0.0.1:${broker.ports().tcp}`, {
        clientId: 'printer-1',
        username: 'printer-1',
        password: secrets['printer-1'],
        connectTimeout: 5000,
      });
      await expect(third).rejects.toThrow();
      expect(broker.stats().connectionsRefused).toBe(1);
    } finally {
      await Promise.all(opened.map((c) => c.endAsync(true)));
      await broker.stop();
    }
  });
});

describe('embedded broker: QoS 0 flood defence', () => {
  it('throttles and then disconnects a flooding client while the broker keeps serving others', async () => {
    const { directory, secrets } = await makeDirectory(DEVICES);
    const RATE = 50;
    const BURST = 100;
    const broker = new EmbeddedBroker({
      config: config({ limits: { publishRate: RATE, publishBurst: BURST, disconnectAfterRefused: 2000 } }),
      directory,
      logger: silentLogger(),
    });
    await broker.start();
    const url = `mqtt://127.0.0.1:${broker.ports().tcp}`;
    const opened: MqttClient[] = [];
    try {
      // A slow subscriber: its socket is paused for the whole flood.
      const slow = await client(url, { clientId: 'svc:slow', username: 'svc', password: secrets.svc });
      opened.push(slow);
      const slowGot = collect(slow);
      await slow.subscribeAsync('dev/+/evt/+', { qos: 0 });
      slow.stream.pause();

      const flooder = await client(url, { clientId: 'flood-1', username: 'flood-1', password: secrets['flood-1'] });
      opened.push(flooder);
      let closed = false;
      flooder.on('close', () => {
        closed = true;
      });
      const payload = JSON.stringify({ code: 'FLOOD' });
      let sent = 0;
      const t0 = performance.now();
      // As fast as MQTT.js can write, for up to 15 s or until the broker cuts us off.
      while (!closed && performance.now() - t0 < 15_000) {
        for (let i = 0; i < 500; i++) flooder.publish('dev/flood-1/evt/scan', payload, { qos: 0 });
        sent += 500;
        await new Promise((r) => setImmediate(r));
      }
      await waitFor(() => closed, 'flooder to be disconnected');
      const elapsedS = (performance.now() - t0) / 1000;
      const stats = broker.stats();
      expect(sent).toBeGreaterThan(2000);
      expect(stats.disconnectedForFlood).toBe(1);
      expect(stats.rateLimited).toBeGreaterThanOrEqual(2000 - 1);
      // Token bucket: at most BURST + RATE·t of the flood got through, whatever the machine speed.
      const acceptedBound = BURST + RATE * elapsedS + 1;
      expect(stats.messagesIn).toBeLessThanOrEqual(acceptedBound);

      // The broker is alive and another device still gets through.
      slow.stream.resume();
      const svc = await client(url, { clientId: 'svc:after', username: 'svc', password: secrets.svc });
      opened.push(svc);
      const got = collect(svc);
      await svc.subscribeAsync('dev/scanner-1/evt/+', { qos: 1 });
      const scanner = await client(url, { clientId: 'scanner-1', username: 'scanner-1', password: secrets['scanner-1'] });
      opened.push(scanner);
      await scanner.publishAsync('dev/scanner-1/evt/scan', '{"code":"AFTER"}', { qos: 1 });
      await waitFor(() => got.length > 0, 'a normal scan after the flood');
      await waitFor(() => slowGot.some((m) => m.payload.includes('AFTER')), 'slow subscriber to catch up');
      expect(slowGot.filter((m) => m.payload.includes('FLOOD')).length).toBeLessThanOrEqual(acceptedBound);
    } finally {
      await Promise.all(opened.map((c) => c.endAsync(true).catch(() => undefined)));
      await broker.stop();
    }
  });
});
