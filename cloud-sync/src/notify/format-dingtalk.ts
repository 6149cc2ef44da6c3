/**
 * DingTalk (钉钉) custom robot message, per the DingTalk open platform docs "自定义机器人发送群消息"
 * (message types) and "自定义机器人安全设置" (security settings):
 *
 * - body `{"msgtype":"markdown","markdown":{"title":…,"text":…}}`; `title` is what the
 *   conversation list and the notification show, `text` the markdown;
 * - 加签 (signing): `timestamp` = now in ms, `sign` = urlEncode(base64(HmacSHA256(key = secret,
 *   data = timestamp + "\n" + secret))), both appended to the webhook URL as query parameters;
 *   DingTalk refuses a timestamp more than an hour away from its clock;
 * - 自定义关键词 (keyword security): a message must contain one of the robot's keywords.
 *   Every title here starts with "Packline", so configuring the keyword `Packline` works;
 * - a robot may send 20 messages a minute (more → throttled for 10 minutes).
 */
import { createHmac } from 'node:crypto';
import type { Notice } from './alert.js';
import { detailEntries, formatTime, headline, label, suppressedSentence } from './render.js';
import { fitUtf8 } from './utf8.js';

/**
 * The markdown doc states no byte limit; we hold DingTalk to WeCom's 4096 bytes: an alert that
 * needs more is unreadable in a group chat anyway, and a bounded body cannot be refused for size.
 */
export const DINGTALK_MARKDOWN_MAX_BYTES = 4096;

export interface DingtalkMarkdownBody {
  msgtype: 'markdown';
  markdown: { title: string; text: string };
}

export function formatDingtalk(notice: Notice): DingtalkMarkdownBody {
  const { alert } = notice;
  const title = `[${label(alert)}] ${headline(notice)}`;
  // DingTalk's markdown joins single newlines; blocks are separated by blank lines.
  const head = `### ${title}\n\n**${alert.key}** · ${formatTime(alert.at, notice.timeZone)}\n\n`;
  const details = detailEntries(alert).map(([k, v]) => `- ${k}: ${v}`);
  const text = alert.text
    .trim()
    .split(/\r\n|\r|\n/)
    .join('\n\n');
  const body = [text, details.join('\n')].filter((part) => part !== '').join('\n\n');
  const note = suppressedSentence(notice);
  const tail = note === null ? '' : `\n\n> ${note}`;
  return { msgtype: 'markdown', markdown: { title, text: fitUtf8(head, body, tail, DINGTALK_MARKDOWN_MAX_BYTES) } };
}

/** base64(HmacSHA256(secret, `${timestamp}\n${secret}`)), before URL encoding (自定义机器人安全设置, 加签). */
export function dingtalkSign(secret: string, timestampMs: number): string {
  return createHmac('sha256', Buffer.from(secret, 'utf8')).update(`${timestampMs}\n${secret}`, 'utf8').digest('base64');
}

/** The webhook URL with `timestamp` and `sign` appended (URLSearchParams percent-encodes `+`, `/`, `=`). */
export function dingtalkSignedUrl(url: string, secret: string, timestampMs: number): string {
  const u = new URL(url);
  u.searchParams.set('timestamp', String(timestampMs));
  u.searchParams.set('sign', dingtalkSign(secret, timestampMs));
  return u.toString();
}

/**
 * DingTalk answers HTTP 200 with `{"errcode":0,"errmsg":"ok"}`; non-zero is a refusal
 * (310000 = keyword/signature/IP check failed, which a retry cannot fix). Retried:
 * -1 system busy, 130101 "send too fast" (the 20/min throttle).
 */
export const DINGTALK_RETRYABLE_ERRCODES: ReadonlySet<number> = new Set([-1, 130101]);
