/**
 * The one place where anything that went wrong in a request becomes an HTTP answer:
 * `{ error: { code, message, message_zh, details } }` with the catalogue's status.
 *
 * - PacklineError → its code and the status from contracts/errors.ts;
 * - fastify schema validation → 400 PKL_PAYLOAD_INVALID naming the field;
 * - body parsing (malformed JSON, too large, wrong media type) → coded 400/413;
 * - anything else is a bug → 500 PKL_INTERNAL carrying a reference id that is logged with
 *   the stack; the stack never leaves the gateway.
 */
import { randomBytes } from 'node:crypto';
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { ERRORS, PacklineError, type WireError } from '../../../contracts/errors.js';

export interface ErrorAnswer {
  status: number;
  body: { error: WireError };
}

export function answer(error: WireError): ErrorAnswer {
  return { status: ERRORS[error.code].http, body: { error } };
}

function coded(err: PacklineError): ErrorAnswer {
  return answer(err.toWire());
}

interface AjvLikeError {
  instancePath?: string;
  keyword?: string;
  message?: string;
  params?: Record<string, unknown>;
}

/** `body.0.lines.1.qty must be >= 1`: the field as a dotted path plus what is wrong with it. */
export function describeValidation(context: string, errors: readonly AjvLikeError[]): { field: string; reason: string } {
  const e = errors[0] ?? {};
  let field = context + (e.instancePath ?? '').replaceAll('/', '.');
  let what = e.message ?? 'is invalid';
  const p = e.params ?? {};
  if (e.keyword === 'additionalProperties' && typeof p.additionalProperty === 'string') {
    what = `has unknown field "${p.additionalProperty}"`;
  } else if (e.keyword === 'required' && typeof p.missingProperty === 'string') {
    field = `${field}.${p.missingProperty}`;
    what = 'is required';
  } else if (e.keyword === 'pattern') {
    what = `must match ${String(p.pattern)}`;
  } else if (e.keyword === 'anyOf') {
    what = 'does not match any allowed form';
  }
  return { field, reason: `${field} ${what}` };
}

function isFastifyError(err: unknown): err is FastifyError {
  return err instanceof Error && typeof (err as { code?: unknown }).code === 'string';
}

/** Maps an error thrown or produced while handling a request; null means "a bug" (500). */
export function classify(err: unknown, request: FastifyRequest): ErrorAnswer | null {
  if (err instanceof PacklineError) return coded(err);
  if (!isFastifyError(err)) return null;
  if (err.validation !== undefined) {
    const context = err.validationContext ?? 'request';
    const { field, reason } = describeValidation(context, err.validation as AjvLikeError[]);
    return coded(new PacklineError('PKL_PAYLOAD_INVALID', { reason, field }));
  }
  switch (err.code) {
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return coded(new PacklineError('PKL_PAYLOAD_NOT_JSON'));
    case 'FST_ERR_CTP_BODY_TOO_LARGE': {
      const size = request.headers['content-length'] ?? 'more than the limit of';
      return coded(new PacklineError('PKL_PAYLOAD_TOO_LARGE', { size, limit: request.routeOptions.bodyLimit }));
    }
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return coded(
        new PacklineError('PKL_PAYLOAD_INVALID', {
          reason: `Content-Type ${request.headers['content-type'] ?? '(none)'} is not supported; send application/json`,
        }),
      );
  }
  // Older fastify / secure-json-parse surface malformed JSON as a 400 SyntaxError.
  if (err instanceof SyntaxError && err.statusCode === 400) return coded(new PacklineError('PKL_PAYLOAD_NOT_JSON'));
  const status = err.statusCode ?? 500;
  if (status === 404) return coded(new PacklineError('PKL_NOT_FOUND', { what: request.url }));
  // Other client errors fastify detects itself (bad URL encoding, wrong Content-Length…).
  if (status >= 400 && status < 500) return coded(new PacklineError('PKL_PAYLOAD_INVALID', { reason: err.message }));
  return null;
}

function internal(err: unknown, request: FastifyRequest): ErrorAnswer {
  const ref = randomBytes(6).toString('hex');
  request.log.error({ err, ref, method: request.method, url: request.url }, 'unhandled error in HTTP request');
  return coded(new PacklineError('PKL_INTERNAL', { ref }));
}

export function toAnswer(err: unknown, request: FastifyRequest): ErrorAnswer {
  const known = classify(err, request);
  if (known === null) return internal(err, request);
  const level = known.status >= 500 ? 'warn' : 'debug';
  request.log[level]({ code: known.body.error.code, status: known.status }, 'request refused');
  return known;
}

export function sendAnswer(reply: FastifyReply, a: ErrorAnswer): FastifyReply {
  // RFC 6750 §3: a 401 names the scheme the client should use.
  if (a.body.error.code === 'PKL_UNAUTHORIZED') void reply.header('www-authenticate', 'Bearer realm="packline"');
  return reply.code(a.status).type('application/json; charset=utf-8').send(a.body);
}

/** fastify's setErrorHandler. */
export function errorHandler(err: unknown, request: FastifyRequest, reply: FastifyReply): FastifyReply {
  return sendAnswer(reply, toAnswer(err, request));
}

/** fastify's setNotFoundHandler. */
export function notFoundHandler(request: FastifyRequest, reply: FastifyReply): FastifyReply {
  const what = `${request.method} ${request.url.split('?')[0] ?? ''}`;
  return sendAnswer(reply, coded(new PacklineError('PKL_NOT_FOUND', { what })));
}

/** Sends a refusal that a service returned as a value (e.g. a manual scan's wrong item). */
export function sendWireError(reply: FastifyReply, error: WireError): FastifyReply {
  return sendAnswer(reply, answer(error));
}
