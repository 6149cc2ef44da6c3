/**
 * Bearer-token authorisation (RFC 6750 §2.1 `Authorization: Bearer <token>`).
 *
 * Admin tokens may do everything; station tokens may read and act at stations. A station
 * token issued for one station (`packline token add --station st-1`) is further limited to
 * that station's routes and data (`config.station`, {@link StationScope}); the bootstrap
 * station token is all-stations. Each route states what it needs in `config.auth`; one
 * onRequest hook enforces both before the body is even read, so an anonymous client cannot
 * make the gateway parse 5 MB.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { PacklineError } from '../../../contracts/errors.js';
import { DEFAULT_LOGIN_GUARD, type LoginGuardSettings, normaliseSource, type LoginGuard } from '../broker/auth-guard.js';
import { type ApiTokens, BOOTSTRAP_ADMIN_ID, BOOTSTRAP_STATION_ID, type Grant, TokenFileView } from '../runtime/api-tokens.js';

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

/**
 * What a station token (limited to one station) may reach on a route, checked after the
 * level (docs/http.md "Tokens"). Absent: station tokens are refused (closed by default, so
 * a new route is admin and all-stations only until it says how it is scoped).
 * - `any`: holds no station's personal data (station list, dashboard, sync status);
 * - `param`: the route's `:stationId` must be the token's station;
 * - `shipment`: `:shipmentId` must have been opened at the token's station;
 * - `order`: `:orderId` must have (had) a shipment at the token's station;
 * - `job`: `:jobId` must print a label of a shipment of the token's station;
 * - `route`: the route filters by {@link ownStation} itself (lists).
 */
export type StationScope = 'any' | 'param' | 'shipment' | 'order' | 'job' | 'route';

declare module 'fastify' {
  interface FastifyContextConfig {
    auth?: AuthLevel;
    station?: StationScope;
  }
}

/** Where the scope check looks up which station a shipment, order or print job belongs to. */
export interface StationScopeLookup {
  /** The station a shipment was opened at, or null when there is no such shipment. */
  shipmentStation(shipmentId: string): string | null;
  /** Whether the order has or had a shipment at the station. */
  orderAtStation(orderId: string, stationId: string): boolean;
  /** The station of the shipment a print job belongs to; null for no job or a job of no shipment. */
  jobStation(jobId: string): string | null;
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

/**
 * Returns what a token grants: the bootstrap admin and station tokens (compared in constant
 * time) or, when `tokens.file` is set, an issued token found by its sha256 in that file
 * (runtime/api-tokens.ts). The bootstrap station token is all-stations until revoked.
 */
export function makeGrantChecker(tokens: ApiTokens, onFileError?: (err: unknown) => void): (token: string) => Grant | null {
  for (const name of ['admin', 'station'] as const) {
    const value = tokens[name];
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
  const view = tokens.file === undefined ? null : new TokenFileView(tokens.file, onFileError);
  return (token) => {
    const d = digest(token);
    const isAdmin = timingSafeEqual(d, admin);
    const isStation = timingSafeEqual(d, station); // always both, so timing does not tell which
    if (isAdmin) return { id: BOOTSTRAP_ADMIN_ID, role: 'admin', station: null };
    if (isStation) return view?.bootstrapStationRevoked() ? null : { id: BOOTSTRAP_STATION_ID, role: 'station', station: null };
    // Looked up by the digest (a map lookup on a sha256 tells a guesser nothing about a token).
    const issued = view?.issued(d.toString('hex')) ?? null;
    return issued === null ? null : { id: issued.id, role: issued.role, station: issued.station };
  };
}

/** The role a token grants (the live hub and older callers); see {@link makeGrantChecker}. */
export function makeTokenChecker(tokens: ApiTokens): (token: string) => Role | null {
  const grantOf = makeGrantChecker(tokens);
  return (token) => grantOf(token)?.role ?? null;
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

/** The grant the auth hook found for a request (routes that serve roles differently ask). */
const grants = new WeakMap<FastifyRequest, Grant>();
export function requestGrant(request: FastifyRequest): Grant | null {
  return grants.get(request) ?? null;
}
export function requestRole(request: FastifyRequest): Role | null {
  return grants.get(request)?.role ?? null;
}

/** The station a request's token is limited to, or null (admin, all-stations token). */
export function ownStation(request: FastifyRequest): string | null {
  return grants.get(request)?.station ?? null;
}

function outOfScope(tokenStation: string, reason: string): PacklineError {
  return new PacklineError('PKL_TOKEN_STATION_SCOPE', { tokenStation, reason });
}

/** Refuses a station token outside its station (after the level check). */
function checkStationScope(request: FastifyRequest, station: string, lookup: StationScopeLookup | undefined): void {
  const scope = request.routeOptions.config?.station;
  const params = (request.params ?? {}) as Record<string, string | undefined>;
  switch (scope) {
    case 'any':
    case 'route':
      return;
    case 'param':
      if (params['stationId'] !== station) throw outOfScope(station, `station ${params['stationId'] ?? '?'} is not this token's`);
      return;
    case 'shipment': {
      const at = lookup?.shipmentStation(params['shipmentId'] ?? '') ?? null;
      // An unknown shipment is refused too: a station token learns nothing about other ids.
      if (at !== station) throw outOfScope(station, `shipment ${params['shipmentId'] ?? '?'} was not packed here`);
      return;
    }
    case 'order':
      if (lookup?.orderAtStation(params['orderId'] ?? '', station) !== true) {
        throw outOfScope(station, `order ${params['orderId'] ?? '?'} has not been at this station`);
      }
      return;
    case 'job':
      if ((lookup?.jobStation(params['jobId'] ?? '') ?? null) !== station)
        throw outOfScope(station, `print job ${params['jobId'] ?? '?'} is not this station's`);
      return;
    case undefined:
      throw outOfScope(station, `${request.method} ${request.routeOptions.url ?? request.url} is for admin tokens`);
  }
}

/** The onRequest hook. Routes without `config.auth` are public (health, metrics, docs). */
export function makeAuthHook(tokens: ApiTokens, guard?: LoginGuard, lookup?: StationScopeLookup, onFileError?: (err: unknown) => void) {
  const grantOf = makeGrantChecker(tokens, onFileError);
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
    const grant = token === null ? null : grantOf(token);
    if (grant === null) {
      if (guard && token !== null) guard.failed(source, identity);
      throw new PacklineError('PKL_UNAUTHORIZED');
    }
    if (!allows(level, grant.role)) throw new PacklineError('PKL_FORBIDDEN', { action: ACTION[level] });
    if (grant.station !== null) checkStationScope(request, grant.station, lookup);
    grants.set(request, grant);
    request.log.debug({ role: grant.role, token: grant.id, station: grant.station }, 'authorised');
  };
}
