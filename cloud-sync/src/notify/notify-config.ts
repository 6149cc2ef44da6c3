/**
 * Configuration of alert notifications, as a TypeBox schema the gateway config embeds
 * (`notify: NotifyConfigSchema` in gateway/src/config/schema.ts), so types, defaults,
 * validation and docs/config.md come from one place.
 *
 * Ajv applies `default` only outside unions, so optional fields of a channel (inside the
 * channel union) state their default in the description and the code applies it.
 */
import { type Static, Type } from '@sinclair/typebox';

/** No CR/LF anywhere near a header or an SMTP command line. */
const NO_LINE_BREAKS = '^[^\\r\\n]*$';

export const WebhookChannelSchema = Type.Object(
  {
    type: Type.Literal('webhook', { description: 'HTTP POST of a JSON body' }),
    url: Type.String({
      pattern: '^https?://[^\\s]+$',
      description: 'webhook URL; robot URLs carry their token (WeCom ?key=, DingTalk ?access_token=), so logs name only the host',
    }),
    format: Type.Union([Type.Literal('json'), Type.Literal('wecom'), Type.Literal('dingtalk')], {
      description:
        'json: {source, gateway_id, key, status, severity, title, text, details, at, suppressed}; wecom: 企业微信群机器人 markdown; dingtalk: 钉钉自定义机器人 markdown (with keyword security, use the keyword "Packline": every title contains it)',
    }),
    secret: Type.Optional(Type.String({ minLength: 1, description: 'dingtalk only: the 加签 secret (SEC…); adds timestamp and sign to the URL' })),
    timeoutMs: Type.Optional(Type.Integer({ minimum: 100, maximum: 120_000, description: 'longest wait for the answer, ms (default 10000)' })),
  },
  { additionalProperties: false, description: 'a webhook: generic JSON, WeCom group robot or DingTalk custom robot' },
);
export type WebhookChannelConfig = Static<typeof WebhookChannelSchema>;

export const EmailChannelSchema = Type.Object(
  {
    type: Type.Literal('email', { description: 'e-mail over SMTP' }),
    host: Type.String({ minLength: 1, pattern: NO_LINE_BREAKS, description: 'SMTP server host name or address' }),
    port: Type.Integer({ minimum: 1, maximum: 65535, description: 'usually 465 (secure: tls), 587 (starttls) or 25 (relay)' }),
    secure: Type.Union([Type.Literal('tls'), Type.Literal('starttls'), Type.Literal('none')], {
      description: 'tls: TLS from the first byte (465); starttls: required upgrade, never falls back to clear text (587); none: clear text (LAN relay only)',
    }),
    user: Type.Optional(Type.String({ minLength: 1, pattern: NO_LINE_BREAKS, description: 'SMTP AUTH user (PLAIN, else LOGIN); none = no AUTH' })),
    pass: Type.Optional(Type.String({ description: 'SMTP AUTH password (redact when printing the config)' })),
    from: Type.String({
      minLength: 3,
      maxLength: 320,
      pattern: NO_LINE_BREAKS,
      description: 'sender, "alerts@example.com" or "Packline <alerts@example.com>"',
    }),
    to: Type.Array(Type.String({ minLength: 3, maxLength: 320, pattern: NO_LINE_BREAKS }), {
      minItems: 1,
      maxItems: 50,
      description: 'recipients, same forms as from',
    }),
    timeoutMs: Type.Optional(
      Type.Integer({ minimum: 100, maximum: 300_000, description: 'longest wait for connecting and for each SMTP reply, ms (default 30000)' }),
    ),
    caFile: Type.Optional(
      Type.String({ minLength: 1, description: 'PEM file of CA certificates to trust instead of the system ones (a site relay with its own CA)' }),
    ),
  },
  { additionalProperties: false, description: 'e-mail through an SMTP server' },
);
export type EmailChannelConfig = Static<typeof EmailChannelSchema>;

export const ChannelConfigSchema = Type.Union([WebhookChannelSchema, EmailChannelSchema], {
  description: 'where alerts go',
});
export type ChannelConfig = Static<typeof ChannelConfigSchema>;

export const RateLimitSchema = Type.Object(
  {
    perKeyIntervalMs: Type.Integer({
      minimum: 0,
      default: 600_000,
      description: 'an alert key is sent at most once per interval (ms); repeats are counted and reported with the next one; 0 = no per-key limit',
    }),
    maxPerHour: Type.Integer({
      minimum: 1,
      default: 30,
      description: 'alerts sent per hour over all keys (resolutions of sent alerts always go out)',
    }),
  },
  { default: {}, additionalProperties: false, description: 'keeps an outage from flooding the chat or the mailbox' },
);

export const RetrySchema = Type.Object(
  {
    attempts: Type.Integer({ minimum: 1, maximum: 10, default: 4, description: 'tries per alert and channel, the first included' }),
    baseDelayMs: Type.Integer({ minimum: 0, default: 2_000, description: 'wait before the first retry (ms); doubles each time, with jitter' }),
    maxDelayMs: Type.Integer({ minimum: 0, default: 60_000, description: 'longest wait between tries (ms)' }),
  },
  { default: {}, additionalProperties: false, description: 'retries of a failed delivery (timeouts, 5xx, SMTP 4xx); refusals are not retried' },
);

export const NotifyConfigSchema = Type.Object(
  {
    channels: Type.Array(ChannelConfigSchema, {
      default: [],
      maxItems: 20,
      description: 'webhooks and e-mail that get sync failure and outage alerts; none = no notifications',
    }),
    rateLimit: RateLimitSchema,
    retry: RetrySchema,
    timeZone: Type.String({ minLength: 1, default: 'UTC', description: 'IANA time zone for times in messages, e.g. Asia/Shanghai' }),
    maxQueue: Type.Integer({ minimum: 1, maximum: 10_000, default: 100, description: 'alerts waiting per channel; beyond it the oldest is dropped' }),
  },
  { default: {}, additionalProperties: false, description: 'notifications of sync failures and long outages' },
);
export type NotifyConfig = Static<typeof NotifyConfigSchema>;
export type RateLimitConfig = Static<typeof RateLimitSchema>;
export type RetryConfig = Static<typeof RetrySchema>;

export const DEFAULT_WEBHOOK_TIMEOUT_MS = 10_000;
export const DEFAULT_EMAIL_TIMEOUT_MS = 30_000;
