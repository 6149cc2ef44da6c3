/**
 * Imports flow one way (docs/decisions/0003-layout-and-contracts.md): contracts/ imports no
 * project code; device-drivers/ and simulators/ never import gateway/ or cloud-sync/. Inside
 * the gateway the shipment flow (gateway/src/station/) keeps its pure deciders pure and
 * reaches the rest of the gateway through its ports. No import circle anywhere.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
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

const isTest = (f: string): boolean => f.endsWith('.test.ts') || f.includes('/test/') || f.includes('/testing/');

// Inside the gateway: what a folder's product code may import at all (anything else fails).
const allowLists: Array<{ from: string; only: string[] }> = [
  {
    // The pure deciders: no I/O, no store, no broker, no HTTP; only the wire contracts, the
    // flow's own types and rows, the label renderers, config types and the printer vocabulary.
    from: 'gateway/src/station/decide',
    only: [
      'contracts',
      'gateway/src/station/decide',
      'gateway/src/station/domain.ts',
      'gateway/src/station/types.ts',
      'gateway/src/station/events.ts',
      'gateway/src/label',
      'gateway/src/config/schema.ts',
      'device-drivers/src/printer/types.ts',
    ],
  },
  {
    // The flow's rows, types and event names: the vocabulary everything else builds on.
    from: 'gateway/src/station/domain.ts',
    only: [],
  },
  {
    from: 'gateway/src/label',
    only: ['contracts', 'gateway/src/label', 'gateway/src/station/domain.ts', 'gateway/src/config/schema.ts', 'device-drivers/src/printer'],
  },
];

// Inside the gateway: folders a folder's product code never imports.
const gatewayRules: Array<{ from: string; forbidden: string[] }> = [
  {
    // The flow reaches the store, the broker and metrics through station/ports.ts only, and
    // never knows who serves it (HTTP, UI, preflight, sync, the composition root, the CLI).
    from: 'gateway/src/station',
    forbidden: [
      'gateway/src/storage',
      'gateway/src/runtime',
      'gateway/src/broker',
      'gateway/src/http',
      'gateway/src/ui',
      'gateway/src/preflight',
      'gateway/src/sync',
      'gateway/src/cli',
      'gateway/src/cli.ts',
      'gateway/src/gateway.ts',
      'gateway/src/metrics.ts',
    ],
  },
  // The store persists the flow's rows; it never runs the flow.
  { from: 'gateway/src/storage', forbidden: ['gateway/src/station/decide', 'gateway/src/station/apply'] },
  // Cloud sync applies the cloud's changes through the store and the flow's own wire mapping
  // (station/order-wire.ts); it is served by HTTP, never built on it.
  { from: 'gateway/src/sync', forbidden: ['gateway/src/http'] },
];

// Who may import gateway/src/http at all: http/ itself, the composition root, and the route
// plugins registered on its app (they share its auth and error schemas). Everyone else gets
// what it needs through its own narrow port or station/ports.ts.
const httpImporters = [
  'gateway/src/http',
  'gateway/src/gateway.ts',
  'gateway/src/ui/ui-plugin.ts',
  'gateway/src/ui/live-hub.ts',
  'gateway/src/preflight/http-route.ts',
  'gateway/src/handover/http-routes.ts',
  'gateway/src/presale/http-routes.ts',
  'gateway/src/recalls/http-routes.ts',
];

const under = (target: string, prefix: string): boolean => target === prefix || target.startsWith(`${prefix}/`);

/** Every import circle among the repo's TypeScript files (type-only imports count too). */
function importCircles(): string[][] {
  const files = ['contracts', 'gateway', 'cloud-sync', 'device-drivers', 'simulators', 'bench'].flatMap(tsFiles);
  const graph = new Map<string, string[]>();
  for (const f of files) {
    const targets = projectImports(f)
      .map((t) => join(root, t.endsWith('.js') ? `${t.slice(0, -3)}.ts` : t))
      .filter((t) => existsSync(t));
    graph.set(f, targets);
  }
  // Tarjan's strongly connected components: any component of more than one file is a circle.
  let next = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const circles: string[][] = [];
  const visit = (v: string): void => {
    index.set(v, next);
    low.set(v, next);
    next += 1;
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) {
        low.set(v, Math.min(low.get(v)!, index.get(w)!));
      }
    }
    if (low.get(v) === index.get(v)) {
      const component: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        component.push(relative(root, w));
      } while (w !== v);
      if (component.length > 1 || (graph.get(v) ?? []).includes(v)) circles.push(component.sort());
    }
  };
  for (const f of files) if (!index.has(f)) visit(f);
  return circles;
}

describe('import boundaries', () => {
  for (const rule of allowLists) {
    it(`${rule.from} (product code) imports only ${rule.only.join(', ') || 'nothing of the project'}`, () => {
      const files = rule.from.endsWith('.ts') ? [join(root, rule.from)] : tsFiles(rule.from).filter((f) => !isTest(f));
      expect(files.length).toBeGreaterThan(0);
      const violations = files.flatMap((file) =>
        projectImports(file)
          .filter((target) => !rule.only.some((a) => under(target.replace(/\.js$/, '.ts'), a)))
          .map((target) => `${relative(root, file)} → ${target}`),
      );
      expect(violations).toEqual([]);
    });
  }
  for (const rule of gatewayRules) {
    it(`${rule.from}/ (product code) does not import ${rule.forbidden.join(', ')}`, () => {
      const files = tsFiles(rule.from).filter((f) => !isTest(f));
      expect(files.length).toBeGreaterThan(0);
      const violations = files.flatMap((file) =>
        projectImports(file)
          .filter((target) => rule.forbidden.some((f) => under(target.replace(/\.js$/, '.ts'), f)))
          .map((target) => `${relative(root, file)} → ${target}`),
      );
      expect(violations).toEqual([]);
    });
  }
  it(`only ${httpImporters.join(', ')} import gateway/src/http (product code)`, () => {
    const files = tsFiles('gateway/src').filter((f) => !isTest(f));
    expect(files.length).toBeGreaterThan(0);
    const violations = files
      .filter((file) => !httpImporters.some((a) => under(relative(root, file), a)))
      .flatMap((file) =>
        projectImports(file)
          .filter((target) => under(target.replace(/\.js$/, '.ts'), 'gateway/src/http'))
          .map((target) => `${relative(root, file)} → ${target}`),
      );
    expect(violations).toEqual([]);
  });
  it('has no import circle anywhere in the repo', () => {
    expect(importCircles()).toEqual([]);
  });
  it('the circle check sees a circle (it is not vacuous)', () => {
    // gateway/src/station/decide/step-station.ts → scan.ts → label-gate.ts → … must be followed.
    const step = join(root, 'gateway/src/station/decide/step-station.ts');
    expect(projectImports(step)).toContain('gateway/src/station/decide/scan.js');
  });

  for (const rule of rules) {
    it(`${rule.from}/${rule.productOnly ? ' (product code)' : ''} does not import ${rule.forbidden.join(', ')}`, () => {
      const files = tsFiles(rule.from).filter((f) => !rule.productOnly || !isTest(f));
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
