/**
 * `npm install` on Node 20 (the supported runtime: package.json engines, the Pi guide, CI) prints
 * no EBADENGINE warning: every locked package that declares `engines.node` accepts Node 20.
 * A dependency that moves to Node 22 only (cookie@2, through fastify's light-my-request@6.8)
 * fails here; package.json `overrides` pins the last version that supports Node 20
 * (docs/decisions/0013-newcomer-install.md).
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';

const require = createRequire(import.meta.url);
const semver = require('semver') as { satisfies(version: string, range: string): boolean };
const lock = JSON.parse(readFileSync(new URL('../../../package-lock.json', import.meta.url), 'utf8')) as {
  packages: Record<string, { engines?: { node?: string }; optional?: boolean; os?: string[] }>;
};
const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { engines: { node: string } };

describe('Node 20 engines', () => {
  it('the project says Node 20+', () => {
    expect(pkg.engines.node).toBe('>=20.0.0');
  });

  it('every locked package accepts the Node 20 the project runs on (no EBADENGINE on npm install)', () => {
    const node20 = '20.19.0';
    const refusing = Object.entries(lock.packages)
      .filter(([, p]) => typeof p.engines === 'object' && typeof p.engines.node === 'string')
      .filter(([, p]) => !semver.satisfies(node20, p.engines?.node as string))
      .map(([name, p]) => `${name} (${p.engines?.node})`);
    expect(refusing).toEqual([]);
  });
});
