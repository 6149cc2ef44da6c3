import { afterEach, describe, expect, it } from 'vitest';
import { ADMIN_TOKEN, type HttpHarness, STATION_TOKEN, asAdmin, asStation, makeHttpHarness, wireOrder } from '../../test/support/http-harness.js';
import { makeTokenChecker } from './auth.js';

let h: HttpHarness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

type Call = { method: 'GET' | 'POST'; url: string; payload?: unknown };
const READS: Call[] = [
  { method: 'GET', url: '/api/v1/orders/O1' },
  { method: 'GET', url: '/api/v1/stations' },
  { method: 'GET', url: '/api/v1/stations/st-1' },
  { method: 'GET', url: '/api/v1/shipments' },
  { method: 'GET', url: '/api/v1/shipments/S-1' },
];
const SCAN: Call = { method: 'POST', url: '/api/v1/stations/st-1/scan', payload: { code: 'PKO1' } };
const ADMIN_ONLY: Call[] = [
  { method: 'POST', url: '/api/v1/orders', payload: [wireOrder('O1')] },
  { method: 'GET', url: '/api/v1/events' },
];

describe('bearer tokens', () => {
  it.each([
    ['no Authorization header', undefined],
    ['a wrong token', `Bearer ${ADMIN_TOKEN}x`],
    ['a token prefix', `Bearer ${ADMIN_TOKEN.slice(0, -1)}`],
    ['another scheme', `Basic ${Buffer.from(`admin:${ADMIN_TOKEN}`).toString('base64')}`],
    ['a bare token', ADMIN_TOKEN],
    ['an empty bearer', 'Bearer '],
  ])('answers %s with 401 PKL_UNAUTHORIZED on every /api route and changes nothing', async (_name, header) => {
    h = await makeHttpHarness();
    for (const call of [...READS, SCAN, ...ADMIN_ONLY]) {
      const res = await h.app.inject({
        method: call.method,
        url: call.url,
        headers: header === undefined ? {} : { authorization: header },
        ...(call.payload !== undefined && { payload: call.payload as object }),
      });
      expect(res.statusCode, `${call.method} ${call.url}`).toBe(401);
      expect(res.json().error).toMatchObject({ code: 'PKL_UNAUTHORIZED', message_zh: 'API 令牌缺失或错误' });
      expect(res.headers['www-authenticate']).toBe('Bearer realm="packline"');
    }
    expect(h.store.stats().lastSeq).toBe(0);
    expect(h.store.getOrder('O1')).toBeNull();
  });

  it('lets the station token read and scan but not import orders or read the event log', async () => {
    h = await makeHttpHarness();
    // Seed what the read routes look up, so each answers 200 when authorised.
    const seeded = await h.app.inject({ method: 'POST', url: '/api/v1/orders', headers: asAdmin, payload: [wireOrder('O0')] });
    expect(seeded.statusCode).toBe(200);
    const opened = await h.app.inject({ ...SCAN, method: 'POST', headers: asStation, payload: { code: 'PKO0' } });
    expect(opened.statusCode).toBe(200);
    const shipmentId: string = opened.json().view.shipment_id;
    for (const call of READS) {
      const url = call.url.replace('O1', 'O0').replace('S-1', shipmentId);
      const res = await h.app.inject({ method: call.method, url, headers: asStation });
      expect(res.statusCode, `${call.method} ${url}`).toBe(200);
    }
    for (const call of ADMIN_ONLY) {
      const res = await h.app.inject({
        method: call.method,
        url: call.url,
        headers: asStation,
        ...(call.payload !== undefined && { payload: call.payload as object }),
      });
      expect(res.statusCode, `${call.method} ${call.url}`).toBe(403);
      expect(res.json().error).toMatchObject({ code: 'PKL_FORBIDDEN', details: { action: 'use admin endpoints' } });
    }
    expect(h.store.getOrder('O1')).toBeNull();
    // The scheme is case-insensitive (RFC 7235 §2.1).
    const lower = await h.app.inject({
      method: 'GET',
      url: '/api/v1/stations',
      headers: { authorization: `bearer ${STATION_TOKEN}` },
    });
    expect(lower.statusCode).toBe(200);
  });

  it('checks the token before reading the body', async () => {
    h = await makeHttpHarness();
    const res = await h.app.inject({
      method: 'POST',
      url: '/api/v1/orders',
      headers: { 'content-type': 'application/json' },
      payload: '{not json',
    });
    expect(res.statusCode).toBe(401);
  });

  it('refuses weak or shared token configuration with PKL_CONFIG_INVALID', () => {
    expect(() => makeTokenChecker({ admin: 'short', station: STATION_TOKEN })).toThrow(expect.objectContaining({ code: 'PKL_CONFIG_INVALID' }));
    expect(() => makeTokenChecker({ admin: ADMIN_TOKEN, station: '' })).toThrow(/station API token/);
    expect(() => makeTokenChecker({ admin: ADMIN_TOKEN, station: ADMIN_TOKEN })).toThrow(/must differ/);
    const roleOf = makeTokenChecker({ admin: ADMIN_TOKEN, station: STATION_TOKEN });
    expect([roleOf(ADMIN_TOKEN), roleOf(STATION_TOKEN), roleOf(''), roleOf(`${STATION_TOKEN} `)]).toEqual(['admin', 'station', null, null]);
  });
});

describe('error answers', () => {
  it('answers unknown routes and methods with 404 PKL_NOT_FOUND', async () => {
    h = await makeHttpHarness();
    for (const [method, url] of [
      ['GET', '/nope'],
      ['GET', '/api/v2/stations'],
      ['DELETE', '/api/v1/orders'],
      ['GET', '/mqtt'],
    ] as const) {
      const res = await h.app.inject({ method, url, headers: asAdmin });
      expect(res.statusCode, url).toBe(404);
      expect(res.json().error).toMatchObject({ code: 'PKL_NOT_FOUND', details: { what: `${method} ${url}` } });
    }
  });

  it('answers a URL fastify cannot decode with a coded 400', async () => {
    h = await makeHttpHarness();
    const res = await h.app.inject({ method: 'GET', url: '/api/v1/orders/%E0%A4%A', headers: asAdmin });
    expect(res.statusCode).toBe(400);
    expect(res.json().error.code).toBe('PKL_PAYLOAD_INVALID');
  });

  it('turns an unexpected exception into 500 PKL_INTERNAL with a logged reference and no stack', async () => {
    h = await makeHttpHarness({
      stations: {
        list: () => {
          throw new TypeError('secret internal detail at /srv/packline/station.ts:42');
        },
      },
    });
    const res = await h.app.inject({ method: 'GET', url: '/api/v1/stations', headers: asStation });
    expect(res.statusCode).toBe(500);
    const { error } = res.json();
    expect(error.code).toBe('PKL_INTERNAL');
    expect(error.details.ref).toMatch(/^[0-9a-f]{12}$/);
    expect(res.body).not.toContain('secret internal detail');
    expect(res.body).not.toContain('station.ts');
    const logged = h.logs.map((l) => JSON.parse(l)).find((l) => l.ref === error.details.ref);
    expect(logged).toMatchObject({ level: 50, msg: 'unhandled error in HTTP request', url: '/api/v1/stations' });
    expect(logged.err.message).toContain('secret internal detail');
  });

  it('passes a PacklineError from a service through with its catalogue status', async () => {
    h = await makeHttpHarness({
      stations: {
        manualScan: async () => {
          const { PacklineError } = await import('../../../contracts/errors.js');
          throw new PacklineError('PKL_DISK_FULL', { freeMb: 12 });
        },
      },
    });
    const res = await h.app.inject({ ...SCAN, method: 'POST', headers: asStation, payload: { code: 'X1' } });
    expect(res.statusCode).toBe(507);
    expect(res.json().error).toEqual({
      code: 'PKL_DISK_FULL',
      message: 'Disk almost full (12 MB free); new work refused until space returns',
      message_zh: '磁盘将满（剩余 12 MB），暂停接收新任务',
      details: { freeMb: 12 },
    });
  });

  it('never logs the bearer token', async () => {
    h = await makeHttpHarness();
    await h.app.inject({ method: 'GET', url: '/api/v1/stations', headers: asAdmin });
    await h.app.inject({ method: 'GET', url: '/api/v1/stations', headers: { authorization: 'Bearer wrong-token-123' } });
    expect(h.logs.length).toBeGreaterThan(0);
    const all = h.logs.join('\n');
    expect(all).not.toContain(ADMIN_TOKEN);
    expect(all).not.toContain('wrong-token-123');
  });
});
