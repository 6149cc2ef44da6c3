/**
 * One HTTP(S) request to this gateway's own API that trusts its local CA (tls/auto-tls.ts):
 * Node's global fetch cannot be given a CA at run time (NODE_EXTRA_CA_CERTS is read once, at
 * process start), so the CLI and `packline start` ask through node:https with `ca` instead.
 */
import { existsSync, readFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { join } from 'node:path';
import { rootCertificates } from 'node:tls';
import { localTlsDir } from './auto-tls.js';

export interface LocalAnswer {
  status: number;
  ok: boolean;
  text: string;
  json<T>(): T;
}

export interface LocalRequest {
  method?: string;
  headers?: Record<string, string>;
  body?: string;
  /** PEM CA certificate(s) to trust besides the system's. */
  ca?: Buffer | string;
  timeoutMs: number;
}

/** The local CA certificate of the data directory, when the gateway made one. */
export function localCaOf(dataDir: string): Buffer | undefined {
  const file = join(localTlsDir(dataDir), 'ca.crt');
  return existsSync(file) ? readFileSync(file) : undefined;
}

export function localRequest(url: string, o: LocalRequest): Promise<LocalAnswer> {
  const u = new URL(url);
  const send = u.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const req = send(
      u,
      {
        method: o.method ?? 'GET',
        headers: o.headers ?? {},
        timeout: o.timeoutMs,
        ...(o.ca !== undefined && u.protocol === 'https:' ? { ca: [...rootCertificates, o.ca] } : {}),
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', reject);
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          const status = res.statusCode ?? 0;
          resolve({ status, ok: status >= 200 && status < 300, text, json: <T>() => JSON.parse(text) as T });
        });
      },
    );
    req.on('timeout', () => req.destroy(Object.assign(new Error(`no answer within ${o.timeoutMs} ms`), { code: 'ETIMEDOUT' })));
    req.on('error', reject);
    req.end(o.body);
  });
}
