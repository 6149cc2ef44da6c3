/**
 * Renders docs/config.md from the schema (`npm run docs:config`); a test fails when the
 * document and the schema differ, so the reference can never drift from the code.
 */
import { ConfigSchema } from './schema.js';

interface Node {
  type?: string;
  description?: string;
  default?: unknown;
  properties?: Record<string, Node>;
  required?: string[];
  items?: Node;
  anyOf?: Node[];
  const?: unknown;
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  pattern?: string;
  minLength?: number;
  maxLength?: number;
  additionalProperties?: Node | boolean;
}

function typeOf(n: Node): string {
  if (n.anyOf) {
    if (n.anyOf.every((a) => a.const !== undefined)) return n.anyOf.map((a) => `\`${String(a.const)}\``).join(' \\| ');
    // Tagged objects (`kind` / `type`): list each variant with its fields.
    const tag = (a: Node) => a.properties?.kind?.const ?? a.properties?.type?.const;
    if (n.anyOf.every((a) => tag(a) !== undefined)) {
      return n.anyOf
        .map((a) => {
          const fields = Object.keys(a.properties ?? {}).filter((k) => k !== 'kind' && k !== 'type');
          return `\`${String(tag(a))}\` {${fields.map((f) => ((a.required ?? []).includes(f) ? f : `${f}?`)).join(', ')}}`;
        })
        .join(' \\| ');
    }
    return n.anyOf.map(typeOf).join(' or ');
  }
  if (n.type === 'array') return `list of ${n.items ? typeOf(n.items) : 'values'}`;
  if (n.type === 'object' && typeof n.additionalProperties === 'object') return 'map';
  return n.type ?? 'value';
}

function constraints(n: Node): string {
  const c: string[] = [];
  if (n.minimum !== undefined) c.push(`≥ ${n.minimum}`);
  if (n.exclusiveMinimum !== undefined) c.push(`> ${n.exclusiveMinimum}`);
  if (n.maximum !== undefined) c.push(`≤ ${n.maximum}`);
  if (n.minLength !== undefined && n.minLength > 0) c.push(`at least ${n.minLength} chars`);
  if (n.maxLength !== undefined) c.push(`at most ${n.maxLength} chars`);
  if (n.pattern !== undefined) c.push(`matches \`${n.pattern.replaceAll('|', '\\|')}\``);
  return c.join(', ');
}

function rows(node: Node, prefix: string, out: string[]): void {
  for (const [key, child] of Object.entries(node.properties ?? {})) {
    const path = prefix === '' ? key : `${prefix}.${key}`;
    const optional = !(node.required ?? []).includes(key) && child.default === undefined;
    if (child.type === 'object' && child.properties) {
      rows(child, path, out);
      continue;
    }
    if (child.type === 'array' && child.items?.properties) {
      out.push(`| \`${path}\` | list | ${child.default === undefined ? '' : `\`${JSON.stringify(child.default)}\``} | | ${child.description ?? ''} |`);
      rows(child.items, `${path}[]`, out);
      continue;
    }
    const def = child.default === undefined ? (optional ? '*(unset)*' : '*(required)*') : `\`${JSON.stringify(child.default)}\``;
    out.push(`| \`${path}\` | ${typeOf(child)} | ${def} | ${constraints(child)} | ${child.description ?? ''} |`);
  }
}

export function renderConfigDoc(): string {
  const out: string[] = [];
  rows(ConfigSchema as unknown as Node, '', out);
  return [
    '# Configuration reference',
    '',
    'Generated from [gateway/src/config/schema.ts](../gateway/src/config/schema.ts) by',
    '`npm run docs:config`; a test fails when the two differ.',
    '',
    'Sources, later ones winning: embedded defaults → the JSON file given by `--config` or',
    '`PACKLINE_CONFIG` → environment variables `PACKLINE_<PATH>` (upper case, `__` between',
    'levels: `PACKLINE_MQTT__PORT=1884`, `PACKLINE_DATA_DIR=/var/lib/packline`; values are parsed',
    'as JSON when they parse) → command-line flags. A camelCase field is written with or without',
    '`_` between its words: `certFile` is `PACKLINE_MQTT__TLS__CERT_FILE` or `PACKLINE_MQTT__TLS__CERTFILE`',
    '(each level is matched to the schema ignoring case and `_`). `packline config check` validates,',
    '`packline config show` prints the effective result. Unknown fields are errors, not ignored.',
    'Not configuration, and so never read as a path: `PACKLINE_CONFIG`, `PACKLINE_RUN_FROM`,',
    '`PACKLINE_SYNC_KEY`, `PACKLINE_API_TOKEN`, `PACKLINE_ADMIN_TOKEN`, `PACKLINE_ADMIN_TOKEN_FILE`,',
    '`PACKLINE_DEBUG_STACK` (`1`: the CLI prints the stack of an unexpected error).',
    '',
    "Cross-field rules: device ids are unique; a station's scanner, scale, printer and display",
    "name devices of that role; a line's device is a `conveyor`; a device serves one station;",
    'ports do not collide; TLS `certFile` and `keyFile` come together.',
    '',
    '| Field | Type | Default | Allowed | Meaning |',
    '|---|---|---|---|---|',
    ...out,
    '',
  ].join('\n');
}

if (process.argv[1] !== undefined && import.meta.url === new URL(`file://${process.argv[1]}`).href) {
  const { writeFileSync } = await import('node:fs');
  writeFileSync(new URL('../../../docs/config.md', import.meta.url), renderConfigDoc());
}
