import { describe, expect, it } from 'vitest';
import { ERRORS, PacklineError, describeError } from './errors.js';
import { parseTopic, topics } from './topics.js';
import { decodeEvent, MAX_EVENT_BYTES } from './validate.js';

describe('topics', () => {
  it('round-trips every builder through the parser', () => {
    expect(parseTopic(topics.event('scan-1', 'scan'))).toEqual({ type: 'event', deviceId: 'scan-1', kind: 'scan' });
    expect(parseTopic(topics.command('prn-1', 'print'))).toEqual({ type: 'command', deviceId: 'prn-1', kind: 'print' });
    expect(parseTopic(topics.deviceState('d'))).toEqual({ type: 'state', deviceId: 'd' });
    expect(parseTopic(topics.ack('d'))).toEqual({ type: 'ack', deviceId: 'd' });
    expect(parseTopic(topics.error('d'))).toEqual({ type: 'error', deviceId: 'd' });
    expect(parseTopic(topics.stationView('st-1'))).toEqual({ type: 'stationView', stationId: 'st-1' });
    expect(parseTopic(topics.gatewayState('gw'))).toEqual({ type: 'gatewayState', gatewayId: 'gw' });
  });
  it('rejects topics outside the contract', () => {
    for (const t of [
      '',
      'dev',
      'dev/x',
      'dev/x/evt',
      'dev/x/evt/nope',
      'dev/+/evt/scan',
      'dev/#',
      'dev/x/evt/scan/extra',
      'foo/x/state',
      'dev/a b/state',
      `dev/${'x'.repeat(65)}/state`,
    ]) {
      expect(parseTopic(t), t).toBeNull();
    }
  });
});

describe('decodeEvent', () => {
  it('accepts a valid scan', () => {
    const r = decodeEvent('scan', JSON.stringify({ code: 'SO123', msg_id: 'm1' }));
    expect(r).toEqual({ ok: true, value: { code: 'SO123', msg_id: 'm1' } });
  });
  it('gives a coded error for garbage, wrong types, unknown fields and oversize payloads', () => {
    expect(decodeEvent('scan', Buffer.from([0xff, 0x00, 0x7b]))).toMatchObject({ ok: false, code: 'PKL_PAYLOAD_NOT_JSON' });
    expect(decodeEvent('weight', '{"grams":"12","stable":true}')).toMatchObject({ ok: false, code: 'PKL_PAYLOAD_INVALID' });
    expect(decodeEvent('weight', '{"grams":12,"stable":true,"x":1}')).toMatchObject({
      ok: false,
      code: 'PKL_PAYLOAD_INVALID',
      details: { reason: 'payload has unknown field x' },
    });
    expect(decodeEvent('scan', '{"code":""}')).toMatchObject({ ok: false, code: 'PKL_PAYLOAD_INVALID' });
    expect(decodeEvent('scan', JSON.stringify({ code: 'x'.repeat(MAX_EVENT_BYTES) }))).toMatchObject({ ok: false, code: 'PKL_PAYLOAD_TOO_LARGE' });
    expect(decodeEvent('scan', 'null')).toMatchObject({ ok: false, code: 'PKL_PAYLOAD_INVALID' });
  });
});

describe('error catalogue', () => {
  it('every code has both messages and an HTTP status', () => {
    for (const [code, spec] of Object.entries(ERRORS)) {
      expect(code).toMatch(/^PKL_[A-Z0-9_]+$/);
      expect(spec.en.length).toBeGreaterThan(0);
      expect(spec.zh.length).toBeGreaterThan(0);
      expect(spec.http).toBeGreaterThanOrEqual(200);
    }
  });
  it('fills placeholders in both languages', () => {
    expect(describeError('PKL_INTERCEPT_REFUNDED', { orderId: 'O1' })).toEqual({
      en: 'Intercepted: order O1 was refunded',
      zh: '拦截：订单 O1 已退款',
    });
    const e = new PacklineError('PKL_ITEM_WRONG', { barcode: '690', orderId: 'O2' });
    expect(e.toWire()).toEqual({
      code: 'PKL_ITEM_WRONG',
      message: 'Wrong item 690: not in order O2',
      message_zh: '商品错误：690 不属于订单 O2',
      details: { barcode: '690', orderId: 'O2' },
    });
    expect(e.statusCode).toBe(409);
  });
});

describe('docs/errors.md', () => {
  it('matches the catalogue (run `npm run docs:errors` after adding a code)', async () => {
    const { readFileSync } = await import('node:fs');
    const { renderErrorsDoc } = await import('./errors-doc.js');
    const doc = readFileSync(new URL('../docs/errors.md', import.meta.url), 'utf8');
    expect(doc).toBe(renderErrorsDoc());
  });
});
