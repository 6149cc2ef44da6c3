/**
 * The screens' files (gateway/ui/: HTML shells, ES modules, one stylesheet), read once at
 * start and served from memory. They are plain browser JavaScript, not compiled by tsc, so
 * the same folder serves both the sources (tsx) and the build (dist/): it is found by walking
 * up from this module to the folder that holds `gateway/ui/`.
 *
 * Caching: assets are served under `/ui/static/<hash>/…` where the hash covers every file,
 * so they can be cached for a year (`immutable`); the HTML shells are `no-cache` and name the
 * current hash, so an upgraded gateway's screens pick up new files on their next reload.
 */
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, extname, join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PacklineError } from '../../../contracts/errors.js';

export interface Asset {
  body: Buffer;
  type: string;
  etag: string;
}

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.json': 'application/json; charset=utf-8',
};

/** The gateway/ui folder, from the sources or from dist/gateway/src/ui. */
export function findUiDir(from: string = dirname(fileURLToPath(import.meta.url))): string {
  let dir = from;
  for (;;) {
    const candidate = join(dir, 'gateway', 'ui');
    if (existsSync(join(candidate, 'station.html'))) return candidate;
    const parent = dirname(dir);
    if (parent === dir) break;
    dir = parent;
  }
  throw new PacklineError('PKL_CONFIG_INVALID', { reason: `the screens' files (gateway/ui/) were not found above ${from}` });
}

export class StaticAssets {
  /** Path relative to the ui folder (forward slashes) → file. */
  readonly files = new Map<string, Asset>();
  readonly hash: string;

  constructor(readonly dir: string = findUiDir()) {
    const all = createHash('sha256');
    const walk = (d: string) => {
      for (const name of readdirSync(d).sort()) {
        const full = join(d, name);
        if (statSync(full).isDirectory()) {
          walk(full);
          continue;
        }
        const type = TYPES[extname(name)];
        if (type === undefined) continue;
        const body = readFileSync(full);
        const rel = relative(dir, full).split(sep).join('/');
        const etag = `"${createHash('sha256').update(body).digest('base64url').slice(0, 22)}"`;
        this.files.set(rel, { body, type, etag });
        all.update(rel).update(body);
      }
    };
    walk(dir);
    this.hash = all.digest('hex').slice(0, 12);
  }

  /** URL prefix of the assets of this build. */
  get prefix(): string {
    return `/ui/static/${this.hash}`;
  }

  /** Bytes shipped for a page: the shell plus every module and stylesheet (for the decision record). */
  totalBytes(filter: (path: string) => boolean = () => true): number {
    let n = 0;
    for (const [p, a] of this.files) if (filter(p)) n += a.body.length;
    return n;
  }
}
