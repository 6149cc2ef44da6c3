/**
 * Alerts to a webhook: generic JSON, a WeCom group robot or a DingTalk custom robot.
 * One POST per alert; success is a 2xx, and for the robots also `errcode: 0` in the answer
 * (both answer 200 with an errcode when they refuse).
 */
import { PacklineError } from '../../../../contracts/errors.js';
import type { Notice } from '../alert.js';
import { DINGTALK_RETRYABLE_ERRCODES, dingtalkSignedUrl, formatDingtalk } from '../format-dingtalk.js';
import { formatJson } from '../format-json.js';
import { WECOM_RETRYABLE_ERRCODES, formatWecom } from '../format-wecom.js';
import { DEFAULT_WEBHOOK_TIMEOUT_MS, type WebhookChannelConfig } from '../notify-config.js';
import type { Channel } from './channel.js';

export interface WebhookChannelDeps {
  fetch: typeof globalThis.fetch;
  now: () => number;
}

/** How much of an error answer goes into the error message. */
const ANSWER_EXCERPT = 200;

export class WebhookChannel implements Channel {
  readonly type = 'webhook' as const;
  readonly name: string;
  readonly #config: WebhookChannelConfig;
  readonly #deps: WebhookChannelDeps;

  constructor(config: WebhookChannelConfig, deps: WebhookChannelDeps) {
    let url: URL;
    try {
      url = new URL(config.url);
    } catch {
      throw new PacklineError('PKL_CONFIG_INVALID', { reason: 'notify webhook url is not a URL' });
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') {
      throw new PacklineError('PKL_CONFIG_INVALID', { reason: `notify webhook url must be http(s), got ${url.protocol}` });
    }
    if (config.secret !== undefined && config.format !== 'dingtalk') {
      throw new PacklineError('PKL_CONFIG_INVALID', { reason: 'notify webhook secret is only used with format dingtalk' });
    }
    this.#config = config;
    this.#deps = deps;
    this.name = `webhook/${config.format} ${url.host}`;
  }

  async send(notice: Notice): Promise<void> {
    const c = this.#config;
    const body = c.format === 'wecom' ? formatWecom(notice) : c.format === 'dingtalk' ? formatDingtalk(notice) : formatJson(notice);
    const url = c.format === 'dingtalk' && c.secret !== undefined ? dingtalkSignedUrl(c.url, c.secret, this.#deps.now()) : c.url;
    const timeoutMs = c.timeoutMs ?? DEFAULT_WEBHOOK_TIMEOUT_MS;

    let status: number;
    let answer: string;
    try {
      // The signal also bounds reading the answer. Redirects are not followed: a robot URL
      // never redirects, and following one would hand the alert (and the token) elsewhere.
      const res = await this.#deps.fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json; charset=utf-8', 'user-agent': 'packline-notify' },
        body: JSON.stringify(body),
        redirect: 'manual',
        signal: AbortSignal.timeout(timeoutMs),
      });
      status = res.status;
      answer = await res.text();
    } catch (err) {
      const e = err as Error & { cause?: { code?: string; message?: string } };
      if (e.name === 'TimeoutError' || e.name === 'AbortError') {
        throw new PacklineError('PKL_NOTIFY_TIMEOUT', { channel: this.name, step: 'POST', timeoutMs }, { cause: err });
      }
      throw new PacklineError('PKL_NOTIFY_UNREACHABLE', { channel: this.name, reason: e.cause?.code ?? e.cause?.message ?? e.message }, { cause: err });
    }

    if (status < 200 || status > 299) {
      throw new PacklineError('PKL_NOTIFY_REJECTED', {
        channel: this.name,
        status,
        reason: `HTTP ${status} ${answer.slice(0, ANSWER_EXCERPT)}`.trim(),
        // 5xx: the receiver's trouble; 408/429: come back later. Other 4xx: our request is wrong.
        retryable: status >= 500 || status === 408 || status === 429,
      });
    }
    if (c.format === 'json') return;

    let parsed: { errcode?: unknown; errmsg?: unknown };
    try {
      parsed = JSON.parse(answer) as { errcode?: unknown; errmsg?: unknown };
    } catch {
      // A 200 that is not the robot's JSON: a proxy or captive portal in the way; may clear up.
      throw new PacklineError('PKL_NOTIFY_REJECTED', {
        channel: this.name,
        status,
        reason: `answer is not JSON: ${answer.slice(0, ANSWER_EXCERPT)}`,
        retryable: true,
      });
    }
    const errcode = typeof parsed?.errcode === 'number' ? parsed.errcode : Number.NaN;
    if (errcode === 0) return;
    const retryable = (c.format === 'wecom' ? WECOM_RETRYABLE_ERRCODES : DINGTALK_RETRYABLE_ERRCODES).has(errcode);
    throw new PacklineError('PKL_NOTIFY_REJECTED', {
      channel: this.name,
      status,
      errcode: Number.isNaN(errcode) ? null : errcode,
      reason: `errcode ${String(parsed?.errcode)}: ${String(parsed?.errmsg ?? '')}`.slice(0, ANSWER_EXCERPT),
      retryable,
    });
  }
}
