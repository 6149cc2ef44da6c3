import { describe, expect, it } from 'vitest';
import { anOrder, aPrintJob, aShipment } from '../../storage/test-fixtures.js';
import type { EventRecord, PrintJob, Shipment } from '../domain.js';
import { earlierReprint, planReprint, REPRINTED_EVENT, type ReprintInput } from './reprint-plan.js';

const shipped = aShipment({
  shipmentId: 'S-9',
  state: 'shipped',
  waybill: '7312345678901',
  carrier: 'ZTO',
  labelJobId: 'J-1',
  actualGrams: 812,
  shippedAt: 5_000,
});
// A printed job keeps no label data (SD-card wear); a failed one keeps it.
const printedJob = aPrintJob({ jobId: 'J-1', shipmentId: 'S-9', printerId: 'prn-1', state: 'printed', data: '' });

function input(over: Partial<ReprintInput> = {}): ReprintInput {
  let n = 0;
  return {
    shipmentId: 'S-9',
    shipment: shipped,
    jobs: [printedJob],
    events: [],
    order: anOrder(),
    pending: {},
    printerId: 'prn-1',
    format: 'zpl',
    checkpoints: ['packing', 'weighing'],
    shipmentsForOrder: [shipped],
    newJobId: () => `J-new-${++n}`,
    at: 9_000,
    request: { supervisor: 'li', requestId: 'r-1', note: 'label torn' },
    ...over,
  };
}

function reprinted(requestId: string, jobId: string): EventRecord {
  return { seq: 7, hlc: '0', boot: 1, clockUnsynced: false, type: REPRINTED_EVENT, subject: 'shipment:S-9', data: { request_id: requestId, job_id: jobId } };
}

describe('planReprint', () => {
  it('reprints a shipped parcel: new job, same waybill, label rendered again, one audited unit', () => {
    const plan = planReprint(input());
    if (plan.kind !== 'print') throw new Error(`expected a print, got ${JSON.stringify(plan)}`);
    expect(plan.job).toMatchObject({ jobId: 'J-new-1', shipmentId: 'S-9', printerId: 'prn-1', state: 'queued', format: 'zpl', createdAt: 9_000 });
    expect(plan.job.data).toContain('^XA');
    expect(plan.job.data).toContain('7312345678901');
    // The shipment row is not touched: it stays shipped.
    expect(plan.shipment).toBe(shipped);
    expect(plan.writes.map((w) => w.op)).toEqual(['printjob.put', 'event']);
    expect(plan.writes[1]).toEqual({
      op: 'event',
      type: 'shipment.reprinted',
      subject: 'shipment:S-9',
      data: {
        job_id: 'J-new-1',
        previous_job_id: 'J-1',
        supervisor: 'li',
        request_id: 'r-1',
        note: 'label torn',
        waybill: '7312345678901',
        printer_id: 'prn-1',
      },
    });
    expect(plan.command).toEqual({
      kind: 'print',
      deviceId: 'prn-1',
      payload: { job_id: 'J-new-1', shipment_id: 'S-9', format: 'zpl', data: plan.job.data, copies: 1 },
    });
  });

  it("prints the shipment's own waybill even if the order was given another one since", () => {
    const plan = planReprint(input({ order: anOrder({ waybill: 'SF000NEW' }) }));
    if (plan.kind !== 'print') throw new Error(plan.kind);
    expect(plan.job.data).toContain('7312345678901');
    expect(plan.job.data).not.toContain('SF000NEW');
  });

  it('renders TSPL for a TSPL station', () => {
    const plan = planReprint(input({ format: 'tspl' }));
    if (plan.kind !== 'print') throw new Error(plan.kind);
    expect(plan.job.format).toBe('tspl');
    expect(plan.job.data).toContain('PRINT');
  });

  it('reprints a failed label with its stored data and makes it the label job again', () => {
    const failedJob = aPrintJob({ jobId: 'J-1', shipmentId: 'S-9', printerId: 'prn-1', state: 'failed', reason: 'paper_out', data: '^XA^FDstored^FS^XZ' });
    const labelling: Shipment = { ...shipped, state: 'labelling', reasonCode: 'PKL_PRINT_FAILED', shippedAt: null };
    const plan = planReprint(input({ shipment: labelling, jobs: [failedJob], shipmentsForOrder: [labelling] }));
    if (plan.kind !== 'print') throw new Error(JSON.stringify(plan));
    expect(plan.job.data).toBe('^XA^FDstored^FS^XZ');
    expect(plan.shipment).toMatchObject({ state: 'labelling', reasonCode: null, labelJobId: 'J-new-1', updatedAt: 9_000 });
    expect(plan.writes.map((w) => w.op)).toEqual(['printjob.put', 'shipment.put', 'event']);
  });

  it('answers a repeated request id with the first job and prints nothing', () => {
    const plan = planReprint(input({ events: [reprinted('r-0', 'J-a'), reprinted('r-1', 'J-b')] }));
    expect(plan).toEqual({ kind: 'duplicate', jobId: 'J-b' });
    expect(earlierReprint([reprinted('r-0', 'J-a')], 'r-1')).toBeNull();
  });

  it('refuses while a job of the shipment is still out (it would print twice)', () => {
    const out: PrintJob = aPrintJob({ jobId: 'J-2', shipmentId: 'S-9', printerId: 'prn-1' });
    const labelling: Shipment = { ...shipped, state: 'labelling', shippedAt: null, labelJobId: 'J-2' };
    const plan = planReprint(input({ shipment: labelling, pending: { 'J-2': out } }));
    expect(plan).toEqual({ kind: 'refused', code: 'PKL_PRINT_PENDING', details: { shipmentId: 'S-9', jobId: 'J-2' } });
    // Another shipment's job on the same printer does not count.
    expect(planReprint(input({ pending: { 'J-x': { ...out, jobId: 'J-x', shipmentId: 'S-other' } } })).kind).toBe('print');
  });

  it('refuses unknown shipments, shipments that never had a label, and states that must not print', () => {
    expect(planReprint(input({ shipment: null }))).toMatchObject({ kind: 'refused', code: 'PKL_SHIPMENT_NOT_FOUND' });
    const noLabel = aShipment({ shipmentId: 'S-9', state: 'weighing', waybill: '7312345678901' });
    expect(planReprint(input({ shipment: noLabel, jobs: [] }))).toMatchObject({
      kind: 'refused',
      code: 'PKL_SHIPMENT_STATE',
      details: { action: 'reprint' },
    });
    for (const state of ['intercepted', 'abandoned', 'held'] as const) {
      expect(planReprint(input({ shipment: { ...shipped, state } })), state).toMatchObject({ kind: 'refused', code: 'PKL_SHIPMENT_STATE' });
    }
    expect(planReprint(input({ order: null }))).toMatchObject({ kind: 'refused', code: 'PKL_ORDER_NOT_FOUND' });
  });

  it('refuses an order that must not leave (refund, cancel), but not for the "shipped" flag its own parcel set', () => {
    const refunded = anOrder({ flags: { ...anOrder().flags, refunded: true } });
    expect(planReprint(input({ order: refunded }))).toMatchObject({ kind: 'refused', code: 'PKL_INTERCEPT_REFUNDED' });
    const shippedFlag = anOrder({ flags: { ...anOrder().flags, shipped: true } });
    expect(planReprint(input({ order: shippedFlag })).kind).toBe('print');
    // A failed label whose order left in another shipment meanwhile: the duplicate guard.
    const labelling: Shipment = { ...shipped, state: 'labelling', reasonCode: 'PKL_PRINT_FAILED', shippedAt: null };
    const other = { ...shipped, shipmentId: 'S-10' };
    expect(planReprint(input({ shipment: labelling, shipmentsForOrder: [labelling, other] }))).toMatchObject({
      kind: 'refused',
      code: 'PKL_INTERCEPT_ALREADY_SHIPPED',
    });
  });

  it('reprints an abandoned shipment whose label failed (operator scanned on): back to labelling, ships on its result', () => {
    const failedJob = aPrintJob({
      jobId: 'J-1',
      shipmentId: 'S-9',
      printerId: 'prn-1',
      state: 'failed',
      reason: 'paper_out',
      data: '^XA^FD7312345678901^FS^XZ',
    });
    const abandoned: Shipment = { ...shipped, state: 'abandoned', reasonCode: 'PKL_SHIPMENT_ABANDONED', shippedAt: null };
    const plan = planReprint(input({ shipment: abandoned, jobs: [failedJob], shipmentsForOrder: [abandoned] }));
    if (plan.kind !== 'print') throw new Error(`expected a print, got ${JSON.stringify(plan)}`);
    expect(plan.shipment).toMatchObject({ state: 'labelling', reasonCode: null, labelJobId: 'J-new-1' });
    expect(plan.job.data).toBe(failedJob.data);
    // Not when it never got a label, nor when a label of it printed.
    expect(planReprint(input({ shipment: { ...abandoned, actualGrams: null }, jobs: [failedJob] }))).toMatchObject({
      kind: 'refused',
      code: 'PKL_SHIPMENT_STATE',
    });
    expect(planReprint(input({ shipment: abandoned, jobs: [printedJob, failedJob] }))).toMatchObject({ kind: 'refused', code: 'PKL_SHIPMENT_STATE' });
  });

  it('refuses with the template error when the order cannot be labelled any more', () => {
    const plan = planReprint(input({ order: anOrder({ printData: null }) }));
    expect(plan).toMatchObject({ kind: 'refused', code: 'PKL_LABEL_TEMPLATE_ERROR' });
  });
});
