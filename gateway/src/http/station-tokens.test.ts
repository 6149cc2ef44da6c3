/**
 * Station tokens (`packline token add --station`) through the real app and store: a token for
 * st-1 acts and reads at st-1 only, and cannot cause a supervisor lockout anywhere else.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ADMIN_TOKEN, type HttpHarness, STATION_TOKEN, asAdmin, makeHttpHarness, wireOrder } from '../../test/support/http-harness.js';
import { hashSecret } from '../broker/secrets.js';
import { API_TOKENS_FILE, addToken, listTokens, revokeToken } from '../runtime/api-tokens.js';
import type { Shipment } from '../storage/types.js';

const PASSWORD = 'correct horse battery';
const MAX_FAILURES = 3;
let hash: string;
let h: HttpHarness;
let dir: string;
let st1: string;
let st2: string;
let admin2: string;

beforeAll(async () => {
  hash = await hashSecret(PASSWORD);
});

const base: Shipment = {
  shipmentId: 'S-1',
  orderId: 'O1',
  stationId: 'st-1',
  state: 'labelling',
  reasonCode: null,
  scanned: {},
  expectedGrams: 430,
  actualGrams: 432,
  carrier: 'ZTO',
  waybill: 'ZTO1',
  labelJobId: 'J-1',
  operator: null,
  openedAt: 1_000,
  updatedAt: 3_000,
  shippedAt: null,
};

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'pkl-st-tokens-'));
  writeFileSync(join(dir, API_TOKENS_FILE), JSON.stringify({ admin: ADMIN_TOKEN, station: STATION_TOKEN }), { mode: 0o600 });
  st1 = addToken(dir, { role: 'station', station: 'st-1' }).token;
  st2 = addToken(dir, { role: 'station', station: 'st-2' }).token;
  admin2 = addToken(dir, { role: 'admin', station: null, note: 'cloud' }).token;
  h = await makeHttpHarness({ tokensFile: join(dir, API_TOKENS_FILE), config: { printing: { reprint: { maxFailures: MAX_FAILURES, windowMs: 60_000 } } } });
  const res = await h.app.inject({ method: 'POST', url: '/api/v1/orders', headers: asAdmin, payload: [wireOrder('O1'), wireOrder('O2'), wireOrder('O3')] });
  expect(res.statusCode).toBe(200);
  const job = (jobId: string, shipmentId: string) => ({
    op: 'printjob.put' as const,
    job: {
      jobId,
      shipmentId,
      printerId: 'prn-1',
      format: 'zpl' as const,
      data: '^XA^XZ',
      state: 'printed' as const,
      reason: null,
      createdAt: 2_000,
      updatedAt: 3_000,
    },
  });
  await h.store.write([
    { op: 'supervisor.put', supervisor: { name: 'li', secretHash: hash, createdAt: 1, rotatedAt: 1 } },
    { op: 'shipment.put', shipment: base },
    job('J-1', 'S-1'),
    { op: 'shipment.put', shipment: { ...base, shipmentId: 'S-2', orderId: 'O2', stationId: 'st-2', waybill: 'ZTO2', labelJobId: 'J-2' } },
    job('J-2', 'S-2'),
  ]);
});

afterEach(async () => {
  await h.close();
  rmSync(dir, { recursive: true, force: true });
});

const as = (token: string) => ({ authorization: `Bearer ${token}` });
async function call(method: 'GET' | 'POST', url: string, token: string, payload?: unknown) {
  const res = await h.app.inject({ method, url, headers: as(token), ...(payload !== undefined && { payload: payload as object }) });
  return { status: res.statusCode, code: res.statusCode >= 400 ? (res.json() as { error: { code: string } }).error.code : 'ok', res };
}

describe('a station token', () => {
  it('acts and reads at its own station only (403 PKL_TOKEN_STATION_SCOPE elsewhere)', async () => {
    expect((await call('GET', '/api/v1/stations/st-1', st1)).code).toBe('ok');
    expect((await call('GET', '/api/v1/stations/st-2', st1)).code).toBe('PKL_TOKEN_STATION_SCOPE');
    expect((await call('POST', '/api/v1/stations/st-2/scan', st1, { code: 'PKO3' })).code).toBe('PKL_TOKEN_STATION_SCOPE');
    expect((await call('GET', '/api/v1/orders/O1', st1)).code).toBe('ok');
    const other = await call('GET', '/api/v1/orders/O2', st1);
    expect(other.status).toBe(403);
    expect(other.res.body).not.toContain('张三'); // no receiver data in the refusal
    expect(other.res.json().error).toMatchObject({ code: 'PKL_TOKEN_STATION_SCOPE', details: { tokenStation: 'st-1' } });
    // O3 has never been at a station: no station token reads its receiver.
    expect((await call('GET', '/api/v1/orders/O3', st1)).code).toBe('PKL_TOKEN_STATION_SCOPE');
    expect((await call('GET', '/api/v1/shipments/S-1', st1)).code).toBe('ok');
    expect((await call('GET', '/api/v1/shipments/S-2', st1)).code).toBe('PKL_TOKEN_STATION_SCOPE');
    expect((await call('GET', '/api/v1/print/jobs/J-2/preview.png', st1)).code).toBe('PKL_TOKEN_STATION_SCOPE');
    // Lists: its own station's rows, another station's filter refused.
    const list = await call('GET', '/api/v1/shipments', st1);
    expect((list.res.json() as { shipments: Array<{ station_id: string }> }).shipments.map((s) => s.station_id)).toEqual(['st-1']);
    expect((await call('GET', '/api/v1/shipments?station=st-2', st1)).code).toBe('PKL_TOKEN_STATION_SCOPE');
    // Admin routes stay admin; routes that hold no station's data are open to it.
    expect((await call('GET', '/api/v1/events', st1)).code).toBe('PKL_FORBIDDEN');
    expect((await call('GET', '/api/v1/sync/failures', st1)).code).toBe('PKL_TOKEN_STATION_SCOPE');
    expect((await call('GET', '/api/v1/stations', st1)).code).toBe('ok');
    expect((await call('GET', '/api/v1/token', st1)).res.json()).toMatchObject({ role: 'station', station: 'st-1' });
    // The all-stations and the issued admin token reach both.
    for (const t of [STATION_TOKEN, admin2, ADMIN_TOKEN]) expect((await call('GET', '/api/v1/orders/O2', t)).code).toBe('ok');
    expect((await call('GET', '/api/v1/token', STATION_TOKEN)).res.json()).toEqual({ id: 'station', role: 'station', station: null });
  });

  it('can lock a supervisor out at its own station only; guesses elsewhere are refused before any password check', async () => {
    const reprint = (shipmentId: string, token: string, password: string, n: number) =>
      call('POST', `/api/v1/shipments/${shipmentId}/reprint`, token, { supervisor: 'li', password, request_id: `rq-${n}` });
    // st-1's token at st-2's shipment: refused for scope, no failure counted at st-2.
    for (let i = 0; i < MAX_FAILURES + 2; i++) expect((await reprint('S-2', st1, `guess-${i}`, i)).code).toBe('PKL_TOKEN_STATION_SCOPE');
    const release = await call('POST', '/api/v1/stations/st-2/release', st1, { supervisor: 'li', password: 'guess' });
    expect(release.code).toBe('PKL_TOKEN_STATION_SCOPE');
    // At its own station it can lock li out (maxFailures wrong passwords) …
    for (let i = 0; i < MAX_FAILURES; i++) expect((await reprint('S-1', st1, `guess-${i}`, 10 + i)).code).toBe('PKL_SUPERVISOR_PASSWORD_WRONG');
    expect((await reprint('S-1', st1, PASSWORD, 20)).code).toBe('PKL_REPRINT_LOCKED');
    // … persisted per supervisor and station, and nowhere else.
    await new Promise((r) => setTimeout(r, 50));
    expect(Number(h.store.getMeta('supervisor.lock.li@st-1'))).toBeGreaterThan(Date.now());
    expect(h.store.getMeta('supervisor.lock.li@st-2')).toBeNull();
    const atSt2 = await reprint('S-2', st2, PASSWORD, 30);
    expect(atSt2.code, atSt2.res.body).not.toBe('PKL_REPRINT_LOCKED');
    expect(atSt2.code).not.toBe('PKL_SUPERVISOR_PASSWORD_WRONG');
  });

  it('stops working at the next request once revoked; the bootstrap all-stations token too', async () => {
    const id = listTokens(dir).find((t) => t.station === 'st-1')?.id as string;
    expect((await call('GET', '/api/v1/stations/st-1', st1)).code).toBe('ok');
    revokeToken(dir, id);
    expect((await call('GET', '/api/v1/stations/st-1', st1)).code).toBe('PKL_UNAUTHORIZED');
    expect((await call('GET', '/api/v1/stations/st-1', STATION_TOKEN)).code).toBe('ok');
    revokeToken(dir, 'station');
    expect((await call('GET', '/api/v1/stations/st-1', STATION_TOKEN)).code).toBe('PKL_UNAUTHORIZED');
    expect((await call('GET', '/api/v1/stations/st-2', st2)).code).toBe('ok');
    expect(() => revokeToken(dir, 'admin')).toThrow(/cannot be revoked/);
    // Issued tokens are stored as sha256 only.
    const file = readFileSync(join(dir, API_TOKENS_FILE), 'utf8');
    for (const t of [st1, st2, admin2]) expect(file).not.toContain(t);
    expect(listTokens(dir).map((t) => [t.id.startsWith('tk-') ? 'tk' : t.id, t.role, t.station, t.revoked_at === null])).toEqual([
      ['admin', 'admin', '*', true],
      ['station', 'station', '*', false],
      ['tk', 'station', 'st-2', true],
      ['tk', 'admin', '*', true],
    ]);
  });
});
