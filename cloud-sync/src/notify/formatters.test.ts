import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { type Alert, type Notice, resolvedAlert } from './alert.js';
import { dingtalkSign, dingtalkSignedUrl, formatDingtalk } from './format-dingtalk.js';
import { emailSubject, formatEmail, newMessageId } from './format-email.js';
import { formatJson } from './format-json.js';
import { WECOM_MARKDOWN_MAX_BYTES, formatWecom } from './format-wecom.js';
import { encodeQuotedPrintable, encodedWords, formatMailbox, parseMailbox, rfc5322Date, unstructuredHeader } from './mime.js';
import { formatTime } from './render.js';
import { fitUtf8, truncateUtf8, utf8Length } from './utf8.js';

const AT = Date.UTC(2026, 10, 26, 6, 3, 5); // 2026-11-26T06:03:05Z = 14:03:05 in Shanghai

const alert: Alert = {
  key: 'sync.outage',
  severity: 'critical',
  title: 'Cloud sync down for 12 min',
  text: 'The cloud order system has not answered since 13:51.\nShipments are kept locally.',
  details: { pending_events: 1234, last_error: 'PKL_NOTIFY_TIMEOUT', link_up: false, cloud: null },
  at: AT,
};
const notice: Notice = { alert, gatewayId: 'gw-01', suppressed: 2, timeZone: 'Asia/Shanghai' };

describe('generic JSON', () => {
  it('is the flat snake_case body', () => {
    expect(formatJson(notice)).toEqual({
      source: 'packline',
      gateway_id: 'gw-01',
      key: 'sync.outage',
      status: 'firing',
      severity: 'critical',
      title: 'Cloud sync down for 12 min',
      text: 'The cloud order system has not answered since 13:51.\nShipments are kept locally.',
      details: { pending_events: 1234, last_error: 'PKL_NOTIFY_TIMEOUT', link_up: false, cloud: null },
      at: 1795672985000,
      suppressed: 2,
    });
  });
  it('marks a resolution and gives {} for no details', () => {
    const r = resolvedAlert('sync.outage', { title: 'Cloud sync back', text: 'Link up again.', at: AT });
    expect(formatJson({ ...notice, alert: r, suppressed: 0 })).toEqual({
      source: 'packline',
      gateway_id: 'gw-01',
      key: 'sync.outage',
      status: 'resolved',
      severity: 'info',
      title: 'Cloud sync back',
      text: 'Link up again.',
      details: {},
      at: AT,
      suppressed: 0,
    });
  });
});

describe('WeCom group robot', () => {
  it('is a markdown message', () => {
    expect(formatWecom(notice)).toEqual({
      msgtype: 'markdown',
      markdown: {
        content: [
          '### Packline gw-01: Cloud sync down for 12 min',
          '> <font color="warning">CRITICAL</font> · sync.outage · 2026-11-26 14:03:05 +08:00',
          '',
          'The cloud order system has not answered since 13:51.',
          'Shipments are kept locally.',
          '',
          '> pending_events: <font color="comment">1234</font>',
          '> last_error: <font color="comment">PKL_NOTIFY_TIMEOUT</font>',
          '> link_up: <font color="comment">false</font>',
          '> cloud: <font color="comment">-</font>',
          '',
          '<font color="comment">2 more "sync.outage" alerts were suppressed since the last notice.</font>',
        ].join('\n'),
      },
    });
  });
  it('resolved is green and has no suppression line when nothing was held back', () => {
    const r = resolvedAlert('sync.outage', { title: 'Cloud sync back', text: 'Up.', at: AT });
    expect(formatWecom({ ...notice, alert: r, suppressed: 0, timeZone: 'UTC' }).markdown.content).toBe(
      '### Packline gw-01: Cloud sync back\n> <font color="info">RESOLVED</font> · sync.outage · 2026-11-26 06:03:05 +00:00\n\nUp.',
    );
  });
  it('stays within 4096 UTF-8 bytes, cut on a character boundary, keeping head and suppression note', () => {
    const huge = { ...alert, text: '同步'.repeat(3000) + '😀'.repeat(500) };
    const content = formatWecom({ ...notice, alert: huge }).markdown.content;
    expect(utf8Length(content)).toBeLessThanOrEqual(WECOM_MARKDOWN_MAX_BYTES);
    expect(utf8Length(content)).toBeGreaterThan(WECOM_MARKDOWN_MAX_BYTES - 4);
    expect(content).not.toContain('\uFFFD');
    expect(Buffer.from(Buffer.from(content, 'utf8').toString('utf8'), 'utf8').equals(Buffer.from(content, 'utf8'))).toBe(true);
    expect(content.startsWith('### Packline gw-01: Cloud sync down for 12 min\n')).toBe(true);
    expect(content).toContain('…(truncated)');
    expect(content.endsWith('2 more "sync.outage" alerts were suppressed since the last notice.</font>')).toBe(true);
  });
});

describe('DingTalk custom robot', () => {
  it('is a markdown message with a title', () => {
    expect(formatDingtalk(notice)).toEqual({
      msgtype: 'markdown',
      markdown: {
        title: '[CRITICAL] Packline gw-01: Cloud sync down for 12 min',
        text: [
          '### [CRITICAL] Packline gw-01: Cloud sync down for 12 min',
          '',
          '**sync.outage** · 2026-11-26 14:03:05 +08:00',
          '',
          'The cloud order system has not answered since 13:51.',
          '',
          'Shipments are kept locally.',
          '',
          '- pending_events: 1234',
          '- last_error: PKL_NOTIFY_TIMEOUT',
          '- link_up: false',
          '- cloud: -',
          '',
          '> 2 more "sync.outage" alerts were suppressed since the last notice.',
        ].join('\n'),
      },
    });
  });
  it('signs as 自定义机器人安全设置 says: base64(HmacSHA256(secret, timestamp\\nsecret)), URL-encoded', () => {
    const secret = 'SECabc123';
    const ts = 1795672985000;
    const expected = createHmac('sha256', secret).update(`${ts}\n${secret}`).digest('base64');
    expect(dingtalkSign(secret, ts)).toBe(expected);
    const url = new URL(dingtalkSignedUrl('https://oapi.dingtalk.com/robot/send?access_token=tok', secret, ts));
    expect(url.searchParams.get('access_token')).toBe('tok');
    expect(url.searchParams.get('timestamp')).toBe(String(ts));
    expect(url.searchParams.get('sign')).toBe(expected);
    // The raw query holds no bare base64 "+", "/" or "=" (they would be read as space / path / separator).
    expect(url.search.split('sign=')[1]).toBe(encodeURIComponent(expected));
  });
  it('every title contains "Packline" (keyword security)', () => {
    expect(formatDingtalk({ ...notice, alert: { ...alert, title: '同步失败' } }).markdown.title).toContain('Packline');
  });
});

describe('e-mail', () => {
  const from = parseMailbox('Packline <alerts@example.com>');
  const to = ['ops@example.com', 'Night Shift <night@example.com>'].map(parseMailbox);
  it('is an RFC 5322 message with a quoted-printable text part', () => {
    if (from === null || to.includes(null)) throw new Error('fixture');
    const messageId = newMessageId(from, AT, 'abcdef0123456789');
    expect(messageId).toBe('<mwx5byqw.abcdef0123456789@example.com>');
    const msg = formatEmail(notice, { from, to: to as NonNullable<(typeof to)[number]>[], date: AT + 1000, messageId });
    expect(msg).toBe(
      [
        'From: Packline <alerts@example.com>',
        'To: ops@example.com, Night Shift <night@example.com>',
        'Subject: [Packline gw-01] CRITICAL: Cloud sync down for 12 min',
        'Date: Thu, 26 Nov 2026 06:03:06 +0000',
        'Message-ID: <mwx5byqw.abcdef0123456789@example.com>',
        'MIME-Version: 1.0',
        'Content-Type: text/plain; charset=utf-8',
        'Content-Transfer-Encoding: quoted-printable',
        'Auto-Submitted: auto-generated',
        'X-Packline-Alert: sync.outage; status=firing',
        '',
        'Cloud sync down for 12 min',
        '',
        'The cloud order system has not answered since 13:51.',
        'Shipments are kept locally.',
        '',
        'Gateway:  gw-01',
        'Alert:    sync.outage (critical, firing)',
        'Time:     2026-11-26 14:03:05 +08:00',
        '',
        'Details:',
        '  pending_events: 1234',
        '  last_error: PKL_NOTIFY_TIMEOUT',
        '  link_up: false',
        '  cloud: -',
        '',
        '2 more "sync.outage" alerts were suppressed since the last notice.',
        '',
        '--=20',
        'Packline gateway gw-01',
        '',
      ].join('\r\n'),
    );
  });
  it('encodes a non-ASCII subject as UTF-8 B encoded-words of at most 75 characters, on character boundaries', () => {
    const subject = emailSubject({ ...notice, alert: { ...alert, title: '云端同步中断已超过十二分钟，请检查网络连接与云端订单系统状态 😀' } });
    const header = unstructuredHeader('Subject', subject);
    const lines = header.split('\r\n');
    expect(lines.length).toBeGreaterThan(1);
    for (const l of lines) expect(l.length).toBeLessThanOrEqual(76);
    const words = [...header.matchAll(/=\?UTF-8\?B\?([A-Za-z0-9+/=]+)\?=/g)];
    for (const w of words) expect(w[0].length).toBeLessThanOrEqual(75);
    // Each word decodes on its own (no character split across words).
    const decoded = words.map((w) => {
      const text = Buffer.from(w[1] as string, 'base64').toString('utf8');
      expect(text).not.toContain('\uFFFD');
      return text;
    });
    expect(decoded.join('')).toBe(subject);
  });
  it('folds long ASCII subjects at spaces and never lets a line break into a header', () => {
    const h = unstructuredHeader('Subject', `${'word '.repeat(30)}end`);
    for (const l of h.split('\r\n')) expect(l.length).toBeLessThanOrEqual(78);
    expect(h.replace(/\r\n/g, '')).toBe(`Subject: ${'word '.repeat(30)}end`);
    const injected = emailSubject({ ...notice, alert: { ...alert, title: 'x\r\nBcc: evil@example.com' } });
    expect(injected).toBe('[Packline gw-01] CRITICAL: x Bcc: evil@example.com');
  });
  it('parses and formats mailboxes', () => {
    expect(parseMailbox('a@b.c')).toEqual({ name: null, address: 'a@b.c' });
    expect(parseMailbox('"Ops, night" <ops@x.io>')).toEqual({ name: 'Ops, night', address: 'ops@x.io' });
    expect(parseMailbox('no address')).toBeNull();
    expect(parseMailbox('a@b.c\r\nBcc: x@y.z')).toBeNull();
    expect(parseMailbox('<a b@c.d>')).toBeNull();
    expect(formatMailbox({ name: 'Ops, night', address: 'ops@x.io' })).toBe('"Ops, night" <ops@x.io>');
    expect(formatMailbox({ name: '仓库告警', address: 'a@b.c' })).toBe(`=?UTF-8?B?${Buffer.from('仓库告警').toString('base64')}?= <a@b.c>`);
  });
  it('writes RFC 5322 dates with a numeric zone', () => {
    expect(rfc5322Date(Date.UTC(2027, 0, 3, 23, 4, 5))).toBe('Sun, 03 Jan 2027 23:04:05 +0000');
  });
});

describe('quoted-printable (RFC 2045 §6.7)', () => {
  it('keeps ASCII, encodes "=", non-ASCII and trailing whitespace, wraps at 76 with soft breaks', () => {
    expect(encodeQuotedPrintable('a=b\n.dot\ntrail \nü')).toBe('a=3Db\r\n.dot\r\ntrail=20\r\n=C3=BC');
    const long = encodeQuotedPrintable('é'.repeat(40));
    for (const l of long.split('\r\n')) expect(l.length).toBeLessThanOrEqual(76);
    expect(long.split('\r\n')[0]).toMatch(/^(=C3=A9)+=$/);
  });
});

describe('UTF-8 budgets', () => {
  it('truncates on code point boundaries', () => {
    expect(truncateUtf8('aé中😀', 1)).toBe('a');
    expect(truncateUtf8('aé中😀', 2)).toBe('a');
    expect(truncateUtf8('aé中😀', 3)).toBe('aé');
    expect(truncateUtf8('aé中😀', 9)).toBe('aé中');
    expect(truncateUtf8('aé中😀', 10)).toBe('aé中😀');
    expect(truncateUtf8('😀😀', 5)).toBe('😀');
  });
  it('fits head + body + tail, shortening only the body', () => {
    expect(fitUtf8('H:', 'x'.repeat(50), ':T', 20, '…')).toBe(`H:${'x'.repeat(13)}…:T`);
    expect(utf8Length(fitUtf8('H:', 'x'.repeat(50), ':T', 20, '…'))).toBe(20);
  });
  it('formats times in a zone with a numeric offset', () => {
    expect(formatTime(AT, 'UTC')).toBe('2026-11-26 06:03:05 +00:00');
    expect(formatTime(AT, 'America/New_York')).toBe('2026-11-26 01:03:05 -05:00');
  });
  it('encoded-words hold whole characters', () => {
    expect(encodedWords('😀', 0)).toBe(`=?UTF-8?B?${Buffer.from('😀').toString('base64')}?=`);
  });
});
