/**
 * Edge validation of device payloads: bytes in, a typed event or a coded error out.
 * Pure (no I/O). The gateway runs it on every `dev/{id}/evt/{kind}` message; drivers and
 * simulators may run it before publishing to catch their own bugs early.
 */
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import type { Result } from './errors.js';
import { EVENT_SCHEMAS, type EventPayloads } from './payloads.js';
import type { EventKind } from './topics.js';

/** Device events are small; anything larger is a misbehaving client. */
export const MAX_EVENT_BYTES = 4096;

const ajv = new Ajv({ allErrors: false, strict: true, coerceTypes: false, useDefaults: false });

const validators = Object.fromEntries(
  Object.entries(EVENT_SCHEMAS).map(([kind, schema]) => [kind, ajv.compile(schema)]),
) as { [K in EventKind]: ValidateFunction<EventPayloads[K]> };

export type DecodeResult<K extends EventKind> = Result<{ value: EventPayloads[K] }>;

/**
 * The one text of a schema error for device payloads and protocol frames: `lines.1.qty must be
 * >= 1` (the field as a dotted path, `root` when it is the whole document).
 */
export function describeSchemaError(err: ErrorObject | undefined, root = 'payload', unmatched = 'does not match the schema'): string {
  if (!err) return unmatched;
  const where = err.instancePath === '' ? root : err.instancePath.slice(1).replaceAll('/', '.');
  if (err.keyword === 'additionalProperties') {
    return `${where} has unknown field ${String((err.params as { additionalProperty?: string }).additionalProperty)}`;
  }
  return `${where} ${err.message ?? 'is invalid'}`;
}

export function decodeEvent<K extends EventKind>(kind: K, payload: Uint8Array | string): DecodeResult<K> {
  const size = typeof payload === 'string' ? Buffer.byteLength(payload) : payload.byteLength;
  if (size > MAX_EVENT_BYTES) {
    return { ok: false, code: 'PKL_PAYLOAD_TOO_LARGE', details: { size, limit: MAX_EVENT_BYTES } };
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(typeof payload === 'string' ? payload : Buffer.from(payload).toString('utf8'));
  } catch {
    return { ok: false, code: 'PKL_PAYLOAD_NOT_JSON', details: {} };
  }
  const validate = validators[kind] as ValidateFunction<EventPayloads[K]>;
  if (!validate(parsed)) {
    return { ok: false, code: 'PKL_PAYLOAD_INVALID', details: { reason: describeSchemaError(validate.errors?.[0]) } };
  }
  return { ok: true, value: parsed };
}
