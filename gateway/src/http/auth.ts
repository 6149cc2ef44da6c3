/**
 * Bearer-token authorisation (RFC 6750 §2.1 `Authorization: Bearer <token>`).
 *
 * Two static tokens: `admin` may do everything, `station` may read and post manual scans.
 * Each route states what it needs in `config.auth`; one onRequest hook enforces it before
 * the body is even read, so an anonymous client cannot make the gateway parse 5 MB.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { PacklineError } from '../../../contracts/errors.js';
import { DEFAULT_LOGIN_GUARD, type LoginGuardSettings, normaliseSource, type LoginGuard } from '../broker/auth-guard.js';
import type { ApiTokens } from './deps.js';

/**
 * The HTTP login guard's settings. A wrong API token costs a sha256, not an scrypt, and tokens
 * are ≥ 16 random characters, so the guard here bounds log and CPU rather than guessing; it is
 * lenient before backoff (a misconfigured station PC retrying must not be banned at once).
 * Supervisor passwords (scrypt) go through the same guard and its verification pool.
 */
export const HTTP_LOGIN_GUARD: LoginGuardSettings = { ...DEFAULT_LOGIN_GUARD, freeFailures: 50, banAfter: 200 };

/** The client's address as the guard keys it (no proxy in front of the gateway: the socket's peer). */
export function requestSource(request: FastifyRequest): string {
  return normaliseSource(request.socket.remoteAddress);
}

/** Refuses a throttled source: 429 PKL_LOGIN_THROTTLED with Retry-After (RFC 9110 §10.2.3). */
export function throttled(reply: FastifyReply, source: string, retryAfterMs: number): PacklineError {
  const retryAfterS = Math.max(1, Math.ceil(retryAfterMs / 1000));
  void reply.header('retry-after', String(retryAfterS));
  return new PacklineError('PKL_LOGIN_THROTTLED', { source, retryAfterS });
}

/** `none`: public; `read`: any valid token; `scan`: station or admin; `admin`: admin only. */
export type AuthLevel = 'none' | 'read' | 'scan' | 'admin';
export type Role = 'admin' | 'station';

declare module 'fastify' {
  interface FastifyContextConfig {
    auth?: AuthLevel;
  }
}

/** Shorter tokens are guessable on a shared warehouse LAN. */
export const MIN_TOKEN_LENGTH = 16;

const ACTION: Record<AuthLevel, string> = {
  none: 'call this endpoint',
  read: 'read',
  scan: 'post scans',
  admin: 'use admin endpoints',
};

function digest(value: string): Buffer {
  return createHash('sha256').update(value, 'utf8').digest();
}

/** Returns the role a token grants. Constant time in the token's content and length. */
export function makeTokenChecker(tokens: ApiTokens): (token: string) => Role | null {
  for (const [name, value] of Object.entries(tokens)) {
    if (typeof value !== 'string' || value.length < MIN_TOKEN_LENGTH) {
      throw new PacklineError('PKL_CONFIG_INVALID', {
        reason: `the ${name} API token must have at least ${MIN_TOKEN_LENGTH} characters`,
      });
    }
  }
  if (tokens.admin === tokens.station) {
    throw new PacklineError('PKL_CONFIG_INVALID', { reason: 'the admin and station API tokens must differ' });
  }
  // Comparing fixed-size digests hides the expected token's length as well as its content.
  const admin = digest(tokens.admin);
  const station = digest(tokens.station);
  return (token) => {
    const d = digest(token);
    const isAdmin = timingSafeEqual(d, admin);
    const isStation = timingSafeEqual(d, station); // always both, so timing does not tell which
    return isAdmin ? 'admin' : isStation ? 'station' : null;
  };
}

function bearerToken(header: string | undefined): string | null {
  if (header === undefined) return null;
  const m = /^Bearer +(\S+) *$/i.exec(header);
  return m?.[1] ?? null;
}

function allows(level: AuthLevel, role: Role): boolean {
  switch (level) {
    case 'none':
    case 'read':
    case 'scan':
      return true; // both roles may read and scan
    case 'admin':
      return role === 'admin';
  }
}

/** The role the auth hook found for a request (routes that serve both roles differently ask). */
const roles = new WeakMap<FastifyRequest, Role>();
export function requestRole(request: FastifyRequest): Role | null {
  return roles.get(request) ?? null;
}

/** The onRequest hook. Routes without `config.auth` are public (health, metrics, docs). */
export function makeAuthHook(tokens: ApiTokens, guard?: LoginGuard) {
  const roleOf = makeTokenChecker(tokens);
  return async function authorise(request: FastifyRequest, reply: FastifyReply): Promise<void> {
    const level = request.routeOptions.config?.auth ?? 'none';
    if (level === 'none') return;
    const token = bearerToken(request.headers.authorization);
    // Keyed by source alone (the identity is the token, which a guesser does not have).
    const source = requestSource(request);
    const identity = `api-token@${source}`;
    if (guard && token !== null) {
      const gate = guard.gate(source, identity);
      if (!gate.ok) throw throttled(reply, source, gate.retryAfterMs);
    }
    const role = token === null ? null : roleOf(token);
    if (role === null) {
      if (guard && token !== null) guard.failed(source, identity);
      throw new PacklineError('PKL_UNAUTHORIZED');
    }
    if (!allows(level, role)) throw new PacklineError('PKL_FORBIDDEN', { action: ACTION[level] });
    roles.set(request, role);
    request.log.debug({ role }, 'authorised');
  };
}
