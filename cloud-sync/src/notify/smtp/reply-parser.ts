/**
 * SMTP replies from a byte stream (RFC 5321 §4.2): one or more lines `NNN-text` ending with
 * `NNN text` (or a bare `NNN`), CRLF after each. Bytes arrive in arbitrary pieces, so the
 * parser keeps the unfinished line and the lines of an unfinished multi-line reply.
 *
 * Leniency: a bare LF also ends a line (some test servers and proxies send it). Strictness:
 * anything that is not a reply line, a continuation with another code, or a line longer
 * than {@link MAX_REPLY_LINE} is a protocol error: the connection cannot be trusted after it.
 */
import { PacklineError } from '../../../../contracts/errors.js';

export interface SmtpReply {
  /** Three-digit reply code (RFC 5321 §4.2.1: first digit 2 ok, 3 go on, 4 transient, 5 permanent). */
  code: number;
  /** Text of each line, without the code and separator. */
  lines: string[];
}

/**
 * RFC 5321 §4.5.3.1.5 limits a reply line to 512 octets including CRLF; we allow four times
 * that before calling it garbage, since real servers (long EHLO banners) overstep it.
 */
export const MAX_REPLY_LINE = 2048;

/** RFC 5321 §4.2: Reply-code = %x32-35 %x30-35 %x30-39. */
const REPLY_LINE = /^([2-5][0-5][0-9])(?:([ -])(.*))?$/s;

export function replyText(reply: SmtpReply): string {
  return `${reply.code} ${reply.lines.join(' / ')}`.trim();
}

export class SmtpReplyParser {
  #pending: Buffer = Buffer.alloc(0);
  #code: number | null = null;
  #lines: string[] = [];
  #failed: PacklineError | null = null;

  /** Feeds bytes; returns the replies they completed (often none). Throws PKL_SMTP_PROTOCOL on garbage. */
  push(chunk: Uint8Array): SmtpReply[] {
    if (this.#failed !== null) throw this.#failed;
    try {
      return this.#push(chunk);
    } catch (err) {
      this.#failed = err as PacklineError;
      throw err;
    }
  }

  /** True when bytes of an unfinished reply are held (a server must not close mid-reply). */
  get midReply(): boolean {
    return this.#pending.length > 0 || this.#code !== null;
  }

  #push(chunk: Uint8Array): SmtpReply[] {
    const out: SmtpReply[] = [];
    let buf = this.#pending.length === 0 ? Buffer.from(chunk) : Buffer.concat([this.#pending, chunk]);
    for (;;) {
      const lf = buf.indexOf(0x0a);
      if (lf < 0) break;
      const end = lf > 0 && buf[lf - 1] === 0x0d ? lf - 1 : lf;
      if (lf + 1 > MAX_REPLY_LINE) throw this.#error(`reply line longer than ${MAX_REPLY_LINE} bytes`);
      const reply = this.#line(buf.subarray(0, end).toString('utf8'));
      if (reply !== null) out.push(reply);
      buf = buf.subarray(lf + 1);
    }
    if (buf.length > MAX_REPLY_LINE) throw this.#error(`reply line longer than ${MAX_REPLY_LINE} bytes`);
    this.#pending = Buffer.from(buf);
    return out;
  }

  #line(line: string): SmtpReply | null {
    const m = REPLY_LINE.exec(line);
    if (m === null) throw this.#error(`not an SMTP reply line: ${JSON.stringify(line.slice(0, 80))}`);
    const code = Number(m[1]);
    if (this.#code !== null && code !== this.#code) {
      throw this.#error(`multi-line reply changed code from ${this.#code} to ${code}`);
    }
    this.#code = code;
    this.#lines.push(m[3] ?? '');
    if (m[2] === '-') return null;
    const reply = { code, lines: this.#lines };
    this.#code = null;
    this.#lines = [];
    return reply;
  }

  #error(reason: string): PacklineError {
    return new PacklineError('PKL_SMTP_PROTOCOL', { reason });
  }
}
