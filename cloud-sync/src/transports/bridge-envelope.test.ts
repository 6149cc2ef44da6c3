/** The MQTT bridge envelope of contracts/sync.ts: topics and schemas both sides rely on. */
import { randomUUID } from 'node:crypto';
import { TypeCompiler } from '@sinclair/typebox/compiler';
import { describe, expect, it } from 'vitest';
import { SyncBridgeRequest, SyncBridgeResponse, parseSyncBridgeTopic, syncBridgeTopics } from '../../../contracts/sync.js';

const req = TypeCompiler.Compile(SyncBridgeRequest);
const res = TypeCompiler.Compile(SyncBridgeResponse);

describe('MQTT bridge topics', () => {
  it('builds and parses request and answer topics', () => {
    const id = randomUUID();
    expect(syncBridgeTopics.request('gw-01')).toBe('packline/sync/gw-01/req');
    expect(syncBridgeTopics.responses('gw-01')).toBe('packline/sync/gw-01/res/+');
    expect(syncBridgeTopics.allRequests).toBe('packline/sync/+/req');
    expect(parseSyncBridgeTopic(syncBridgeTopics.request('gw-01'))).toEqual({ kind: 'request', gatewayId: 'gw-01' });
    expect(parseSyncBridgeTopic(syncBridgeTopics.response('gw-01', id))).toEqual({ kind: 'response', gatewayId: 'gw-01', id });
  });

  it('rejects anything else', () => {
    for (const t of [
      'packline/sync/gw-01',
      'packline/sync/gw-01/res',
      'packline/sync/gw-01/res/not-a-uuid',
      'packline/sync/gw 01/req',
      'packline/sync/+/req',
      'packline/other/gw-01/req',
      'packline/sync/gw-01/req/extra',
      `packline/sync/gw-01/res/${randomUUID().toUpperCase()}`,
    ]) {
      expect(parseSyncBridgeTopic(t), t).toBeNull();
    }
  });
});

describe('MQTT bridge envelope schemas', () => {
  const id = randomUUID();

  it('accepts a request with and without a body', () => {
    expect(req.Check({ id, method: 'POST', path: '/sync/v1/gateways/gw-01/batches', headers: { 'content-encoding': 'gzip' }, body_b64: 'H4sI' })).toBe(true);
    expect(req.Check({ id, method: 'GET', path: '/sync/v1/gateways/gw-01/cursor', headers: {}, body_b64: null })).toBe(true);
  });

  it('refuses a request without an id, with a bad method, path or extra field', () => {
    expect(req.Check({ method: 'GET', path: '/x', headers: {}, body_b64: null })).toBe(false);
    expect(req.Check({ id, method: 'PUT', path: '/x', headers: {}, body_b64: null })).toBe(false);
    expect(req.Check({ id, method: 'GET', path: 'x', headers: {}, body_b64: null })).toBe(false);
    expect(req.Check({ id, method: 'GET', path: '/x', headers: { n: 1 }, body_b64: null })).toBe(false);
    expect(req.Check({ id, method: 'GET', path: '/x', headers: {}, body_b64: null, extra: 1 })).toBe(false);
  });

  it('accepts answers with any JSON body and refuses an impossible status', () => {
    expect(res.Check({ id, status: 200, body: { acked_seq: 3, rejected: [] } })).toBe(true);
    expect(res.Check({ id, status: 503, headers: { 'retry-after': '5' }, body: null })).toBe(true);
    expect(res.Check({ id, status: 200, body: 'text' })).toBe(true);
    expect(res.Check({ id, status: 42, body: null })).toBe(false);
    expect(res.Check({ id: 'x', status: 200, body: null })).toBe(false);
  });
});
