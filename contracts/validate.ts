/**
 * Edge validation of device payloads: bytes in, a typed event or a coded error out.
 * Pure (no I/O). The gateway runs it on every `dev/{id}/evt/{kind}` message; drivers and
 * simulators may run it before publishing to catch their own bugs early.
 */
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import type { Result } from './errors.js';
import { DeviceState, EVENT_SCHEMAS, type EventPayloads } from './payloads.js';
import type { EventKind } from './topics.js';

/** Device events are small; anything larger is a misbehaving client. */
export const MAX_EVENT_BYTES = 4096;

const ajv = new Ajv({ allErrors: false, strict: true, coerceTypes: false, useDefaults: false });

const validators = Object.fromEntries(Object.entries(EVENT_SCHEMAS).map(([kind, schema]) => [kind, ajv.compile(schema)])) as {
  [K in EventKind]: ValidateFunction<EventPayloads[K]>;
};

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

const validateState = ajv.compile(DeviceState);

/** `dev/{id}/state`: a DeviceState JSON object, or empty (clears the retained message, [MQTT-3.3.1-10]). */
export function checkDeviceState(payload: Uint8Array): Result {
  if (payload.byteLength === 0) return { ok: true };
  if (payload.byteLength > MAX_EVENT_BYTES) {
    return { ok: false, code: 'PKL_PAYLOAD_TOO_LARGE', details: { size: payload.byteLength, limit: MAX_EVENT_BYTES } };
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(payload).toString('utf8'));
  } catch {
    return { ok: false, code: 'PKL_PAYLOAD_NOT_JSON', details: {} };
  }
  if (!validateState(parsed)) {
    return { ok: false, code: 'PKL_PAYLOAD_INVALID', details: { reason: describeSchemaError(validateState.errors?.[0]) } };
  }
  return { ok: true };
}

/** payloads.ts MsgId: 1–64 characters from ! to ~. */
const MSG_ID_RE = /^[\x21-\x7e]{1,64}$/;

/**
 * The `msg_id` of a payload whenever one can be read, even from a payload that is otherwise
 * refused (wrong schema, unknown field, too large), so the device can match the error to its
 * message (docs/mqtt.md §4). Only a well-formed id (payloads.ts MsgId) is echoed.
 */
export function readMsgId(payload: Uint8Array | string): string | undefined {
  const bytes = typeof payload === 'string' ? Buffer.from(payload, 'utf8') : Buffer.from(payload);
  // Oversized or broken JSON: look for the field itself near the start instead of parsing it all.
  const scan = () => /"msg_id"\s*:\s*"([\x21\x23-\x5b\x5d-\x7e]{1,64})"/.exec(bytes.subarray(0, 8192).toString('utf8'))?.[1];
  if (bytes.byteLength > MAX_EVENT_BYTES) return scan();
  let parsed: unknown;
  try {
    parsed = JSON.parse(bytes.toString('utf8'));
  } catch {
    return scan();
  }
  const id = (parsed as { msg_id?: unknown } | null)?.msg_id;
  return typeof id === 'string' && MSG_ID_RE.test(id) ? id : undefined;
}
