/**
 * Encrypted by default (config tls.mode auto, docs/security.md): a gateway started with a
 * default config makes a local CA and server certificate in <dataDir>/tls, serves the API over
 * HTTPS with a certificate that chains to that CA, MQTT over TLS (MQTT.js and Debian's
 * mosquitto_sub with --cafile) and over secure WebSocket; a restart reuses the CA and
 * certificate; a certificate near its end or missing a host name is re-issued under the same CA;
 * `mqtt.plaintext: false` closes the plaintext listener; preflight warns while plaintext MQTT
 * carries device passwords. Needs the openssl command (the gateway signs with it): skipped with
 * that reason without it, FAILS under CI=true.
 */
import { X509Certificate } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { connect as netConnect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TLSSocket } from 'node:tls';
import { chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { skipWithout } from '../../../test-peers/peers.js';
import { EmbeddedBroker } from '../../src/broker/embedded-broker.js';
import { parseConfig } from '../../src/config/load.js';
import type { Config } from '../../src/config/schema.js';
import { Gateway, type GatewayInfo } from '../../src/gateway.js';
import { createLogger } from '../../src/lib/logger.js';
import type { PreflightReport } from '../../src/preflight/report.js';
import { ensureLocalTls } from '../../src/tls/auto-tls.js';
import { client, makeDirectory, run, silentLogger } from './broker-helpers.js';

const OPENSSL = ['/usr/bin/openssl', '/bin/openssl'].find((p) => existsSync(p));
const RUN = OPENSSL !== undefined || process.env.CI === 'true';
const DAY_MS = 86_400_000;

function freePort(): Promise<number> {
  return new Promise((ok, fail) => {
    const s = createServer();
    s.once('error', fail);
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      s.close(() => (typeof a === 'object' && a !== null ? ok(a.port) : fail(new Error('no port'))));
    });
  });
}

/** GET over HTTPS trusting only `ca`; resolves with the status, body, the peer certificate and whether it verified. */
function httpsGet(url: string, ca: Buffer | undefined, headers: Record<string, string> = {}) {
  return new Promise<{ status: number; body: string; peer: X509Certificate | undefined; authorized: boolean }>((resolve, reject) => {
    const req = httpsRequest(url, { headers, ...(ca ? { ca } : {}), timeout: 20_000 }, (res) => {
      const socket = res.socket as TLSSocket;
      const peer = socket.getPeerX509Certificate();
      const authorized = socket.authorized;
      let body = '';
      res.on('data', (b: Buffer) => (body += b.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body, peer, authorized }));
    });
    req.on('error', reject);
    req.end();
  });
}

function startGateway(raw: Record<string, unknown>): Promise<Gateway> {
  const gateway = new Gateway(parseConfig(raw), createLogger('silent'));
  return gateway.start().then(() => gateway);
}

describe.skipIf(!RUN)('encrypted by default (skipped: the openssl command is not installed)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'pkl-tls-default-'));
  const dataDir = join(dir, 'data');
  // A default config: only loopback addresses and free ports (8883 and 8080 may be taken on a
  // shared machine), and one device that logs in with a password.
  const raw = {
    gatewayId: 'gw-tls',
    dataDir,
    log: { level: 'silent' },
    http: { host: '127.0.0.1', port: 0 },
    mqtt: { host: '127.0.0.1', port: 0, tls: { port: 0 } },
    devices: [{ id: 'scanner-1', role: 'scanner' }],
  };
  let gateway: Gateway | null = null;
  let info: GatewayInfo;
  let ca: Buffer;
  let secret: string;

  beforeAll(async () => {
    gateway = await startGateway(raw);
    info = gateway.info();
    ca = readFileSync(info.caFile as string);
    secret = (JSON.parse(readFileSync(info.provisioningFile, 'utf8')) as { devices: Record<string, { secret: string }> }).devices['scanner-1']
      ?.secret as string;
  }, 120_000);

  afterAll(async () => {
    await gateway?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('makes a local CA (key 0600 in a 0700 folder) and a server certificate for this host', () => {
    expect(info.caFile).toBe(join(dataDir, 'tls', 'ca.crt'));
    expect(statSync(join(dataDir, 'tls')).mode & 0o777).toBe(0o700);
    expect(statSync(join(dataDir, 'tls', 'ca.key')).mode & 0o777).toBe(0o600);
    expect(statSync(join(dataDir, 'tls', 'server.key')).mode & 0o777).toBe(0o600);
    const server = new X509Certificate(readFileSync(join(dataDir, 'tls', 'server.crt')));
    expect(server.verify(new X509Certificate(ca).publicKey)).toBe(true);
    expect(server.checkIP('127.0.0.1')).toBe('127.0.0.1');
    expect(server.checkHost('localhost')).toBe('localhost');
  });

  it('serves the API over HTTPS with a certificate that chains to the created CA', async () => {
    expect(info.httpUrl).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    expect(info.wsUrl).toMatch(/^wss:\/\//);
    const res = await httpsGet(`${info.httpUrl}/api/v1/stations`, ca, { authorization: `Bearer ${info.tokens.admin}` });
    expect(res.status).toBe(200);
    // The handshake verified the chain against the CA alone, and the leaf is signed by it.
    expect(res.authorized).toBe(true);
    const caCert = new X509Certificate(ca);
    expect(res.peer?.checkIssued(caCert)).toBe(true);
    expect(res.peer?.verify(caCert.publicKey)).toBe(true);
    expect(res.peer?.fingerprint256).toBe(new X509Certificate(readFileSync(join(dataDir, 'tls', 'server.crt'))).fingerprint256);
    // Without the CA the certificate is not trusted (no silent fallback to a public chain).
    await expect(httpsGet(`${info.httpUrl}/healthz`, undefined)).rejects.toThrow(/self[- ]signed|unable to (get|verify)/i);
  });

  it('plaintext HTTP on the HTTPS port: one line naming the https:// address, no route runs, nothing reflected', async () => {
    const plain = info.httpUrl.replace('https://', 'http://');
    const ask = (path: string, method = 'GET') =>
      new Promise<{ status: number; location: string | undefined; body: string }>((resolve, reject) => {
        const req = httpRequest(`${plain}${path}`, { method, headers: { authorization: `Bearer ${info.tokens.admin}` }, timeout: 10_000 }, (res) => {
          let body = '';
          res.on('data', (b: Buffer) => (body += b.toString()));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, location: res.headers.location, body }));
        });
        req.on('error', reject);
        req.on('timeout', () => req.destroy(new Error('timeout')));
        req.end();
      });
    for (const [path, method] of [
      ['/ui/station/st-1?token=leak', 'GET'],
      ['/api/v1/stations', 'GET'],
      ['/api/v1/orders', 'POST'],
    ] as const) {
      const a = await ask(path, method);
      expect(a.status, path).toBe(400);
      expect(a.location).toBeUndefined();
      expect(a.body).toBe(
        `This port speaks HTTPS only: open ${info.httpUrl}/ (the station PC must trust the gateway's CA, docs/ui.md). Nothing was processed.\n`,
      );
    }
    // HTTPS on the same port is untouched.
    expect((await httpsGet(`${info.httpUrl}/healthz`, ca)).status).toBe(200);
  });

  it('MQTT.js connects over TLS (mqtts) and secure WebSocket with the CA', async () => {
    expect(info.mqttTlsUrl).toMatch(/^mqtts:\/\/127\.0\.0\.1:\d+$/);
    const tls = await client(info.mqttTlsUrl as string, { clientId: 'scanner-1', username: 'scanner-1', password: secret, ca, rejectUnauthorized: true });
    expect(tls.connected).toBe(true);
    await tls.endAsync();
    const wss = await client(info.wsUrl, { clientId: 'scanner-1', username: 'scanner-1', password: secret, ca, rejectUnauthorized: true });
    expect(wss.connected).toBe(true);
    await wss.endAsync();
    // A client that does not trust the CA is refused at the handshake.
    await expect(
      client(info.mqttTlsUrl as string, { clientId: 'scanner-1', username: 'scanner-1', password: secret, connectTimeout: 5_000 }),
    ).rejects.toThrow();
  });

  it.skipIf(skipWithout(import.meta.url, 'chromium', 'certutil'))(
    'Chromium whose profile trusts the CA as docs/ui.md says opens the dashboard over HTTPS and goes live over WSS; without it, it refuses',
    async () => {
      const launch = (home: string) => chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox'], env: { ...process.env, HOME: home } });
      const home = join(dir, 'kiosk-home');
      mkdirSync(join(home, '.pki', 'nssdb'), { recursive: true });
      const nss = `sql:${join(home, '.pki', 'nssdb')}`;
      expect((await run('certutil', ['-d', nss, '-N', '--empty-password'])).code).toBe(0);
      const added = await run('certutil', ['-d', nss, '-A', '-t', 'C,,', '-n', 'Packline gateway CA', '-i', info.caFile as string]);
      expect(added.code, added.stderr).toBe(0);
      const kiosk = await launch(home);
      try {
        const page = await kiosk.newPage();
        const res = await page.goto(`${info.httpUrl}/ui/dashboard#token=${info.tokens.admin}`);
        expect(res?.status()).toBe(200);
        await page.waitForSelector('body[data-conn="live"]', { timeout: 30_000 });
      } finally {
        await kiosk.close();
      }
      const bare = await launch(join(dir, 'bare-home'));
      try {
        const page = await bare.newPage();
        await expect(page.goto(`${info.httpUrl}/ui/dashboard`)).rejects.toThrow(/ERR_CERT_AUTHORITY_INVALID/);
      } finally {
        await bare.close();
      }
    },
    120_000,
  );

  it.skipIf(skipWithout(import.meta.url, 'mosquitto-clients'))("Debian's mosquitto_sub connects with --cafile (and not without)", async () => {
    const port = new URL(info.mqttTlsUrl as string).port;
    const common = ['-h', '127.0.0.1', '-p', port, '-i', 'scanner-1', '-u', 'scanner-1', '-P', secret, '-t', 'dev/scanner-1/cmd/#', '-V', 'mqttv311', '-d'];
    const ok = await run('mosquitto_sub', [...common, '--cafile', info.caFile as string, '-W', '2']);
    expect(ok.stdout).toMatch(/received CONNACK \(0\)/);
    expect(ok.stdout).toMatch(/received SUBACK/);
    const refused = await run('mosquitto_sub', [...common, '--capath', '/etc/ssl/certs', '-W', '2']);
    expect(refused.stdout).not.toMatch(/received CONNACK \(0\)/);
  });

  it('keeps plaintext MQTT for devices that cannot do TLS, and preflight warns about it with the fix', async () => {
    expect(info.mqttUrl).toMatch(/^mqtt:\/\//);
    const plain = await client(info.mqttUrl as string, { clientId: 'scanner-1', username: 'scanner-1', password: secret });
    expect(plain.connected).toBe(true);
    await plain.endAsync();
    const res = await httpsGet(`${info.httpUrl}/api/v1/preflight`, ca, { authorization: `Bearer ${info.tokens.admin}` });
    const check = (JSON.parse(res.body) as PreflightReport).checks.find((c) => c.id === 'encryption');
    expect(check?.status).toBe('warn');
    expect(check?.detail).toMatch(/plaintext MQTT \(port \d+\) is open while 1 device\(s\) log in with passwords/);
    expect(check?.detail).toContain('then set mqtt.plaintext false');
    expect(check?.detail).not.toContain('served without TLS');
  });

  it('a restart reuses the CA and the server certificate', async () => {
    const before = { ca: readFileSync(join(dataDir, 'tls', 'ca.crt'), 'utf8'), cert: readFileSync(join(dataDir, 'tls', 'server.crt'), 'utf8') };
    await gateway?.stop();
    gateway = await startGateway(raw);
    info = gateway.info();
    expect(readFileSync(join(dataDir, 'tls', 'ca.crt'), 'utf8')).toBe(before.ca);
    expect(readFileSync(join(dataDir, 'tls', 'server.crt'), 'utf8')).toBe(before.cert);
    expect((await httpsGet(`${info.httpUrl}/healthz`, ca)).status).toBe(200);
  }, 60_000);

  it('re-issues the server certificate under the same CA when it nears its end or misses a host name', async () => {
    const caBefore = readFileSync(join(dataDir, 'tls', 'ca.crt'), 'utf8');
    const certBefore = new X509Certificate(readFileSync(join(dataDir, 'tls', 'server.crt')));
    const reused = await ensureLocalTls({ dataDir, renewDays: 30, names: ['localhost'], ips: ['127.0.0.1'] });
    expect(reused.action).toBe('reused');
    // 800 days on: within 30 days of the 825-day certificate's end.
    const later = await ensureLocalTls({ dataDir, renewDays: 30, now: Date.now() + 800 * DAY_MS, names: ['localhost'], ips: ['127.0.0.1'] });
    expect(later.action).toBe('renewed');
    expect(later.reason).toMatch(/^expires /);
    const renewed = new X509Certificate(readFileSync(later.certFile));
    expect(renewed.serialNumber).not.toBe(certBefore.serialNumber);
    expect(readFileSync(join(dataDir, 'tls', 'ca.crt'), 'utf8')).toBe(caBefore);
    expect(renewed.verify(new X509Certificate(caBefore).publicKey)).toBe(true);
    const renamed = await ensureLocalTls({ dataDir, renewDays: 30, names: ['localhost', 'gw-2.wh3.lan'], ips: ['127.0.0.1'] });
    expect(renamed.action).toBe('renewed');
    expect(renamed.reason).toBe('does not cover gw-2.wh3.lan');
    expect(new X509Certificate(readFileSync(renamed.certFile)).checkHost('gw-2.wh3.lan')).toBe('gw-2.wh3.lan');
    // A name given by hand (packline tls init --name, or the host's old name) survives a renewal.
    const kept = await ensureLocalTls({ dataDir, renewDays: 30, now: Date.now() + 800 * DAY_MS, names: ['localhost'], ips: ['127.0.0.1'] });
    expect(kept.action).toBe('renewed');
    expect(new X509Certificate(readFileSync(kept.certFile)).checkHost('gw-2.wh3.lan')).toBe('gw-2.wh3.lan');
  }, 60_000);

  it('mqtt.plaintext false: the plaintext port is refused, TLS still connects, preflight has no plaintext warning', async () => {
    await gateway?.stop();
    gateway = null;
    const plainPort = await freePort();
    const closed = await startGateway({ ...raw, mqtt: { ...raw.mqtt, port: plainPort, plaintext: false } });
    try {
      const i = closed.info();
      expect(i.mqttUrl).toBeNull();
      const refused = await new Promise<string>((resolve) => {
        const s = netConnect(plainPort, '127.0.0.1');
        s.once('connect', () => {
          s.destroy();
          resolve('connected');
        });
        s.once('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? err.message));
      });
      expect(refused).toBe('ECONNREFUSED');
      const tls = await client(i.mqttTlsUrl as string, { clientId: 'scanner-1', username: 'scanner-1', password: secret, ca });
      expect(tls.connected).toBe(true);
      await tls.endAsync();
      const res = await httpsGet(`${i.httpUrl}/api/v1/preflight`, ca, { authorization: `Bearer ${i.tokens.admin}` });
      const check = (JSON.parse(res.body) as PreflightReport).checks.find((c) => c.id === 'encryption');
      expect(check?.status, check?.detail).toBe('pass');
      expect(check?.detail).toMatch(/^MQTT over TLS on \d+, HTTPS, plaintext MQTT off, certificate valid until \d{4}-\d\d-\d\d$/);
    } finally {
      await closed.stop();
    }
  }, 60_000);

  it('tls.mode off keeps plaintext (labs, tests), and preflight says the API is in clear', async () => {
    const lab = await startGateway({ ...raw, dataDir: join(dir, 'lab'), tls: { mode: 'off' } });
    try {
      const i = lab.info();
      expect(i.httpUrl).toMatch(/^http:\/\//);
      expect(i.caFile).toBeNull();
      expect(i.mqttTlsUrl).toBeNull();
      expect(existsSync(join(dir, 'lab', 'tls'))).toBe(false);
      const res = await fetch(`${i.httpUrl}/api/v1/preflight`, { headers: { authorization: `Bearer ${i.tokens.admin}` } });
      const check = ((await res.json()) as PreflightReport).checks.find((c) => c.id === 'encryption');
      expect(check?.status).toBe('warn');
      expect(check?.detail).toContain('the HTTP API and screens are served without TLS');
      expect(check?.detail).toContain('Fix: remove tls.mode "off"');
    } finally {
      await lab.stop();
    }
  }, 60_000);
});

describe('plaintext off with drivers hosted in the gateway', () => {
  it('opens a loopback-only listener on a free port for them, and reports no plaintext port', async () => {
    const dirs = await makeDirectory([{ id: 'scale-1', role: 'scale', station: 'st-1' }]);
    // Plaintext off and no TLS would leave no way in: refused.
    expect(() => parseConfig({ tls: { mode: 'off' }, mqtt: { plaintext: false } })).toThrow(/mqtt\.plaintext: false needs TLS/);
    const config = parseConfig({ gatewayId: 'gw-lo', mqtt: { host: '0.0.0.0', port: 0, plaintext: false, tls: { port: 0 } } });
    const broker = new EmbeddedBroker({ config: config as Config, directory: dirs.directory, logger: silentLogger(), loopbackListener: true });
    await broker.start();
    try {
      expect(broker.ports().tcp).toBeNull();
      const port = broker.loopbackPort() as number;
      expect(port).toBeGreaterThan(0);
      const c = await client(`mqtt://127.0.0.1:${port}`, { clientId: 'scale-1', username: 'scale-1', password: dirs.secrets['scale-1'] });
      expect(c.connected).toBe(true);
      await c.endAsync();
    } finally {
      await broker.stop();
    }
  });
});
