import { describe, expect, it } from 'vitest';
import { transportErrorKind } from './error-kinds.js';

function sysError(code: string, message = `connect ${code}`): Error {
  return Object.assign(new Error(message), { code });
}

describe('transportErrorKind', () => {
  it.each([
    ['ECONNREFUSED', 'refused'],
    ['ECONNRESET', 'reset'],
    ['EPIPE', 'reset'],
    ['ETIMEDOUT', 'timeout'],
    ['ENOTFOUND', 'unreachable'],
    ['EAI_AGAIN', 'unreachable'],
    ['EHOSTUNREACH', 'unreachable'],
    ['ENETUNREACH', 'unreachable'],
    ['DEPTH_ZERO_SELF_SIGNED_CERT', 'other'],
    ['ERR_TLS_CERT_ALTNAME_INVALID', 'other'],
  ])('%s → %s', (code, kind) => {
    expect(transportErrorKind(sysError(code))).toBe(kind);
  });

  it('treats "socket hang up" and "aborted" as resets even without a code', () => {
    expect(transportErrorKind(new Error('socket hang up'))).toBe('reset');
    expect(transportErrorKind(new Error('aborted'))).toBe('reset');
  });

  it("looks inside a dual-stack connect's AggregateError", () => {
    const agg = new AggregateError([sysError('ECONNREFUSED'), sysError('ECONNREFUSED')], 'connect failed');
    expect(transportErrorKind(agg)).toBe('refused');
    expect(transportErrorKind(new AggregateError([new Error('x'), sysError('ENETUNREACH')]))).toBe('unreachable');
  });

  it('calls anything else other', () => {
    expect(transportErrorKind(new Error('boom'))).toBe('other');
    expect(transportErrorKind('not an error')).toBe('other');
  });
});
