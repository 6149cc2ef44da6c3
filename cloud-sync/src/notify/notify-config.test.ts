import { Ajv } from 'ajv';
import { describe, expect, it } from 'vitest';
import { type NotifyConfig, NotifyConfigSchema } from './notify-config.js';

// The same Ajv settings as gateway/src/config/load.ts, so defaults behave as they will there.
const ajv = new Ajv({ allErrors: true, useDefaults: true, strict: false, coerceTypes: false });
const validate = ajv.compile<NotifyConfig>(NotifyConfigSchema);

function check(value: unknown): { ok: boolean; value: unknown; errors: string[] } {
  const copy = structuredClone(value);
  const ok = validate(copy);
  return { ok, value: copy, errors: (validate.errors ?? []).map((e) => `${e.instancePath} ${e.message ?? ''}`) };
}

describe('NotifyConfigSchema', () => {
  it('fills every default from an empty object', () => {
    expect(check({})).toEqual({
      ok: true,
      errors: [],
      value: {
        channels: [],
        rateLimit: { perKeyIntervalMs: 600_000, maxPerHour: 30 },
        retry: { attempts: 4, baseDelayMs: 2_000, maxDelayMs: 60_000 },
        timeZone: 'UTC',
        maxQueue: 100,
      },
    });
  });

  it('accepts each channel kind', () => {
    const r = check({
      channels: [
        { type: 'webhook', url: 'https://example.com/hook', format: 'json' },
        { type: 'webhook', url: 'https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=k', format: 'wecom', timeoutMs: 5000 },
        { type: 'webhook', url: 'https://oapi.dingtalk.com/robot/send?access_token=t', format: 'dingtalk', secret: 'SECx' },
        { type: 'email', host: 'smtp.example.com', port: 465, secure: 'tls', user: 'u', pass: 'p', from: 'Packline <a@example.com>', to: ['b@example.com'] },
      ],
      rateLimit: { maxPerHour: 10 },
    });
    expect(r.errors).toEqual([]);
    expect((r.value as NotifyConfig).rateLimit).toEqual({ perKeyIntervalMs: 600_000, maxPerHour: 10 });
  });

  it('refuses unusable channels', () => {
    const bad: unknown[] = [
      { type: 'webhook', url: 'ftp://x', format: 'json' },
      { type: 'webhook', url: 'https://x', format: 'slack' },
      { type: 'webhook', url: 'https://x', format: 'json', extra: 1 },
      { type: 'email', host: 'h', port: 25, secure: 'none', from: 'a@b.c', to: [] },
      { type: 'email', host: 'h', port: 25, secure: 'maybe', from: 'a@b.c', to: ['d@e.f'] },
      { type: 'email', host: 'h', port: 25, secure: 'none', from: 'a@b.c\r\nBcc: x@y.z', to: ['d@e.f'] },
    ];
    for (const channel of bad) expect(check({ channels: [channel] }).ok, JSON.stringify(channel)).toBe(false);
  });

  it('describes every field (docs/config.md is generated from descriptions)', () => {
    const missing: string[] = [];
    const walk = (node: Record<string, unknown>, path: string) => {
      for (const variant of (node.anyOf as Record<string, unknown>[] | undefined) ?? []) walk(variant, path);
      if (node.items !== undefined) walk(node.items as Record<string, unknown>, `${path}[]`);
      for (const [k, child] of Object.entries((node.properties as Record<string, Record<string, unknown>> | undefined) ?? {})) {
        if (typeof child.description !== 'string') missing.push(`${path}.${k}`);
        walk(child, `${path}.${k}`);
      }
    };
    walk(NotifyConfigSchema as unknown as Record<string, unknown>, 'notify');
    expect(missing).toEqual([]);
  });
});
