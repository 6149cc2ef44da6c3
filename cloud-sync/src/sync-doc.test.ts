/**
 * docs/sync.md is a contract a cloud team implements from, so it is checked against the code:
 * the JSON Schemas in docs/sync-schemas/ are what contracts/sync.ts generates (and are valid
 * JSON Schema for a standard validator, Ajv); every JSON example marked with its schema
 * validates against that schema file; the signing worked example recomputes (bytes in,
 * signature out); every error code, change-rejection code and conformance check is documented.
 */
import { createHash } from 'node:crypto';
import { readFileSync, readdirSync } from 'node:fs';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { describe, expect, it } from 'vitest';
import { SYNC_SCHEMAS, renderSyncSchema } from '../../contracts/sync-schemas-doc.js';
import { CHANGE_REJECT_CODES, SYNC_REQUEST_ERROR_STATUS, SYNC_REQUEST_ERRORS, signRequest, signingString } from '../../contracts/sync.js';
import { CONFORMANCE_CHECKS } from './conformance/conformance.js';

const docsDir = new URL('../../docs/', import.meta.url);
const doc = readFileSync(new URL('sync.md', docsDir), 'utf8');
const schemaFile = (name: string) => new URL(`sync-schemas/${name}.schema.json`, docsDir);

/** The fenced block right after `<!-- {tag}: {name} -->`, for every such marker. */
function marked(tag: string): Array<{ name: string; text: string }> {
  const re = new RegExp(`<!-- ${tag}: ([\\w-]+) -->\\n\`\`\`[a-z]*\\n([\\s\\S]*?)\\n\`\`\``, 'g');
  return [...doc.matchAll(re)].map((m) => ({ name: m[1]!, text: m[2]! }));
}

describe('docs/sync-schemas', () => {
  it('are generated from contracts/sync.ts (run `npm run docs:sync` after changing the contract)', () => {
    for (const [name, schema] of Object.entries(SYNC_SCHEMAS)) {
      expect(readFileSync(schemaFile(name), 'utf8'), name).toBe(renderSyncSchema(name, schema));
    }
    const files = readdirSync(new URL('sync-schemas/', docsDir)).sort();
    expect(files).toEqual(
      Object.keys(SYNC_SCHEMAS)
        .map((n) => `${n}.schema.json`)
        .sort(),
    );
  });

  it('compile in a standard JSON Schema validator, and every schema file is linked from docs/sync.md', () => {
    const ajv = new Ajv2020({ strict: true, allErrors: true });
    for (const name of Object.keys(SYNC_SCHEMAS)) {
      expect(() => ajv.compile(JSON.parse(readFileSync(schemaFile(name), 'utf8')) as object), name).not.toThrow();
      expect(doc, name).toContain(`sync-schemas/${name}.schema.json`);
    }
  });
});

describe('docs/sync.md', () => {
  it('has JSON examples that validate against their schema files', () => {
    const ajv = new Ajv2020({ strict: true, allErrors: true });
    const examples = marked('schema');
    // Every marker is followed by its block (none is skipped by a malformed fence).
    expect(examples.length).toBe(doc.split('<!-- schema: ').length - 1);
    expect(new Set(examples.map((e) => e.name)).size).toBeGreaterThanOrEqual(8);
    for (const ex of examples) {
      const validate = ajv.getSchema(ex.name) ?? ajv.addSchema(JSON.parse(readFileSync(schemaFile(ex.name), 'utf8')) as object, ex.name).getSchema(ex.name)!;
      const value = JSON.parse(ex.text) as unknown;
      expect(validate(value) ? [] : validate.errors, `${ex.name} example:\n${ex.text}`).toEqual([]);
    }
  });

  it('has a signing example that recomputes: the body bytes hash to line 7 and the key signs it to the documented signature', () => {
    const blocks = Object.fromEntries(marked('signing-example').map((b) => [b.name, b.text]));
    const key = 'k3y-for-docs-0123456789';
    expect(doc).toContain(`Key \`${key}\``);
    const body = Buffer.from(blocks['body-hex']!.trim(), 'hex');
    const lines = blocks['string']!.split('\n');
    expect(lines).toHaveLength(7);
    expect(lines[6]).toBe(createHash('sha256').update(body).digest('hex'));
    const post = { method: lines[1]!, path: lines[2]!, gatewayId: lines[3]!, timestamp: Number(lines[4]), idempotencyKey: lines[5]!, body };
    expect(signingString(post)).toBe(blocks['string']);
    expect(blocks['signature']).toBe(`x-packline-signature: ${signRequest(key, post)}`);

    const getLines = blocks['get-string']!.split('\n');
    const get = { method: getLines[1]!, path: getLines[2]!, gatewayId: getLines[3]!, timestamp: Number(getLines[4]), body: new Uint8Array(0) };
    expect(signingString(get)).toBe(blocks['get-string']);
    expect(blocks['get-signature']).toBe(`x-packline-signature: ${signRequest(key, get)}`);
  });

  it('lists every request error with its status, every change-rejection code and every conformance check', () => {
    for (const code of Object.values(SYNC_REQUEST_ERRORS)) {
      const row = doc.split('\n').find((l) => l.startsWith('| ') && l.includes(`| \`${code}\` |`));
      expect(row, code).toBeDefined();
      expect(row!.startsWith(`| ${SYNC_REQUEST_ERROR_STATUS[code]} |`), `${code} is documented with HTTP ${SYNC_REQUEST_ERROR_STATUS[code]}`).toBe(true);
    }
    for (const code of Object.values(CHANGE_REJECT_CODES)) expect(doc, code).toContain(`| \`${code}\` |`);
    for (const check of CONFORMANCE_CHECKS) expect(doc, check).toContain(`\`${check}\``);
  });
});
