/** Helpers the protocol modules share to build frames, errors and option checks. */
import { PacklineError, type ErrorCode, type ErrorDetails } from '../../../contracts/errors.js';
import { describeBytes } from '../framing/bytes.js';
import { DEFAULT_STABILITY, type StabilityOptions } from './stability.js';
import type { ErrorFrame, ProtocolOptions, ScaleCommand } from './types.js';

export function errorFrame(code: ErrorCode, protocol: string, bytes: Uint8Array, detail: ErrorDetails): ErrorFrame {
  return { type: 'error', code, detail: { protocol, ...detail }, raw: describeBytes(bytes) };
}

export function invalidFrame(protocol: string, bytes: Uint8Array, reason: string): ErrorFrame {
  return errorFrame('PKL_FRAME_INVALID', protocol, bytes, { reason });
}

export function hex2(n: number): string {
  return `0x${n.toString(16).padStart(2, '0')}`;
}

export function unsupported(protocol: string, command: ScaleCommand): PacklineError {
  return new PacklineError('PKL_SCALE_COMMAND_UNSUPPORTED', { protocol, command });
}

function badOption(protocol: string, reason: string): PacklineError {
  return new PacklineError('PKL_CONFIG_INVALID', { reason: `${protocol}: ${reason}` });
}

/** Reads one option from a definition/config object, failing with PKL_CONFIG_INVALID. */
export function optionOf<T>(
  protocol: string,
  options: ProtocolOptions | undefined,
  key: string,
  fallback: T,
  accept: (v: unknown) => v is T,
  expected: string,
): T {
  const v = options?.[key];
  if (v === undefined) return fallback;
  if (!accept(v)) throw badOption(protocol, `option "${key}" must be ${expected}`);
  return v;
}

export function rejectUnknownOptions(protocol: string, options: ProtocolOptions | undefined, known: readonly string[]): void {
  for (const key of Object.keys(options ?? {})) {
    if (!known.includes(key)) throw badOption(protocol, `unknown option "${key}"`);
  }
}

export const isBoolean = (v: unknown): v is boolean => typeof v === 'boolean';

export function oneOf<T extends string>(...values: T[]): (v: unknown) => v is T {
  return (v: unknown): v is T => typeof v === 'string' && (values as string[]).includes(v);
}

export function isStabilityOptions(v: unknown): v is StabilityOptions {
  if (typeof v !== 'object' || v === null) return false;
  const o = v as Record<string, unknown>;
  return (
    typeof o.samples === 'number' &&
    Number.isInteger(o.samples) &&
    o.samples >= 2 &&
    typeof o.toleranceGrams === 'number' &&
    Number.isFinite(o.toleranceGrams) &&
    o.toleranceGrams >= 0
  );
}

export function stabilityOption(protocol: string, options: ProtocolOptions | undefined): StabilityOptions {
  return optionOf(protocol, options, 'stability', DEFAULT_STABILITY, isStabilityOptions, '{ samples: integer >= 2, toleranceGrams: number >= 0 }');
}
