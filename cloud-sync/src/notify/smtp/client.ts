/**
 * A minimal SMTP submission client (RFC 5321) for alert e-mails: one connection per message,
 * no pipelining, plain text only.
 *
 *   connect (TCP, or TLS at once for `secure: 'tls'`, RFC 8314 §3.3 implicit TLS on 465)
 *   → 220 greeting → EHLO (HELO when EHLO is refused, RFC 5321 §3.2)
 *   → STARTTLS and EHLO again (RFC 3207) when `secure: 'starttls'`; required, not opportunistic:
 *     a server that stops offering it is a downgrade we refuse rather than send credentials in clear
 *   → AUTH PLAIN (RFC 4616 via RFC 4954) or AUTH LOGIN when credentials are given
 *   → MAIL FROM → RCPT TO (each) → DATA → dot-stuffed message → QUIT.
 *
 * Every wait for a reply has its own timeout (RFC 5321 §4.5.3.2 suggests minutes per command
 * for MTAs; an alert sender wants to fail over much sooner, so it is one configurable value).
 * Failures are coded: PKL_NOTIFY_UNREACHABLE (connect/TLS/closed), PKL_NOTIFY_TIMEOUT,
 * PKL_SMTP_REPLY (with the server's reply code), PKL_SMTP_PROTOCOL, PKL_NOTIFY_REJECTED.
 */
import { isIP, type Socket, connect as netConnect } from 'node:net';
import { type TLSSocket, connect as tlsConnect } from 'node:tls';
import { PacklineError } from '../../../../contracts/errors.js';
import { smtpData } from './data.js';
import { type SmtpReply, SmtpReplyParser, replyText } from './reply-parser.js';

export type SmtpSecurity = 'tls' | 'starttls' | 'none';

export interface SmtpClientOptions {
  host: string;
  port: number;
  /** `tls`: TLS from the first byte (port 465); `starttls`: upgrade before anything else (587); `none`: clear text. */
  secure: SmtpSecurity;
  user?: string | undefined;
  pass?: string | undefined;
  /** Longest wait for connecting, the TLS handshake and each reply (ms). Default 30 000. */
  timeoutMs?: number | undefined;
  /** EHLO argument. Default: the address literal of our end of the connection (RFC 5321 §4.1.3). */
  clientName?: string | undefined;
  /** Extra trusted CA certificates (PEM), e.g. a site's own mail relay CA. */
  ca?: string | Buffer | undefined;
  /** Verify the server certificate (default true). */
  rejectUnauthorized?: boolean | undefined;
  /** Names the channel in errors and logs; default `smtp host:port`. */
  label?: string | undefined;
}

export interface SmtpEnvelope {
  /** Reverse-path address (bare addr-spec). */
  from: string;
  /** Forward-path addresses (bare addr-specs). */
  to: string[];
}

export interface SmtpSendResult {
  accepted: string[];
  /** Recipients the server refused while others were accepted (the message went to the rest). */
  rejected: Array<{ address: string; reply: string }>;
  /** The server's answer to the end of data (usually carries its queue id). */
  reply: string;
  /** Whether the message travelled over TLS. */
  tls: boolean;
}

export const DEFAULT_SMTP_TIMEOUT_MS = 30_000;

/** Sends one message; resolves when the server accepted it (250 after the data), rejects with a coded error. */
export async function sendMail(options: SmtpClientOptions, envelope: SmtpEnvelope, message: string | Uint8Array): Promise<SmtpSendResult> {
  if (envelope.to.length === 0) {
    throw new PacklineError('PKL_NOTIFY_REJECTED', { channel: labelOf(options), reason: 'no recipients', retryable: false });
  }
  for (const a of [envelope.from, ...envelope.to]) {
    // An address goes into a command line: CR, LF or angle brackets would be command injection.
    if (/[\r\n<>\s]/.test(a))
      throw new PacklineError('PKL_NOTIFY_REJECTED', { channel: labelOf(options), reason: `bad address ${JSON.stringify(a)}`, retryable: false });
  }
  const session = await SmtpSession.open(options);
  try {
    return await session.send(envelope, message);
  } finally {
    session.close();
  }
}

function labelOf(o: SmtpClientOptions): string {
  return o.label ?? `smtp ${o.host}:${o.port}`;
}

function b64(s: string): string {
  return Buffer.from(s, 'utf8').toString('base64');
}

class SmtpSession {
  readonly #o: SmtpClientOptions;
  readonly #timeoutMs: number;
  readonly #channel: string;
  #socket: Socket | TLSSocket;
  #tls: boolean;
  #parser = new SmtpReplyParser();
  #replies: SmtpReply[] = [];
  #waiter: { resolve: (r: SmtpReply) => void; reject: (e: Error) => void } | null = null;
  #failure: Error | null = null;
  #extensions = new Map<string, string[]>();

  private constructor(options: SmtpClientOptions, socket: Socket | TLSSocket) {
    this.#o = options;
    this.#timeoutMs = options.timeoutMs ?? DEFAULT_SMTP_TIMEOUT_MS;
    this.#channel = labelOf(options);
    this.#socket = socket;
    this.#tls = options.secure === 'tls';
    this.#attach(socket);
  }

  static async open(o: SmtpClientOptions): Promise<SmtpSession> {
    const timeoutMs = o.timeoutMs ?? DEFAULT_SMTP_TIMEOUT_MS;
    const channel = labelOf(o);
    return new Promise<SmtpSession>((resolve, reject) => {
      const s = o.secure === 'tls' ? tlsConnect({ host: o.host, port: o.port, ...tlsOptions(o) }) : netConnect({ host: o.host, port: o.port });
      const timer = setTimeout(() => {
        s.destroy();
        reject(new PacklineError('PKL_NOTIFY_TIMEOUT', { channel, step: o.secure === 'tls' ? 'TLS connect' : 'connect', timeoutMs }));
      }, timeoutMs);
      const onError = (err: NodeJS.ErrnoException) => {
        clearTimeout(timer);
        s.destroy();
        reject(new PacklineError('PKL_NOTIFY_UNREACHABLE', { channel, reason: err.code ?? err.message }, { cause: err }));
      };
      s.once('error', onError);
      s.once(o.secure === 'tls' ? 'secureConnect' : 'connect', () => {
        clearTimeout(timer);
        s.off('error', onError);
        // The session's own listeners go on in this same tick, so no error or byte goes unheard.
        resolve(new SmtpSession(o, s));
      });
    });
  }

  async send(envelope: SmtpEnvelope, message: string | Uint8Array): Promise<SmtpSendResult> {
    await this.#expect(await this.#read('greeting'), 'greeting', [220]);
    await this.#hello();
    if (this.#o.secure === 'starttls') {
      if (!this.#extensions.has('STARTTLS')) {
        throw this.#rejected('server does not offer STARTTLS; refusing to continue in clear text');
      }
      await this.#command('STARTTLS', 'STARTTLS', [220]);
      await this.#upgrade();
      await this.#hello();
    }
    if (this.#o.user !== undefined && this.#o.user !== '') await this.#auth(this.#o.user, this.#o.pass ?? '');

    await this.#command(`MAIL FROM:<${envelope.from}>`, 'MAIL FROM', [250]);
    const accepted: string[] = [];
    const rejected: Array<{ address: string; reply: string; code: number }> = [];
    for (const address of envelope.to) {
      const reply = await this.#exchange(`RCPT TO:<${address}>`, 'RCPT TO');
      // 251: user not local, will forward (RFC 5321 §4.2.2) — accepted too.
      if (reply.code === 250 || reply.code === 251) accepted.push(address);
      else rejected.push({ address, reply: replyText(reply), code: reply.code });
    }
    if (accepted.length === 0) {
      const last = rejected[rejected.length - 1] as { reply: string; code: number };
      throw new PacklineError('PKL_SMTP_REPLY', { channel: this.#channel, command: 'RCPT TO', replyCode: last.code, reply: last.reply });
    }
    await this.#command('DATA', 'DATA', [354]);
    this.#write(smtpData(message));
    const done = await this.#read('end of data');
    await this.#expect(done, 'end of data', [250]);
    await this.#quit();
    return { accepted, rejected: rejected.map(({ address, reply }) => ({ address, reply })), reply: replyText(done), tls: this.#tls };
  }

  close(): void {
    this.#waiter = null;
    this.#socket.destroy();
  }

  async #hello(): Promise<void> {
    const name = this.#o.clientName ?? addressLiteral(this.#socket.localAddress);
    let reply = await this.#exchange(`EHLO ${name}`, 'EHLO');
    if (reply.code >= 500) reply = await this.#command(`HELO ${name}`, 'HELO', [250]);
    else await this.#expect(reply, 'EHLO', [250]);
    // RFC 5321 §4.1.1.1: the first line is the greeting, each further line one extension.
    this.#extensions = new Map();
    for (const line of reply.lines.slice(1)) {
      const [keyword = '', ...params] = line.trim().split(/[\s=]+/);
      if (keyword !== '')
        this.#extensions.set(
          keyword.toUpperCase(),
          params.map((p) => p.toUpperCase()),
        );
    }
  }

  async #auth(user: string, pass: string): Promise<void> {
    const mechanisms = this.#extensions.get('AUTH') ?? [];
    if (mechanisms.includes('PLAIN')) {
      // RFC 4616 §2: message = [authzid] UTF8NUL authcid UTF8NUL passwd, as an initial response (RFC 4954 §4).
      let reply = await this.#exchange(`AUTH PLAIN ${b64(`\0${user}\0${pass}`)}`, 'AUTH PLAIN');
      if (reply.code === 334) reply = await this.#exchange(b64(`\0${user}\0${pass}`), 'AUTH PLAIN');
      await this.#expect(reply, 'AUTH PLAIN', [235]);
    } else if (mechanisms.includes('LOGIN')) {
      // AUTH LOGIN (draft-murchison-sasl-login): base64 user name, then password, each after a 334.
      await this.#command('AUTH LOGIN', 'AUTH LOGIN', [334]);
      await this.#command(b64(user), 'AUTH LOGIN', [334]);
      await this.#command(b64(pass), 'AUTH LOGIN', [235]);
    } else {
      throw this.#rejected(`server offers no AUTH PLAIN or LOGIN (offers: ${mechanisms.join(' ') || 'none'})`);
    }
  }

  async #upgrade(): Promise<void> {
    const raw = this.#socket;
    this.#detach(raw);
    // RFC 3207 §4.2: forget everything learnt before TLS, and any bytes sent after the 220
    // (CVE-2011-0411-style injection: replies smuggled in before the handshake).
    this.#parser = new SmtpReplyParser();
    this.#replies = [];
    this.#extensions = new Map();
    const secured = await new Promise<TLSSocket>((resolve, reject) => {
      const s = tlsConnect({ socket: raw, ...tlsOptions(this.#o) });
      const timer = setTimeout(() => {
        s.destroy();
        reject(new PacklineError('PKL_NOTIFY_TIMEOUT', { channel: this.#channel, step: 'TLS handshake', timeoutMs: this.#timeoutMs }));
      }, this.#timeoutMs);
      s.once('error', (err: NodeJS.ErrnoException) => {
        clearTimeout(timer);
        s.destroy();
        reject(new PacklineError('PKL_NOTIFY_UNREACHABLE', { channel: this.#channel, reason: err.code ?? err.message }, { cause: err }));
      });
      s.once('secureConnect', () => {
        clearTimeout(timer);
        s.removeAllListeners('error');
        resolve(s);
      });
    });
    this.#socket = secured;
    this.#tls = true;
    this.#attach(secured);
  }

  async #quit(): Promise<void> {
    // The message is already accepted; QUIT is a courtesy (RFC 5321 §4.1.1.10), so its failure is ignored.
    try {
      this.#write('QUIT\r\n');
      await this.#read('QUIT');
    } catch {
      /* closed or timed out after a successful send */
    }
  }

  // ---- reply plumbing ---------------------------------------------------------------

  readonly #onData = (chunk: Buffer) => {
    let replies: SmtpReply[];
    try {
      replies = this.#parser.push(chunk);
    } catch (err) {
      this.#fail(err as Error);
      this.#socket.destroy();
      return;
    }
    for (const r of replies) {
      const w = this.#waiter;
      if (w !== null) {
        this.#waiter = null;
        w.resolve(r);
      } else {
        this.#replies.push(r);
      }
    }
  };

  readonly #onError = (err: NodeJS.ErrnoException) => {
    this.#fail(new PacklineError('PKL_NOTIFY_UNREACHABLE', { channel: this.#channel, reason: err.code ?? err.message }, { cause: err }));
  };

  readonly #onClose = () => {
    this.#fail(new PacklineError('PKL_NOTIFY_UNREACHABLE', { channel: this.#channel, reason: 'connection closed by the server' }));
  };

  #attach(s: Socket): void {
    s.on('data', this.#onData);
    s.on('error', this.#onError);
    s.on('close', this.#onClose);
  }

  #detach(s: Socket): void {
    s.off('data', this.#onData);
    s.off('error', this.#onError);
    s.off('close', this.#onClose);
  }

  #fail(err: Error): void {
    if (this.#failure === null) this.#failure = err;
    const w = this.#waiter;
    if (w !== null) {
      this.#waiter = null;
      w.reject(this.#failure);
    }
  }

  #read(step: string): Promise<SmtpReply> {
    const queued = this.#replies.shift();
    if (queued !== undefined) return Promise.resolve(queued);
    if (this.#failure !== null) return Promise.reject(this.#failure);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#fail(new PacklineError('PKL_NOTIFY_TIMEOUT', { channel: this.#channel, step, timeoutMs: this.#timeoutMs }));
        this.#socket.destroy();
      }, this.#timeoutMs);
      this.#waiter = {
        resolve: (r) => {
          clearTimeout(timer);
          resolve(r);
        },
        reject: (e) => {
          clearTimeout(timer);
          reject(e);
        },
      };
    });
  }

  #write(data: string | Buffer): void {
    if (this.#failure !== null) return; // the pending read reports it
    this.#socket.write(data);
  }

  async #exchange(line: string, step: string): Promise<SmtpReply> {
    this.#write(`${line}\r\n`);
    return this.#read(step);
  }

  async #command(line: string, step: string, ok: number[]): Promise<SmtpReply> {
    return this.#expect(await this.#exchange(line, step), step, ok);
  }

  async #expect(reply: SmtpReply, step: string, ok: number[]): Promise<SmtpReply> {
    if (ok.includes(reply.code)) return reply;
    throw new PacklineError('PKL_SMTP_REPLY', { channel: this.#channel, command: step, replyCode: reply.code, reply: replyText(reply) });
  }

  #rejected(reason: string): PacklineError {
    return new PacklineError('PKL_NOTIFY_REJECTED', { channel: this.#channel, reason, retryable: false });
  }
}

function tlsOptions(o: SmtpClientOptions): { servername?: string; ca?: string | Buffer; rejectUnauthorized: boolean } {
  const out: { servername?: string; ca?: string | Buffer; rejectUnauthorized: boolean } = { rejectUnauthorized: o.rejectUnauthorized ?? true };
  // SNI carries host names only (RFC 6066 §3); an IP is checked against the certificate's IP SANs.
  if (isIP(o.host) === 0) out.servername = o.host;
  if (o.ca !== undefined) out.ca = o.ca;
  return out;
}

/** RFC 5321 §4.1.3 address literal: `[192.0.2.1]`, `[IPv6:2001:db8::1]`. */
function addressLiteral(address: string | undefined): string {
  if (address === undefined || address === '') return '[127.0.0.1]';
  const v4 = address.replace(/^::ffff:/i, '');
  return isIP(v4) === 4 ? `[${v4}]` : `[IPv6:${address}]`;
}
