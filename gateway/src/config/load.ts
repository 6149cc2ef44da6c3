/**
 * Loading the configuration: read the file (optional) → apply environment overrides →
 * fill defaults and validate against the schema → semantic checks → deep-freeze.
 *
 * Environment overrides use `PACKLINE_` plus the field path in upper case with `__` between
 * levels, e.g. `PACKLINE_MQTT__PORT=1884`, `PACKLINE_LOG__LEVEL=debug`,
 * `PACKLINE_MQTT__ALLOW_ANONYMOUS=true`. Values are parsed as JSON when they parse, else
 * taken as strings. Each level is matched to the schema's field names ignoring case and `_`,
 * so a camelCase field takes either spelling (`PACKLINE_MQTT__TLS__CERT_FILE` and
 * `PACKLINE_MQTT__TLS__CERTFILE` both set `mqtt.tls.certFile`); below a map (no fields in the
 * schema) a segment is camel-cased as written.
 */
import { readFileSync } from 'node:fs';
import { Ajv, type ErrorObject } from 'ajv';
import { PacklineError } from '../../../contracts/errors.js';
import { DWS_DEFINITIONS } from '../../../device-drivers/src/conveyor/definitions.js';
import { PRINTER_DEFINITIONS } from '../../../device-drivers/src/printer/definitions.js';
import { SCALE_DEFINITIONS } from '../../../device-drivers/src/scale/index.js';
import { hostedPrinterLanguage } from '../label/label-format.js';
import { type Config, ConfigSchema } from './schema.js';

const ajv = new Ajv({ allErrors: true, useDefaults: true, strict: false, coerceTypes: false });
const validateConfig = ajv.compile<Config>(ConfigSchema);

/** PACKLINE_ variables that are not config fields: the config file path, how bin/packline.js runs. */
// Not configuration: where the config is, how bin/packline.js runs, the sync key, and the API
// tokens the CLI (`packline preflight`) and the simulators read. Anything else PACKLINE_* is a
// config path, and a misspelt one is refused rather than ignored.
const RESERVED_ENV = new Set([
  'PACKLINE_CONFIG',
  'PACKLINE_RUN_FROM',
  'PACKLINE_SYNC_KEY',
  'PACKLINE_API_TOKEN',
  'PACKLINE_ADMIN_TOKEN',
  'PACKLINE_ADMIN_TOKEN_FILE',
  'PACKLINE_DEBUG_STACK',
]);

export interface LoadOptions {
  /** Path of a JSON config file; none means embedded defaults. */
  file?: string | undefined;
  env?: NodeJS.ProcessEnv;
  /** Extra values applied after the file and before the environment (CLI flags). */
  overrides?: Record<string, unknown>;
}

function camel(segment: string): string {
  return segment.toLowerCase().replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase());
}

/** The schema's field for an env segment (case and `_` ignored), and that field's schema. */
function schemaField(schema: unknown, segment: string): { key: string; sub: unknown } {
  const want = segment.replace(/_/g, '').toLowerCase();
  const nodes = [schema, ...(((schema as { anyOf?: unknown[] } | undefined)?.anyOf ?? []) as unknown[])];
  for (const node of nodes) {
    const props = (node as { properties?: Record<string, unknown> } | undefined)?.properties;
    if (props === undefined) continue;
    for (const [key, sub] of Object.entries(props)) if (key.toLowerCase() === want) return { key, sub };
  }
  return { key: camel(segment), sub: undefined };
}

/** `MQTT__TLS__CERT_FILE` → `['mqtt', 'tls', 'certFile']`, following the schema. */
export function envPath(name: string): string[] {
  let schema: unknown = ConfigSchema;
  return name.split('__').map((segment) => {
    const { key, sub } = schemaField(schema, segment);
    schema = sub;
    return key;
  });
}

function setPath(target: Record<string, unknown>, path: string[], value: unknown): void {
  let node = target;
  for (const key of path.slice(0, -1)) {
    const next = node[key];
    if (typeof next !== 'object' || next === null || Array.isArray(next)) node[key] = {};
    node = node[key] as Record<string, unknown>;
  }
  node[path[path.length - 1] as string] = value;
}

function parseEnvValue(raw: string): unknown {
  try {
    return JSON.parse(raw);
  } catch {
    return raw;
  }
}

function describeAllowed(err: ErrorObject): string {
  const p = err.params as Record<string, unknown>;
  switch (err.keyword) {
    case 'enum':
      return `one of ${JSON.stringify(p.allowedValues)}`;
    case 'const':
      return JSON.stringify(p.allowedValue);
    case 'type':
      return `a value of type ${String(p.type)}`;
    case 'minimum':
    case 'maximum':
    case 'exclusiveMinimum':
    case 'exclusiveMaximum':
      return `a number ${String(p.comparison)} ${String(p.limit)}`;
    case 'pattern':
      return `text matching ${String(p.pattern)}`;
    case 'minLength':
      return `at least ${String(p.limit)} characters`;
    case 'maxLength':
      return `at most ${String(p.limit)} characters`;
    case 'required':
      return `a field "${String(p.missingProperty)}"`;
    case 'uniqueItems':
      return 'no duplicates';
    default:
      return err.message ?? 'a valid value';
  }
}

function valueAt(root: unknown, pointer: string): unknown {
  let node: unknown = root;
  for (const part of pointer.split('/').slice(1)) {
    if (node === null || typeof node !== 'object') return undefined;
    node = (node as Record<string, unknown>)[part];
  }
  return node;
}

/** Turns Ajv errors into one line per field: field, value, what is allowed. */
function formatErrors(errors: ErrorObject[], data: unknown): string[] {
  const seen = new Set<string>();
  const lines: string[] = [];
  // For unions Ajv reports every branch; keep the most useful (const/enum) line per field.
  const grouped = new Map<string, ErrorObject[]>();
  for (const e of errors) {
    if (e.keyword === 'anyOf') continue;
    if (e.keyword === 'additionalProperties') {
      // Report an unknown field at its own path ("mqtt.prot"), not as its parent's value.
      const extra = String((e.params as { additionalProperty: string }).additionalProperty);
      const where = `${e.instancePath}/${extra}`.slice(1).replaceAll('/', '.');
      lines.push(`${where}: unknown field (check the spelling; see docs/config.md)`);
      continue;
    }
    const list = grouped.get(e.instancePath) ?? [];
    list.push(e);
    grouped.set(e.instancePath, list);
  }
  for (const [path, errs] of grouped) {
    const field = path === '' ? '(root)' : path.slice(1).replaceAll('/', '.');
    const consts = errs.filter((e) => e.keyword === 'const');
    let allowed: string;
    if (consts.length > 1) {
      allowed = `one of ${consts.map((e) => JSON.stringify((e.params as { allowedValue: unknown }).allowedValue)).join(', ')}`;
    } else {
      allowed = errs.map(describeAllowed).join(' and ');
    }
    const line = `${field}: got ${JSON.stringify(valueAt(data, path)) ?? 'nothing'}, expected ${allowed}`;
    if (!seen.has(line)) {
      seen.add(line);
      lines.push(line);
    }
  }
  return lines;
}

/** Cross-field rules the schema cannot express. */
function semanticErrors(c: Config): string[] {
  const out: string[] = [];
  const devices = new Map<string, Config['devices'][number]>();
  for (const d of c.devices) {
    if (devices.has(d.id)) out.push(`devices: id "${d.id}" is used twice`);
    devices.set(d.id, d);
  }
  const needRole = (where: string, id: string, role: string) => {
    const d = devices.get(id);
    if (!d) out.push(`${where}: got "${id}", expected the id of a device in devices[]`);
    else if (d.role !== role) out.push(`${where}: device "${id}" has role ${d.role}, expected ${role}`);
  };
  for (const [i, d] of c.devices.entries()) {
    const drv = d.driver;
    if (drv === undefined) continue;
    const where = `devices.${i}.driver`;
    const role = { scale: 'scale', printer: 'printer', 'ipp-printer': 'printer', scanner: 'scanner', dws: 'conveyor' }[drv.kind];
    if (d.role !== role) out.push(`${where}: a ${drv.kind} driver needs a device of role ${role}, got ${d.role}`);
    if (drv.kind === 'ipp-printer' || drv.kind === 'scanner') continue; // no model list: the wire says it all
    const known =
      drv.kind === 'scale'
        ? SCALE_DEFINITIONS.map((x) => x.id)
        : drv.kind === 'printer'
          ? PRINTER_DEFINITIONS.map((x) => x.id)
          : DWS_DEFINITIONS.map((x) => x.id);
    if (!known.includes(drv.definition)) {
      out.push(`${where}.definition: got "${drv.definition}", expected one of ${known.map((k) => `"${k}"`).join(', ')}`);
    }
  }
  const stationIds = new Set<string>();
  c.stations.forEach((s, i) => {
    if (stationIds.has(s.id)) out.push(`stations: id "${s.id}" is used twice`);
    stationIds.add(s.id);
    needRole(`stations.${i}.scanner`, s.scanner, 'scanner');
    needRole(`stations.${i}.scale`, s.scale, 'scale');
    needRole(`stations.${i}.printer`, s.printer, 'printer');
    if (s.display !== undefined) needRole(`stations.${i}.display`, s.display, 'display');
    // A label in another language than the driven printer's is refused by its driver
    // (format_unsupported) on every parcel: say so now, naming the station.
    const printer = devices.get(s.printer);
    const language = hostedPrinterLanguage(printer);
    if (s.labelFormat !== undefined && language !== null && language !== s.labelFormat && printer?.driver?.kind === 'printer') {
      out.push(
        `stations.${i}.labelFormat: station ${s.id} asks for ${s.labelFormat} labels, but its printer "${s.printer}" ` +
          `(${printer.driver.definition}) speaks ${language}; drop labelFormat or set "${language}"`,
      );
    }
  });
  const lineIds = new Set<string>();
  c.lines.forEach((l, i) => {
    if (lineIds.has(l.id) || stationIds.has(l.id)) out.push(`lines: id "${l.id}" is used twice`);
    lineIds.add(l.id);
    needRole(`lines.${i}.device`, l.device, 'conveyor');
  });
  // Print channels: printers must exist and speak one label language per channel (a label
  // failed over to a printer of another language would print as garbage); routes must name
  // a channel that has printers.
  const channelIds = new Set<number>();
  c.printing.channels.forEach((ch, i) => {
    if (channelIds.has(ch.id)) out.push(`printing.channels: channel ${ch.id} is defined twice`);
    channelIds.add(ch.id);
    ch.printers.forEach((p, j) => {
      needRole(`printing.channels.${i}.printers.${j}`, p, 'printer');
    });
    const languages = new Set(ch.printers.map((p) => hostedPrinterLanguage(devices.get(p)) ?? 'zpl'));
    if (languages.size > 1)
      out.push(`printing.channels.${i}: channel ${ch.id} mixes label languages (${[...languages].join(', ')}); keep one language per channel`);
  });
  c.printing.routes.forEach((r, i) => {
    if (!channelIds.has(r.channel)) out.push(`printing.routes.${i}.channel: got ${r.channel}, expected a channel in printing.channels`);
    if (r.carrier === undefined && r.shop === undefined) out.push(`printing.routes.${i}: a route needs a carrier, a shop or both`);
  });
  const bound = new Map<string, string>();
  for (const s of c.stations) {
    for (const id of [s.scanner, s.scale, s.printer]) {
      const other = bound.get(id);
      if (other !== undefined) out.push(`stations: device "${id}" is bound to both ${other} and ${s.id}`);
      bound.set(id, s.id);
    }
  }
  if (c.mqtt.external === undefined) {
    const ports = [
      ...(c.mqtt.plaintext ? [['mqtt.port', c.mqtt.port] as const] : []),
      ['http.port', c.http.port],
      ...(c.mqtt.tls.certFile || c.tls.mode === 'auto' ? [['mqtt.tls.port', c.mqtt.tls.port] as const] : []),
    ] as const;
    for (let i = 0; i < ports.length; i++) {
      for (let j = i + 1; j < ports.length; j++) {
        const [a, pa] = ports[i] as readonly [string, number];
        const [b, pb] = ports[j] as readonly [string, number];
        if (pa !== 0 && pa === pb) out.push(`${b}: got ${pb}, expected a port not already used by ${a}`);
      }
    }
  }
  if ((c.mqtt.tls.certFile === undefined) !== (c.mqtt.tls.keyFile === undefined)) {
    out.push('mqtt.tls: certFile and keyFile must be given together');
  }
  if ((c.http.tls.certFile === undefined) !== (c.http.tls.keyFile === undefined)) {
    out.push('http.tls: certFile and keyFile must be given together');
  }
  // Plaintext MQTT off leaves TLS as the only way in: there must be a certificate.
  if (!c.mqtt.plaintext && c.mqtt.external === undefined && c.tls.mode === 'off' && c.mqtt.tls.certFile === undefined) {
    out.push('mqtt.plaintext: false needs TLS: set tls.mode "auto" or mqtt.tls.certFile and keyFile');
  }
  return out;
}

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}

/** Validates a raw object; throws PKL_CONFIG_INVALID listing every problem. */
export function parseConfig(raw: unknown): Readonly<Config> {
  const data = structuredClone(raw ?? {});
  if (!validateConfig(data)) {
    const problems = formatErrors(validateConfig.errors ?? [], data);
    throw new PacklineError('PKL_CONFIG_INVALID', { reason: problems.join('; ') });
  }
  const problems = semanticErrors(data);
  if (problems.length > 0) throw new PacklineError('PKL_CONFIG_INVALID', { reason: problems.join('; ') });
  return deepFreeze(data);
}

export function loadConfig(options: LoadOptions = {}): Readonly<Config> {
  let raw: Record<string, unknown> = {};
  if (options.file !== undefined) {
    let text: string;
    try {
      text = readFileSync(options.file, 'utf8');
    } catch (err) {
      throw new PacklineError('PKL_CONFIG_INVALID', {
        reason: `cannot read ${options.file}: ${(err as Error).message}`,
      });
    }
    try {
      raw = JSON.parse(text) as Record<string, unknown>;
    } catch (err) {
      throw new PacklineError('PKL_CONFIG_INVALID', {
        reason: `${options.file} is not valid JSON: ${(err as Error).message}`,
      });
    }
    if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
      throw new PacklineError('PKL_CONFIG_INVALID', { reason: `${options.file} must hold a JSON object` });
    }
  }
  for (const [path, value] of Object.entries(options.overrides ?? {})) {
    setPath(raw, path.split('.'), value);
  }
  const env = options.env ?? process.env;
  for (const [name, value] of Object.entries(env)) {
    if (!name.startsWith('PACKLINE_') || value === undefined || RESERVED_ENV.has(name)) continue;
    const path = envPath(name.slice('PACKLINE_'.length));
    setPath(raw, path, parseEnvValue(value));
  }
  return parseConfig(raw);
}
