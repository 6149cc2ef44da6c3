/**
 * Every code of the catalogue is produced by some product code, or marked `reserved` with the
 * reason it is kept (codes are never reused); a reserved code that gains a producer drops the
 * mark. Product code = the packages' sources outside tests.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { ERRORS, type ErrorSpec } from './errors.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    if (name === 'node_modules' || name === 'test' || name === 'testing') return [];
    if (statSync(p).isDirectory()) return sources(p);
    return name.endsWith('.ts') && !name.endsWith('.test.ts') ? [p] : [];
  });
}

describe('error catalogue usage', () => {
  const text = ['gateway/src', 'cloud-sync/src', 'device-drivers/src', 'simulators/src', 'contracts']
    .flatMap((d) => sources(join(root, d)))
    .filter((f) => !f.endsWith('contracts/errors.ts'))
    .map((f) => readFileSync(f, 'utf8'))
    .join('\n');
  const produced = (code: string) => new RegExp(`\\b${code}\\b`).test(text);

  it('every code has a producer or is marked reserved, and no reserved code has one', () => {
    const entries = Object.entries(ERRORS) as Array<[string, ErrorSpec]>;
    expect(entries.filter(([code, spec]) => spec.reserved === undefined && !produced(code)).map(([c]) => c)).toEqual([]);
    expect(entries.filter(([code, spec]) => spec.reserved !== undefined && produced(code)).map(([c]) => c)).toEqual([]);
  });
});
