/**
 * Notifications against real local servers: an HTTP webhook sink and an SMTP sink (STARTTLS
 * and implicit TLS with a throwaway openssl certificate), both on 127.0.0.1 ephemeral ports.
 */
import { type Server, createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { pino } from 'pino';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { PacklineError } from '../../../contracts/errors.js';
import { type Alert, type ChannelConfig, Notifier, type NotifierOptions, resolvedAlert, sendMail } from '../../src/notify/index.js';
import { formatWecom } from '../../src/notify/format-wecom.js';
import { parseMail } from '../support/mail-parse.js';
import { SmtpSink } from '../support/smtp-sink.js';
import { type TestCert, makeSelfSignedCert } from '../support/tls-cert.js';
import { WebhookSink } from '../support/webhook-sink.js';

interface LogLine {
  level: number;
  msg: string;
  code?: string;
  attempts?: number;
  cause?: { code: string; message: string; details?: Record<string, unknown> };
  [k: string]: unknown;
}

function captureLogger() {
  const lines: LogLine[] = [];
  let watchers: Array<() => void> = [];
  const logger = pino(
    { level: 'debug' },
    {
      write: (s: string) => {
        lines.push(JSON.parse(s) as LogLine);
        const w = watchers;
        watchers = [];
        for (const f of w) f();
      },
    },
  );
  /** Resolves once a line matching `pred` was logged. */
  async function waitFor(pred: (l: LogLine) => boolean): Promise<LogLine> {
    for (;;) {
      const hit = lines.find(pred);
      if (hit !== undefined) return hit;
      await new Promise<void>((r) => watchers.push(r));
    }
  }
  return { logger, lines, waitFor, gaveUp: () => lines.filter((l) => l.code === 'PKL_NOTIFY_GAVE_UP') };
}

const outage = (over: Partial<Alert> = {}): Alert => ({
  key: 'sync.outage',
  severity: 'critical',
  title: 'Cloud sync down for 12 min',
  text: 'The cloud order system has not answered since 13:51.',
  details: { pending_events: 1234, link_up: false },
  at: Date.now(),
  ...over,
});

/** A port nothing listens on: bound, then released. */
async function closedPort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const { port } = s.address() as AddressInfo;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function startNotifier(options: Omit<NotifierOptions, 'gatewayId'> & { gatewayId?: string }): Promise<Notifier> {
  const n = new Notifier({ gatewayId: 'gw-01', retry: { attempts: 3, baseDelayMs: 5, maxDelayMs: 20 }, ...options });
  await n.start();
  cleanups.push(() => n.stop());
  return n;
}

async function startWebhookSink(opts: { dingtalkSecret?: string } = {}): Promise<WebhookSink> {
  const sink = await WebhookSink.start(opts);
  cleanups.push(() => sink.close());
  return sink;
}

async function startSmtpSink(opts: Parameters<typeof SmtpSink.start>[0] = {}): Promise<SmtpSink> {
  const sink = await SmtpSink.start(opts);
  cleanups.push(() => sink.close());
  return sink;
}

describe('webhook channels', () => {
  it('generic JSON arrives as specified', async () => {
    const sink = await startWebhookSink();
    const n = await startNotifier({ channels: [{ type: 'webhook', url: sink.url('/alerts'), format: 'json' }] });
    const alert = outage({ at: 1795672985000 });
    n.notify(alert);
    await n.idle();
    const [req] = await sink.waitForRequests(1);
    expect(req?.method).toBe('POST');
    expect(req?.url).toBe('/alerts');
    expect(req?.headers['content-type']).toBe('application/json; charset=utf-8');
    expect(req?.json).toEqual({
      source: 'packline',
      gateway_id: 'gw-01',
      key: 'sync.outage',
      status: 'firing',
      severity: 'critical',
      title: 'Cloud sync down for 12 min',
      text: 'The cloud order system has not answered since 13:51.',
      details: { pending_events: 1234, link_up: false },
      at: 1795672985000,
      suppressed: 0,
    });
    expect(n.stats().channels[0]).toMatchObject({ name: `webhook/json 127.0.0.1:${sink.port}`, delivered: 1, failed: 0, retries: 0, queued: 0 });
  });

  it('WeCom robot gets a markdown message, with the key kept out of logs and stats', async () => {
    const sink = await startWebhookSink();
    const n = await startNotifier({
      channels: [{ type: 'webhook', url: sink.url('/cgi-bin/webhook/send?key=SECRET-KEY'), format: 'wecom' }],
      timeZone: 'Asia/Shanghai',
    });
    const alert = outage();
    n.notify(alert);
    await n.idle();
    const [req] = await sink.waitForRequests(1);
    expect(req?.url).toBe('/cgi-bin/webhook/send?key=SECRET-KEY');
    expect(req?.json).toEqual(formatWecom({ alert, gatewayId: 'gw-01', suppressed: 0, timeZone: 'Asia/Shanghai' }));
    expect((req!.json as { msgtype: string }).msgtype).toBe('markdown');
    expect((req!.json as { markdown: { content: string } }).markdown.content).toMatch(/^### Packline gw-01: Cloud sync down for 12 min\n/);
    expect(JSON.stringify(n.stats())).not.toContain('SECRET-KEY');
  });

  it('DingTalk robot gets a signed markdown message the sink verifies', async () => {
    const secret = 'SEC0123456789abcdef';
    const sink = await startWebhookSink({ dingtalkSecret: secret });
    const n = await startNotifier({
      channels: [{ type: 'webhook', url: sink.url('/robot/send?access_token=tok123'), format: 'dingtalk', secret }],
    });
    n.notify(outage());
    await n.idle();
    const [req] = await sink.waitForRequests(1);
    expect(req?.signValid).toBe(true);
    expect(req?.query.get('access_token')).toBe('tok123');
    expect(req?.json).toMatchObject({ msgtype: 'markdown', markdown: { title: '[CRITICAL] Packline gw-01: Cloud sync down for 12 min' } });
    expect(n.stats().channels[0]).toMatchObject({ delivered: 1, failed: 0 });
  });

  it('a DingTalk refusal (wrong secret, errcode 310000) is not retried and is logged coded', async () => {
    const sink = await startWebhookSink({ dingtalkSecret: 'SECright' });
    const log = captureLogger();
    const n = await startNotifier({
      channels: [{ type: 'webhook', url: sink.url('/robot/send?access_token=t'), format: 'dingtalk', secret: 'SECwrong' }],
      logger: log.logger,
    });
    n.notify(outage());
    await n.idle();
    expect(sink.requests).toHaveLength(1);
    expect(sink.requests[0]?.signValid).toBe(false);
    expect(log.gaveUp()).toHaveLength(1);
    expect(log.gaveUp()[0]).toMatchObject({ attempts: 1, cause: { code: 'PKL_NOTIFY_REJECTED', details: { errcode: 310000, retryable: false } } });
  });

  it('a 5xx is retried, then given up with a logged coded error', async () => {
    const sink = await startWebhookSink();
    sink.respond({ status: 503, body: 'busy' }, { status: 502, body: 'bad gateway' }, { status: 500, body: 'boom' });
    const log = captureLogger();
    const n = await startNotifier({ channels: [{ type: 'webhook', url: sink.url(), format: 'json' }], logger: log.logger });
    n.notify(outage());
    await n.idle();
    expect(sink.requests).toHaveLength(3);
    const [line] = log.gaveUp();
    expect(line).toMatchObject({
      level: 50,
      code: 'PKL_NOTIFY_GAVE_UP',
      key: 'sync.outage',
      attempts: 3,
      cause: { code: 'PKL_NOTIFY_REJECTED', details: { status: 500, retryable: true } },
    });
    expect(line?.msg).toBe(
      `Gave up notifying webhook/json 127.0.0.1:${sink.port} of sync.outage after 3 attempts: PKL_NOTIFY_REJECTED: Notification channel webhook/json 127.0.0.1:${sink.port} refused the message: HTTP 500 boom`,
    );
    expect(n.stats().channels[0]).toMatchObject({ delivered: 0, failed: 1, retries: 2, lastError: { code: 'PKL_NOTIFY_REJECTED' } });
  });

  it('a transient 5xx or a reset connection is retried and then delivered; a 4xx is not retried', async () => {
    const sink = await startWebhookSink();
    sink.respond({ status: 503 }, { status: 200, destroy: true });
    const n = await startNotifier({ channels: [{ type: 'webhook', url: sink.url(), format: 'json' }] });
    n.notify(outage());
    await n.idle();
    expect(sink.requests).toHaveLength(3);
    expect(n.stats().channels[0]).toMatchObject({ delivered: 1, failed: 0, retries: 2 });

    sink.respond({ status: 404, body: 'no such hook' });
    n.notify(outage({ key: 'sync.failed' }));
    await n.idle();
    expect(sink.requests).toHaveLength(4);
    expect(n.stats().channels[0]).toMatchObject({ delivered: 1, failed: 1, retries: 2 });
  });
});

describe('rate limiting', () => {
  it('suppresses repeats of a key and reports the count with the next one, then the resolution', async () => {
    const sink = await startWebhookSink();
    let clock = Date.now();
    const channels: ChannelConfig[] = [
      { type: 'webhook', url: sink.url('/json'), format: 'json' },
      { type: 'webhook', url: sink.url('/wecom'), format: 'wecom' },
    ];
    const n = await startNotifier({ channels, now: () => clock, rateLimit: { perKeyIntervalMs: 600_000, maxPerHour: 30 } });
    n.notify(outage());
    clock += 60_000;
    n.notify(outage());
    n.notify(outage());
    n.notify(outage({ key: 'sync.failed', severity: 'warning', title: 'Batch refused' }));
    await n.idle();
    expect(n.stats()).toMatchObject({ received: 4, accepted: 2, suppressed: 2, pendingSuppressed: { 'sync.outage': 2 } });
    clock += 600_000;
    n.notify(outage({ title: 'Cloud sync down for 23 min' }));
    n.notify(resolvedAlert('sync.outage', { title: 'Cloud sync back', text: 'All 1234 events sent.', at: clock }));
    n.notify(resolvedAlert('sync.outage', { title: 'Cloud sync back', text: 'again', at: clock }));
    await n.idle();

    const json = sink.requests.filter((r) => r.url === '/json').map((r) => r.json as { key: string; status: string; suppressed: number; title: string });
    expect(json.map((j) => [j.key, j.status, j.suppressed, j.title])).toEqual([
      ['sync.outage', 'firing', 0, 'Cloud sync down for 12 min'],
      ['sync.failed', 'firing', 0, 'Batch refused'],
      ['sync.outage', 'firing', 2, 'Cloud sync down for 23 min'],
      ['sync.outage', 'resolved', 0, 'Cloud sync back'],
    ]);
    const wecom = sink.requests.filter((r) => r.url === '/wecom').map((r) => (r.json as { markdown: { content: string } }).markdown.content);
    expect(wecom[2]).toContain('2 more "sync.outage" alerts were suppressed since the last notice.');
    expect(wecom[3]).toContain('RESOLVED');
    expect(n.stats()).toMatchObject({ received: 7, accepted: 4, suppressed: 2, unmatchedResolved: 1, pendingSuppressed: {} });
  });
});

describe('e-mail channel', () => {
  let cert: TestCert;
  beforeAll(() => {
    cert = makeSelfSignedCert();
  });
  afterAll(() => cert.remove());

  it('STARTTLS + AUTH PLAIN: headers, non-ASCII subject and dot-stuffed lines arrive intact', async () => {
    const sink = await startSmtpSink({ tls: { mode: 'starttls', key: cert.key, cert: cert.cert }, users: { alerts: 's3cret' }, chunkSize: 7 });
    const n = await startNotifier({
      channels: [
        {
          type: 'email',
          host: '127.0.0.1',
          port: sink.port,
          secure: 'starttls',
          user: 'alerts',
          pass: 's3cret',
          from: 'Packline 告警 <alerts@example.com>',
          to: ['ops@example.com', 'Night Shift <night@example.com>'],
          caFile: cert.certFile,
        },
      ],
      timeZone: 'Asia/Shanghai',
    });
    n.notify(outage({ title: '云端同步中断 — 网关离线已超过十二分钟，请检查网络', text: '.hidden line\n..two dots\n.\nend', details: { 待发事件: 1234 } }));
    await n.idle();
    const [mail] = await sink.waitForMessages(1);
    if (mail === undefined) throw new Error('no mail');

    expect(mail).toMatchObject({ mailFrom: 'alerts@example.com', rcptTo: ['ops@example.com', 'night@example.com'], tls: true, authUser: 'alerts' });
    expect(mail.helo).toMatch(/^\[127\.0\.0\.1\]$/);
    // STARTTLS came first, then EHLO again, and AUTH only inside TLS. QUIT goes out once the
    // data is accepted, without waiting for the 221: the transcript may lag a moment.
    await vi.waitFor(() => expect(sink.transcript.at(-1)?.line).toBe('QUIT'));
    expect(sink.transcript.map((t) => `${t.tls ? 'tls' : 'clear'} ${t.line.split(' ')[0]}`)).toEqual([
      'clear EHLO',
      'clear STARTTLS',
      'tls EHLO',
      'tls AUTH',
      'tls MAIL',
      'tls RCPT',
      'tls RCPT',
      'tls DATA',
      'tls QUIT',
    ]);

    const parsed = parseMail(mail.data);
    expect(parsed.headerNames).toEqual([
      'From',
      'To',
      'Subject',
      'Date',
      'Message-ID',
      'MIME-Version',
      'Content-Type',
      'Content-Transfer-Encoding',
      'Auto-Submitted',
      'X-Packline-Alert',
    ]);
    for (const l of parsed.rawHeaderLines) expect(l.length).toBeLessThanOrEqual(78);
    expect(parsed.subject).toBe('[Packline gw-01] CRITICAL: 云端同步中断 — 网关离线已超过十二分钟，请检查网络');
    expect(parsed.headers.get('subject')).toMatch(/^=\?UTF-8\?B\?/);
    expect(parsed.headers.get('from')).toBe(`=?UTF-8?B?${Buffer.from('Packline 告警').toString('base64')}?= <alerts@example.com>`);
    expect(parsed.headers.get('to')).toBe('ops@example.com, Night Shift <night@example.com>');
    expect(parsed.headers.get('date')).toMatch(/^(Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} \+0000$/);
    expect(Number.isNaN(Date.parse(parsed.headers.get('date') as string))).toBe(false);
    expect(parsed.headers.get('message-id')).toMatch(/^<[0-9a-z]+\.[0-9a-f]{16}@example\.com>$/);
    expect(parsed.headers.get('content-type')).toBe('text/plain; charset=utf-8');
    expect(parsed.headers.get('content-transfer-encoding')).toBe('quoted-printable');

    // The text's lines starting with "." crossed SMTP dot-stuffing and came back unchanged.
    expect(mail.data.split('\r\n')).toEqual(expect.arrayContaining(['.hidden line', '..two dots', '.']));
    expect(parsed.text).toContain('\r\n.hidden line\r\n..two dots\r\n.\r\nend\r\n');
    expect(parsed.text).toContain('  待发事件: 1234');
    expect(n.stats().channels[0]).toMatchObject({ name: `email 127.0.0.1:${sink.port}`, delivered: 1 });
  });

  it('implicit TLS (465-style) with AUTH LOGIN when PLAIN is not offered', async () => {
    const sink = await startSmtpSink({ tls: { mode: 'implicit', key: cert.key, cert: cert.cert }, users: { u: 'p w' }, authMechanisms: ['LOGIN'] });
    const n = await startNotifier({
      channels: [
        {
          type: 'email',
          host: '127.0.0.1',
          port: sink.port,
          secure: 'tls',
          user: 'u',
          pass: 'p w',
          from: 'a@example.com',
          to: ['b@example.com'],
          caFile: cert.certFile,
        },
      ],
    });
    n.notify(outage());
    await n.idle();
    const [mail] = await sink.waitForMessages(1);
    expect(mail).toMatchObject({ tls: true, authUser: 'u', rcptTo: ['b@example.com'] });
    expect(sink.transcript.map((t) => t.line).slice(0, 4)).toEqual(['EHLO [127.0.0.1]', 'AUTH LOGIN', '<auth data>', '<auth data>']);
  });

  it('does not trust a certificate it was not given', async () => {
    const sink = await startSmtpSink({ tls: { mode: 'implicit', key: cert.key, cert: cert.cert } });
    const log = captureLogger();
    const n = await startNotifier({
      channels: [{ type: 'email', host: '127.0.0.1', port: sink.port, secure: 'tls', from: 'a@example.com', to: ['b@example.com'] }],
      logger: log.logger,
      retry: { attempts: 1 },
    });
    n.notify(outage());
    await n.idle();
    expect(sink.messages).toHaveLength(0);
    expect(log.gaveUp()[0]).toMatchObject({ cause: { code: 'PKL_NOTIFY_UNREACHABLE' } });
  });

  it('a 4xx reply or a dropped connection is retried; the message then arrives once', async () => {
    const sink = await startSmtpSink();
    sink.failNext('MAIL', { reply: '451 4.3.0 Try again later' });
    sink.failNext('DATA_END', { drop: true });
    const log = captureLogger();
    const n = await startNotifier({
      channels: [{ type: 'email', host: '127.0.0.1', port: sink.port, secure: 'none', from: 'a@example.com', to: ['b@example.com'] }],
      logger: log.logger,
    });
    n.notify(outage());
    await n.idle();
    expect(sink.messages).toHaveLength(1);
    expect(sink.connections).toBe(3);
    expect(n.stats().channels[0]).toMatchObject({ delivered: 1, retries: 2, failed: 0 });
    const retries = log.lines.filter((l) => l.msg === 'alert delivery failed; will retry').map((l) => l.code);
    expect(retries).toEqual(['PKL_SMTP_REPLY', 'PKL_NOTIFY_UNREACHABLE']);
  });

  it('a 5xx reply (recipient refused, wrong password) is given up at once with the reply code', async () => {
    const sink = await startSmtpSink({ users: { u: 'right' }, rejectRecipients: ['nobody@example.com'] });
    const log = captureLogger();
    const n = await startNotifier({
      channels: [
        { type: 'email', host: '127.0.0.1', port: sink.port, secure: 'none', user: 'u', pass: 'right', from: 'a@example.com', to: ['nobody@example.com'] },
        { type: 'email', host: '127.0.0.1', port: sink.port, secure: 'none', user: 'u', pass: 'wrong', from: 'a@example.com', to: ['b@example.com'] },
      ],
      logger: log.logger,
    });
    n.notify(outage());
    await n.idle();
    expect(sink.connections).toBe(2);
    const causes = log.gaveUp().map((l) => [l.attempts, l.cause?.code, l.cause?.details?.command, l.cause?.details?.replyCode]);
    expect(causes).toEqual(
      expect.arrayContaining([
        [1, 'PKL_SMTP_REPLY', 'RCPT TO', 550],
        [1, 'PKL_SMTP_REPLY', 'AUTH PLAIN', 535],
      ]),
    );
    // The password never reaches a log line.
    expect(JSON.stringify(log.lines)).not.toContain('wrong');
    expect(log.lines.some((l) => l.msg === 'notify e-mail sends its password without TLS (secure: none)')).toBe(true);
  });

  it('secure: starttls refuses a server that does not offer STARTTLS', async () => {
    const sink = await startSmtpSink();
    const log = captureLogger();
    const n = await startNotifier({
      channels: [{ type: 'email', host: '127.0.0.1', port: sink.port, secure: 'starttls', from: 'a@example.com', to: ['b@example.com'] }],
      logger: log.logger,
    });
    n.notify(outage());
    await n.idle();
    expect(sink.messages).toHaveLength(0);
    // With STARTTLS required the client asks for it even when the EHLO does not offer it; the
    // refusal ends the session: no AUTH, no MAIL, nothing in clear.
    expect(sink.transcript.map((t) => t.line.split(' ')[0])).toEqual(['EHLO', 'STARTTLS']);
    expect(log.gaveUp()[0]).toMatchObject({ attempts: 1, cause: { code: 'PKL_NOTIFY_REJECTED' } });
  });
});

describe('SMTP client', () => {
  it('sends CRLF-normalised, dot-stuffed data that the server gets back byte for byte (replies fed byte by byte)', async () => {
    const sink = await startSmtpSink({ chunkSize: 1 });
    const message = 'Subject: dots\n\n.\n..\n.leading\nbare LF\rbare CR\r\nlast';
    const result = await sendMail(
      { host: '127.0.0.1', port: sink.port, secure: 'none' },
      { from: 'a@example.com', to: ['b@example.com', 'c@example.com'] },
      message,
    );
    expect(result).toMatchObject({ accepted: ['b@example.com', 'c@example.com'], rejected: [], tls: false });
    expect(result.reply).toBe('250 2.0.0 Ok: queued as Q1');
    const [mail] = await sink.waitForMessages(1);
    expect(mail?.data).toBe('Subject: dots\r\n\r\n.\r\n..\r\n.leading\r\nbare LF\r\nbare CR\r\nlast\r\n');
  });

  it('reports partly refused recipients and still delivers to the rest', async () => {
    const sink = await startSmtpSink({ rejectRecipients: ['x@example.com'] });
    const result = await sendMail(
      { host: '127.0.0.1', port: sink.port, secure: 'none' },
      { from: 'a@example.com', to: ['x@example.com', 'y@example.com'] },
      'Subject: s\r\n\r\nhi',
    );
    expect(result.accepted).toEqual(['y@example.com']);
    expect(result.rejected).toEqual([{ address: 'x@example.com', reply: '550 5.1.1 Recipient address rejected: User unknown' }]);
  });

  it('turns a non-SMTP greeting into PKL_SMTP_PROTOCOL and a silent server into PKL_NOTIFY_TIMEOUT', async () => {
    const sink = await startSmtpSink();
    sink.failNext('connect', { garbage: 'HTTP/1.1 400 Bad Request\r\n\r\n' });
    const err1 = await sendMail({ host: '127.0.0.1', port: sink.port, secure: 'none' }, { from: 'a@x.io', to: ['b@x.io'] }, 'x').catch((e: unknown) => e);
    expect(err1).toBeInstanceOf(PacklineError);
    expect((err1 as PacklineError).code).toBe('PKL_SMTP_PROTOCOL');

    const silent: Server = createServer(() => {});
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
    cleanups.push(
      () =>
        new Promise<void>((r) => {
          silent.close(() => r());
        }),
    );
    const port = (silent.address() as AddressInfo).port;
    const err2 = await sendMail({ host: '127.0.0.1', port, secure: 'none', timeoutMs: 200 }, { from: 'a@x.io', to: ['b@x.io'] }, 'x').catch((e: unknown) => e);
    expect((err2 as PacklineError).code).toBe('PKL_NOTIFY_TIMEOUT');
    expect((err2 as PacklineError).details).toMatchObject({ step: 'greeting', timeoutMs: 200 });
  });

  it('refuses addresses that would inject commands', async () => {
    const err = await sendMail({ host: '127.0.0.1', port: 1, secure: 'none' }, { from: 'a@x.io', to: ['b@x.io>\r\nRCPT TO:<c@x.io'] }, 'x').catch(
      (e: unknown) => e,
    );
    expect((err as PacklineError).code).toBe('PKL_NOTIFY_REJECTED');
  });
});

describe('notify() when everything is down', () => {
  it('never throws, gives up every delivery, and stops cleanly', async () => {
    const deadWeb = await closedPort();
    const deadSmtp = await closedPort();
    const log = captureLogger();
    const n = new Notifier({
      gatewayId: 'gw-01',
      channels: [
        { type: 'webhook', url: `http://127.0.0.1:${deadWeb}/hook`, format: 'json' },
        { type: 'webhook', url: `http://127.0.0.1:${deadWeb}/robot/send?access_token=t`, format: 'dingtalk', secret: 'SECx' },
        { type: 'email', host: '127.0.0.1', port: deadSmtp, secure: 'starttls', from: 'a@example.com', to: ['b@example.com'] },
      ],
      retry: { attempts: 2, baseDelayMs: 1, maxDelayMs: 5 },
      rateLimit: { perKeyIntervalMs: 0, maxPerHour: 100 },
      logger: log.logger,
    });
    // Before start(), while running, and after stop(): notify() returns quietly.
    expect(() => n.notify(outage())).not.toThrow();
    await n.start();
    const bad: unknown[] = [
      null,
      undefined,
      42,
      {},
      { key: '', severity: 'critical', title: '', text: '', at: 1 },
      { ...outage(), severity: 'fatal' },
      { ...outage(), details: { nested: { x: 1 } } },
    ];
    for (const b of bad) expect(() => n.notify(b as Alert)).not.toThrow();
    for (let i = 0; i < 5; i++) expect(() => n.notify(outage({ key: `sync.failed.${i}` }))).not.toThrow();
    await n.idle();
    const stats = n.stats();
    expect(stats).toMatchObject({ received: 13, invalid: 7, accepted: 6 });
    for (const c of stats.channels) expect(c).toMatchObject({ delivered: 0, failed: 6, retries: 6, queued: 0 });
    expect(log.gaveUp()).toHaveLength(18);
    for (const l of log.gaveUp()) expect(l.cause?.code).toBe('PKL_NOTIFY_UNREACHABLE');
    await n.stop();
    expect(() => n.notify(outage())).not.toThrow();
    expect(n.stats().channels.map((c) => c.dropped)).toEqual([1, 1, 1]);
  });

  it('stop() cuts a retry wait short instead of waiting it out', async () => {
    const sink = await startWebhookSink();
    sink.respond({ status: 503 });
    const log = captureLogger();
    const n = new Notifier({
      gatewayId: 'gw-01',
      channels: [{ type: 'webhook', url: sink.url(), format: 'json' }],
      retry: { attempts: 5, baseDelayMs: 600_000, maxDelayMs: 600_000 },
      logger: log.logger,
    });
    await n.start();
    n.notify(outage());
    n.notify(outage({ key: 'sync.failed' }));
    // In the 10-minute wait before the second try:
    await log.waitFor((l) => l.msg === 'alert delivery failed; will retry');
    await n.stop();
    expect(sink.requests).toHaveLength(1);
    expect(n.stats().channels[0]).toMatchObject({ failed: 1, dropped: 1, retries: 1, queued: 0 });
    expect(log.gaveUp()).toHaveLength(1);
  });
});
