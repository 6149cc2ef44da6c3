/**
 * Generic configurable ASCII line scale: one reading per line, parsed by a regular expression
 * with named groups that a definition (or site config) supplies as data.
 *
 * Why: many Chinese/Taiwanese indicators print `ST,GS,+  1.234kg` (docs/devices/README.md
 * §1.11, Excell AM4 manual / 计重秤RS232格式说明) or vendor-specific variants that are
 * verified on site with a capture (docs/devices/scales.md recommends exactly this for Dahua and
 * unknown vendors). Named groups:
 *   `weight` — decimal text in `unit` (group or profile default), or `grams` — already grams;
 *   `unit`   — unit text (`kg`, `g`, `lb`, `oz`, …);
 *   `stable` — header token compared with `stableTokens` / `overloadTokens`;
 *   `sign`   — `-` makes the value negative;
 *   `net`    — header token compared with `netTokens`.
 * Without a `stable` group, stability comes from a {@link StabilityDetector}.
 */
import { PacklineError } from '../../../../contracts/errors.js';
import { LineFramer } from '../../framing/line-framer.js';
import { asciiBytes, describeBytes, latin1 } from '../../framing/bytes.js';
import { errorFrame, invalidFrame, isStabilityOptions, unsupported } from '../frames.js';
import { DEFAULT_STABILITY, StabilityDetector, type StabilityOptions } from '../stability.js';
import { decimalToGrams, isKnownUnit } from '../units.js';
import type { ProtocolOptions, ScaleCommand, ScaleDecoder, ScaleFrame, ScaleProtocol } from '../types.js';

export const GENERIC_LINE = 'generic-line';

const DELIMITERS = { crlf: '\r\n', lf: '\n', cr: '\r' } as const;
const COMMAND_NAMES: readonly ScaleCommand[] = ['weigh', 'weighNow', 'zero', 'tare', 'clearTare', 'enquire'];

/** The profile as written in a definition or the site config. */
export type LineProfile = {
  readonly pattern: string;
  /** Regex flags; only `i` is allowed (no `g`/`y` state, no `m` surprises). */
  readonly flags?: string;
  readonly delimiter?: keyof typeof DELIMITERS;
  /** Longest line accepted (terminator excluded). Default 64. */
  readonly maxLength?: number;
  /** Unit when the pattern has no `unit` group. */
  readonly unit?: string;
  readonly stableTokens?: readonly string[];
  readonly overloadTokens?: readonly string[];
  readonly netTokens?: readonly string[];
  readonly stability?: StabilityOptions;
  /** Raw command strings, terminator included, e.g. `{ zero: 'MZ\r\n' }`. */
  readonly commands?: Readonly<Partial<Record<ScaleCommand, string>>>;
};

export interface CompiledLineProfile {
  readonly regex: RegExp;
  readonly delimiter: Uint8Array;
  readonly maxLength: number;
  readonly unit: string | undefined;
  readonly hasStableGroup: boolean;
  readonly stableTokens: ReadonlySet<string>;
  readonly overloadTokens: ReadonlySet<string>;
  readonly netTokens: ReadonlySet<string>;
  readonly stability: StabilityOptions;
  readonly commands: Readonly<Partial<Record<ScaleCommand, Uint8Array>>>;
}

const KNOWN_KEYS = ['pattern', 'flags', 'delimiter', 'maxLength', 'unit', 'stableTokens', 'overloadTokens', 'netTokens', 'stability', 'commands'];

function bad(reason: string): PacklineError {
  return new PacklineError('PKL_CONFIG_INVALID', { reason: `${GENERIC_LINE}: ${reason}` });
}

function tokens(v: unknown, key: string, fallback: readonly string[]): ReadonlySet<string> {
  if (v === undefined) return new Set(fallback);
  if (!Array.isArray(v) || !v.every((t) => typeof t === 'string')) throw bad(`"${key}" must be an array of strings`);
  return new Set(v as string[]);
}

/** Validates a profile (from data, so `unknown`) and compiles its regex; PKL_CONFIG_INVALID on any fault. */
export function compileLineProfile(options: ProtocolOptions | undefined): CompiledLineProfile {
  const o = (options ?? {}) as Record<string, unknown>;
  for (const key of Object.keys(o)) if (!KNOWN_KEYS.includes(key)) throw bad(`unknown option "${key}"`);
  if (typeof o.pattern !== 'string' || o.pattern === '') throw bad('"pattern" must be a non-empty regex source');
  const flags = o.flags ?? '';
  if (flags !== '' && flags !== 'i') throw bad('"flags" may only be "i"');
  let regex: RegExp;
  try {
    regex = new RegExp(o.pattern, flags);
  } catch (err) {
    throw bad(`"pattern" does not compile: ${(err as Error).message}`);
  }
  const groups = new Set([...o.pattern.matchAll(/\(\?<([A-Za-z]\w*)>/g)].map((m) => m[1]));
  if (groups.has('weight') === groups.has('grams')) throw bad('"pattern" needs exactly one of the groups (?<weight>…) or (?<grams>…)');
  const unit = o.unit;
  if (unit !== undefined && (typeof unit !== 'string' || !isKnownUnit(unit))) throw bad(`"unit" ${JSON.stringify(unit)} is not a known unit`);
  if (groups.has('weight') && !groups.has('unit') && unit === undefined) throw bad('a (?<weight>…) pattern needs a (?<unit>…) group or a "unit"');
  const delimiter = o.delimiter ?? 'crlf';
  if (typeof delimiter !== 'string' || !(delimiter in DELIMITERS)) throw bad('"delimiter" must be "crlf", "lf" or "cr"');
  const maxLength = o.maxLength ?? 64;
  if (typeof maxLength !== 'number' || !Number.isInteger(maxLength) || maxLength < 4 || maxLength > 1024) {
    throw bad('"maxLength" must be an integer 4..1024');
  }
  if (o.stability !== undefined && !isStabilityOptions(o.stability)) throw bad('"stability" must be { samples >= 2, toleranceGrams >= 0 }');
  const commands: Partial<Record<ScaleCommand, Uint8Array>> = {};
  if (o.commands !== undefined) {
    if (typeof o.commands !== 'object' || o.commands === null) throw bad('"commands" must be an object');
    for (const [name, text] of Object.entries(o.commands)) {
      if (!(COMMAND_NAMES as string[]).includes(name)) throw bad(`unknown command "${name}"`);
      if (typeof text !== 'string' || text === '' || !/^[\x00-\x7f]+$/.test(text)) throw bad(`command "${name}" must be non-empty ASCII`);
      commands[name as ScaleCommand] = asciiBytes(text);
    }
  }
  return {
    regex,
    delimiter: asciiBytes(DELIMITERS[delimiter as keyof typeof DELIMITERS]),
    maxLength,
    unit: unit as string | undefined,
    hasStableGroup: groups.has('stable'),
    stableTokens: tokens(o.stableTokens, 'stableTokens', ['ST', 'S']),
    overloadTokens: tokens(o.overloadTokens, 'overloadTokens', ['OL']),
    netTokens: tokens(o.netTokens, 'netTokens', ['NT', 'N']),
    stability: (o.stability as StabilityOptions | undefined) ?? DEFAULT_STABILITY,
    commands,
  };
}

export class GenericLineDecoder implements ScaleDecoder {
  readonly #p: CompiledLineProfile;
  readonly #framer: LineFramer;
  readonly #stability: StabilityDetector;

  constructor(profile: CompiledLineProfile) {
    this.#p = profile;
    this.#framer = new LineFramer({ delimiter: profile.delimiter, maxLength: profile.maxLength });
    this.#stability = new StabilityDetector(profile.stability);
  }

  get bufferedBytes(): number {
    return this.#framer.bufferedBytes;
  }

  reset(): void {
    this.#framer.reset();
    this.#stability.reset();
  }

  push(chunk: Uint8Array): ScaleFrame[] {
    const out: ScaleFrame[] = [];
    for (const c of this.#framer.push(chunk)) {
      if (c.kind === 'overflow') {
        this.#stability.reset();
        out.push(invalidFrame(GENERIC_LINE, c.bytes, `no line end within ${this.#p.maxLength} bytes`));
        continue;
      }
      // Skip control bytes/line noise before the text (and a stray LF of a CR LF split by `cr`).
      let start = 0;
      while (start < c.bytes.length && ((c.bytes[start] ?? 0) < 0x20 || (c.bytes[start] ?? 0) > 0x7e)) start++;
      const line = c.bytes.subarray(start);
      if (line.length === 0) continue;
      const f = this.#decode(line);
      if (f.type === 'error') this.#stability.reset();
      out.push(f);
    }
    return out;
  }

  #decode(line: Uint8Array): ScaleFrame {
    const p = this.#p;
    const raw = describeBytes(line);
    const g = p.regex.exec(latin1(line))?.groups;
    if (g === undefined) return invalidFrame(GENERIC_LINE, line, 'line does not match the profile pattern');
    const overload = g.stable !== undefined && p.overloadTokens.has(g.stable);
    const net = g.net !== undefined && p.netTokens.has(g.net);
    const value = (g.weight ?? g.grams)?.trim();
    if (value === undefined || value === '') {
      if (overload) return { type: 'status', stable: false, overload: true, net, raw };
      return invalidFrame(GENERIC_LINE, line, 'no weight in the line');
    }
    const unit = g.grams !== undefined ? 'g' : (g.unit ?? p.unit ?? '').trim();
    if (!isKnownUnit(unit)) return errorFrame('PKL_FRAME_UNIT_UNKNOWN', GENERIC_LINE, line, { unit });
    const signed = g.sign?.trim() === '-' ? (value.startsWith('-') ? value.slice(1) : `-${value}`) : value;
    const grams = decimalToGrams(signed, unit);
    if (grams === undefined) return invalidFrame(GENERIC_LINE, line, 'weight is not a number');
    const stable = p.hasStableGroup ? g.stable !== undefined && p.stableTokens.has(g.stable) : this.#stability.push(grams);
    return { type: 'weight', grams, stable, ...(overload ? { overload } : {}), ...(g.net !== undefined ? { net } : {}), raw };
  }
}

export const genericLineProtocol: ScaleProtocol = {
  id: GENERIC_LINE,
  commands: COMMAND_NAMES, // which ones work depends on the profile's `commands`
  createDecoder(options?: ProtocolOptions): ScaleDecoder {
    return new GenericLineDecoder(compileLineProfile(options));
  },
  encode(command: ScaleCommand, options?: ProtocolOptions): Uint8Array {
    const bytes = compileLineProfile(options).commands[command];
    if (bytes === undefined) throw unsupported(GENERIC_LINE, command);
    return bytes.slice();
  },
};

/**
 * The common indicator format `ST,GS,+  1.234kg` CR LF (Excell AM4 / 20-key manuals;
 * also A&D 18-byte `ST,GS,+0001.50kg`): head1 ST/US/OL, head2 GS/NT (TR tare lines are refused as invalid), sign, 7–8 data chars.
 */
export const ST_GS_PROFILE: LineProfile = {
  pattern: '^(?<stable>ST|US|OL),(?<net>GS|NT),(?<sign>[+-])?\\s*(?<weight>[0-9.]*)\\s*(?<unit>kg|g|lb|oz|t)?\\s*$',
  delimiter: 'crlf',
  stableTokens: ['ST'],
  overloadTokens: ['OL'],
  netTokens: ['NT'],
};
