/**
 * HTTP bodies and query strings against the real app of a running gateway (fastify
 * `inject()`: the real routes, schemas, auth hook, error handler, station runtime, store).
 * Routes come from the app's own OpenAPI document, so a new route is fuzzed without a change
 * here. Inputs: valid bodies with fields dropped/replaced/added, any JSON, broken JSON, random
 * bytes, wrong media types, oversized bodies; path parameters real, nasty or percent-garbled;
 * query strings with the route's own keys and unknown ones, repeated keys and nasty values;
 * the admin token mostly, sometimes the station token, none or a wrong one.
 *
 * Oracle: 2xx/3xx is accepted; any 4xx/5xx must be `{ error: { code, message, message_zh } }`
 * with a catalogue code and that code's HTTP status; PKL_INTERNAL (an unhandled error, the
 * handler's "this is a bug") and an error logged by the gateway are failures.
 */
import fc from 'fast-check';
import { ERRORS, isErrorCode } from '../../../../contracts/errors.js';
import { wireOrder } from '../../support/floor.js';
import { startGatewayRig, type GatewayRig } from '../gateway-rig.js';
import { jsonish, mutatedObject, NASTY_STRINGS, Rng } from '../gen.js';
import { describeThrown, type FuzzTarget, type Tally } from '../harness.js';

interface Route {
  method: string;
  path: string;
  queryKeys: string[];
}

function routesOf(rig: GatewayRig): Route[] {
  const doc = (rig.app as unknown as { swagger(): { paths: Record<string, Record<string, { parameters?: Array<{ in: string; name: string }> }>> } }).swagger();
  const out: Route[] = [];
  for (const [path, ops] of Object.entries(doc.paths)) {
    for (const [method, op] of Object.entries(ops)) {
      out.push({ method: method.toUpperCase(), path, queryKeys: (op.parameters ?? []).filter((p) => p.in === 'query').map((p) => p.name) });
    }
  }
  return out;
}

function sampleBodies(rig: GatewayRig): Record<string, unknown[]> {
  return {
    '/api/v1/orders': [[wireOrder('O-F1')], [wireOrder('O-F2', { flags: { cancelled: true } }), wireOrder('O-F3')]],
    '/api/v1/stations/{stationId}/scan': [{ code: rig.orderCodes[5] }, { code: '6901234567892', operator: 'op-1' }],
    '/api/v1/stations/{stationId}/override': [{ supervisor: 'li', note: 'checked by hand' }],
    '/api/v1/shipments/{shipmentId}/reprint': [{ supervisor: 'li', password: 'wrong password here', request_id: 'rq-1', note: 'smudged' }],
    '/api/v1/sync/failures/retry': [{ seqs: [1, 2, 3] }, { all: true }],
    '/api/v1/printers/{printerId}/test-page': [{}, { copies: 1 }],
  };
}

const PARAM_VALUES: Record<string, readonly string[]> = {
  stationId: ['st-1', 'st-2', 'st-9'],
  orderId: ['O-1000', 'O-1001', 'O-F1', 'O-none'],
  shipmentId: ['S-1', 'gw-test-1-1'],
  jobId: ['job-1', 'j'],
  printerId: ['st-1-printer', 'st-2-printer', 'st-1-scale'],
};

const CONTENT_TYPES = [
  'application/json',
  'application/json; charset=utf-8',
  'text/plain',
  'application/x-www-form-urlencoded',
  'multipart/form-data; boundary=x',
  'application/jsonx',
  '',
  '*/*',
  'application/json; charset=latin1',
];

/** encodeURIComponent, which throws on a lone surrogate: those go as their UTF-8 replacement bytes. */
function enc(s: string): string {
  return encodeURIComponent(Buffer.from(s, 'utf8').toString('utf8'));
}

function garble(rng: Rng, s: string): string {
  const r = rng.next();
  if (r < 0.6) return enc(s);
  if (r < 0.8) return s.replace(/[^A-Za-z0-9-]/g, (c) => `%${c.charCodeAt(0).toString(16)}`); // may be invalid UTF-8 %-escapes
  return rng.pick(['%', '%zz', '%ff%fe', '..', '%2e%2e', '%00', 'a%2Fb', 'x'.repeat(2000)]);
}

export const httpApiTarget: FuzzTarget = {
  name: 'http-api',
  description: 'HTTP bodies, path params and query strings on every route of the real app (inject) with admin/station/no/wrong tokens',
  batchSize: 500,
  async open() {
    const rig = await startGatewayRig();
    const routes = routesOf(rig);
    const bodies = sampleBodies(rig);
    // A shipment id that exists, so shipment routes also take their found paths.
    const opened = await rig.app.inject({
      method: 'POST',
      url: '/api/v1/stations/st-1/scan',
      headers: { authorization: `Bearer ${rig.info.tokens.admin}` },
      payload: { code: rig.orderCodes[4] },
    });
    const shipment = (opened.json() as { view?: { shipment_id?: string } }).view?.shipment_id;
    const params = { ...PARAM_VALUES, shipmentId: [...(PARAM_VALUES.shipmentId as string[]), ...(shipment ? [shipment] : [])] };
    return {
      async batch(seed: number, count: number, tally: Tally) {
        const rng = new Rng(seed);
        const values = fc.sample(jsonish, { seed, numRuns: 64 });
        const docs = fc.sample(jsonish, { seed: seed ^ 0x77, numRuns: count });
        for (let i = 0; i < count; i++) {
          const route = rng.chance(0.95)
            ? rng.pick(routes)
            : {
                method: rng.pick(['GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS']),
                path: rng.pick(['/api/v1/x', '/api/v2/orders', '/', '/api/v1/orders/']),
                queryKeys: [],
              };
          const method = rng.chance(0.97) ? route.method : rng.pick(['GET', 'POST', 'PUT', 'DELETE', 'HEAD']);
          const path = route.path.replace(/\{(\w+)\}/g, (_m, name: string) =>
            rng.chance(0.7) ? rng.pick(params[name as keyof typeof params] ?? ['x']) : garble(rng, rng.pick(NASTY_STRINGS)),
          );
          const q: string[] = [];
          for (let k = rng.range(0, 4); k > 0; k--) {
            const key = route.queryKeys.length > 0 && rng.chance(0.7) ? rng.pick(route.queryKeys) : rng.pick(['x', 'limit', 'after', '__proto__', 'a[b]', '']);
            const raw = rng.chance(0.5) ? String(rng.pick([0, 1, -1, 20, 1e21, 2 ** 53, 'NaN', 'true', '1.5', '', 'O-1000', 'st-1'])) : rng.pick(NASTY_STRINGS);
            q.push(`${enc(key)}=${rng.chance(0.8) ? enc(raw) : garble(rng, raw)}`);
          }
          const url = q.length > 0 ? `${path}?${q.join('&')}` : path;
          const headers: Record<string, string> = {};
          const who = rng.next();
          if (who < 0.85) headers.authorization = `Bearer ${rig.info.tokens.admin}`;
          else if (who < 0.92) headers.authorization = `Bearer ${rig.info.tokens.station}`;
          else if (who < 0.96)
            headers.authorization = rng.pick(['Bearer', 'Bearer x', `Basic ${rig.info.tokens.admin}`, `Bearer ${rig.info.tokens.admin} x`, 'Bearer \u00ff']);
          let payload: string | Buffer | undefined;
          if (method !== 'GET' && method !== 'HEAD') {
            const samples = bodies[route.path];
            const r = rng.next();
            if (r < 0.45 && samples) {
              const s = rng.pick(samples);
              payload = JSON.stringify(
                rng.chance(0.3)
                  ? s
                  : Array.isArray(s)
                    ? s.map((o) => (rng.chance(0.5) ? mutatedObject(rng, o as Record<string, unknown>, values) : o))
                    : mutatedObject(rng, s as Record<string, unknown>, values),
              );
            } else if (r < 0.75) payload = JSON.stringify(docs[i]) ?? '';
            else if (r < 0.85) payload = (JSON.stringify(samples ? rng.pick(samples) : docs[i]) ?? '').slice(0, rng.int(60));
            else if (r < 0.93) payload = Buffer.from(rng.bytes(rng.range(0, 64)));
            else if (r < 0.97) payload = '';
            else payload = JSON.stringify({ pad: 'x'.repeat(rng.range(60_000, 80_000)) });
            headers['content-type'] = rng.chance(0.85) ? 'application/json' : rng.pick(CONTENT_TYPES);
            if (headers['content-type'] === '') delete headers['content-type'];
          } else if (rng.chance(0.05)) {
            payload = JSON.stringify(docs[i]) ?? '';
            headers['content-type'] = 'application/json';
          }
          const input = {
            method,
            url,
            headers: { ...headers, authorization: headers.authorization ? '[token]' : undefined },
            payload: typeof payload === 'string' ? payload.slice(0, 300) : payload,
          };
          try {
            const res = await rig.app.inject({ method: method as 'GET', url, headers, ...(payload !== undefined && { payload }) });
            if (res.statusCode < 400) {
              tally.accept();
              continue;
            }
            let error: { code?: unknown; message?: unknown; message_zh?: unknown } | undefined;
            try {
              error = (JSON.parse(res.body) as { error?: typeof error }).error;
            } catch {
              error = undefined;
            }
            if (method === 'HEAD' && res.body === '') {
              tally.reject(`HEAD ${res.statusCode}`); // HEAD answers carry no body (RFC 9110 §9.3.2)
            } else if (!error || !isErrorCode(error.code) || typeof error.message !== 'string' || typeof error.message_zh !== 'string') {
              tally.fail(seed, i, input, `status ${res.statusCode} without a catalogue error body: ${res.body.slice(0, 200)}`);
            } else if (error.code === 'PKL_INTERNAL') {
              tally.fail(seed, i, input, `unhandled error (PKL_INTERNAL): ${res.body.slice(0, 200)}`);
            } else if (ERRORS[error.code].http !== res.statusCode) {
              tally.fail(seed, i, input, `${error.code} answered with status ${res.statusCode}, catalogue says ${ERRORS[error.code].http}`);
            } else tally.reject(error.code);
          } catch (err) {
            tally.fail(seed, i, input, `inject threw ${describeThrown(err)}`);
          }
          for (const e of rig.takeErrors().slice(0, 3)) tally.fail(seed, i, input, `gateway logged an error: ${e.slice(0, 500)}`, true);
        }
      },
      close: () => rig.close(),
    };
  },
};
