/**
 * Tolerant reading of cloud answers (docs/sync.md §1.1): unknown fields are ignored and
 * reported, required fields and types are checked, an unknown contract version is refused; a
 * change page entry is read on its own.
 */
import { describe, expect, it } from 'vitest';
import { BatchAck, CHANGE_REJECT_CODES, RetryAck } from '../../contracts/sync.js';
import { answerReader } from './answer-reader.js';
import { readChange } from './sync-client.js';

describe('answerReader', () => {
  const readAck = answerReader(BatchAck, 'batch ack');

  it('reads an answer with fields it does not know, anywhere, and names them', () => {
    const r = readAck({ v: 1, acked_seq: 7, rejected: [{ seq: 3, code: 'X', reason: 'y', trace: 'a' }], server_time: 1, vendor: { a: 1 } });
    expect(r).toMatchObject({ ok: true, value: { acked_seq: 7 } });
    expect(r.ok && r.unknown.sort()).toEqual(['/rejected/0/trace', '/server_time', '/vendor']);
  });

  it('reads an answer without v as version 1, and refuses a version it does not speak', () => {
    expect(readAck({ acked_seq: 0, rejected: [] }).ok).toBe(true);
    const r = readAck({ v: 2, acked_seq: 0, rejected: [] });
    expect(r).toMatchObject({ ok: false, contract: true });
    expect(!r.ok && r.error).toMatch(/v2.*v1/);
  });

  it('refuses a missing required field or a wrong type, saying where', () => {
    const r = readAck({ v: 1, rejected: [] });
    expect(!r.ok && r.error).toMatch(/does not match the sync contract \(\/acked_seq/);
    expect(readAck({ v: 1, acked_seq: '3', rejected: [] }).ok).toBe(false);
  });

  it('reads the retry answer as documented (accepted and rejected seqs, no acked_seq needed)', () => {
    expect(answerReader(RetryAck, 'retry ack')({ v: 1, accepted: [4], rejected: [] })).toMatchObject({ ok: true });
  });
});

describe('readChange', () => {
  it('reads a cancel request carrying a revision (an optional field) and one carrying an unknown field', () => {
    const r = readChange({ cursor: '9', kind: 'order.cancel_request', order_id: 'O-1', request_id: 'CR-1', revision: 4, at: 1, channel: 'app' });
    expect('change' in r && r.change.kind).toBe('order.cancel_request');
    expect('change' in r && r.unknown).toEqual(['/channel']);
  });

  it('refuses, alone, a change it cannot read: malformed, or of a kind it does not know', () => {
    const bad = readChange({ cursor: '10', kind: 'order.status', order_id: 'O-2', status: 'lost', revision: 1, at: 1 });
    expect(bad).toMatchObject({ bad: { cursor: '10', kind: 'order.status', order_id: 'O-2', code: CHANGE_REJECT_CODES.malformed } });
    expect(readChange({ cursor: '11', kind: 'order.teleport' })).toMatchObject({ bad: { code: CHANGE_REJECT_CODES.unknownKind } });
    expect(readChange('x')).toMatchObject({ bad: { code: CHANGE_REJECT_CODES.malformed, cursor: null } });
    const upsert = readChange({ cursor: '12', kind: 'order.upsert', order: { order_id: 'O-3', lines: [] } });
    expect(upsert).toMatchObject({ bad: { order_id: 'O-3', code: CHANGE_REJECT_CODES.malformed } });
  });
});
