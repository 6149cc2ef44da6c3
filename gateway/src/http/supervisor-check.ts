/**
 * The supervisor-password check in front of every guarded action (reprint, ship without a
 * label, release at the station): one guard, one lockout, one audit line per refusal.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import { clientError, type ReprintGuard } from '../printing/reprint-guard.js';

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
): Promise<void> {
  const outcome = await guard.check(who.supervisor, who.password);
  if (outcome.ok) return;
  request.log.warn(
    { ...audit, audit: audit.action, code: outcome.code, supervisor: who.supervisor, failures: outcome.failures },
    `${audit.action} refused by the supervisor guard`,
  );
  const err = clientError(outcome);
  if (outcome.code === 'PKL_REPRINT_LOCKED') void reply.header('retry-after', String(err.details?.retryAfterS ?? 1));
  throw err;
}
