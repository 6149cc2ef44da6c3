/**
 * Tolerant reading of cloud answers (the "robustness principle", RFC 1122 §1.2.2, as the
 * sync contract states it in contracts/sync.ts SYNC_PROTOCOL_VERSION): fields the gateway
 * does not know are ignored and counted, never fatal; required fields and their types are
 * checked; an answer in a contract version the gateway does not speak is refused. Pure.
 */
import { Kind, type TSchema } from '@sinclair/typebox';
import { TypeCompiler } from '@sinclair/typebox/compiler';
import { Value } from '@sinclair/typebox/value';
import { SYNC_PROTOCOL_VERSION } from '../../contracts/sync.js';

export type ReadResult<T> = { ok: true; value: T; unknown: string[] } | { ok: false; error: string; contract: true };

/** Paths of the fields in `value` that `schema` does not name (at most `max` of them). */
export function unknownFields(schema: TSchema, value: unknown, path = '', out: string[] = [], max = 50): string[] {
  if (out.length >= max || value === null || typeof value !== 'object') return out;
  const kind = schema[Kind] as string;
  if (kind === 'Object' && !Array.isArray(value)) {
    const props = (schema as unknown as { properties: Record<string, TSchema> }).properties;
    for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
      const sub = props[k];
      if (sub === undefined) {
        if (out.length < max) out.push(`${path}/${k}`);
      } else {
        unknownFields(sub, v, `${path}/${k}`, out, max);
      }
    }
  } else if (kind === 'Array' && Array.isArray(value)) {
    const items = (schema as unknown as { items: TSchema }).items;
    value.forEach((v, i) => {
      unknownFields(items, v, `${path}/${i}`, out, max);
    });
  } else if (kind === 'Union') {
    const variant = (schema as unknown as { anyOf: TSchema[] }).anyOf.find((s) => Value.Check(s, value));
    if (variant !== undefined) unknownFields(variant, value, path, out, max);
  }
  return out;
}

/** A compiled reader for one answer type. */
export function answerReader<T extends TSchema>(schema: T, what: string): (value: unknown) => ReadResult<import('@sinclair/typebox').Static<T>> {
  const check = TypeCompiler.Compile(schema);
  return (value) => {
    const v = (value as { v?: unknown } | null)?.v;
    if (v !== undefined && v !== SYNC_PROTOCOL_VERSION) {
      return {
        ok: false,
        contract: true,
        error: `the cloud's ${what} speaks sync contract v${String(v).slice(0, 20)}; this gateway speaks v${SYNC_PROTOCOL_VERSION}`,
      };
    }
    if (!check.Check(value)) {
      const first = check.Errors(value).First();
      const where = first ? ` (${first.path || '/'}: ${first.message})` : '';
      return { ok: false, contract: true, error: `the cloud's ${what} does not match the sync contract${where}` };
    }
    return { ok: true, value, unknown: unknownFields(schema, value) };
  };
}
