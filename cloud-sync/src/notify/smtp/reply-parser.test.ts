import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { PacklineError } from '../../../../contracts/errors.js';
import { smtpData, unstuffData } from './data.js';
import { MAX_REPLY_LINE, SmtpReplyParser, replyText } from './reply-parser.js';

const EHLO_REPLY = '250-mail.example.com greets [192.0.2.7]\r\n250-8BITMIME\r\n250-AUTH PLAIN LOGIN\r\n250-STARTTLS\r\n250 SIZE 10485760\r\n';
const STREAM = `220 mail.example.com ESMTP ready\r\n${EHLO_REPLY}354 End data with <CR><LF>.<CR><LF>\r\n250 2.0.0 Ok: queued as 4FJ2\r\n221\r\n`;
const EXPECTED = [
  { code: 220, lines: ['mail.example.com ESMTP ready'] },
  { code: 250, lines: ['mail.example.com greets [192.0.2.7]', '8BITMIME', 'AUTH PLAIN LOGIN', 'STARTTLS', 'SIZE 10485760'] },
  { code: 354, lines: ['End data with <CR><LF>.<CR><LF>'] },
  { code: 250, lines: ['2.0.0 Ok: queued as 4FJ2'] },
  { code: 221, lines: [''] },
];

function parseInPieces(bytes: Buffer, cuts: number[]) {
  const p = new SmtpReplyParser();
  const out = [];
  let at = 0;
  for (const cut of [...cuts].sort((a, b) => a - b)) {
    out.push(...p.push(bytes.subarray(at, cut)));
    at = cut;
  }
  out.push(...p.push(bytes.subarray(at)));
  return out;
}

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (err) {
    return err instanceof PacklineError ? err.code : 'not-coded';
  }
  return undefined;
}

describe('SmtpReplyParser (RFC 5321 §4.2)', () => {
  it('parses single and multi-line replies in one chunk', () => {
    expect(new SmtpReplyParser().push(Buffer.from(STREAM))).toEqual(EXPECTED);
  });

  it('gives the same replies fed one byte at a time', () => {
    const p = new SmtpReplyParser();
    const out = [];
    for (const b of Buffer.from(STREAM)) out.push(...p.push(Uint8Array.of(b)));
    expect(out).toEqual(EXPECTED);
    expect(p.midReply).toBe(false);
  });

  it('gives the same replies for any split of the stream', () => {
    const bytes = Buffer.from(STREAM);
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: bytes.length }), { maxLength: 20 }), (cuts) => {
        expect(parseInPieces(bytes, cuts)).toEqual(EXPECTED);
      }),
      { numRuns: 300 },
    );
  });

  it('holds an unfinished multi-line reply until its last line', () => {
    const p = new SmtpReplyParser();
    expect(p.push(Buffer.from('250-first\r\n250-second\r\n'))).toEqual([]);
    expect(p.midReply).toBe(true);
    expect(p.push(Buffer.from('250 last\r\n'))).toEqual([{ code: 250, lines: ['first', 'second', 'last'] }]);
  });

  it('accepts a bare LF line end and keeps UTF-8 text', () => {
    expect(new SmtpReplyParser().push(Buffer.from('554 5.7.1 拒绝\n'))).toEqual([{ code: 554, lines: ['5.7.1 拒绝'] }]);
  });

  it('turns garbage into PKL_SMTP_PROTOCOL, and stays failed', () => {
    for (const bad of ['HTTP/1.1 400 Bad Request\r\n', '25 short\r\n', '650 bad class\r\n', '2500 four digits\r\n', '250_x\r\n', '\r\n']) {
      expect(
        codeOf(() => new SmtpReplyParser().push(Buffer.from(bad))),
        bad,
      ).toBe('PKL_SMTP_PROTOCOL');
    }
    const p = new SmtpReplyParser();
    expect(codeOf(() => p.push(Buffer.from('250-a\r\n251 b\r\n')))).toBe('PKL_SMTP_PROTOCOL');
    expect(codeOf(() => p.push(Buffer.from('250 ok\r\n')))).toBe('PKL_SMTP_PROTOCOL');
  });

  it('refuses an endless line instead of buffering it', () => {
    const p = new SmtpReplyParser();
    expect(codeOf(() => p.push(Buffer.alloc(MAX_REPLY_LINE + 1, 0x41)))).toBe('PKL_SMTP_PROTOCOL');
    expect(codeOf(() => new SmtpReplyParser().push(Buffer.from(`250 ${'x'.repeat(MAX_REPLY_LINE)}\r\n`)))).toBe('PKL_SMTP_PROTOCOL');
  });

  it('never throws anything but a coded error on random bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 600 }), (bytes) => {
        const code = codeOf(() => new SmtpReplyParser().push(bytes));
        expect(code === undefined || code === 'PKL_SMTP_PROTOCOL').toBe(true);
      }),
      { numRuns: 300 },
    );
  });

  it('renders a reply for error messages', () => {
    expect(replyText({ code: 550, lines: ['5.1.1 no such user', 'see docs'] })).toBe('550 5.1.1 no such user / see docs');
  });
});

describe('DATA payload (RFC 5321 §4.5.2)', () => {
  it('normalises line ends to CRLF, dot-stuffs, and ends with CRLF.CRLF', () => {
    expect(smtpData('a\n.b\r..c\r\n.\nd').toString()).toBe('a\r\n..b\r\n...c\r\n..\r\nd\r\n.\r\n');
    expect(smtpData('.').toString()).toBe('..\r\n.\r\n');
    expect(smtpData('x\u2028.y').toString()).toBe('x\u2028.y\r\n.\r\n');
  });
  it('round-trips through a server-side unstuffing', () => {
    fc.assert(
      fc.property(fc.array(fc.constantFrom('.', '..', 'a', '.a', ' .', 'é', ''), { maxLength: 12 }), (lines) => {
        const text = `${lines.join('\r\n')}\r\n`;
        expect(unstuffData(smtpData(text).toString('utf8'))).toBe(text);
      }),
    );
  });
});
