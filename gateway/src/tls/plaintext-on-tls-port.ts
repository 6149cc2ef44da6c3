/**
 * Plain HTTP arriving on the HTTPS port (someone typed `gw:8080`, or a station PC kept an old
 * http:// bookmark). Plaintext HTTP is off: nothing is served in clear, no route runs, no
 * redirect reflects what the request carried. Instead of a bare connection reset the person
 * gets one line saying where the screens are.
 *
 * OpenSSL recognises an HTTP request where a TLS record should be (SSL_R_HTTP_REQUEST: the
 * bytes "GET ", "POST", "HEAD", "PUT " at the start of a record, ssl/record/ssl3_record.c) and
 * Node reports it as `tlsClientError` ERR_SSL_HTTP_REQUEST before any handshake. The request
 * itself was consumed by the TLS layer, so the answer cannot depend on it (no path, no Host):
 * it names the address the client reached. The TCP socket under the failed TLS socket
 * (`_parent`, node's lib/_tls_wrap.js) still has its handle and takes the plain answer;
 * a test pins this on the Node line we run.
 */
import type { Server as HttpsServer } from 'node:https';
import type { Socket } from 'node:net';
import type { Logger } from '../lib/logger.js';

/** The https:// URL of the address a connection reached (IPv4-mapped and IPv6 forms handled). */
export function httpsUrlOf(localAddress: string | undefined, localPort: number | undefined): string {
  let host = localAddress ?? '127.0.0.1';
  if (host.startsWith('::ffff:') && host.includes('.')) host = host.slice(7);
  if (host.includes(':')) host = `[${host}]`;
  return `https://${host}:${localPort ?? 443}/`;
}

/** The whole plaintext answer: 400, one line, the connection closed. */
export function plaintextRefusal(url: string): string {
  const body = `This port speaks HTTPS only: open ${url} (the station PC must trust the gateway's CA, docs/ui.md). Nothing was processed.\n`;
  return [
    'HTTP/1.1 400 Bad Request',
    'Content-Type: text/plain; charset=utf-8',
    `Content-Length: ${Buffer.byteLength(body)}`,
    'X-Content-Type-Options: nosniff',
    'Cache-Control: no-store',
    'Connection: close',
    '',
    body,
  ].join('\r\n');
}

export function answerPlaintextOnTlsPort(server: HttpsServer, logger: Logger): void {
  server.on('tlsClientError', (err: NodeJS.ErrnoException, tlsSocket) => {
    if (err.code !== 'ERR_SSL_HTTP_REQUEST') return;
    const raw = (tlsSocket as unknown as { _parent?: Socket })._parent;
    if (raw === undefined || raw.destroyed || !raw.writable) return;
    logger.debug({ remote: raw.remoteAddress }, 'plaintext HTTP on the HTTPS port: refused');
    raw.end(plaintextRefusal(httpsUrlOf(raw.localAddress, raw.localPort)), () => raw.destroy());
  });
}
