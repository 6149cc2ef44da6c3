import { describe, expect, it } from 'vitest';
import type { PrintResultEvent } from '../../../contracts/payloads.js';
import { JobMemory } from './job-memory.js';
import { parsePrintCommand, type PrintJob, PrintJobQueue } from './print-jobs.js';

const printer = { deviceId: 'prn-1', languages: ['zpl'] as const };
const cmd = (o: unknown) => Buffer.from(JSON.stringify(o));
const silent = { info: () => undefined, warn: () => undefined, error: () => undefined };

describe('parsePrintCommand', () => {
  it('accepts a valid job and keeps the label bytes as UTF-8', () => {
    const r = parsePrintCommand(cmd({ job_id: 'J-1', format: 'zpl', data: '^XA^FD张三^FS^XZ', copies: 2 }), printer);
    expect(r.ok && { ...r.job, bytes: Buffer.from(r.job.bytes).toString('utf8') }).toEqual({
      jobId: 'J-1',
      format: 'zpl',
      copies: 2,
      bytes: '^XA^FD张三^FS^XZ',
    });
  });
  it('refuses garbage with coded errors, naming the job when its id is readable', () => {
    expect(parsePrintCommand(Buffer.from([0xff, 0x00]), printer)).toMatchObject({ ok: false, jobId: null, code: 'PKL_PAYLOAD_NOT_JSON' });
    expect(parsePrintCommand(cmd([1]), printer)).toMatchObject({ ok: false, jobId: null, code: 'PKL_PAYLOAD_INVALID' });
    expect(parsePrintCommand(cmd({ job_id: 'x'.repeat(65) }), printer)).toMatchObject({ ok: false, jobId: null });
    expect(parsePrintCommand(cmd({ job_id: 'J', format: 'pdf', data: 'x' }), printer)).toMatchObject({ ok: false, jobId: 'J', code: 'PKL_PAYLOAD_INVALID' });
    expect(parsePrintCommand(cmd({ job_id: 'J', format: 'zpl', data: 'x', copies: 11 }), printer)).toMatchObject({ ok: false, jobId: 'J' });
    expect(parsePrintCommand(cmd({ job_id: 'J', format: 'tspl', data: 'x' }), printer)).toMatchObject({
      ok: false,
      code: 'PKL_PRINT_FAILED',
      failure: 'format_unsupported',
    });
    expect(parsePrintCommand(cmd({ job_id: 'J', format: 'zpl', data: 'xx' }), { ...printer, maxJobBytes: 1 })).toMatchObject({ ok: false, jobId: 'J' });
  });
});

describe('PrintJobQueue', () => {
  it('prints jobs one at a time in order and answers a re-issued job id from memory, never printing twice', async () => {
    const memory = new JobMemory(10);
    const printed: string[] = [];
    const events: PrintResultEvent[] = [];
    let running = 0;
    const q = new PrintJobQueue({
      memory,
      print: async (job: PrintJob) => {
        running++;
        expect(running).toBe(1);
        memory.record(job.jobId, { status: 'sent' });
        await new Promise((r) => setTimeout(r, 5));
        printed.push(job.jobId);
        running--;
        return job.jobId === 'J-2' ? { status: 'failed', reason: 'paper_out' } : { status: 'printed' };
      },
      publish: (e) => events.push(e),
      notice: () => undefined,
      log: silent,
    });
    q.start();
    const job = (id: string) => cmd({ job_id: id, format: 'zpl', data: '^XA^XZ' });
    q.submit(parsePrintCommand(job('J-1'), printer));
    q.submit(parsePrintCommand(job('J-2'), printer));
    q.submit(parsePrintCommand(job('J-1'), printer)); // queued already: its result answers
    while (events.length < 2) await new Promise((r) => setTimeout(r, 5));
    q.submit(parsePrintCommand(job('J-1'), printer)); // done: answered from memory
    q.submit(parsePrintCommand(job('J-2'), printer));
    await q.stop();
    expect(printed).toEqual(['J-1', 'J-2']);
    expect(events.map((e) => [e.job_id, e.status, e.reason])).toEqual([
      ['J-1', 'printed', undefined],
      ['J-2', 'failed', 'paper_out'],
      ['J-1', 'printed', undefined],
      ['J-2', 'failed', 'paper_out'],
    ]);
    expect({ printed: q.printed, failed: q.failed, duplicates: q.duplicatesAnswered }).toEqual({ printed: 1, failed: 1, duplicates: 2 });
  });
});
