/**
 * WeCom (企业微信) group robot message, per the WeCom developer doc "群机器人配置说明":
 * POST JSON `{"msgtype":"markdown","markdown":{"content":…}}` to the robot's webhook URL
 * (`https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=…`); content is UTF-8 and at most
 * 4096 bytes. The markdown subset supports headings, bold, quotes and
 * `<font color="info|comment|warning">` (green, grey, orange-red). A robot may send at most
 * 20 messages a minute, which the notifier's rate limit keeps well under.
 */
import { type Notice, statusOf } from './alert.js';
import { detailEntries, formatTime, headline, label, suppressedSentence } from './render.js';
import { fitUtf8 } from './utf8.js';

/** "markdown内容，最长不超过4096个字节，必须是utf8编码" (群机器人配置说明, markdown类型). */
export const WECOM_MARKDOWN_MAX_BYTES = 4096;

export interface WecomMarkdownBody {
  msgtype: 'markdown';
  markdown: { content: string };
}

export function formatWecom(notice: Notice): WecomMarkdownBody {
  const { alert } = notice;
  const color = statusOf(alert) === 'resolved' || alert.severity === 'info' ? 'info' : 'warning';
  const head = `### ${headline(notice)}\n` + `> <font color="${color}">${label(alert)}</font> · ${alert.key} · ${formatTime(alert.at, notice.timeZone)}\n\n`;
  const details = detailEntries(alert).map(([k, v]) => `> ${k}: <font color="comment">${v}</font>`);
  const body = [alert.text.trim(), ...(details.length > 0 ? ['', ...details] : [])].join('\n');
  const note = suppressedSentence(notice);
  const tail = note === null ? '' : `\n\n<font color="comment">${note}</font>`;
  return { msgtype: 'markdown', markdown: { content: fitUtf8(head, body, tail, WECOM_MARKDOWN_MAX_BYTES) } };
}

/**
 * WeCom answers HTTP 200 with `{"errcode":0,"errmsg":"ok"}`; a non-zero errcode is a refusal.
 * These are worth retrying: -1 system busy, 45009 API frequency limit (the robot's 20/min).
 */
export const WECOM_RETRYABLE_ERRCODES: ReadonlySet<number> = new Set([-1, 45009]);
