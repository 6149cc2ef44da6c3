/**
 * The two sync transports against real peers on 127.0.0.1:
 * - HttpSyncTransport against node:http and node:https servers (a self-signed certificate and
 *   a client certificate made by the `openssl` CLI at test time);
 * - MqttBridgeTransport + MqttBridgeServer through Debian's real mosquitto (plain and TLS
 *   listeners), including the broker going away and coming back.
 * openssl missing = a FAILED test; mosquitto missing = its block skipped, or FAILED under CI=true.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import http from 'node:http';
import https from 'node:https';
import { type AddressInfo, type Socket, createConnection, createServer as createNetServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TLSSocket } from 'node:tls';
import { promisify } from 'node:util';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { skipWithout } from '../../../test-peers/peers.js';
import { SYNC_HEADERS, SYNC_PATHS } from '../../../contracts/sync.js';
import { type BridgeRequest, MqttBridgeServer } from '../../../simulators/src/cloud/mqtt-bridge-server.js';
import { type SyncRequest, SyncTransportError } from '../../src/transport.js';
import { HttpSyncTransport } from '../../src/transports/http-transport.js';
import { MqttBridgeTransport } from '../../src/transports/mqtt-bridge-transport.js';

const execFileAsync = promisify(execFile);
const MOSQUITTO = '/usr/sbin/mosquitto';
const OPENSSL = '/usr/bin/openssl';

// ---- helpers ---------------------------------------------------------------------------------

async function freePort(): Promise<number> {
  const srv = createNetServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const port = (srv.address() as AddressInfo).port;
  await new Promise<void>((r) => srv.close(() => r()));
  return port;
}

async function portOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createConnection({ host: '127.0.0.1', port }, () => {
      s.destroy();
      resolve(true);
    });
    s.on('error', () => resolve(false));
  });
}

/** Polls until `check` holds; the limit is a safety net, not an assertion. */
async function waitFor(check: () => boolean, what: string, timeoutMs = 20_000): Promise<void> {
  const start = Date.now();
  while (!check()) {
    if (Date.now() - start > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

async function listen(server: http.Server): Promise<number> {
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return (server.address() as AddressInfo).port;
}

async function close(server: http.Server): Promise<void> {
  server.closeAllConnections();
  await new Promise<void>((r) => server.close(() => r()));
}

/** A self-signed certificate for `cn`, valid for 127.0.0.1 (the `openssl` CLI, EC P-256). */
async function selfSigned(dir: string, name: string, cn: string): Promise<{ cert: string; key: string; certFile: string; keyFile: string }> {
  const certFile = join(dir, `${name}.crt`);
  const keyFile = join(dir, `${name}.key`);
  await execFileAsync(OPENSSL, [
    'req',
    '-x509',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:prime256v1',
    '-nodes',
    '-keyout',
    keyFile,
    '-out',
    certFile,
    '-days',
    '2',
    '-subj',
    `/CN=${cn}`,
    '-addext',
    'subjectAltName=IP:127.0.0.1,DNS:localhost',
  ]);
  return { cert: await readFile(certFile, 'utf8'), key: await readFile(keyFile, 'utf8'), certFile, keyFile };
}

function batchRequest(gatewayId: string, n = 200): SyncRequest {
  const events = Array.from({ length: n }, (_, i) => ({ seq: i + 1, type: 'shipment.recorded', subject: `shp-${i}`, data: { grams: 1000 + i } }));
  const body = gzipSync(Buffer.from(JSON.stringify({ v: 1, gateway_id: gatewayId, events })));
  return {
    method: 'POST',
    path: SYNC_PATHS.batches(gatewayId),
    headers: {
      [SYNC_HEADERS.gateway]: gatewayId,
      [SYNC_HEADERS.timestamp]: '1764000000000',
      [SYNC_HEADERS.signature]: `v1=${'ab'.repeat(32)}`,
      [SYNC_HEADERS.idempotencyKey]: `${gatewayId}:1-${n}`,
      'content-type': 'application/json',
      'content-encoding': 'gzip',
    },
    body: new Uint8Array(body),
  };
}

const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

async function kindOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (err) {
    if (err instanceof SyncTransportError) return err.kind;
    throw err;
  }
  throw new Error('expected the request to fail');
}

let dir: string;
let serverTls: Awaited<ReturnType<typeof selfSigned>>;
let clientTls: Awaited<ReturnType<typeof selfSigned>>;

const noMosquitto = skipWithout(import.meta.url, 'mosquitto');

beforeAll(async () => {
  // openssl is part of a Debian base system; mosquitto is a test peer (its block is skipped
  // without it on a developer's machine, and fails under CI=true).
  for (const bin of [OPENSSL, ...(noMosquitto ? [] : [MOSQUITTO])]) {
    if (!existsSync(bin)) throw new Error(`${bin} is missing: apt-get install mosquitto openssl`);
  }
  dir = await mkdtemp(join(tmpdir(), 'pkl-transports-'));
  serverTls = await selfSigned(dir, 'cloud', 'packline-test-cloud');
  clientTls = await selfSigned(dir, 'gateway', 'gw-01');
});

afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

// ---- HTTP ------------------------------------------------------------------------------------

interface Seen {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
  remotePort: number;
}

/** The test cloud: one route per behaviour under test. */
function cloudHandler(seen: Seen[]): http.RequestListener {
  const perSocket = new WeakMap<Socket, number>();
  return (req, res) => {
    const n = (perSocket.get(req.socket) ?? 0) + 1;
    perSocket.set(req.socket, n);
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      seen.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body, remotePort: req.socket.remotePort ?? 0 });
      const path = (req.url ?? '').replace(/^\/prefix/, '');
      const json = (status: number, value: unknown) => {
        res.writeHead(status, { 'content-type': 'application/json; charset=utf-8' });
        res.end(JSON.stringify(value));
      };
      if (path.startsWith('/sync/') || path === '/ok') {
        return json(200, { acked_seq: 200, rejected: [], sha256: createHash('sha256').update(body).digest('hex') });
      }
      if (path === '/conflict') return json(409, { error: { code: 'SYNC_UNAUTHORIZED', message: 'unknown gateway' } });
      if (path === '/text') {
        res.writeHead(502, { 'content-type': 'text/html' });
        return res.end('<html>bad gateway</html>');
      }
      if (path === '/empty') {
        res.writeHead(204);
        return res.end();
      }
      if (path === '/gzip') {
        res.writeHead(200, { 'content-type': 'application/json', 'content-encoding': 'gzip' });
        return res.end(gzipSync(JSON.stringify({ zipped: true })));
      }
      if (path === '/reset') return req.socket.destroy();
      // The server closes a kept-alive connection just as the client reuses it.
      if (path === '/stale') return n > 1 ? req.socket.destroy() : json(200, { fresh: true });
      if (path === '/hang') return undefined;
      if (path === '/slow') return void setTimeout(() => json(200, { slow: true }), 300);
      if (path === '/big') {
        // Chunked (no content-length): the cap must hold while streaming.
        res.writeHead(200, { 'content-type': 'application/json' });
        const chunk = Buffer.alloc(1024 * 1024, 0x20);
        for (let i = 0; i < 9; i++) res.write(chunk);
        return res.end();
      }
      if (path === '/big-declared') {
        res.writeHead(200, { 'content-type': 'application/json', 'content-length': String(9 * 1024 * 1024) });
        return res.write('{');
      }
      json(404, { error: { code: 'NOT_FOUND', message: path } });
    });
  };
}

describe('HttpSyncTransport over http', () => {
  const seen: Seen[] = [];
  let server: http.Server;
  let base: string;
  let transport: HttpSyncTransport;
  const debugLog: string[] = [];
  const logger = { debug: (_: object, msg: string) => void debugLog.push(msg), info: () => {}, warn: () => {}, error: () => {} };

  beforeAll(async () => {
    server = http.createServer(cloudHandler(seen));
    base = `http://127.0.0.1:${await listen(server)}`;
    transport = new HttpSyncTransport({ baseUrl: `${base}/prefix`, maxSockets: 1, logger });
    await transport.start();
  });

  afterAll(async () => {
    await transport?.stop();
    if (server) await close(server);
  });

  const get = (path: string): SyncRequest => ({ method: 'GET', path, headers: { accept: 'application/json' }, body: null });

  it('sends method, path, headers and gzip body exactly and parses the JSON answer', async () => {
    const req = batchRequest('gw-01');
    const res = await transport.request(req, 10_000);
    expect(res).toEqual({ status: 200, body: { acked_seq: 200, rejected: [], sha256: sha256(req.body as Uint8Array) } });
    const s = seen.at(-1) as Seen;
    expect(s.method).toBe('POST');
    expect(s.url).toBe(`/prefix${req.path}`);
    for (const [k, v] of Object.entries(req.headers)) expect(s.headers[k], k).toBe(v);
    expect(s.headers['content-length']).toBe(String(req.body?.byteLength));
    expect(s.body.equals(req.body as Uint8Array)).toBe(true);
  });

  it('keeps the connection alive between requests', async () => {
    await transport.request(get('/ok'), 10_000);
    await transport.request(get('/ok'), 10_000);
    const [a, b] = seen.slice(-2) as [Seen, Seen];
    expect(a.remotePort).toBe(b.remotePort);
  });

  it('passes a non-2xx answer through with its status and JSON body', async () => {
    const res = await transport.request(get('/conflict'), 10_000);
    expect(res).toEqual({ status: 409, body: { error: { code: 'SYNC_UNAUTHORIZED', message: 'unknown gateway' } } });
  });

  it('returns text that is not JSON as text, an empty answer as null, and gunzips a gzip answer', async () => {
    expect(await transport.request(get('/text'), 10_000)).toEqual({ status: 502, body: '<html>bad gateway</html>' });
    expect(await transport.request(get('/empty'), 10_000)).toEqual({ status: 204, body: null });
    expect(await transport.request(get('/gzip'), 10_000)).toEqual({ status: 200, body: { zipped: true } });
  });

  it('retries once on a fresh connection when a kept-alive one turns out closed', async () => {
    await transport.request(get('/ok'), 10_000); // leaves a kept-alive connection behind
    debugLog.length = 0;
    const res = await transport.request(get('/stale'), 10_000);
    expect(res).toEqual({ status: 200, body: { fresh: true } });
    expect(debugLog.filter((m) => m.includes('retrying once'))).toHaveLength(1);
  });

  it('fails with "reset" when the server destroys the connection', async () => {
    expect(await kindOf(transport.request(get('/reset'), 10_000))).toBe('reset');
    expect(await kindOf(transport.request({ ...batchRequest('gw-01', 5), path: '/reset' }, 10_000))).toBe('reset');
  });

  it('fails with "timeout" when the server never answers, and stays usable', async () => {
    expect(await kindOf(transport.request(get('/hang'), 300))).toBe('timeout');
    expect((await transport.request(get('/ok'), 10_000)).status).toBe(200);
  });

  it('keeps waiting for a slow answer past the idle-socket timeout', async () => {
    const t = new HttpSyncTransport({ baseUrl: base, idleSocketMs: 50 });
    try {
      expect(await t.request(get('/slow'), 10_000)).toEqual({ status: 200, body: { slow: true } });
    } finally {
      await t.stop();
    }
  });

  it('refuses an answer over 8 MB, streamed or declared', async () => {
    expect(await kindOf(transport.request(get('/big'), 10_000))).toBe('other');
    expect(await kindOf(transport.request(get('/big-declared'), 10_000))).toBe('other');
    expect((await transport.request(get('/ok'), 10_000)).status).toBe(200);
  });

  it('fails with "refused" when nothing listens', async () => {
    const t = new HttpSyncTransport({ baseUrl: `http://127.0.0.1:${await freePort()}` });
    try {
      expect(await kindOf(t.request(get('/ok'), 10_000))).toBe('refused');
    } finally {
      await t.stop();
    }
  });

  it('fails requests in flight and later ones with "closed" once stopped; start() reopens', async () => {
    const t = new HttpSyncTransport({ baseUrl: base });
    const before = seen.length;
    const inFlight = kindOf(t.request(get('/hang'), 60_000));
    await waitFor(() => seen.length > before, 'the request to reach the server');
    await t.stop();
    expect(await inFlight).toBe('closed');
    expect(await kindOf(t.request(get('/ok'), 10_000))).toBe('closed');
    await t.start();
    expect((await t.request(get('/ok'), 10_000)).status).toBe(200);
    await t.stop();
  });

  it('rejects a base URL that is not http(s)', () => {
    expect(() => new HttpSyncTransport({ baseUrl: 'ftp://cloud' })).toThrow(/http: or https:/);
    expect(() => new HttpSyncTransport({ baseUrl: 'https://u:p@cloud' })).toThrow(/credentials/);
  });
});

describe('HttpSyncTransport over https (openssl self-signed certificates)', () => {
  const seen: Seen[] = [];
  let server: https.Server;
  let base: string;
  let tlsConnections = 0;
  const peers: string[] = [];

  beforeAll(async () => {
    const cloud = cloudHandler(seen);
    server = https.createServer({ cert: serverTls.cert, key: serverTls.key, ca: clientTls.cert, requestCert: true, rejectUnauthorized: false }, (req, res) => {
      const cn = (req.socket as TLSSocket).getPeerCertificate()?.subject?.CN;
      peers.push(typeof cn === 'string' ? cn : '');
      cloud(req, res);
    });
    server.on('secureConnection', () => tlsConnections++);
    base = `https://127.0.0.1:${await listen(server)}`;
  });

  afterAll(async () => {
    if (server) await close(server);
  });

  it('trusts the private CA given as `ca`, keeps one TLS connection alive and carries the body exactly', async () => {
    const t = new HttpSyncTransport({ baseUrl: base, ca: serverTls.cert, maxSockets: 1 });
    try {
      const before = tlsConnections;
      const req = batchRequest('gw-01');
      const res = await t.request(req, 10_000);
      expect(res.status).toBe(200);
      expect((res.body as { sha256: string }).sha256).toBe(sha256(req.body as Uint8Array));
      expect((await t.request({ method: 'GET', path: '/conflict', headers: {}, body: null }, 10_000)).status).toBe(409);
      expect(tlsConnections - before).toBe(1);
      expect(t.name).toBe('https');
    } finally {
      await t.stop();
    }
  });

  it('refuses the certificate without the CA ("other": configuration, not the link)', async () => {
    const t = new HttpSyncTransport({ baseUrl: base });
    try {
      expect(await kindOf(t.request({ method: 'GET', path: '/ok', headers: {}, body: null }, 10_000))).toBe('other');
    } finally {
      await t.stop();
    }
  });

  it('presents the client certificate for mutual TLS', async () => {
    const t = new HttpSyncTransport({ baseUrl: base, ca: serverTls.cert, clientCert: clientTls.cert, clientKey: clientTls.key });
    try {
      expect((await t.request({ method: 'GET', path: '/ok', headers: {}, body: null }, 10_000)).status).toBe(200);
      expect(peers.at(-1)).toBe('gw-01');
    } finally {
      await t.stop();
    }
  });
});

// ---- MQTT bridge through Debian mosquitto ------------------------------------------------------

describe.skipIf(noMosquitto)('MqttBridgeTransport and MqttBridgeServer through Debian mosquitto', () => {
  let port: number;
  let tlsPort: number;
  let confFile: string;
  let mosq: ChildProcess | null = null;
  let mosqLog = '';
  let bridge: MqttBridgeServer | null = null;
  let gw: MqttBridgeTransport;
  const received: BridgeRequest[] = [];
  let releaseStalled = () => {};
  const url = () => `mqtt://127.0.0.1:${port}`;

  async function startMosquitto(): Promise<void> {
    const p = spawn(MOSQUITTO, ['-c', confFile], { stdio: ['ignore', 'pipe', 'pipe'] });
    mosq = p;
    p.stderr?.on('data', (d: Buffer) => (mosqLog += d.toString()));
    p.stdout?.on('data', (d: Buffer) => (mosqLog += d.toString()));
    const start = Date.now();
    while (!(await portOpen(port)) || !(await portOpen(tlsPort))) {
      if (p.exitCode !== null) throw new Error(`mosquitto exited ${p.exitCode}: ${mosqLog}`);
      if (Date.now() - start > 20_000) throw new Error(`mosquitto did not listen: ${mosqLog}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  async function stopMosquitto(): Promise<void> {
    const p = mosq;
    mosq = null;
    if (!p || p.exitCode !== null) return;
    await new Promise<void>((resolve) => {
      p.once('exit', () => resolve());
      p.kill('SIGTERM');
    });
  }

  /** The generic handler: answers like the cloud would, echoing what it got. */
  async function handle(req: BridgeRequest) {
    received.push(req);
    if (req.path === '/boom') throw new Error('handler exploded');
    if (req.path === '/conflict') return { status: 409, body: { error: { code: 'SYNC_STALE_REQUEST', message: 'too old' } } };
    const m = /^\/echo\/(\d+)$/.exec(req.path);
    if (m) {
      // Answer in reverse order of arrival so matching by id is what pairs them up.
      await new Promise((r) => setTimeout(r, 200 - Number(m[1]) * 10));
      return { status: 200, body: { path: req.path } };
    }
    if (req.path === '/stall') await new Promise<void>((r) => (releaseStalled = r));
    if (req.path === '/raw') return { status: 200, body: Buffer.from('{"raw":true}') };
    return { status: 200, body: { acked_seq: 200, rejected: [], sha256: req.body ? sha256(req.body) : null } };
  }

  async function startBridge(): Promise<void> {
    bridge = new MqttBridgeServer({ url: url(), gatewayIds: '+', handle, reconnectPeriodMs: 100 });
    await bridge.start();
  }

  beforeAll(async () => {
    port = await freePort();
    tlsPort = await freePort();
    confFile = join(dir, 'mosquitto.conf');
    await writeFile(
      confFile,
      [
        'allow_anonymous true',
        'persistence false',
        `listener ${port} 127.0.0.1`,
        `listener ${tlsPort} 127.0.0.1`,
        `certfile ${serverTls.certFile}`,
        `keyfile ${serverTls.keyFile}`,
        // Started as root, mosquitto 2 drops to user `mosquitto`, which cannot read our temp dir.
        ...(process.getuid?.() === 0 ? ['user root'] : []),
        'log_dest stderr',
        'log_type error',
        'log_type warning',
        '',
      ].join('\n'),
    );
    await startMosquitto();
    await startBridge();
    gw = new MqttBridgeTransport({ url: url(), clientId: 'gw-01-sync', gatewayId: 'gw-01', reconnectPeriodMs: 100 });
    await gw.start();
    expect(gw.connected).toBe(true);
  });

  afterAll(async () => {
    releaseStalled();
    await gw?.stop();
    await bridge?.stop();
    await stopMosquitto();
  });

  it('carries a gzip batch byte-exact with its headers, and the JSON answer back', async () => {
    const req = batchRequest('gw-01', 500);
    const res = await gw.request(req, 10_000);
    expect(res).toEqual({ status: 200, body: { acked_seq: 200, rejected: [], sha256: sha256(req.body as Uint8Array) } });
    const got = received.at(-1) as BridgeRequest;
    expect(got.gatewayId).toBe('gw-01');
    expect(got.method).toBe('POST');
    expect(got.path).toBe(req.path);
    expect(got.headers).toEqual(req.headers);
    expect(got.body?.equals(req.body as Uint8Array)).toBe(true);
    expect(gw.name).toBe('mqtt');
  });

  it('carries a GET without a body, non-2xx answers and raw-byte answers', async () => {
    const cursor = await gw.request({ method: 'GET', path: SYNC_PATHS.cursor('gw-01'), headers: {}, body: null }, 10_000);
    expect(cursor.status).toBe(200);
    expect(received.at(-1)?.body).toBeNull();
    expect(await gw.request({ method: 'GET', path: '/conflict', headers: {}, body: null }, 10_000)).toEqual({
      status: 409,
      body: { error: { code: 'SYNC_STALE_REQUEST', message: 'too old' } },
    });
    expect(await gw.request({ method: 'GET', path: '/raw', headers: {}, body: null }, 10_000)).toEqual({ status: 200, body: { raw: true } });
  });

  it('matches concurrent answers to their requests by id', async () => {
    const paths = Array.from({ length: 16 }, (_, i) => `/echo/${i}`);
    const answers = await Promise.all(paths.map((path) => gw.request({ method: 'GET', path, headers: {}, body: null }, 10_000)));
    expect(answers.map((a) => (a.body as { path: string }).path)).toEqual(paths);
  });

  it('answers 500 when the handler throws, 401 when the gateway header does not match the topic', async () => {
    const boom = await gw.request({ method: 'GET', path: '/boom', headers: {}, body: null }, 10_000);
    expect(boom.status).toBe(500);
    expect((boom.body as { error: { code: string } }).error.code).toBe('BRIDGE_HANDLER_FAILED');
    const before = received.length;
    const forged = await gw.request({ method: 'GET', path: '/ok', headers: { [SYNC_HEADERS.gateway]: 'gw-02' }, body: null }, 10_000);
    expect(forged.status).toBe(401);
    expect((forged.body as { error: { code: string } }).error.code).toBe('SYNC_UNAUTHORIZED');
    expect(received.length).toBe(before); // the handler never saw it
  });

  it('works over mqtts:// with the private CA', async () => {
    const t = new MqttBridgeTransport({ url: `mqtts://127.0.0.1:${tlsPort}`, clientId: 'gw-03-sync', gatewayId: 'gw-03', ca: serverTls.cert });
    try {
      await t.start();
      expect(t.connected).toBe(true);
      const req = batchRequest('gw-03', 50);
      const res = await t.request(req, 10_000);
      expect((res.body as { sha256: string }).sha256).toBe(sha256(req.body as Uint8Array));
    } finally {
      await t.stop();
    }
  });

  it('times out when no bridge serves the requests', async () => {
    await bridge?.stop();
    bridge = null;
    expect(await kindOf(gw.request({ method: 'GET', path: '/ok', headers: {}, body: null }, 500))).toBe('timeout');
    await startBridge();
    expect((await gw.request({ method: 'GET', path: '/ok', headers: {}, body: null }, 10_000)).status).toBe(200);
  });

  it('fails at once with "unreachable" while the broker is down, and works again once it is back', async () => {
    await stopMosquitto();
    await waitFor(() => !gw.connected, 'the gateway to notice the broker is gone');
    // A minute-long deadline: only failing without waiting for it gives "unreachable".
    expect(await kindOf(gw.request(batchRequest('gw-01', 5), 60_000))).toBe('unreachable');

    // A transport started while the broker is down starts anyway (the link state says offline).
    const late = new MqttBridgeTransport({ url: url(), clientId: 'gw-04-sync', gatewayId: 'gw-04', reconnectPeriodMs: 100 });
    await late.start();
    expect(late.connected).toBe(false);
    expect(await kindOf(late.request({ method: 'GET', path: '/ok', headers: {}, body: null }, 60_000))).toBe('unreachable');

    await startMosquitto();
    await waitFor(() => gw.connected && late.connected && bridge?.connected === true, 'gateways and bridge to reconnect');
    const req = batchRequest('gw-01', 5);
    const res = await gw.request(req, 10_000);
    expect((res.body as { sha256: string }).sha256).toBe(sha256(req.body as Uint8Array));
    expect((await late.request({ method: 'GET', path: '/ok', headers: {}, body: null }, 10_000)).status).toBe(200);
    await late.stop();
  });

  it('fails a request waiting for its answer with "reset" when the connection drops', async () => {
    const slow = kindOf(gw.request({ method: 'GET', path: '/stall', headers: {}, body: null }, 60_000));
    await waitFor(() => received.at(-1)?.path === '/stall', 'the bridge to get the request');
    await stopMosquitto();
    expect(await slow).toBe('reset');
    releaseStalled(); // the bridge's answer now finds no connection and is dropped
    await startMosquitto();
    await waitFor(() => gw.connected && bridge?.connected === true, 'reconnect');
  });

  it('fails with "closed" once stopped or before start', async () => {
    const t = new MqttBridgeTransport({ url: url(), clientId: 'gw-05-sync', gatewayId: 'gw-05' });
    expect(await kindOf(t.request({ method: 'GET', path: '/ok', headers: {}, body: null }, 1000))).toBe('closed');
    await t.start();
    await t.stop();
    expect(await kindOf(t.request({ method: 'GET', path: '/ok', headers: {}, body: null }, 1000))).toBe('closed');
  });

  it('rejects a URL or gateway id that cannot work', () => {
    expect(() => new MqttBridgeTransport({ url: 'ws://x', clientId: 'c', gatewayId: 'gw-01' })).toThrow(/mqtt:\/\//);
    expect(() => new MqttBridgeTransport({ url: 'mqtt://x', clientId: 'c', gatewayId: 'gw/+' })).toThrow(/topic level/);
  });
});
