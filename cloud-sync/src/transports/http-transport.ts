/**
 * The default transport: HTTPS (or plain HTTP on a trusted LAN / in tests) to the cloud order
 * system, over node:http / node:https with one keep-alive agent. Not fetch: the pump needs one
 * overall deadline per request, a hard cap on the answer's size and failure kinds it can
 * reason about (refused / reset / timeout / unreachable), which undici's fetch blurs into
 * "fetch failed".
 *
 * Bytes and headers are carried verbatim: the layer above (sync-client.ts) compresses and
 * signs, and the cloud verifies the signature over exactly these bytes.
 */
import http from 'node:http';
import https from 'node:https';
import { promisify } from 'node:util';
import { gunzip } from 'node:zlib';
import { PacklineError } from '../../../contracts/errors.js';
import { type SyncLogger, silentSyncLogger } from '../logger.js';
import { type SyncRequest, type SyncResponse, type SyncTransport, SyncTransportError } from '../transport.js';
import { transportErrorKind } from './error-kinds.js';
import { MAX_RESPONSE_BYTES, decodeResponseBody } from './response-body.js';

const gunzipAsync = promisify(gunzip);

export interface HttpSyncTransportOptions {
  /** `https://erp.example.com` or with a path prefix `https://erp.example.com/packline`; `http:` only on a trusted network. */
  baseUrl: string;
  /** PEM of the CA(s) that signed the cloud's certificate, for a private CA (replaces the default roots). */
  ca?: string | Buffer;
  /** Verify the cloud's certificate (default true; false only for a lab). */
  rejectUnauthorized?: boolean;
  /** PEM client certificate and key for mutual TLS. */
  clientCert?: string | Buffer;
  clientKey?: string | Buffer;
  /** Connections kept to the cloud (default 2: the outbox pump and the inbound feed). */
  maxSockets?: number;
  /** Cap on an answer's size (default {@link MAX_RESPONSE_BYTES}). */
  maxResponseBytes?: number;
  /**
   * How long an idle kept-alive connection is kept (default 4000 ms): below Node's default
   * server keepAliveTimeout (5 s), so the gateway closes an idle socket before the cloud does.
   */
  idleSocketMs?: number;
  logger?: SyncLogger;
}

interface Active {
  fail(err: SyncTransportError): void;
}

/** A reset on a reused keep-alive socket before any answer: the server had closed it while idle. */
class StaleSocket extends Error {}

export class HttpSyncTransport implements SyncTransport {
  readonly name: 'http' | 'https';
  private readonly url: URL;
  private readonly prefix: string;
  private readonly maxResponseBytes: number;
  private readonly log: SyncLogger;
  private agent: http.Agent | null;
  private readonly active = new Set<Active>();
  private stopped = false;

  constructor(private readonly opts: HttpSyncTransportOptions) {
    let url: URL;
    try {
      url = new URL(opts.baseUrl);
    } catch {
      throw new PacklineError('PKL_CONFIG_INVALID', { reason: `cloud base URL ${JSON.stringify(opts.baseUrl)} is not a URL` });
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') {
      throw new PacklineError('PKL_CONFIG_INVALID', { reason: `cloud base URL must be http: or https:, not ${url.protocol}` });
    }
    if (url.username || url.password || url.search || url.hash) {
      throw new PacklineError('PKL_CONFIG_INVALID', { reason: 'cloud base URL may not carry credentials, a query or a fragment' });
    }
    this.url = url;
    this.name = url.protocol === 'https:' ? 'https' : 'http';
    this.prefix = url.pathname.replace(/\/+$/, '');
    this.maxResponseBytes = opts.maxResponseBytes ?? MAX_RESPONSE_BYTES;
    this.log = opts.logger ?? silentSyncLogger;
    this.agent = this.makeAgent();
  }

  /** Usable from construction; start() re-opens a stopped transport. */
  async start(): Promise<void> {
    this.agent ??= this.makeAgent();
    this.stopped = false;
  }

  /** Fails requests in flight with `closed` and closes every connection. */
  async stop(): Promise<void> {
    this.stopped = true;
    const err = new SyncTransportError('transport stopped', 'closed');
    for (const a of [...this.active]) a.fail(err);
    this.agent?.destroy();
    this.agent = null;
  }

  async request(req: SyncRequest, timeoutMs: number): Promise<SyncResponse> {
    const deadline = Date.now() + timeoutMs;
    try {
      return await this.attempt(req, deadline, timeoutMs);
    } catch (err) {
      if (!(err instanceof StaleSocket)) throw err;
      // Node documents this race (http.ClientRequest `reusedSocket`): the server closed an idle
      // kept-alive connection just as we reused it. Nothing reached the application, and sync
      // requests are idempotent anyway, so one retry on a fresh connection is safe.
      this.log.debug({ path: req.path }, 'kept-alive connection was closed by the cloud; retrying once');
      return this.attempt(req, deadline, timeoutMs, false);
    }
  }

  private attempt(r: SyncRequest, deadline: number, timeoutMs: number, mayRetry = true): Promise<SyncResponse> {
    return new Promise<SyncResponse>((resolve, reject) => {
      const agent = this.agent;
      if (this.stopped || agent === null) {
        reject(new SyncTransportError('transport stopped', 'closed'));
        return;
      }
      const what = `${r.method} ${r.path}`;
      const headers: http.OutgoingHttpHeaders = { ...r.headers };
      if (r.body !== null) headers['content-length'] = String(r.body.byteLength);
      const options: http.RequestOptions = {
        agent,
        protocol: this.url.protocol,
        hostname: this.url.hostname.replace(/^\[|\]$/g, ''),
        port: this.url.port || undefined,
        method: r.method,
        path: this.prefix + r.path,
        headers,
      };
      const req = this.name === 'https' ? https.request(options) : http.request(options);

      let settled = false;
      let answered = false;
      const settle = (err: Error | null, res?: SyncResponse): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        this.active.delete(active);
        if (err) reject(err);
        else resolve(res as SyncResponse);
      };
      const fail = (err: SyncTransportError): void => {
        settle(err);
        req.destroy();
      };
      const active: Active = { fail };
      this.active.add(active);
      // One deadline for everything: DNS, connect, TLS, sending, waiting and reading the answer.
      const timer = setTimeout(
        () => fail(new SyncTransportError(`${what}: no complete answer within ${timeoutMs} ms`, 'timeout')),
        Math.max(0, deadline - Date.now()),
      );
      // Nagle's algorithm would hold the small request tail until the peer's delayed ACK
      // (40 ms on Linux) on every round trip of a kept-alive connection.
      req.setNoDelay(true);

      req.on('error', (err) => {
        if (settled) return;
        const kind = transportErrorKind(err);
        if (kind === 'reset' && req.reusedSocket && !answered && mayRetry) {
          settle(new StaleSocket(err.message));
          return;
        }
        settle(new SyncTransportError(`${what}: ${err.message}`, kind));
      });

      req.on('response', (res) => {
        answered = true;
        const tooLarge = () => new SyncTransportError(`${what}: answer larger than ${this.maxResponseBytes} bytes`, 'other');
        const declared = Number(res.headers['content-length'] ?? 0);
        if (declared > this.maxResponseBytes) {
          fail(tooLarge());
          return;
        }
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (chunk: Buffer) => {
          size += chunk.length;
          if (size > this.maxResponseBytes) fail(tooLarge());
          else chunks.push(chunk);
        });
        res.on('error', (err) => settle(new SyncTransportError(`${what}: answer cut off: ${err.message}`, 'reset')));
        res.on('end', () => {
          if (settled) return;
          const status = res.statusCode ?? 0;
          this.decode(Buffer.concat(chunks, size), res.headers)
            .then((body) => settle(null, { status, body }))
            .catch((err: Error) => settle(new SyncTransportError(`${what}: unreadable answer: ${err.message}`, 'other')));
        });
      });

      req.end(r.body === null ? undefined : r.body);
    });
  }

  private async decode(bytes: Buffer, headers: http.IncomingHttpHeaders): Promise<unknown> {
    // We never send accept-encoding, but a proxy may compress anyway.
    const encoding = headers['content-encoding']?.trim().toLowerCase();
    if (encoding === 'gzip' && bytes.length > 0) {
      bytes = await gunzipAsync(bytes, { maxOutputLength: this.maxResponseBytes });
    }
    return decodeResponseBody(bytes, headers['content-type']);
  }

  private makeAgent(): http.Agent {
    const common = {
      keepAlive: true,
      maxSockets: this.opts.maxSockets ?? 2,
      // For a kept-alive agent `timeout` is the idle time after which a free socket is closed.
      timeout: this.opts.idleSocketMs ?? 4000,
    };
    if (this.url.protocol === 'http:') return new http.Agent(common);
    return new https.Agent({
      ...common,
      rejectUnauthorized: this.opts.rejectUnauthorized ?? true,
      ...(this.opts.ca !== undefined ? { ca: this.opts.ca } : {}),
      ...(this.opts.clientCert !== undefined ? { cert: this.opts.clientCert } : {}),
      ...(this.opts.clientKey !== undefined ? { key: this.opts.clientKey } : {}),
    });
  }
}
