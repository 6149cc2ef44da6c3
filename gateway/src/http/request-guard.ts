/**
 * Checks on every HTTP request before routing, and headers on every answer.
 *
 * - Host (RFC 9110 §7.2): a browser on the LAN can be made to send requests to the gateway
 *   under an attacker's DNS name that resolves to the gateway's address (DNS rebinding); the
 *   page then reads the answers as its own origin. Only names the gateway is known by are
 *   served: IP literals (a rebinding needs a name), `localhost`, this machine's host name
 *   (and `<name>.local`, mDNS), and `http.allowedHosts`. Anything else: 421 Misdirected
 *   Request (RFC 9110 §15.5.20), PKL_HOST_NOT_ALLOWED.
 * - Origin (RFC 6454 §7): a request a browser sends on behalf of another site's page carries
 *   that page's origin. One whose host is not allowed (as above) is refused with 403
 *   PKL_ORIGIN_NOT_ALLOWED; no Origin (curl, devices, same-origin GETs) passes. The same check
 *   guards MQTT over WebSocket's handshake (the broker) and the live hub.
 * - A path with a `..` segment (raw or percent-encoded) is 404 PKL_NOT_FOUND, logged like any
 *   404 (no error line, no stack).
 * - Answers: `X-Content-Type-Options: nosniff` (a JSON error quoting input is never sniffed
 *   as HTML), `Referrer-Policy: no-referrer`, `X-Frame-Options: DENY` (pages set CSP
 *   frame-ancestors too), and `Cache-Control: no-store` on /api answers (personal data must
 *   not sit in a shared browser cache of a station PC).
 */
import { hostname } from 'node:os';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { isIP } from 'node:net';
import { PacklineError } from '../../../contracts/errors.js';

/** The host part of a Host header value or URL authority, lower-cased, brackets of IPv6 removed. */
export function hostOf(authority: string): string {
  const a = authority.trim().toLowerCase();
  if (a.startsWith('[')) return a.slice(1, a.indexOf(']') === -1 ? undefined : a.indexOf(']'));
  const colon = a.lastIndexOf(':');
  return colon === -1 ? a : a.slice(0, colon);
}

/** Decides which host names the gateway answers to. */
export function makeHostCheck(allowedHosts: readonly string[], machine = hostname()): (host: string) => boolean {
  const names = new Set(['localhost', machine.toLowerCase(), `${machine.toLowerCase()}.local`, ...allowedHosts.map((h) => h.toLowerCase())]);
  return (host) => {
    const h = host.endsWith('.') ? host.slice(0, -1) : host;
    return h !== '' && (isIP(h) !== 0 || names.has(h));
  };
}

/** True when an Origin header is absent or names an allowed host ("null" is refused). */
export function originAllowed(origin: string | undefined, hostOk: (host: string) => boolean): boolean {
  if (origin === undefined) return true;
  try {
    const u = new URL(origin);
    return (u.protocol === 'http:' || u.protocol === 'https:') && hostOk(hostOf(u.host));
  } catch {
    return false;
  }
}

/** True when the path (percent-decoded, `\` read as `/`) has a `..` segment (RFC 3986 §5.2.4). */
export function hasDotDotSegment(url: string): boolean {
  const path = url.split('?', 1)[0] ?? '';
  let decoded: string;
  try {
    decoded = decodeURIComponent(path);
  } catch {
    decoded = path;
  }
  return /(^|[/\\])\.\.([/\\]|$)/.test(decoded);
}

/** The onRequest hook: `..` paths, Host, then Origin. */
export function makeRequestGuard(allowedHosts: readonly string[]) {
  const hostOk = makeHostCheck(allowedHosts);
  return {
    hostOk,
    async onRequest(request: FastifyRequest, _reply: FastifyReply): Promise<void> {
      if (hasDotDotSegment(request.url)) {
        // Nothing is served from above a route's root: answered as what it is, not found,
        // before a static-file handler turns it into a 403 error with a stack in the log.
        throw new PacklineError('PKL_NOT_FOUND', { what: `${request.method} ${request.url.slice(0, 200)}` });
      }
      const host = request.headers.host;
      if (host === undefined || !hostOk(hostOf(host))) {
        throw new PacklineError('PKL_HOST_NOT_ALLOWED', { host: String(host ?? '').slice(0, 100) });
      }
      if (!originAllowed(request.headers.origin, hostOk)) {
        throw new PacklineError('PKL_ORIGIN_NOT_ALLOWED', { origin: String(request.headers.origin).slice(0, 100) });
      }
    },
    async onSend(request: FastifyRequest, reply: FastifyReply): Promise<void> {
      void reply.header('x-content-type-options', 'nosniff');
      void reply.header('referrer-policy', 'no-referrer');
      if (!reply.hasHeader('x-frame-options')) void reply.header('x-frame-options', 'DENY');
      if (request.url.startsWith('/api/')) void reply.header('cache-control', 'no-store');
    },
  };
}
