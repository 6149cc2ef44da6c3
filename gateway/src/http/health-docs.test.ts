import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type HttpHarness, asAdmin, makeHttpHarness, wireOrder } from '../../test/support/http-harness.js';

let h: HttpHarness;
beforeAll(async () => {
  h = await makeHttpHarness();
});
afterAll(async () => {
  await h.close();
});

describe('health', () => {
  it('GET /healthz answers without a token', async () => {
    const res = await h.app.inject({ method: 'GET', url: '/healthz' });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ status: 'ok', version: '0.0.0-test', gateway_id: 'gw-test' });
    expect(res.json().uptime_s).toBeGreaterThanOrEqual(0);
  });

  it('GET /readyz is 200 when ready and 503 with the failing checks when not', async () => {
    h.readiness = { ready: true, checks: { store: { ok: true }, broker: { ok: true } } };
    const ok = await h.app.inject({ method: 'GET', url: '/readyz' });
    expect(ok.statusCode).toBe(200);
    expect(ok.json()).toEqual({ ready: true, checks: { store: { ok: true }, broker: { ok: true } } });

    h.readiness = {
      ready: false,
      checks: { store: { ok: true }, disk: { ok: false, detail: '120 MB free, need 200 MB' } },
    };
    const down = await h.app.inject({ method: 'GET', url: '/readyz' });
    expect(down.statusCode).toBe(503);
    expect(down.json()).toEqual({
      ready: false,
      checks: { store: { ok: true }, disk: { ok: false, detail: '120 MB free, need 200 MB' } },
    });
  });
});

describe('GET /metrics', () => {
  it('serves Prometheus text with the required series and scrape-time collectors', async () => {
    h.metrics.shipment('shipped');
    h.metrics.observeScanToPrint(0.042);
    h.metrics.mqttMessage('in', 3);
    h.metrics.mqttRefusal('acl_publish');
    const stop = h.metrics.collectFrom(() => {
      h.metrics.setEventLogSeq(h.store.stats().lastSeq);
      h.metrics.setStoreCommitsTotal(h.store.stats().commits);
      h.metrics.setDevicesOnline(7);
    });
    await h.app.inject({ method: 'POST', url: '/api/v1/orders', headers: asAdmin, payload: [wireOrder('O1')] });

    const res = await h.app.inject({ method: 'GET', url: '/metrics' });
    stop();
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/plain; version=0\.0\.4/);
    const text = res.body;
    expect(text).toContain('packline_shipments_total{result="shipped"} 1');
    expect(text).toContain('packline_shipments_total{result="intercepted"} 0');
    expect(text).toContain('packline_scan_to_print_seconds_bucket{le="0.05"} 1');
    expect(text).toContain('packline_scan_to_print_seconds_bucket{le="0.025"} 0');
    expect(text).toContain('packline_devices_online 7');
    expect(text).toContain('packline_mqtt_messages_total{direction="in"} 3');
    expect(text).toContain('packline_mqtt_refused_total{reason="acl_publish"} 1');
    expect(text).toContain('packline_mqtt_refused_total{reason="rate_limited"} 0');
    expect(text).toContain('packline_store_commits_total 1');
    expect(text).toContain('packline_event_log_seq 1');
    expect(text).toContain('process_cpu_user_seconds_total');
    expect(text).toContain('nodejs_heap_size_used_bytes');
    // Requests are counted by route pattern, never by raw URL.
    expect(text).toMatch(/packline_http_requests_total\{method="POST",route="\/api\/v1\/orders",status="200"\} 1/);
    // Not JSON-encoded.
    expect(text.startsWith('"')).toBe(false);
  });
});

describe('OpenAPI', () => {
  it('serves a valid OpenAPI 3 document at /docs/json listing every route', async () => {
    const res = await h.app.inject({ method: 'GET', url: '/docs/json' });
    expect(res.statusCode).toBe(200);
    const doc = res.json();
    expect(doc.openapi).toMatch(/^3\.0\.\d$/);
    expect(doc.info).toMatchObject({ title: 'Packline gateway API', version: '0.0.0-test' });
    expect(doc.components.securitySchemes.bearerAuth).toEqual(expect.objectContaining({ type: 'http', scheme: 'bearer' }));
    const ops = Object.entries(doc.paths as Record<string, Record<string, unknown>>).flatMap(([path, item]) =>
      Object.keys(item).map((m) => `${m.toUpperCase()} ${path}`),
    );
    expect(ops.sort()).toEqual(
      [
        'GET /healthz',
        'GET /readyz',
        'GET /metrics',
        'POST /api/v1/orders',
        'GET /api/v1/orders/{orderId}',
        'GET /api/v1/stations',
        'GET /api/v1/stations/{stationId}',
        'POST /api/v1/stations/{stationId}/override',
        'POST /api/v1/stations/{stationId}/release',
        'POST /api/v1/stations/{stationId}/scan',
        'GET /api/v1/shipments',
        'GET /api/v1/shipments/{shipmentId}',
        'GET /api/v1/events',
        'GET /api/v1/sync',
        'GET /api/v1/sync/failures',
        'POST /api/v1/sync/failures/retry',
        'GET /api/v1/sync/reconciliation',
        'GET /api/v1/print/exceptions',
        'POST /api/v1/shipments/{shipmentId}/reprint',
        'POST /api/v1/shipments/{shipmentId}/ship-unlabelled',
        'GET /api/v1/print/jobs/{jobId}/preview.png',
        'GET /api/v1/shipments/{shipmentId}/label.png',
        'GET /api/v1/token',
        'POST /api/v1/printers/{printerId}/test-page',
        'GET /api/v1/provisioned-stations',
        'PUT /api/v1/provisioned-stations/{stationId}',
        'DELETE /api/v1/provisioned-stations/{stationId}',
      ].sort(),
    );
    for (const [path, item] of Object.entries(doc.paths as Record<string, Record<string, any>>)) {
      for (const [method, op] of Object.entries(item)) {
        const where = `${method} ${path}`;
        expect(op.responses?.['200'], where).toBeDefined();
        expect(op.responses?.['4XX'] ?? op.responses?.['4xx'], where).toBeDefined();
        expect(typeof op.summary, where).toBe('string');
        if (path.startsWith('/api/')) expect(op.security, where).toEqual([{ bearerAuth: [] }]);
        else expect(op.security, where).toBeUndefined();
        for (const p of op.parameters ?? []) expect(['path', 'query'], where).toContain(p.in);
        for (const name of path.match(/\{(\w+)\}/g) ?? []) {
          const param = (op.parameters ?? []).find((p: { name: string; in: string }) => `{${p.name}}` === name);
          expect(param, `${where} declares ${name}`).toMatchObject({ in: 'path', required: true });
        }
      }
    }
    expect(doc.paths['/api/v1/orders'].post.requestBody.content['application/json'].schema.type).toBe('array');
    const query = doc.paths['/api/v1/shipments'].get.parameters.map((p: { name: string }) => p.name);
    expect(query.sort()).toEqual(['after', 'before', 'limit', 'order', 'state', 'station']);
    // Every $ref resolves inside the document.
    const refs = JSON.stringify(doc).match(/"\$ref":"[^"]+"/g) ?? [];
    for (const ref of refs) {
      const pointer = ref.slice(9, -1);
      expect(pointer.startsWith('#/'), pointer).toBe(true);
      const target = pointer
        .slice(2)
        .split('/')
        .reduce<any>((node, key) => node?.[key], doc);
      expect(target, pointer).toBeDefined();
    }
  });

  it('serves the UI at /docs from local assets only', async () => {
    const page = await h.app.inject({ method: 'GET', url: '/docs' });
    expect(page.statusCode).toBe(200);
    expect(page.headers['content-type']).toMatch(/text\/html/);
    expect(page.body).not.toMatch(/(src|href)="(https?:)?\/\//);
    const csp = String(page.headers['content-security-policy']);
    expect(csp).toContain("default-src 'self'");
    expect(csp).not.toContain('upgrade-insecure-requests');
    const assets = [...page.body.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1] as string);
    expect(assets).toContain('/docs/static/swagger-ui-bundle.js');
    for (const asset of assets) {
      const res = await h.app.inject({ method: 'GET', url: asset });
      expect(res.statusCode, asset).toBe(200);
    }
  });
});
