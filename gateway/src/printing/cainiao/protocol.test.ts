import { readdirSync, readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isErrorCode } from '../../../../contracts/errors.js';
import { renderDocument } from './document-label.js';
import { decodeFrame, failureFrame, MAX_DOCUMENTS_PER_TASK, notifyPrintResultFrame, printersFrame, successFrame, taskStatusFrame } from './protocol.js';

const dir = new URL('./fixtures/', import.meta.url);
function fixture<T>(name: string): T {
  return JSON.parse(readFileSync(new URL(name, dir), 'utf8')) as T;
}

interface RequestFixture {
  about: string;
  source: string;
  frame: Record<string, unknown>;
  expect: {
    ok: true;
    request?: Record<string, unknown>;
    task?: { taskID: string; printer: string; preview: boolean; notifyRender: boolean; notifyPrint: boolean; documentIDs: string[] };
    render?: Record<string, { ok: boolean; code?: string; kind?: string; data?: string }>;
  };
}

interface GarbageFixture {
  about: string;
  cases: Array<{ about: string; frameText?: string; frameBase64?: string; expect: { code: string; cmd: string | null; requestID: string | null } }>;
}

const LIMIT = 1024 * 1024;
const requestFixtures = readdirSync(dir).filter((f) => f.endsWith('.json') && f !== 'garbage.json');

describe('Cainiao protocol: request fixtures', () => {
  it('has fixtures, each annotated with what it shows and where it comes from', () => {
    expect(requestFixtures.length).toBeGreaterThanOrEqual(6);
    for (const name of requestFixtures) {
      const f = fixture<RequestFixture>(name);
      expect(f.about, name).toBeTruthy();
      expect(f.source, name).toBeTruthy();
    }
  });

  for (const name of requestFixtures) {
    it(`decodes ${name}`, () => {
      const f = fixture<RequestFixture>(name);
      const decoded = decodeFrame(JSON.stringify(f.frame), LIMIT);
      if (!decoded.ok) throw new Error(`${name}: ${JSON.stringify(decoded.error)}`);
      if (f.expect.request) expect(decoded.request).toEqual(f.expect.request);
      if (f.expect.task) {
        expect(decoded.request.cmd).toBe('print');
        if (decoded.request.cmd !== 'print') return;
        const { documents, ...task } = decoded.request.task;
        const { documentIDs, ...expected } = f.expect.task;
        expect(task).toEqual(expected);
        expect(documents.map((d) => d.documentID)).toEqual(documentIDs);
        for (const [documentID, want] of Object.entries(f.expect.render ?? {})) {
          const doc = documents.find((d) => d.documentID === documentID);
          if (doc === undefined) throw new Error(`no document ${documentID}`);
          const got = renderDocument(doc, 'zpl');
          expect(got.ok, `${name} ${documentID}`).toBe(want.ok);
          if (!got.ok) expect(got.code).toBe(want.code);
          if (got.ok) {
            expect(got.kind).toBe(want.kind);
            if (want.data !== undefined) expect(got.data).toBe(want.data);
          }
        }
      }
    });
  }

  it('also reads a binary frame holding the same JSON', () => {
    const f = fixture<RequestFixture>('get-printers.json');
    const decoded = decodeFrame(Buffer.from(JSON.stringify(f.frame)), LIMIT);
    expect(decoded.ok).toBe(true);
  });
});

describe('Cainiao protocol: garbage', () => {
  const g = fixture<GarbageFixture>('garbage.json');
  for (const c of g.cases) {
    it(`refuses ${c.about}`, () => {
      const frame = c.frameBase64 !== undefined ? Buffer.from(c.frameBase64, 'base64') : (c.frameText ?? '');
      const decoded = decodeFrame(frame, LIMIT);
      expect(decoded.ok).toBe(false);
      if (decoded.ok) return;
      expect(decoded.error.code).toBe(c.expect.code);
      expect(decoded.error.cmd).toBe(c.expect.cmd);
      expect(decoded.error.requestID).toBe(c.expect.requestID);
    });
  }

  it('refuses a frame over the limit before parsing it', () => {
    const big = JSON.stringify({ cmd: 'getPrinters', requestID: 'r', pad: 'x'.repeat(2000) });
    const decoded = decodeFrame(big, 1000);
    expect(decoded).toMatchObject({ ok: false, error: { code: 'PKL_PAYLOAD_TOO_LARGE', details: { limit: 1000 } } });
  });

  it('refuses a task with more documents than allowed', () => {
    const documents = Array.from({ length: MAX_DOCUMENTS_PER_TASK + 1 }, (_, i) => ({ documentID: `d${i}`, contents: [{}] }));
    const decoded = decodeFrame(JSON.stringify({ cmd: 'print', requestID: 'r', task: { taskID: 't', documents } }), LIMIT);
    expect(decoded).toMatchObject({ ok: false, error: { code: 'PKL_PAYLOAD_INVALID', cmd: 'print', requestID: 'r' } });
  });

  it('never throws, and always answers with a catalogued code, whatever the bytes', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.json(), fc.uint8Array({ maxLength: 64 })), (input) => {
        const decoded = decodeFrame(input, LIMIT);
        if (!decoded.ok) expect(isErrorCode(decoded.error.code)).toBe(true);
      }),
    );
  });

  it('never throws on arbitrary JSON shaped like a print request', () => {
    fc.assert(
      fc.property(fc.jsonValue(), fc.jsonValue(), (task, doc) => {
        for (const frame of [
          { cmd: 'print', requestID: 'r', task },
          { cmd: 'print', requestID: 'r', task: { taskID: 't', documents: [doc] } },
          { cmd: 'getTaskStatus', requestID: 'r', taskID: task },
        ]) {
          const decoded = decodeFrame(JSON.stringify(frame), LIMIT);
          if (!decoded.ok) expect(decoded.error.requestID).toBe('r');
          else if (decoded.request.cmd === 'print') for (const d of decoded.request.task.documents) renderDocument(d, 'zpl');
        }
      }),
    );
  });
});

describe('Cainiao protocol: answers', () => {
  it('echoes cmd and requestID and says success with errorCode 0', () => {
    expect(successFrame('getAgentInfo', 7, { version: '1.0.0' })).toEqual({
      cmd: 'getAgentInfo',
      requestID: 7,
      status: 'success',
      msg: 'no error',
      errorCode: 0,
      version: '1.0.0',
    });
  });

  it('refuses with status failed, the PKL code, a numeric errorCode and both messages', () => {
    const f = failureFrame('print', 'r1', 'PKL_PRINT_ENCRYPTED_DOCUMENT', { documentID: 'D1' }, { taskID: 'T1' });
    expect(f).toMatchObject({ cmd: 'print', requestID: 'r1', status: 'failed', code: 'PKL_PRINT_ENCRYPTED_DOCUMENT', errorCode: 422, taskID: 'T1' });
    expect(String(f.msg)).toContain('D1');
    expect(String(f.msg_zh)).toContain('加密');
  });

  it('lists printers as enable / disable with type RAW', () => {
    const f = printersFrame(
      'r',
      [
        { name: 'p1', online: true, model: 'ZD421' },
        { name: 'p2', online: false, model: null },
      ],
      'p1',
    );
    expect(f).toMatchObject({
      defaultPrinter: 'p1',
      printers: [
        { name: 'p1', status: 'enable', type: 'RAW', model: 'ZD421' },
        { name: 'p2', status: 'disable', type: 'RAW' },
      ],
    });
  });

  it('notifies a failed task with each document and the first failure on top', () => {
    const f = notifyPrintResultFrame('r', {
      taskID: 'T',
      printer: 'p1',
      taskStatus: 'failed',
      documents: [
        { documentID: 'A', status: 'success', code: null, details: {}, reason: null },
        { documentID: 'B', status: 'failed', code: 'PKL_PRINT_FAILED', details: { deviceId: 'p1', reason: 'paper out' }, reason: 'paper out' },
      ],
    });
    expect(f).toMatchObject({
      cmd: 'notifyPrintResult',
      requestID: 'r',
      printer: 'p1',
      taskID: 'T',
      taskStatus: 'failed',
      status: 'failed',
      code: 'PKL_PRINT_FAILED',
      printStatus: [
        { documentID: 'A', status: 'success', printer: 'p1' },
        { documentID: 'B', status: 'failed', code: 'PKL_PRINT_FAILED', detail: 'paper out', msg: 'Printing failed on p1: paper out' },
      ],
    });
  });

  it('reports unknown tasks as unknown, never as failed', () => {
    const f = taskStatusFrame('r', ['nope'], () => null);
    expect(f.printStatus).toEqual([expect.objectContaining({ taskID: 'nope', taskStatus: 'unknown', code: 'PKL_PRINT_JOB_UNKNOWN' })]);
  });
});
