import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type HttpHarness, asAdmin, asStation, makeHttpHarness, wireOrder } from '../../test/support/http-harness.js';
import { hashSecret } from '../broker/secrets.js';
import type { Shipment } from '../storage/types.js';

const PASSWORD = 'correct horse battery';
let hash: string;
let h: HttpHarness;

beforeAll(async () => {
  hash = await hashSecret(PASSWORD);
});

const shipped: Shipment = {
  shipmentId: 'S-1',
  orderId: 'O1',
  stationId: 'st-1',
  state: 'shipped',
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
  shippedAt: 3_000,
};

beforeEach(async () => {
  h = await makeHttpHarness();
  const res = await h.app.inject({ method: 'POST', url: '/api/v1/orders', headers: asAdmin, payload: [wireOrder('O1'), wireOrder('O2')] });
  expect(res.statusCode).toBe(200);
  await h.store.write([
    { op: 'supervisor.put', supervisor: { name: 'li', secretHash: hash, createdAt: 1, rotatedAt: 1 } },
    { op: 'shipment.put', shipment: shipped },
    {
      op: 'printjob.put',
      job: { jobId: 'J-1', shipmentId: 'S-1', printerId: 'prn-1', format: 'zpl', data: '', state: 'printed', reason: null, createdAt: 2_000, updatedAt: 3_000 },
    },
    // S-2: its label failed on paper out.
    {
      op: 'shipment.put',
      shipment: {
        ...shipped,
        shipmentId: 'S-2',
        orderId: 'O2',
        waybill: 'ZTO2',
        state: 'labelling',
        reasonCode: 'PKL_PRINT_FAILED',
        labelJobId: 'J-2',
        shippedAt: null,
        updatedAt: 4_000,
      },
    },
    {
      op: 'printjob.put',
      job: {
        jobId: 'J-2',
        shipmentId: 'S-2',
        printerId: 'prn-1',
        format: 'zpl',
        data: '^XA^FDZTO2^FS^XZ',
        state: 'failed',
        reason: 'paper_out',
        createdAt: 3_500,
        updatedAt: 4_000,
      },
    },
  ]);
});
afterEach(async () => {
  await h.close();
});

const reprint = (shipmentId: string, body: Record<string, unknown>, headers: Record<string, string> = asStation) =>
  h.app.inject({ method: 'POST', url: `/api/v1/shipments/${shipmentId}/reprint`, headers, payload: body });

const reprintedEvents = (shipmentId: string) => h.store.eventsForSubject(`shipment:${shipmentId}`, 100).filter((e) => e.type === 'shipment.reprinted');

describe('GET /api/v1/print/exceptions', () => {
  it('lists failed labels with printer and cause for any token', async () => {
    for (const headers of [asStation, asAdmin]) {
      const res = await h.app.inject({ method: 'GET', url: '/api/v1/print/exceptions', headers });
      expect(res.statusCode).toBe(200);
      const body = res.json();
      expect(body.exceptions).toHaveLength(1);
      expect(body.exceptions[0]).toMatchObject({
        shipment: { shipment_id: 'S-2', state: 'labelling', reason_code: 'PKL_PRINT_FAILED', waybill: 'ZTO2' },
        job: { job_id: 'J-2', printer_id: 'prn-1', state: 'failed', reason: 'paper_out' },
        printer_id: 'prn-1',
        cause: 'paper_out',
        failed_at: 4_000,
      });
      expect(body.exceptions[0].job.data).toBeUndefined();
    }
    expect((await h.app.inject({ method: 'GET', url: '/api/v1/print/exceptions' })).statusCode).toBe(401);
    const bad = await h.app.inject({ method: 'GET', url: '/api/v1/print/exceptions?limit=0', headers: asStation });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().error.code).toBe('PKL_PAYLOAD_INVALID');
  });
});

describe('POST /api/v1/shipments/:shipmentId/reprint', () => {
  it('refuses a wrong password and an unknown supervisor alike, audits them apart, and prints nothing', async () => {
    const wrong = await reprint('S-1', { supervisor: 'li', password: 'wrong password', request_id: 'r-1' });
    const unknown = await reprint('S-1', { supervisor: 'zhao', password: PASSWORD, request_id: 'r-1' });
    expect(wrong.statusCode).toBe(403);
    expect(unknown.statusCode).toBe(403);
    const w = wrong.json().error;
    const u = unknown.json().error;
    expect(w.code).toBe('PKL_SUPERVISOR_PASSWORD_WRONG');
    expect(u.code).toBe(w.code);
    expect(u.message.replace('zhao', 'li')).toBe(w.message);
    expect(u.message_zh.replace('zhao', 'li')).toBe(w.message_zh);
    const audit = h.logs.filter((l) => l.includes('reprint refused by the supervisor guard')).map((l) => JSON.parse(l));
    expect(audit.map((a) => [a.supervisor, a.code])).toEqual([
      ['li', 'PKL_SUPERVISOR_PASSWORD_WRONG'],
      ['zhao', 'PKL_SUPERVISOR_UNKNOWN'],
    ]);
    expect(h.store.printJobsForShipment('S-1')).toHaveLength(1);
    expect(reprintedEvents('S-1')).toEqual([]);
  });

  it('reprints with the right password: new job, same waybill, audited; the same request id prints nothing more', async () => {
    const ok = await reprint('S-1', { supervisor: 'li', password: PASSWORD, request_id: 'r-7', note: 'label torn' });
    expect(ok.statusCode).toBe(200);
    const { job_id: jobId, duplicate } = ok.json();
    expect(duplicate).toBe(false);
    expect(jobId).not.toBe('J-1');
    const jobs = h.store.printJobsForShipment('S-1');
    expect(jobs.map((j) => j.jobId)).toEqual(['J-1', jobId]);
    expect(jobs[1]).toMatchObject({ printerId: 'prn-1', state: 'queued', format: 'zpl' });
    expect(jobs[1]?.data).toContain('ZTO1');
    expect(reprintedEvents('S-1').map((e) => e.data)).toEqual([
      { job_id: jobId, previous_job_id: 'J-1', supervisor: 'li', request_id: 'r-7', note: 'label torn', waybill: 'ZTO1', printer_id: 'prn-1' },
    ]);
    // A client retry (timeout, double click): same job, nothing new.
    const again = await reprint('S-1', { supervisor: 'li', password: PASSWORD, request_id: 'r-7', note: 'label torn' });
    expect(again.statusCode).toBe(200);
    expect(again.json()).toEqual({ job_id: jobId, duplicate: true });
    expect(h.store.printJobsForShipment('S-1')).toHaveLength(2);
    expect(reprintedEvents('S-1')).toHaveLength(1);
    // Another request while that job is still out would print twice.
    const other = await reprint('S-1', { supervisor: 'li', password: PASSWORD, request_id: 'r-8' }, asAdmin);
    expect(other.statusCode).toBe(409);
    expect(other.json().error).toMatchObject({ code: 'PKL_PRINT_PENDING', details: { shipmentId: 'S-1', jobId } });
    // The password is never written to the log.
    expect(h.logs.some((l) => l.includes(PASSWORD))).toBe(false);
  });

  it('reprints a failed label from the exception list with the stored label', async () => {
    const ok = await reprint('S-2', { supervisor: 'li', password: PASSWORD, request_id: 'r-9' });
    expect(ok.statusCode).toBe(200);
    const jobId = ok.json().job_id as string;
    expect(h.store.getPrintJob(jobId)?.data).toBe('^XA^FDZTO2^FS^XZ');
    expect(h.store.getShipment('S-2')).toMatchObject({ state: 'labelling', reasonCode: null, labelJobId: jobId });
  });

  it('locks the supervisor after printing.reprint.maxFailures wrong passwords (429, Retry-After)', async () => {
    const max = 5; // the default of printing.reprint.maxFailures
    for (let i = 0; i < max; i++) {
      expect((await reprint('S-1', { supervisor: 'li', password: `guess ${i}`, request_id: `g-${i}` })).statusCode).toBe(403);
    }
    const locked = await reprint('S-1', { supervisor: 'li', password: PASSWORD, request_id: 'r-1' });
    expect(locked.statusCode).toBe(429);
    const error = locked.json().error;
    expect(error).toMatchObject({ code: 'PKL_REPRINT_LOCKED', details: { supervisor: 'li' } });
    // The lock lasts printing.reprint.windowMs (default 300 s) from the last wrong password.
    expect(error.details.retryAfterS).toBeGreaterThan(0);
    expect(error.details.retryAfterS).toBeLessThanOrEqual(300);
    expect(locked.headers['retry-after']).toBe(String(error.details.retryAfterS));
    expect(h.store.printJobsForShipment('S-1')).toHaveLength(1);
  });

  it('answers refusals of the reprint itself with their codes', async () => {
    const right = { supervisor: 'li', password: PASSWORD };
    const missing = await reprint('S-404', { ...right, request_id: 'r-1' });
    expect(missing.statusCode).toBe(404);
    expect(missing.json().error.code).toBe('PKL_SHIPMENT_NOT_FOUND');
    await h.store.write([{ op: 'shipment.put', shipment: { ...shipped, shipmentId: 'S-3', state: 'weighing', labelJobId: null, shippedAt: null } }]);
    const early = await reprint('S-3', { ...right, request_id: 'r-2' });
    expect(early.statusCode).toBe(409);
    expect(early.json().error).toMatchObject({ code: 'PKL_SHIPMENT_STATE', details: { action: 'reprint' } });
  });

  it('validates the body and needs a token', async () => {
    const cases: Array<[Record<string, unknown>, string]> = [
      [{ supervisor: 'li', password: PASSWORD }, 'body.request_id is required'],
      [{ supervisor: 'li', password: PASSWORD, request_id: 'has space' }, 'body.request_id must match'],
      [{ supervisor: 'li', password: '', request_id: 'r' }, 'body.password'],
      [{ supervisor: 'li', password: PASSWORD, request_id: 'r', copies: 3 }, 'unknown field "copies"'],
    ];
    for (const [body, reason] of cases) {
      const res = await reprint('S-1', body);
      expect(res.statusCode, reason).toBe(400);
      expect(res.json().error.details.reason).toContain(reason);
    }
    const anonymous = await h.app.inject({
      method: 'POST',
      url: '/api/v1/shipments/S-1/reprint',
      payload: { supervisor: 'li', password: PASSWORD, request_id: 'r' },
    });
    expect(anonymous.statusCode).toBe(401);
    expect(h.store.printJobsForShipment('S-1')).toHaveLength(1);
  });
});

describe('POST /api/v1/stations/:stationId/release (the station-side release of a weight hold)', () => {
  const release = (body: Record<string, unknown>, headers: Record<string, string> = asStation) =>
    h.app.inject({ method: 'POST', url: '/api/v1/stations/st-1/release', headers, payload: body });

  it("needs the supervisor's password, and with it reaches the station (nothing held → 409)", async () => {
    const wrong = await release({ supervisor: 'li', password: 'nope' });
    expect(wrong.statusCode).toBe(403);
    expect(wrong.json().error.code).toBe('PKL_SUPERVISOR_PASSWORD_WRONG');
    const right = await release({ supervisor: 'li', password: PASSWORD, note: 'reweighed by hand' });
    expect(right.statusCode).toBe(409);
    expect(right.json().error.code).toBe('PKL_SHIPMENT_STATE');
    expect((await release({ supervisor: 'li', password: PASSWORD })).statusCode).toBe(409);
    expect((await release({ supervisor: 'li', password: PASSWORD }, {})).statusCode).toBe(401);
    expect((await release({ supervisor: 'li' })).statusCode).toBe(400);
  });

  it('shares its lockout with reprints, so a brute force cannot alternate between the two', async () => {
    for (let i = 0; i < 3; i++) expect((await reprint('S-1', { supervisor: 'li', password: `guess ${i}`, request_id: `g-${i}` })).statusCode).toBe(403);
    for (let i = 3; i < 5; i++) expect((await release({ supervisor: 'li', password: `guess ${i}` })).statusCode).toBe(403);
    const locked = await release({ supervisor: 'li', password: PASSWORD });
    expect(locked.statusCode).toBe(429);
    expect(locked.json().error.code).toBe('PKL_REPRINT_LOCKED');
    expect((await reprint('S-1', { supervisor: 'li', password: PASSWORD, request_id: 'r-1' })).statusCode).toBe(429);
  });
});

describe('POST /api/v1/shipments/:shipmentId/ship-unlabelled (direct shipment of a failed label)', () => {
  const ship = (shipmentId: string, body: Record<string, unknown>, headers: Record<string, string> = asStation) =>
    h.app.inject({ method: 'POST', url: `/api/v1/shipments/${shipmentId}/ship-unlabelled`, headers, payload: body });
  const events = (shipmentId: string) => h.store.eventsForSubject(`shipment:${shipmentId}`, 100);

  it("ships the print exception with the supervisor's password, once, audited, and clears the exception", async () => {
    const wrong = await ship('S-2', { supervisor: 'li', password: 'nope', request_id: 'u-1' });
    expect(wrong.statusCode).toBe(403);
    expect(h.store.getShipment('S-2')?.state).toBe('labelling');

    const ok = await ship('S-2', { supervisor: 'li', password: PASSWORD, request_id: 'u-1', note: 'waybill handwritten' });
    expect(ok.statusCode).toBe(200);
    expect(ok.json()).toEqual({ shipment_id: 'S-2', duplicate: false });
    expect(h.store.getShipment('S-2')).toMatchObject({ state: 'shipped', reasonCode: null });
    const shipped = events('S-2').filter((e) => e.type === 'shipment.shipped');
    expect(shipped.map((e) => e.data)).toEqual([{ order_id: 'O2', waybill: 'ZTO2', unlabelled: true, carrier: 'ZTO', grams: 432 }]);
    const audit = events('S-2').filter((e) => e.type === 'shipment.shipped_unlabelled');
    expect(audit.map((e) => e.data)).toEqual([{ supervisor: 'li', request_id: 'u-1', waybill: 'ZTO2', failed_job_id: 'J-2', note: 'waybill handwritten' }]);
    const list = await h.app.inject({ method: 'GET', url: '/api/v1/print/exceptions', headers: asStation });
    expect(list.json().exceptions).toEqual([]);

    const again = await ship('S-2', { supervisor: 'li', password: PASSWORD, request_id: 'u-1' });
    expect(again.json()).toEqual({ shipment_id: 'S-2', duplicate: true });
    expect(events('S-2').filter((e) => e.type === 'shipment.shipped')).toHaveLength(1);
    // Another request for a shipment that has left is a state refusal, not a second shipment.
    const other = await ship('S-2', { supervisor: 'li', password: PASSWORD, request_id: 'u-2' });
    expect(other.statusCode).toBe(409);
    expect(other.json().error.code).toBe('PKL_SHIPMENT_STATE');
  });

  it('refuses a shipment whose label printed, and an order that must not leave', async () => {
    const printed = await ship('S-1', { supervisor: 'li', password: PASSWORD, request_id: 'u-3' });
    expect(printed.statusCode).toBe(409);
    expect(printed.json().error).toMatchObject({ code: 'PKL_SHIPMENT_STATE', details: { action: 'ship without label' } });
    // The buyer asked for a refund after the label failed: the parcel must be pulled, not shipped.
    const res = await h.app.inject({
      method: 'POST',
      url: '/api/v1/orders',
      headers: asAdmin,
      payload: [wireOrder('O2', { revision: 2, flags: { refunded: true } })],
    });
    expect(res.statusCode).toBe(200);
    const refused = await ship('S-2', { supervisor: 'li', password: PASSWORD, request_id: 'u-4' });
    expect(refused.statusCode).toBe(409);
    expect(refused.json().error.code).toMatch(/^PKL_INTERCEPT_/);
    expect(h.store.getShipment('S-2')?.state).toBe('labelling');
  });
});
