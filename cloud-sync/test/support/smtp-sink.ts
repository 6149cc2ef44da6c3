/**
 * The server side of SMTP for tests (node:net / node:tls on 127.0.0.1, ephemeral port):
 * greeting, EHLO with a capability list, HELO, STARTTLS (RFC 3207) or TLS from the first byte,
 * AUTH PLAIN (RFC 4616) and LOGIN, MAIL/RCPT/DATA with dot-unstuffing (RFC 5321 §4.5.2),
 * RSET, NOOP, QUIT. Records each message as received and every command line (credentials
 * redacted), and can be told to fail a stage once: a scripted reply, garbage, or a dropped
 * connection.
 */
import { type Server, type Socket, createServer as createNetServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { TLSSocket, createSecureContext, createServer as createTlsServer } from 'node:tls';

export type SinkStage = 'connect' | 'EHLO' | 'STARTTLS' | 'AUTH' | 'MAIL' | 'RCPT' | 'DATA' | 'DATA_END';
export type SinkFault = { reply: string } | { garbage: string } | { drop: true };

export interface SmtpSinkOptions {
  /** `starttls`: advertise STARTTLS and only offer AUTH after it; `implicit`: TLS from the first byte. */
  tls?: { mode: 'starttls' | 'implicit'; key: Buffer; cert: Buffer };
  /** Accepted credentials; when given, MAIL needs a successful AUTH first (530 otherwise). */
  users?: Record<string, string>;
  /** Mechanisms advertised (default PLAIN LOGIN). */
  authMechanisms?: string[];
  /** Recipients answered with 550. */
  rejectRecipients?: string[];
  /** Write replies in pieces of this many bytes (exercises the client's reply parser). */
  chunkSize?: number;
}

export interface ReceivedMail {
  mailFrom: string;
  rcptTo: string[];
  /** The message as the client meant it: dot-unstuffed, CRLF line ends, without the final ".". */
  data: string;
  tls: boolean;
  authUser: string | null;
  helo: string | null;
}

export interface TranscriptLine {
  line: string;
  tls: boolean;
}

export class SmtpSink {
  readonly messages: ReceivedMail[] = [];
  readonly transcript: TranscriptLine[] = [];
  readonly options: SmtpSinkOptions;
  /** Connections accepted so far. */
  connections = 0;
  readonly #server: Server;
  readonly #sockets = new Set<Socket>();
  readonly #faults = new Map<SinkStage, SinkFault[]>();
  #waiters: Array<() => void> = [];

  private constructor(server: Server, options: SmtpSinkOptions) {
    this.#server = server;
    this.options = options;
  }

  static async start(options: SmtpSinkOptions = {}): Promise<SmtpSink> {
    const implicit = options.tls?.mode === 'implicit';
    const server = implicit ? createTlsServer({ key: options.tls?.key, cert: options.tls?.cert }) : createNetServer();
    const sink = new SmtpSink(server, options);
    server.on(implicit ? 'secureConnection' : 'connection', (socket: Socket) => {
      sink.connections++;
      sink.#sockets.add(socket);
      socket.on('close', () => sink.#sockets.delete(socket));
      new SinkSession(sink, socket, implicit);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return sink;
  }

  get port(): number {
    return (this.#server.address() as AddressInfo).port;
  }

  /** The next time `stage` is reached, do this instead (faults queue up per stage). */
  failNext(stage: SinkStage, fault: SinkFault): void {
    const list = this.#faults.get(stage) ?? [];
    list.push(fault);
    this.#faults.set(stage, list);
  }

  takeFault(stage: SinkStage): SinkFault | undefined {
    return this.#faults.get(stage)?.shift();
  }

  received(mail: ReceivedMail): void {
    this.messages.push(mail);
    this.#wake();
  }

  track(socket: Socket): void {
    this.#sockets.add(socket);
    socket.on('close', () => this.#sockets.delete(socket));
  }

  async waitForMessages(n: number, safetyMs = 15_000): Promise<ReceivedMail[]> {
    let expired = false;
    const deadline = setTimeout(() => {
      expired = true;
      this.#wake();
    }, safetyMs);
    try {
      while (this.messages.length < n) {
        if (expired) throw new Error(`smtp sink: ${this.messages.length} of ${n} messages arrived`);
        await new Promise<void>((resolve) => this.#waiters.push(resolve));
      }
      return this.messages.slice(0, n);
    } finally {
      clearTimeout(deadline);
    }
  }

  async close(): Promise<void> {
    for (const s of this.#sockets) s.destroy();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  #wake(): void {
    const w = this.#waiters;
    this.#waiters = [];
    for (const f of w) f();
  }
}

type Mode = 'command' | 'data' | 'auth-plain' | 'auth-login-user' | 'auth-login-pass';

class SinkSession {
  readonly #sink: SmtpSink;
  #socket: Socket;
  #tls: boolean;
  #buf = Buffer.alloc(0);
  #mode: Mode = 'command';
  #helo: string | null = null;
  #authUser: string | null = null;
  #loginUser = '';
  #mailFrom: string | null = null;
  #rcpts: string[] = [];
  #closed = false;

  constructor(sink: SmtpSink, socket: Socket, tls: boolean) {
    this.#sink = sink;
    this.#socket = socket;
    this.#tls = tls;
    this.#attach(socket);
    const fault = sink.takeFault('connect');
    if (fault !== undefined) this.#apply(fault);
    else this.#reply('220 sink.test ESMTP Packline test sink');
  }

  readonly #onData = (chunk: Buffer) => {
    this.#buf = Buffer.concat([this.#buf, chunk]);
    this.#process();
  };

  #attach(socket: Socket): void {
    socket.on('data', this.#onData);
    socket.on('error', () => {
      /* the client may reset; nothing to do */
    });
    socket.on('close', () => {
      this.#closed = true;
    });
  }

  #process(): void {
    while (!this.#closed) {
      if (this.#mode === 'data') {
        // Data starts right after the DATA line; "\r\n" in front lets an empty message match too.
        const view = Buffer.concat([Buffer.from('\r\n'), this.#buf]);
        const end = view.indexOf('\r\n.\r\n');
        if (end < 0) return;
        const raw = view.subarray(2, end + 2).toString('utf8');
        this.#buf = Buffer.from(view.subarray(end + 5));
        this.#mode = 'command';
        this.#endOfData(raw.replace(/(^|\r\n)\./g, '$1'));
        continue;
      }
      const eol = this.#buf.indexOf('\r\n');
      if (eol < 0) return;
      const line = this.#buf.subarray(0, eol).toString('utf8');
      this.#buf = Buffer.from(this.#buf.subarray(eol + 2));
      if (this.#line(line) === 'upgraded') return;
    }
  }

  #line(line: string): 'upgraded' | undefined {
    const redacted = this.#mode === 'command' ? line.replace(/^(AUTH \S+) .*/i, '$1 <redacted>') : '<auth data>';
    this.#sink.transcript.push({ line: redacted, tls: this.#tls });
    switch (this.#mode) {
      case 'auth-plain':
        return this.#authPlain(line);
      case 'auth-login-user':
        this.#loginUser = Buffer.from(line, 'base64').toString('utf8');
        this.#mode = 'auth-login-pass';
        return this.#reply(`334 ${Buffer.from('Password:').toString('base64')}`);
      case 'auth-login-pass':
        this.#mode = 'command';
        return this.#checkCredentials(this.#loginUser, Buffer.from(line, 'base64').toString('utf8'));
      default:
        break;
    }
    const [verbRaw = '', ...rest] = line.split(' ');
    const verb = verbRaw.toUpperCase();
    const arg = rest.join(' ');
    const stageOf: Record<string, { stage: SinkStage } | undefined> = {
      EHLO: { stage: 'EHLO' },
      STARTTLS: { stage: 'STARTTLS' },
      AUTH: { stage: 'AUTH' },
      MAIL: { stage: 'MAIL' },
      RCPT: { stage: 'RCPT' },
      DATA: { stage: 'DATA' },
    };
    const staged = stageOf[verb];
    if (staged !== undefined) {
      const fault = this.#sink.takeFault(staged.stage);
      if (fault !== undefined) return this.#apply(fault);
    }
    const opts = this.#sink.options;
    switch (verb) {
      case 'EHLO': {
        this.#helo = arg;
        this.#resetTransaction();
        const starttlsOffered = opts.tls?.mode === 'starttls' && !this.#tls;
        const caps = [`sink.test Hello ${arg}`, '8BITMIME'];
        if (opts.users !== undefined && !starttlsOffered) caps.push(`AUTH ${(opts.authMechanisms ?? ['PLAIN', 'LOGIN']).join(' ')}`);
        if (starttlsOffered) caps.push('STARTTLS');
        caps.push('SIZE 10485760');
        return this.#reply(caps.map((c, i) => `250${i === caps.length - 1 ? ' ' : '-'}${c}`).join('\r\n'));
      }
      case 'HELO':
        this.#helo = arg;
        return this.#reply('250 sink.test');
      case 'STARTTLS':
        if (opts.tls?.mode !== 'starttls' || this.#tls) return this.#reply('502 5.5.1 STARTTLS not available');
        this.#reply('220 2.0.0 Ready to start TLS');
        this.#upgrade();
        return 'upgraded';
      case 'AUTH': {
        const [mech = '', initial] = arg.split(' ');
        const offered = (opts.authMechanisms ?? ['PLAIN', 'LOGIN']).includes(mech.toUpperCase());
        if (opts.users === undefined || !offered) return this.#reply('504 5.5.4 Unrecognized authentication type');
        if (mech.toUpperCase() === 'PLAIN') {
          if (initial !== undefined) return this.#authPlain(initial);
          this.#mode = 'auth-plain';
          return this.#reply('334 ');
        }
        this.#mode = 'auth-login-user';
        return this.#reply(`334 ${Buffer.from('Username:').toString('base64')}`);
      }
      case 'MAIL': {
        if (opts.users !== undefined && this.#authUser === null) return this.#reply('530 5.7.0 Authentication required');
        const m = /^FROM:<([^>]*)>/i.exec(arg);
        if (m === null) return this.#reply('501 5.5.4 Syntax: MAIL FROM:<address>');
        this.#mailFrom = m[1] as string;
        this.#rcpts = [];
        return this.#reply('250 2.1.0 Ok');
      }
      case 'RCPT': {
        if (this.#mailFrom === null) return this.#reply('503 5.5.1 Error: need MAIL command');
        const m = /^TO:<([^>]+)>/i.exec(arg);
        if (m === null) return this.#reply('501 5.5.4 Syntax: RCPT TO:<address>');
        if ((opts.rejectRecipients ?? []).includes(m[1] as string)) return this.#reply('550 5.1.1 Recipient address rejected: User unknown');
        this.#rcpts.push(m[1] as string);
        return this.#reply('250 2.1.5 Ok');
      }
      case 'DATA':
        if (this.#rcpts.length === 0) return this.#reply('554 5.5.1 Error: no valid recipients');
        this.#mode = 'data';
        return this.#reply('354 End data with <CR><LF>.<CR><LF>');
      case 'RSET':
        this.#resetTransaction();
        return this.#reply('250 2.0.0 Ok');
      case 'NOOP':
        return this.#reply('250 2.0.0 Ok');
      case 'QUIT':
        this.#reply('221 2.0.0 Bye');
        this.#socket.end();
        this.#closed = true;
        return undefined;
      default:
        return this.#reply('502 5.5.2 Error: command not recognized');
    }
  }

  #authPlain(b64: string): undefined {
    this.#mode = 'command';
    // RFC 4616 §2: [authzid] NUL authcid NUL passwd.
    const parts = Buffer.from(b64, 'base64').toString('utf8').split('\0');
    if (parts.length !== 3) return this.#reply('501 5.5.2 Cannot decode AUTH parameter');
    return this.#checkCredentials(parts[1] as string, parts[2] as string);
  }

  #checkCredentials(user: string, pass: string): undefined {
    if (this.#sink.options.users?.[user] === pass) {
      this.#authUser = user;
      return this.#reply('235 2.7.0 Authentication successful');
    }
    return this.#reply('535 5.7.8 Error: authentication failed');
  }

  #endOfData(data: string): void {
    const fault = this.#sink.takeFault('DATA_END');
    if (fault !== undefined) {
      this.#apply(fault);
      this.#resetTransaction();
      return;
    }
    this.#sink.received({
      mailFrom: this.#mailFrom ?? '',
      rcptTo: [...this.#rcpts],
      data,
      tls: this.#tls,
      authUser: this.#authUser,
      helo: this.#helo,
    });
    this.#resetTransaction();
    this.#reply(`250 2.0.0 Ok: queued as Q${this.#sink.messages.length}`);
  }

  #upgrade(): void {
    const raw = this.#socket;
    raw.off('data', this.#onData);
    // RFC 3207 §4.2 (server side too): nothing sent before the handshake counts.
    this.#buf = Buffer.alloc(0);
    const tlsOpts = this.#sink.options.tls as { key: Buffer; cert: Buffer };
    const secure = new TLSSocket(raw, { isServer: true, secureContext: createSecureContext({ key: tlsOpts.key, cert: tlsOpts.cert }) });
    this.#sink.track(secure);
    this.#socket = secure;
    this.#tls = true;
    this.#helo = null;
    this.#authUser = null;
    this.#resetTransaction();
    this.#attach(secure);
  }

  #apply(fault: SinkFault): undefined {
    if ('drop' in fault) {
      this.#closed = true;
      this.#socket.destroy();
    } else if ('garbage' in fault) {
      this.#socket.write(fault.garbage);
    } else {
      this.#reply(fault.reply);
    }
    return undefined;
  }

  #resetTransaction(): void {
    this.#mailFrom = null;
    this.#rcpts = [];
  }

  #reply(text: string): undefined {
    if (this.#closed) return undefined;
    const bytes = Buffer.from(`${text}\r\n`, 'utf8');
    const size = this.#sink.options.chunkSize;
    if (size === undefined) this.#socket.write(bytes);
    else for (let i = 0; i < bytes.length; i += size) this.#socket.write(bytes.subarray(i, i + size));
    return undefined;
  }
}
