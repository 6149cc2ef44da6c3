/**
 * Imports flow one way (docs/decisions/0003-layout-and-contracts.md): contracts/ imports no
 * project code; device-drivers/ and simulators/ never import gateway/ or cloud-sync/.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');

function tsFiles(dir: string): string[] {
  const abs = join(root, dir);
  let entries: string[];
  try {
    entries = readdirSync(abs);
  } catch {
    return [];
  }
  return entries.flatMap((name) => {
    const p = join(abs, name);
    if (name === 'node_modules') return [];
    if (statSync(p).isDirectory()) return tsFiles(relative(root, p));
    return name.endsWith('.ts') ? [p] : [];
  });
}

const IMPORT_RE = /(?:^|\s)(?:import|export)\s[^'"]*?from\s+['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/g;

function projectImports(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const out: string[] = [];
  for (const m of text.matchAll(IMPORT_RE)) {
    const spec = m[1] ?? m[2];
    if (spec?.startsWith('.')) out.push(relative(root, resolve(dirname(file), spec)));
  }
  return out;
}

// Tests of a driver (or of a sync transport) drive it with its simulator (the other side of
// the wire), so only device-drivers' and cloud-sync's product code is kept away from simulators/.
const rules: Array<{ from: string; forbidden: string[]; productOnly?: boolean }> = [
  { from: 'contracts', forbidden: ['gateway', 'cloud-sync', 'device-drivers', 'simulators', 'bench'] },
  { from: 'device-drivers', forbidden: ['gateway', 'cloud-sync'] },
  { from: 'device-drivers', forbidden: ['simulators'], productOnly: true },
  { from: 'simulators', forbidden: ['gateway', 'cloud-sync'] },
  { from: 'cloud-sync', forbidden: ['simulators'], productOnly: true },
  { from: 'cloud-sync', forbidden: ['gateway'] },
];

describe('import boundaries', () => {
  for (const rule of rules) {
    it(`${rule.from}/${rule.productOnly ? ' (product code)' : ''} does not import ${rule.forbidden.join(', ')}`, () => {
      const files = tsFiles(rule.from).filter(
        (f) => !rule.productOnly || !(f.endsWith('.test.ts') || f.includes('/test/') || f.includes('/testing/')),
      );
      const violations = files.flatMap((file) =>
        projectImports(file)
          .filter((target) => rule.forbidden.some((f) => target === f || target.startsWith(`${f}/`)))
          .map((target) => `${relative(root, file)} → ${target}`),
      );
      expect(violations).toEqual([]);
    });
  }
  it('sees the contracts folder (the scan is not vacuous)', () => {
    expect(tsFiles('contracts').length).toBeGreaterThan(3);
    expect(projectImports(join(root, 'contracts/index.ts'))).toContain('contracts/errors.js');
  });
});
