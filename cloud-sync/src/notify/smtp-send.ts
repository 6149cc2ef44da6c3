/**
 * Sends one alert e-mail through nodemailer's SMTP connection (docs/decisions/0011): one
 * connection per message, the message as we composed it (format-email.ts) sent as is.
 *
 *   `secure: 'tls'`      TLS from the first byte (RFC 8314 §3.3, port 465): nodemailer `secure`;
 *   `secure: 'starttls'` STARTTLS required, not opportunistic (RFC 3207): `requireTLS`. A server
 *                        that does not offer it is refused before any credential is sent;
 *   `secure: 'none'`     clear text, never upgraded: `ignoreTLS`.
 * AUTH is PLAIN or LOGIN (RFC 4616, RFC 4954), the first the server offers. nodemailer does the
 * dot-stuffing and CRLF normalisation of the data (RFC 5321 §4.5.2).
 *
 * Its errors become our codes: PKL_NOTIFY_UNREACHABLE (connect, TLS, closed), PKL_NOTIFY_TIMEOUT
 * (with the step), PKL_SMTP_REPLY (the server's reply code and the command), PKL_SMTP_PROTOCOL
 * (not SMTP), PKL_NOTIFY_REJECTED (nothing to retry: no STARTTLS, bad address).
 *
 * nodemailer is loaded on the first send: a gateway without an e-mail channel never pays its
 * ~8 MB of RSS and ~40 ms of start-up (figures in the decision).
 */
import { PacklineError } from '../../../contracts/errors.js';

export type SmtpSecurity = 'tls' | 'starttls' | 'none';

export interface SmtpClientOptions {
  host: string;
  port: number;
  /** `tls`: TLS from the first byte (port 465); `starttls`: upgrade before anything else (587); `none`: clear text. */
  secure: SmtpSecurity;
  user?: string | undefined;
  pass?: string | undefined;
  /** Longest wait for connecting, the greeting and TLS, and each reply (ms). Default 30 000. */
  timeoutMs?: number | undefined;
  /** EHLO argument. Default: nodemailer's (the machine's FQDN, else `[127.0.0.1]`). */
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
  /** Whether the message travelled over TLS (required by `tls` and `starttls`). */
  tls: boolean;
}

export const DEFAULT_SMTP_TIMEOUT_MS = 30_000;

type SmtpConnectionModule = typeof import('nodemailer/lib/smtp-connection');
let loaded: Promise<SmtpConnectionModule> | null = null;
function smtpConnection(): Promise<SmtpConnectionModule> {
  loaded ??= import('nodemailer/lib/smtp-connection');
  return loaded;
}

/** What nodemailer's errors carry (smtp-connection `_formatError`). */
interface SmtpError extends Error {
  code?: string;
  command?: string;
  response?: string;
  responseCode?: number;
  timeoutType?: string;
}

/** Sends one message; resolves when the server accepted it (250 after the data), rejects with a coded error. */
export async function sendMail(options: SmtpClientOptions, envelope: SmtpEnvelope, message: string | Uint8Array): Promise<SmtpSendResult> {
  const channel = options.label ?? `smtp ${options.host}:${options.port}`;
  if (envelope.to.length === 0) {
    throw new PacklineError('PKL_NOTIFY_REJECTED', { channel, reason: 'no recipients', retryable: false });
  }
  for (const a of [envelope.from, ...envelope.to]) {
    // An address goes into a command line: CR, LF or angle brackets would be command injection
    // (nodemailer refuses them too; ours is the coded answer).
    if (/[\r\n<>\s]/.test(a)) throw new PacklineError('PKL_NOTIFY_REJECTED', { channel, reason: `bad address ${JSON.stringify(a)}`, retryable: false });
  }
  const timeoutMs = options.timeoutMs ?? DEFAULT_SMTP_TIMEOUT_MS;
  const { default: SMTPConnection } = await smtpConnection();
  // nodemailer's connection rather than its transport: the transport closes the socket after
  // the 250 without QUIT, which RFC 5321 §4.1.1.10 asks for (relays log the session as lost).
  const conn = new SMTPConnection({
    host: options.host,
    port: options.port,
    secure: options.secure === 'tls',
    requireTLS: options.secure === 'starttls',
    ignoreTLS: options.secure === 'none',
    ...(options.clientName !== undefined && { name: options.clientName }),
    tls: {
      ...(options.ca !== undefined && { ca: options.ca }),
      rejectUnauthorized: options.rejectUnauthorized ?? true,
      minVersion: 'TLSv1.2',
    },
    connectionTimeout: timeoutMs,
    greetingTimeout: timeoutMs,
    // The idle-socket timer runs from the connect too: a second longer, so a server that never
    // greets is reported as the greeting's timeout, not as a silent reply.
    socketTimeout: timeoutMs + 1000,
    dnsTimeout: timeoutMs,
    // Nothing of the session in our logs (credentials, addresses): errors come back coded.
    logger: false,
    debug: false,
  });
  // Every failure arrives once, as the step's callback error or as an 'error' event.
  let failed: ((err: SmtpError) => void) | null = null;
  conn.on('error', (err: SmtpError) => failed?.(err));
  const step = <T>(run: (done: (err: Error | null, value?: T) => void) => void): Promise<T> =>
    new Promise<T>((resolve, reject) => {
      failed = reject;
      run((err, value) => (err ? reject(err) : resolve(value as T)));
    });
  try {
    await step<void>((done) => conn.connect(() => done(null)));
    if (options.user !== undefined && options.pass !== undefined) {
      const auth = { user: options.user, pass: options.pass };
      await step<void>((done) => conn.login(auth, (err) => done(err ?? null)));
    }
    const body = typeof message === 'string' ? message : Buffer.from(message);
    const info = await step<{ accepted: string[]; rejected: string[]; rejectedErrors?: SmtpError[]; response: string }>((done) =>
      conn.send({ from: envelope.from, to: envelope.to }, body, (err, sent) => done(err ?? null, sent)),
    );
    const tls = conn.secure;
    conn.quit(); // the 221 closes the socket; the message is already the server's
    const errors = info.rejectedErrors ?? [];
    return {
      accepted: info.accepted,
      rejected: info.rejected.map((address) => ({
        address,
        reply: errors.find((e) => (e as { recipient?: string }).recipient === address)?.response ?? '',
      })),
      reply: info.response,
      tls,
    };
  } catch (err) {
    conn.close();
    throw coded(err as SmtpError, channel, options, timeoutMs);
  } finally {
    failed = null;
  }
}

const TIMEOUT_STEP: Record<string, string> = {
  CONNECTION_TIMEOUT: 'connect',
  GREETING_TIMEOUT: 'greeting',
  SOCKET_TIMEOUT: 'reply',
  DNS_TIMEOUT: 'DNS lookup',
};

/** nodemailer's error → our catalogue (what is retried follows the code: channels/channel.ts isRetryable). */
function coded(err: SmtpError, channel: string, options: SmtpClientOptions, timeoutMs: number): PacklineError {
  const cause = { cause: err };
  if (err.code === 'ETIMEDOUT') {
    return new PacklineError('PKL_NOTIFY_TIMEOUT', { channel, step: TIMEOUT_STEP[err.timeoutType ?? ''] ?? err.command ?? 'reply', timeoutMs }, cause);
  }
  if (err.code === 'ETLS' && options.secure === 'starttls' && err.command === 'STARTTLS') {
    // A server that stops offering STARTTLS is a downgrade: refused, not retried in clear.
    return new PacklineError(
      'PKL_NOTIFY_REJECTED',
      { channel, reason: `STARTTLS required but refused: ${clip(err.response ?? err.message)}`, retryable: false },
      cause,
    );
  }
  if (err.code === 'EPROTOCOL' && err.command === 'CONN') {
    return new PacklineError('PKL_SMTP_PROTOCOL', { channel, reason: clip(err.message) }, cause);
  }
  if (typeof err.responseCode === 'number' && err.responseCode >= 400) {
    return new PacklineError(
      'PKL_SMTP_REPLY',
      { channel, command: commandName(err.command), replyCode: err.responseCode, reply: clip(err.response ?? err.message) },
      cause,
    );
  }
  if (err.code === 'EENVELOPE' || err.code === 'EMESSAGE' || err.code === 'EAUTH') {
    return new PacklineError('PKL_NOTIFY_REJECTED', { channel, reason: clip(err.message), retryable: false }, cause);
  }
  // ECONNECTION, ESOCKET, ETLS (handshake, certificate), EDNS, a closed connection.
  const reason = (err as NodeJS.ErrnoException).code && err.code !== 'ECONNECTION' && err.code !== 'ESOCKET' ? `${err.code}: ${err.message}` : err.message;
  return new PacklineError('PKL_NOTIFY_UNREACHABLE', { channel, reason: clip(reason) }, cause);
}

/** nodemailer names `MAIL FROM`, `RCPT TO`, `AUTH PLAIN`, `DATA`…; `CONN`/`API` are not commands. */
function commandName(command: string | undefined): string {
  return command === undefined || command === 'CONN' || command === 'API' ? 'session' : command;
}

function clip(s: string): string {
  return s.length > 200 ? `${s.slice(0, 200)}…` : s;
}
