/**
 * Security of a running gateway (docs/reliability.md): no default passwords (a fresh data directory gets
 * fresh random device secrets and API tokens, files 0600; no secret has a default in the
 * config schema); MQTT over TLS and the API over HTTPS with configured certificates (openssl);
 * the API token matrix (every route × no/wrong/station/admin token); supervisor password
 * brute force locked out through HTTP; secrets never logged (a gateway logging at trace while
 * provisioning, devices connecting, tokens used, a supervisor added with the CLI, reprints with
 * right and wrong passwords); secret files readable by others narrowed to 0600 with
 * PKL_SECRET_FILE_EXPOSED.
 */
import { chmodSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { request as httpsRequest } from 'node:https';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { connectAsync } from 'mqtt';
import { WebSocket } from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigSchema } from '../../src/config/schema.js';
import { parseConfig } from '../../src/config/load.js';
import { parsePlaintextConfig } from '../support/plaintext.js';
import { Gateway, type GatewayInfo } from '../../src/gateway.js';
import { createLogger } from '../../src/lib/logger.js';
import { run } from './broker-helpers.js';
import { runCli } from '../support/cli.js';
import { device, floorConfig, importOrders, wireOrder } from '../support/floor.js';

const PASSWORD = 'Correct-Horse-7-Battery';
const MAX_FAILURES = 3;

/** The CLI at trace level, so the secrets test sees everything it could log. */
const cli = (dataDir: string, args: string[], stdin = '') => runCli(dataDir, args, { stdin, env: { PACKLINE_LOG__LEVEL: 'trace' } });

interface Running {
  gateway: Gateway;
  info: GatewayInfo;
  logs: string[];
}

async function startGateway(dir: string, extra: Record<string, unknown> = {}, level = 'trace'): Promise<Running> {
  const logs: string[] = [];
  const raw = floorConfig(
    dir,
    { stations: 1, lines: 0, verifyItems: 'never' },
    { log: { level }, printing: { reprint: { maxFailures: MAX_FAILURES, windowMs: 60_000 } }, ...extra },
  );
  const gateway = new Gateway(parsePlaintextConfig(raw), createLogger(level, { write: (l: string) => void logs.push(l) }));
  await gateway.start();
  return { gateway, info: gateway.info(), logs };
}

const dirs: string[] = [];
function tempDir(prefix: string): string {
  const d = mkdtempSync(join(tmpdir(), prefix));
  dirs.push(d);
  return d;
}
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

describe('no default passwords', () => {
  it('the config schema has no default for any password, secret, token or key', () => {
    const found: string[] = [];
    const walk = (node: unknown, path: string) => {
      if (node === null || typeof node !== 'object') return;
      const o = node as Record<string, unknown>;
      if ('default' in o && /(password|secret|token|pass|key)$/i.test(path.split('.').pop() ?? '')) found.push(path);
      for (const [k, v] of Object.entries(o)) walk(v, k === 'properties' ? path : `${path}.${k}`);
    };
    walk(ConfigSchema, 'config');
    expect(found).toEqual([]);
    const defaults = JSON.stringify(parseConfig({}));
    expect(defaults).not.toMatch(/"(password|secret|token|pass|mqttPassword)":/);
  });

  it('two fresh data directories get different random device secrets and API tokens, in files only the owner can read', async () => {
    const issued: Array<{ secrets: string[]; tokens: string[] }> = [];
    for (const prefix of ['pkl-sec-a-', 'pkl-sec-b-']) {
      const dir = tempDir(prefix);
      const g = await startGateway(dir, {}, 'silent');
      await g.gateway.stop();
      const prov = JSON.parse(readFileSync(join(dir, 'provisioning.json'), 'utf8')) as { devices: Record<string, { secret: string }> };
      const tokens = JSON.parse(readFileSync(join(dir, 'api-tokens.json'), 'utf8')) as { admin: string; station: string };
      for (const f of ['provisioning.json', 'api-tokens.json']) expect((statSync(join(dir, f)).mode & 0o777).toString(8), f).toBe('600');
      const secrets = Object.values(prov.devices).map((d) => d.secret);
      expect(secrets.length).toBe(4);
      for (const s of [...secrets, tokens.admin, tokens.station]) expect(s.length).toBeGreaterThanOrEqual(32);
      expect(new Set(secrets).size).toBe(secrets.length);
      issued.push({ secrets, tokens: [tokens.admin, tokens.station] });
    }
    const [a, b] = issued as [(typeof issued)[0], (typeof issued)[0]];
    expect(a.secrets.some((s) => b.secrets.includes(s))).toBe(false);
    expect(a.tokens.some((t) => b.tokens.includes(t))).toBe(false);
  });
});

describe('secret files readable by others', () => {
  it('are narrowed to 0600 at start with PKL_SECRET_FILE_EXPOSED logged', async () => {
    const dir = tempDir('pkl-sec-mode-');
    const first = await startGateway(dir, {}, 'silent');
    await first.gateway.stop();
    chmodSync(join(dir, 'provisioning.json'), 0o644);
    chmodSync(join(dir, 'api-tokens.json'), 0o640);
    const again = await startGateway(dir, {}, 'warn');
    await again.gateway.stop();
    for (const f of ['provisioning.json', 'api-tokens.json']) expect((statSync(join(dir, f)).mode & 0o777).toString(8), f).toBe('600');
    const warnings = again.logs.filter((l) => l.includes('PKL_SECRET_FILE_EXPOSED'));
    expect(warnings.some((l) => l.includes('provisioning.json') && l.includes('0644'))).toBe(true);
    expect(warnings.some((l) => l.includes('api-tokens.json') && l.includes('0640'))).toBe(true);
  });
});

describe('TLS: MQTT over TLS and the API over HTTPS with configured certificates', () => {
  let dir: string;
  let g: Running;
  beforeAll(async () => {
    dir = tempDir('pkl-sec-tls-');
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
    const tls = { certFile: join(dir, 'cert.pem'), keyFile: join(dir, 'key.pem') };
    g = await startGateway(
      join(dir, 'data'),
      {
        mqtt: { host: '127.0.0.1', port: 0, tls: { ...tls, port: 0 } },
        http: { host: '127.0.0.1', port: 0, tls },
      },
      'silent',
    );
  });
  afterAll(async () => {
    await g?.gateway.stop();
  });

  function get(path: string, token?: string, ca?: Buffer): Promise<{ status: number; body: string }> {
    const url = new URL(path, g.info.httpUrl);
    return new Promise((done, fail) => {
      const req = httpsRequest(url, { ...(ca && { ca }), headers: token ? { authorization: `Bearer ${token}` } : {} }, (res) => {
        let body = '';
        res.on('data', (c: Buffer) => (body += c.toString()));
        res.on('end', () => done({ status: res.statusCode ?? 0, body }));
      });
      req.on('error', fail);
      req.end();
    });
  }

  it('serves the API over HTTPS (verified against the configured certificate), tokens still required', async () => {
    expect(g.info.httpUrl).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    expect(g.info.wsUrl).toMatch(/^wss:/);
    const ca = readFileSync(join(dir, 'cert.pem'));
    expect((await get('/healthz', undefined, ca)).status).toBe(200);
    expect((await get('/api/v1/stations', undefined, ca)).status).toBe(401);
    expect((await get('/api/v1/stations', g.info.tokens.station, ca)).status).toBe(200);
    // A client that does not trust the certificate refuses to talk.
    await expect(get('/healthz')).rejects.toThrow(/self[- ]signed|certificate/i);
  });

  it('accepts MQTT over TLS with device credentials and a verified certificate', async () => {
    const secrets = Object.fromEntries(g.info.issued.map((s) => [s.deviceId, s.secret]));
    const c = await connectAsync(
      `mqtts://127.0.0.1:${g.info.mqttTlsPort}`,
      {
        clientId: 'st-1-scanner',
        username: 'st-1-scanner',
        password: secrets['st-1-scanner'],
        ca: readFileSync(join(dir, 'cert.pem')),
        reconnectPeriod: 0,
        connectTimeout: 10_000,
      },
      false,
    );
    expect(c.connected).toBe(true);
    await c.endAsync(true);
    await expect(
      connectAsync(
        `mqtts://127.0.0.1:${g.info.mqttTlsPort}`,
        { clientId: 'st-1-scanner', username: 'st-1-scanner', password: 'wrong', ca: readFileSync(join(dir, 'cert.pem')), reconnectPeriod: 0 },
        false,
      ),
    ).rejects.toThrow();
  });
});

type Level = 'none' | 'read' | 'scan' | 'admin';
type Scope = 'any' | 'param' | 'shipment' | 'order' | 'job' | 'route' | '-';

/**
 * Every route, the token level it needs and how a station token (`packline token add
 * --station`) is scoped on it (`config.auth`, `config.station` in gateway/src/http/routes):
 * the table of docs/http.md "Tokens", read from there so the doc and this matrix cannot part.
 */
function routeTable(): Record<string, readonly [Level, Scope]> {
  const doc = readFileSync(join(repoRoot, 'docs/http.md'), 'utf8');
  const section = doc.slice(doc.indexOf('<!-- token-table -->'), doc.indexOf('<!-- /token-table -->'));
  const rows: Record<string, readonly [Level, Scope]> = {};
  for (const m of section.matchAll(/^\| `([A-Z]+ [^`]+)` \| `(none|read|scan|admin)` \| `(any|param|shipment|order|job|route|-)`/gm)) {
    rows[m[1] as string] = [m[2] as Level, m[3] as Scope];
  }
  return rows;
}
const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '../../..');
const ROUTE_AUTH = routeTable();

describe('a running gateway: API tokens, brute force, secrets in logs', () => {
  let dir: string;
  let g: Running;
  let shipmentId: string;
  /** Station tokens the matrix issued (the log test looks for them too). */
  const issued: string[] = [];
  beforeAll(async () => {
    dir = tempDir('pkl-sec-run-');
    g = await startGateway(dir);
    expect((await importOrders(g.info.httpUrl, g.info.tokens.admin, [wireOrder('O-7001'), wireOrder('O-7002'), wireOrder('O-7003')])).status).toBe(200);
  });
  afterAll(async () => {
    await g?.gateway.stop();
  });

  const app = () => (g.gateway as unknown as { app: import('fastify').FastifyInstance }).app;

  it('every route × {no token, wrong token, all-stations, st-1, st-2, admin} answers as docs/http.md says', async () => {
    expect(Object.keys(ROUTE_AUTH).length).toBeGreaterThan(25);
    const doc = (app() as unknown as { swagger(): { paths: Record<string, Record<string, unknown>> } }).swagger();
    const routes = Object.entries(doc.paths).flatMap(([path, ops]) => Object.keys(ops).map((m) => `${m.toUpperCase()} ${path}`));
    // A new route must be added to the table in docs/http.md (and so to this matrix).
    expect(routes.filter((r) => r.includes('/api/') && !(r in ROUTE_AUTH))).toEqual([]);
    // Station tokens issued with the CLI while the gateway runs; an order that was at st-1.
    const issue = async (station: string) => {
      const r = await cli(dir, ['token', 'add', '--station', station]);
      expect(r.code, r.stderr).toBe(0);
      return (r.stdout.trim().split('\t')[1] ?? '') as string;
    };
    const st1 = await issue('st-1');
    const st2 = await issue('st-2');
    issued.push(st1, st2);
    const opened = await app().inject({
      method: 'POST',
      url: '/api/v1/stations/st-1/scan',
      headers: { authorization: `Bearer ${st1}` },
      payload: { code: 'PS-O-7003' },
    });
    expect(opened.statusCode, opened.body).toBe(200);
    const atSt1 = (opened.json() as { view: { shipment_id: string } }).view.shipment_id;
    const who = {
      none: undefined,
      wrong: wrongToken(g.info.tokens.admin),
      station: g.info.tokens.station,
      'st-1': st1,
      'st-2': st2,
      admin: g.info.tokens.admin,
    } as const;
    const wrongAnswers: string[] = [];
    let cells = 0;
    // Each route's callers come from their own LAN address: the HTTP login guard (auth.ts
    // HTTP_LOGIN_GUARD) slows a source after 50 wrong tokens, and this matrix sends one wrong
    // token per route — the guard has its own tests (login-guard.test.ts, login-flood.test.ts).
    let routeNo = 0;
    for (const [route, [level, scope]] of Object.entries(ROUTE_AUTH)) {
      routeNo++;
      const remoteAddress = `10.77.${Math.floor(routeNo / 250)}.${(routeNo % 250) + 1}`;
      const [method, path] = route.split(' ') as [string, string];
      const url = path.replace(
        /\{(\w+)\}/g,
        (_m, p: string) => ({ stationId: 'st-1', orderId: 'O-7003', shipmentId: atSt1, jobId: 'j-none', printerId: 'st-1-printer' })[p] ?? 'x',
      );
      for (const [name, token] of Object.entries(who)) {
        cells++;
        const res = await app().inject({
          method: method as 'GET',
          url,
          remoteAddress,
          headers: token ? { authorization: `Bearer ${token}` } : {},
          ...((method === 'POST' || method === 'PUT') && { payload: {} }),
        });
        const code = res.statusCode >= 400 ? (JSON.parse(res.body) as { error: { code: string } }).error.code : 'ok';
        const scoped = name === 'st-1' || name === 'st-2';
        // The resources in the URLs are st-1's; a print job of no shipment is nobody's station's.
        const inScope = scope === 'any' || scope === 'route' || (name === 'st-1' && (scope === 'param' || scope === 'shipment' || scope === 'order'));
        const expected =
          level === 'none'
            ? 'pass'
            : name === 'none' || name === 'wrong'
              ? 'PKL_UNAUTHORIZED'
              : level === 'admin' && name !== 'admin'
                ? 'PKL_FORBIDDEN'
                : scoped && !inScope
                  ? 'PKL_TOKEN_STATION_SCOPE'
                  : 'pass';
        const got = ['PKL_UNAUTHORIZED', 'PKL_FORBIDDEN', 'PKL_TOKEN_STATION_SCOPE'].includes(code) ? code : 'pass';
        if (got !== expected) wrongAnswers.push(`${route} as ${name}: ${res.statusCode} ${code}, expected ${expected}`);
      }
    }
    console.log(
      `API token matrix: ${Object.keys(ROUTE_AUTH).length} routes × ${Object.keys(who).length} callers = ${cells} cells, ${wrongAnswers.length} wrong`,
    );
    expect(wrongAnswers).toEqual([]);

    // token list names them, never their values; a revoked one is refused at the next request.
    const list = await cli(dir, ['token', 'list']);
    expect(list.code, list.stderr).toBe(0);
    expect(list.stdout).toMatch(/^tk-[0-9a-f]{8} +station +st-1 +issued/m);
    for (const t of [st1, st2, g.info.tokens.admin, g.info.tokens.station]) expect(list.stdout).not.toContain(t);
    const id = /^(tk-[0-9a-f]{8}) +station +st-2/m.exec(list.stdout)?.[1] as string;
    expect((await cli(dir, ['token', 'revoke', id])).code).toBe(0);
    const revoked = await app().inject({ method: 'GET', url: '/api/v1/stations', headers: { authorization: `Bearer ${st2}` } });
    expect(revoked.statusCode).toBe(401);
    expect((await cli(dir, ['token', 'add'])).code).toBe(1); // neither --station nor --admin
  });

  it("the live view: a station token watches its own station (no station in the hello: the token's), another is closed with 4403", async () => {
    const add = await cli(dir, ['token', 'add', '--station', 'st-1']);
    const st1 = add.stdout.trim().split('\t')[1] as string;
    issued.push(st1);
    const hello = (payload: Record<string, unknown>) =>
      new Promise<{ messages: Array<Record<string, unknown>>; close: number }>((done, fail) => {
        const ws = new WebSocket(`${g.info.httpUrl.replace(/^http/, 'ws')}/ui/live`);
        const messages: Array<Record<string, unknown>> = [];
        ws.on('open', () => ws.send(JSON.stringify({ type: 'hello', ...payload })));
        ws.on('message', (data) => {
          messages.push(JSON.parse(String(data)) as Record<string, unknown>);
          if (messages.some((m) => m['type'] === 'view')) ws.close(1000);
        });
        ws.on('close', (close) => done({ messages, close }));
        ws.on('error', fail);
      });
    const own = await hello({ token: st1 });
    expect(own.messages[0]).toMatchObject({ type: 'welcome', role: 'station', station: 'st-1' });
    expect(own.messages.find((m) => m['type'] === 'view')).toMatchObject({ view: { station_id: 'st-1' } });
    const other = await hello({ token: st1, station: 'st-2' });
    expect(other.close).toBe(4403);
    expect(other.messages[0]).toMatchObject({ type: 'error', error: { code: 'PKL_TOKEN_STATION_SCOPE' } });
    // The all-stations token still picks any station.
    const all = await hello({ token: g.info.tokens.station, station: 'st-1' });
    expect(all.messages[0]).toMatchObject({ type: 'welcome', station: null });
  });

  it('locks a supervisor out after repeated wrong passwords through HTTP, even for the right one', async () => {
    const add = await cli(dir, ['supervisor', 'add', 'li'], `${PASSWORD}\n`);
    expect(add.code, add.stderr).toBe(0);
    const opened = await app().inject({
      method: 'POST',
      url: '/api/v1/stations/st-1/scan',
      headers: { authorization: `Bearer ${g.info.tokens.station}` },
      payload: { code: 'PS-O-7001' },
    });
    expect(opened.statusCode, opened.body).toBe(200);
    shipmentId = (opened.json() as { view: { shipment_id: string } }).view.shipment_id;
    const reprint = (password: string, n: number) =>
      app().inject({
        method: 'POST',
        url: `/api/v1/shipments/${shipmentId}/reprint`,
        headers: { authorization: `Bearer ${g.info.tokens.station}` },
        payload: { supervisor: 'li', password, request_id: `rq-${n}` },
      });
    const codes: string[] = [];
    for (let i = 0; i < MAX_FAILURES + 2; i++) codes.push((await reprint(`guess-${i}-${PASSWORD}`, i)).json().error.code as string);
    expect(codes.slice(0, MAX_FAILURES)).toEqual(Array(MAX_FAILURES).fill('PKL_SUPERVISOR_PASSWORD_WRONG'));
    expect(codes.slice(MAX_FAILURES)).toEqual(['PKL_REPRINT_LOCKED', 'PKL_REPRINT_LOCKED']);
    const right = await reprint(PASSWORD, 99);
    expect(right.statusCode).toBe(429);
    expect(right.json().error.code).toBe('PKL_REPRINT_LOCKED');
    expect(Number(right.headers['retry-after'])).toBeGreaterThan(0);
  });

  it('never logs a device secret, an API token or a password (gateway at trace level, the CLI too)', async () => {
    const secrets = Object.fromEntries(g.info.issued.map((s) => [s.deviceId, s.secret]));
    // Devices connect with their secrets; one tries a wrong one (a refused CONNECT is logged).
    const scanner = await device(g.info.mqttUrl as string, 'st-1-scanner', secrets['st-1-scanner'] as string);
    await scanner.publishAsync('dev/st-1-scanner/evt/scan', JSON.stringify({ msg_id: 'log-1', code: 'PS-O-7002' }), { qos: 1 });
    await scanner.endAsync(true);
    const wrongSecret = `${secrets['st-1-scale']}-wrong`;
    await expect(device(g.info.mqttUrl as string, 'st-1-scale', wrongSecret)).rejects.toThrow();
    // Tokens in headers, right and wrong, over the real socket.
    for (const token of [g.info.tokens.admin, g.info.tokens.station, ...issued, 'not-a-token-0123456789']) {
      await fetch(`${g.info.httpUrl}/api/v1/stations`, { headers: { authorization: `Bearer ${token}` } });
    }
    // A supervisor added with the CLI; reprints with right and wrong passwords.
    const other = `${PASSWORD}-wang`;
    const add = await cli(dir, ['supervisor', 'add', 'wang'], `${other}\n`);
    expect(add.code, add.stderr).toBe(0);
    for (const password of [other, 'wrong-password-123']) {
      await fetch(`${g.info.httpUrl}/api/v1/shipments/${shipmentId}/reprint`, {
        method: 'POST',
        headers: { authorization: `Bearer ${g.info.tokens.station}`, 'content-type': 'application/json' },
        body: JSON.stringify({ supervisor: 'wang', password, request_id: `rq-log-${password.length}` }),
      });
    }
    const text = [...g.logs, add.stdout, add.stderr].join('\n');
    expect(g.logs.length).toBeGreaterThan(20); // the log did capture the activity
    const leaks = [...Object.values(secrets), wrongSecret, g.info.tokens.admin, g.info.tokens.station, ...issued, PASSWORD, other, 'wrong-password-123'].filter(
      (s) => text.includes(s),
    );
    expect(leaks).toEqual([]);
  });
});

/** The admin token with its last two characters changed: always a different token (a random token may end in "xx"). */
function wrongToken(token: string): string {
  return `${token.slice(0, -2)}${token.endsWith('xx') ? 'yy' : 'xx'}`;
}
