/**
 * The supervisor-password check in front of every guarded action (reprint, ship without a
 * label, release at the station): one guard, one lockout, one audit line per refusal.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import { clientError, type ReprintGuard } from '../printing/reprint-guard.js';
import { requestSource, throttled } from './auth.js';

/**
 * Resolves when `password` is the supervisor's; otherwise logs the refusal with its real
 * reason (the client cannot tell an unknown name from a wrong password) and throws the coded
 * client error (403, or 429 with Retry-After while the supervisor is locked out).
 */
export async function requireSupervisor(
  guard: ReprintGuard,
  request: FastifyRequest,
  reply: FastifyReply,
  who: { supervisor: string; password: string },
  audit: { action: string } & Record<string, unknown>,
  /** The station the action is for: failures and lockouts count per supervisor and station. */
  station?: string,
): Promise<void> {
  const loginGuard = guard.login;
  // Per source as well as per name (the ReprintGuard's lockout): one host guessing many
  // names is slowed and then banned before it costs more scrypts.
  const source = requestSource(request);
  const identity = `supervisor:${who.supervisor.slice(0, 64)}`;
  if (loginGuard) {
    const gate = loginGuard.gate(source, identity);
    if (!gate.ok) {
      request.log.warn(
        { ...audit, audit: audit.action, code: 'PKL_LOGIN_THROTTLED', source, reason: gate.reason },
        `${audit.action} refused by the login guard`,
      );
      throw throttled(reply, source, gate.retryAfterMs);
    }
  }
  const outcome = await guard.check(who.supervisor, who.password, station);
  if (outcome.ok) {
    loginGuard?.succeeded(source, identity);
    return;
  }
  if (loginGuard && (outcome.code === 'PKL_SUPERVISOR_UNKNOWN' || outcome.code === 'PKL_SUPERVISOR_PASSWORD_WRONG')) {
    loginGuard.failed(source, identity);
  }
  request.log.warn(
    { ...audit, audit: audit.action, code: outcome.code, supervisor: who.supervisor, failures: outcome.failures },
    `${audit.action} refused by the supervisor guard`,
  );
  const err = clientError(outcome, source);
  if (outcome.code === 'PKL_REPRINT_LOCKED' || outcome.code === 'PKL_LOGIN_THROTTLED') {
    void reply.header('retry-after', String(err.details?.retryAfterS ?? 1));
  }
  throw err;
}
