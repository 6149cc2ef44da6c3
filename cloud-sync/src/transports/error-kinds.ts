/**
 * Maps a Node socket/DNS/TLS error to the {@link SyncTransportError} kind the link monitor
 * reasons about. Codes are libuv's (errno names) and Node's own; an error from a dual-stack
 * connect (Node 20's happy eyeballs, `autoSelectFamily`) arrives as an AggregateError whose
 * own code may be missing, so the errors it aggregates are looked at too.
 */
import type { SyncTransportError } from '../transport.js';

export type TransportErrorKind = SyncTransportError['kind'];

const KIND_BY_CODE: Record<string, TransportErrorKind> = {
  ECONNREFUSED: 'refused',
  // The peer closed or reset the connection: "socket hang up" is Node's ECONNRESET for a
  // request that got no response; `aborted` one whose response was cut off.
  ECONNRESET: 'reset',
  EPIPE: 'reset',
  ECONNABORTED: 'reset',
  ERR_STREAM_PREMATURE_CLOSE: 'reset',
  // The kernel gave up connecting (SYN retries exhausted).
  ETIMEDOUT: 'timeout',
  // No route, no such host, no network: the WAN is down, not the cloud.
  ENOTFOUND: 'unreachable',
  EAI_AGAIN: 'unreachable',
  EAI_FAIL: 'unreachable',
  EHOSTUNREACH: 'unreachable',
  ENETUNREACH: 'unreachable',
  EHOSTDOWN: 'unreachable',
  ENETDOWN: 'unreachable',
  EADDRNOTAVAIL: 'unreachable',
};

const RESET_MESSAGES = new Set(['socket hang up', 'aborted']);

export function transportErrorKind(err: unknown): TransportErrorKind {
  if (!(err instanceof Error)) return 'other';
  const code = (err as { code?: unknown }).code;
  if (typeof code === 'string' && KIND_BY_CODE[code] !== undefined) return KIND_BY_CODE[code];
  if (RESET_MESSAGES.has(err.message)) return 'reset';
  if (err instanceof AggregateError) {
    for (const inner of err.errors) {
      const kind = transportErrorKind(inner);
      if (kind !== 'other') return kind;
    }
  }
  // TLS verification failures (DEPTH_ZERO_SELF_SIGNED_CERT, ERR_TLS_CERT_ALTNAME_INVALID, …)
  // and anything unknown: a configuration problem, not a link state.
  return 'other';
}
