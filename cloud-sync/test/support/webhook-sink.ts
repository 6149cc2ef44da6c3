/**
 * A webhook receiver for tests (node:http on 127.0.0.1, ephemeral port): records every
 * request, answers from a queue of scripted responses (default: 200 with the robots' success
 * body `{"errcode":0,"errmsg":"ok"}`), and, given a DingTalk secret, checks the signature the
 * way DingTalk does (自定义机器人安全设置, 加签): HmacSHA256(secret, timestamp + "\n" + secret),
 * base64, and a timestamp within an hour; a bad one gets errcode 310000.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { type IncomingHttpHeaders, type Server, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface WebhookRequest {
  method: string;
  /** Path and query as sent. */
  url: string;
  query: URLSearchParams;
  headers: IncomingHttpHeaders;
  body: string;
  json: unknown;
  /** For a sink with a DingTalk secret: whether timestamp+sign checked out. */
  signValid: boolean | null;
}

export interface ScriptedResponse {
  status: number;
  body?: unknown;
  /** Close the connection without answering. */
  destroy?: boolean;
}

const OK: ScriptedResponse = { status: 200, body: { errcode: 0, errmsg: 'ok' } };

export class WebhookSink {
  readonly requests: WebhookRequest[] = [];
  readonly #server: Server;
  readonly #dingtalkSecret: string | undefined;
  #script: ScriptedResponse[] = [];
  #waiters: Array<() => void> = [];

  private constructor(server: Server, dingtalkSecret: string | undefined) {
    this.#server = server;
    this.#dingtalkSecret = dingtalkSecret;
  }

  static async start(options: { dingtalkSecret?: string } = {}): Promise<WebhookSink> {
    const server = createServer();
    const sink = new WebhookSink(server, options.dingtalkSecret);
    server.on('request', (req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const body = Buffer.concat(chunks).toString('utf8');
        const url = new URL(req.url ?? '/', 'http://sink');
        let json: unknown = null;
        try {
          json = JSON.parse(body);
        } catch {
          /* recorded as text */
        }
        const signValid = sink.#dingtalkSecret === undefined ? null : sink.#checkSign(url.searchParams);
        sink.requests.push({ method: req.method ?? '', url: req.url ?? '', query: url.searchParams, headers: req.headers, body, json, signValid });
        const scripted: ScriptedResponse =
          sink.#script.shift() ?? (signValid === false ? { status: 200, body: { errcode: 310000, errmsg: 'sign not match' } } : OK);
        sink.#notify();
        if (scripted.destroy === true) {
          req.socket.destroy();
          return;
        }
        const text = typeof scripted.body === 'string' ? scripted.body : JSON.stringify(scripted.body ?? {});
        res.writeHead(scripted.status, { 'content-type': 'application/json' });
        res.end(text);
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return sink;
  }

  get port(): number {
    return (this.#server.address() as AddressInfo).port;
  }

  url(pathAndQuery = '/hook'): string {
    return `http://127.0.0.1:${this.port}${pathAndQuery}`;
  }

  /** The next requests get these answers, in order; then the default success. */
  respond(...responses: ScriptedResponse[]): void {
    this.#script.push(...responses);
  }

  async waitForRequests(n: number, safetyMs = 15_000): Promise<WebhookRequest[]> {
    let expired = false;
    const deadline = setTimeout(() => {
      expired = true;
      this.#notify();
    }, safetyMs);
    try {
      while (this.requests.length < n) {
        if (expired) throw new Error(`webhook sink: ${this.requests.length} of ${n} requests arrived`);
        await new Promise<void>((resolve) => this.#waiters.push(resolve));
      }
      return this.requests.slice(0, n);
    } finally {
      clearTimeout(deadline);
    }
  }

  async close(): Promise<void> {
    this.#server.closeAllConnections();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  #notify(): void {
    const w = this.#waiters;
    this.#waiters = [];
    for (const f of w) f();
  }

  #checkSign(query: URLSearchParams): boolean {
    const secret = this.#dingtalkSecret as string;
    const timestamp = query.get('timestamp');
    const sign = query.get('sign');
    if (timestamp === null || sign === null || !/^\d+$/.test(timestamp)) return false;
    if (Math.abs(Date.now() - Number(timestamp)) > 3_600_000) return false;
    const expected = createHmac('sha256', secret).update(`${timestamp}\n${secret}`).digest();
    const given = Buffer.from(sign, 'base64');
    return given.length === expected.length && timingSafeEqual(given, expected);
  }
}
