import { afterEach, describe, expect, it } from 'vitest';
import { asAdmin, type HttpHarness, makeHttpHarness } from '../../test/support/http-harness.js';
import type { AddressInfo } from 'node:net';
import { connect } from 'node:net';
import { hasDotDotSegment, hostOf, makeHostCheck, originAllowed } from './request-guard.js';

let h: HttpHarness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

describe('Host and Origin rules', () => {
  const ok = makeHostCheck(['packline.wh3.example'], 'pi-gw');
  it.each([
    ['192.168.1.20:8080', true],
    ['[fe80::1]:8080', true],
    ['localhost:8080', true],
    ['pi-gw', true],
    ['PI-GW.local:8080', true],
    ['packline.wh3.example:8443', true],
    ['packline.wh3.example.', true],
    ['evil.example:8080', false],
    ['192.168.1.20.evil.example', false],
    ['', false],
  ])('Host %s → %s', (host, expected) => {
    expect(ok(hostOf(host))).toBe(expected);
  });
  it.each([
    [undefined, true],
    ['http://192.168.1.20:8080', true],
    ['https://packline.wh3.example', true],
    ['http://evil.example', false],
    ['null', false],
    ['file://', false],
  ])('Origin %s → %s', (origin, expected) => {
    expect(originAllowed(origin, ok)).toBe(expected);
  });
});

describe('request guard on the API', () => {
  it('sets nosniff, no-referrer, DENY framing and no-store on API answers, errors included', async () => {
    h = await makeHttpHarness();
    for (const [url, headers] of [
      ['/api/v1/stations', asAdmin],
      ['/api/v1/stations', {}], // 401
      ['/api/v1/nope', asAdmin], // 404
    ] as const) {
      const res = await h.app.inject({ method: 'GET', url, headers });
      expect(res.headers['x-content-type-options'], url).toBe('nosniff');
      expect(res.headers['referrer-policy']).toBe('no-referrer');
      expect(res.headers['x-frame-options']).toBe('DENY');
      expect(res.headers['cache-control']).toBe('no-store');
    }
    expect((await h.app.inject({ method: 'GET', url: '/healthz' })).headers['x-content-type-options']).toBe('nosniff');
  });

  it('refuses a foreign Host (421) and a foreign Origin (403) before the token is even looked at', async () => {
    h = await makeHttpHarness({ config: { http: { allowedHosts: ['packline.wh3.example'] } } });
    const get = (headers: Record<string, string>) => h!.app.inject({ method: 'GET', url: '/api/v1/stations', headers: { ...asAdmin, ...headers } });
    const rebound = await get({ host: 'attacker.example:8080' });
    expect(rebound.statusCode).toBe(421);
    expect(rebound.json()).toMatchObject({ error: { code: 'PKL_HOST_NOT_ALLOWED' } });
    expect((await get({ host: 'packline.wh3.example:8080' })).statusCode).toBe(200);
    expect((await get({ host: '10.1.2.3:8080' })).statusCode).toBe(200);
    const crossSite = await get({ host: '10.1.2.3:8080', origin: 'http://attacker.example' });
    expect(crossSite.statusCode).toBe(403);
    expect(crossSite.json()).toMatchObject({ error: { code: 'PKL_ORIGIN_NOT_ALLOWED' } });
    expect((await get({ host: '10.1.2.3:8080', origin: 'http://10.1.2.3:8080' })).statusCode).toBe(200);
  });

  it('answers a path traversal under /docs/static with 404 and logs no error (raw request line, as curl --path-as-is sends it)', async () => {
    h = await makeHttpHarness();
    await h.app.listen({ port: 0, host: '127.0.0.1' });
    const port = (h.app.server.address() as AddressInfo).port;
    const raw = (path: string) =>
      new Promise<string>((resolve) => {
        const s = connect(port, '127.0.0.1', () => s.write(`GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n`));
        let out = '';
        s.on('data', (b: Buffer) => (out += b.toString()));
        s.on('end', () => resolve(out));
      });
    for (const path of [
      '/docs/static/../../../../etc/passwd',
      '/docs/static/..%2f..%2f..%2fetc%2fpasswd',
      '/docs/static/%2e%2e/%2e%2e/etc/passwd',
      '/docs/static/..\\..\\etc\\passwd',
    ]) {
      const res = await raw(path);
      expect(res.split('\r\n')[0], path).toBe('HTTP/1.1 404 Not Found');
      expect(res).toContain('PKL_NOT_FOUND');
      expect(res).not.toContain('root:');
    }
    const errors = h.logs.map((l) => JSON.parse(l) as { level: number }).filter((l) => l.level >= 50);
    expect(errors).toEqual([]);
    expect(hasDotDotSegment('/docs/static/swagger-ui.css')).toBe(false);
    expect(hasDotDotSegment('/api/v1/orders/a..b')).toBe(false);
  });
});
