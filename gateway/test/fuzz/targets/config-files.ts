/**
 * Config files through the real loader (gateway/src/config/load.ts): a rich valid config
 * (simulated floor with a wire-protocol station, print channels, lines, notify channels) with
 * random fields deleted, replaced or added at any depth; random JSON documents; random
 * `PACKLINE_*` environment overrides; and, for some inputs, random bytes as the file itself.
 * The loader must return a frozen config or throw PKL_CONFIG_INVALID. An accepted config
 * must also give device bindings (the composition root's next step) and the decoders of its
 * driven devices without an uncoded throw.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { findScaleDefinition, protocolOf } from '../../../../device-drivers/src/scale/index.js';
import { loadConfig, parseConfig } from '../../../src/config/load.js';
import type { Config } from '../../../src/config/schema.js';
import { buildBindings } from '../../../src/runtime/bindings.js';
import { withSimulatedFloor } from '../../../src/sim/sim-config.js';
import { jsonish, NASTY_STRINGS, Rng } from '../gen.js';
import { codeOfThrown, describeThrown, type FuzzTarget, type Tally } from '../harness.js';

function baseConfig(): Record<string, unknown> {
  const c = withSimulatedFloor(parseConfig({ sim: { enabled: true, stations: 2, lines: 1 } }), {
    wireStation: { scaleDefinition: 'mettler-toledo-8217', scalePath: '/dev/ttyFUZZ0', indicatorPath: '/dev/ttyFUZZ1', printerPort: 9100 },
  }) as Config & Record<string, unknown>;
  const raw = JSON.parse(JSON.stringify(c)) as Record<string, unknown>;
  raw.printing = {
    ...(raw.printing as object),
    channels: [{ id: 1, printers: ['st-1-printer', 'st-2-printer'] }],
    routes: [{ carrier: 'ZTO', channel: 1 }],
  };
  raw.notify = { channels: [{ type: 'webhook', url: 'https://example.invalid/hook?access_token=x', format: 'json' }] };
  raw.sync = { ...(raw.sync as object), url: 'https://cloud.example.invalid/sync' };
  return raw;
}

type Json = unknown;

/** Every path (array of keys) to a node in a JSON tree. */
function paths(node: Json, prefix: Array<string | number> = [], out: Array<Array<string | number>> = []) {
  out.push(prefix);
  if (Array.isArray(node)) {
    node.forEach((v, i) => {
      paths(v, [...prefix, i], out);
    });
  } else if (node !== null && typeof node === 'object') for (const [k, v] of Object.entries(node)) paths(v, [...prefix, k], out);
  return out;
}

/**
 * A copy of a sampled value. Inserted by reference, a later mutation of the same input could walk
 * into it and put it inside itself (a cycle JSON cannot hold), and it would leak into every later
 * input that picks the same sample: that made the harness itself throw mid-run.
 */
function fresh(v: Json): Json {
  return v === null || typeof v !== 'object' ? v : (structuredClone(v) as Json);
}

function deepMutate(rng: Rng, base: Json, values: readonly Json[], allPaths: Array<Array<string | number>>): Json {
  const root = structuredClone(base) as Record<string, unknown>;
  const n = rng.range(1, 4);
  for (let k = 0; k < n; k++) {
    const path = rng.pick(allPaths);
    if (path.length === 0) continue;
    let parent: unknown = root;
    for (const key of path.slice(0, -1)) {
      parent = (parent as Record<string | number, unknown> | null)?.[key];
      if (parent === null || typeof parent !== 'object') break;
    }
    if (parent === null || typeof parent !== 'object') continue;
    const last = path[path.length - 1] as string | number;
    const p = parent as Record<string | number, unknown>;
    switch (rng.int(5)) {
      case 0:
        if (Array.isArray(p)) p.splice(Number(last), 1);
        else delete p[last];
        break;
      case 1:
        p[last] = rng.pick(NASTY_STRINGS);
        break;
      case 2: {
        // A same-typed neighbour value: numbers nudged over their bounds, ids swapped.
        const v = p[last];
        p[last] = typeof v === 'number' ? rng.pick([v + 1, v - 1, -v, v * 1000, 0, -1, 0.5, 65536, 1e21]) : fresh(rng.pick(values));
        break;
      }
      case 3:
        p[last] = fresh(rng.pick(values));
        break;
      default:
        if (Array.isArray(p)) p.push(structuredClone(rng.pick(p as unknown[])));
        else p[rng.pick(['extra', 'port', 'id', 'driver', 'station', 'tls', '__proto__'])] = rng.pick(values);
    }
  }
  return root;
}

function checkAccepted(c: Readonly<Config>): void {
  if (!Object.isFrozen(c)) throw new Error('accepted config is not frozen');
  buildBindings(c);
  for (const d of c.devices) {
    if (d.driver?.kind === 'scale') {
      const def = findScaleDefinition(d.driver.definition);
      if (def) protocolOf(def)?.createDecoder(def.options);
    }
  }
}

export const configFilesTarget: FuzzTarget = {
  name: 'config-files',
  description: 'config loader + schema + semantic checks: mutated valid configs, random JSON, env overrides, random file bytes',
  batchSize: 2_000,
  async open() {
    const base = baseConfig();
    const allPaths = paths(base);
    const dir = mkdtempSync(join(tmpdir(), 'pkl-fuzz-config-'));
    const file = join(dir, 'packline.json');
    return {
      async batch(seed: number, count: number, tally: Tally) {
        const rng = new Rng(seed);
        const values = fc.sample(jsonish, { seed, numRuns: 64 });
        const randomDocs = fc.sample(jsonish, { seed: seed ^ 0x5eed, numRuns: Math.ceil(count / 10) + 1 });
        for (let i = 0; i < count; i++) {
          const kind = i % 20;
          let input: unknown;
          let load: () => Readonly<Config>;
          if (kind === 0) {
            input = randomDocs[Math.floor(i / 10)];
            load = () => parseConfig(input);
          } else if (kind === 1) {
            // The file itself: random bytes, or a mutated valid file cut short / with junk.
            const text = rng.chance(0.5)
              ? Buffer.from(rng.bytes(rng.range(0, 64)))
              : Buffer.from(JSON.stringify(deepMutate(rng, base, values, allPaths)).slice(0, rng.chance(0.5) ? undefined : rng.int(400)));
            input = { file: text.toString('latin1') };
            writeFileSync(file, text);
            load = () => loadConfig({ file, env: {} });
          } else if (kind <= 4) {
            const env: Record<string, string> = {};
            for (let e = rng.range(1, 3); e > 0; e--) {
              const path = rng.pick(allPaths).filter((p) => typeof p === 'string') as string[];
              const name = `PACKLINE_${(path.length ? path : ['x']).map((s) => s.replace(/[A-Z]/g, (m) => `_${m}`).toUpperCase()).join('__')}`;
              env[name] = rng.chance(0.5) ? (JSON.stringify(rng.pick(values)) ?? 'null') : rng.pick(NASTY_STRINGS);
            }
            input = { env };
            load = () => loadConfig({ env, overrides: { dataDir: './data' } });
          } else {
            input = deepMutate(rng, base, values, allPaths);
            load = () => parseConfig(input);
          }
          try {
            checkAccepted(load());
            tally.accept();
          } catch (err) {
            const code = codeOfThrown(err);
            if (code !== null) tally.reject(code);
            else tally.fail(seed, i, input, `threw ${describeThrown(err)}`);
          }
        }
      },
      async close() {
        rmSync(dir, { recursive: true, force: true });
      },
    };
  },
};
