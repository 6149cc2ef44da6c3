/**
 * MQTT over WebSocket checks the handshake's Origin (RFC 6455 §4.2.2, §10.2) against the
 * HTTP API's Host allow-list: a page of another site cannot open the broker from a station
 * PC's browser; devices (no Origin) and pages of the gateway itself can.
 */
import { createServer, type Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { parseConfig } from '../../src/config/load.js';
import type { Config } from '../../src/config/schema.js';
import { EmbeddedBroker } from '../../src/broker/embedded-broker.js';
import { makeHostCheck, originAllowed } from '../../src/http/request-guard.js';
import { client, makeDirectory, silentLogger } from './broker-helpers.js';

describe('MQTT over WebSocket: Origin check', () => {
  let http: Server;
  let port: number;
  let broker: EmbeddedBroker;
  let secrets: Record<string, string>;

  beforeAll(async () => {
    const dir = await makeDirectory([{ id: 'svc', role: 'service' }]);
    secrets = dir.secrets;
    http = createServer((_req, res) => res.writeHead(404).end());
    await new Promise<void>((r) => http.listen(0, '127.0.0.1', r));
    port = (http.address() as { port: number }).port;
    const config = parseConfig({ gatewayId: 'gw-test', mqtt: { host: '127.0.0.1', port: 0 }, http: { allowedHosts: ['gw.wh3.example'] } }) as Config;
    const hostOk = makeHostCheck(config.http.allowedHosts);
    broker = new EmbeddedBroker({ config, directory: dir.directory, logger: silentLogger(), httpServer: http, originAllowed: (o) => originAllowed(o, hostOk) });
    await broker.start();
  });
  afterAll(async () => {
    await broker?.stop();
    await new Promise<void>((r) => http?.close(() => r()));
  });

  const handshake = (origin: string | undefined) =>
    new Promise<number>((resolve) => {
      const ws = new WebSocket(`ws://127.0.0.1:${port}/mqtt`, 'mqtt', origin === undefined ? {} : { origin });
      ws.on('open', () => {
        ws.close();
        resolve(101);
      });
      ws.on('unexpected-response', (_req, res) => {
        resolve(res.statusCode ?? 0);
        ws.terminate();
      });
      ws.on('error', () => resolve(-1));
    });

  it("refuses a foreign page with 403 and lets devices and the gateway's own pages in", async () => {
    expect(await handshake('http://attacker.example')).toBe(403);
    expect(await handshake('null')).toBe(403);
    expect(await handshake(undefined)).toBe(101);
    expect(await handshake(`http://127.0.0.1:${port}`)).toBe(101);
    expect(await handshake('https://gw.wh3.example')).toBe(101);
    const c = await client(`ws://127.0.0.1:${port}/mqtt`, { clientId: 'svc', username: 'svc', password: secrets.svc as string });
    expect(c.connected).toBe(true);
    await c.endAsync();
  });
});
