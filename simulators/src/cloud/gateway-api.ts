/**
 * The small part of the gateway's HTTP API the simulated cloud and the load generator use:
 * `POST /api/v1/orders` (admin Bearer token) with a JSON array of wire orders, and any other
 * admin call through `request`.
 */
import type { WireOrder } from '../orders/wire-order.js';

/** The gateway refused a request; `code` is its PKL_* code when the body carried one. */
export class GatewayHttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string | null,
    readonly body: unknown,
  ) {
    super(`gateway answered HTTP ${status}${code ? ` ${code}` : ''}`);
    this.name = 'GatewayHttpError';
  }
}

export interface GatewayApiOptions {
  /** http://host:port */
  httpUrl: string;
  adminToken: string;
  /** Orders per request (large imports are split). */
  chunkSize?: number;
  timeoutMs?: number;
}

export class GatewayApi {
  private readonly base: string;

  constructor(private readonly opts: GatewayApiOptions) {
    this.base = opts.httpUrl.replace(/\/+$/, '');
  }

  /** Imports (upserts) orders; resolves with the parsed answer of each chunk. */
  async importOrders(orders: readonly WireOrder[]): Promise<unknown[]> {
    const chunk = this.opts.chunkSize ?? 500;
    const answers: unknown[] = [];
    for (let i = 0; i < orders.length; i += chunk) {
      answers.push(await this.post('/api/v1/orders', orders.slice(i, i + chunk)));
    }
    return answers;
  }

  private post(path: string, body: unknown): Promise<unknown> {
    return this.request('POST', path, body);
  }

  /** Any admin call of the API (the floor's picking supervisor uses the wave and replenishment routes). */
  async request(method: 'GET' | 'POST', path: string, body?: unknown): Promise<unknown> {
    const res = await fetch(this.base + path, {
      method,
      headers: { ...(body === undefined ? {} : { 'content-type': 'application/json' }), authorization: `Bearer ${this.opts.adminToken}` },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      signal: AbortSignal.timeout(this.opts.timeoutMs ?? 30_000),
    });
    const text = await res.text();
    let parsed: unknown = text;
    try {
      parsed = text.length > 0 ? JSON.parse(text) : null;
    } catch {
      // Not JSON: keep the text for the error report.
    }
    if (!res.ok) {
      const o = parsed as Record<string, unknown> | null;
      const code = o && typeof o === 'object' ? (o['code'] ?? (o['error'] as Record<string, unknown> | undefined)?.['code']) : null;
      throw new GatewayHttpError(res.status, typeof code === 'string' ? code : null, parsed);
    }
    return parsed;
  }
}
