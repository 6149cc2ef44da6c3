#!/usr/bin/env node
// `npm start`'s build step: compiles to dist/ only when a source file changed since the last
// build, and says which it did. bin/packline.js runs dist/ when it exists, so a stale dist/
// must never be run: any non-test .ts under the source folders, a tsconfig or the lockfile
// newer than the last build's stamp triggers `tsc -p tsconfig.build.json` (incremental).
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const stamp = join(root, 'dist', '.build-stamp');
const DIRS = ['contracts', 'gateway', 'cloud-sync', 'device-drivers', 'simulators'];
const FILES = ['tsconfig.json', 'tsconfig.build.json', 'package-lock.json'];

function* sources(dir) {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) {
      if (e.name !== 'node_modules' && e.name !== 'test' && e.name !== 'dist') yield* sources(p);
    } else if (e.name.endsWith('.ts') && !e.name.endsWith('.test.ts')) {
      yield p;
    }
  }
}

const built = existsSync(stamp) ? statSync(stamp).mtimeMs : -1;
const changed = [];
for (const d of DIRS) for (const f of sources(join(root, d))) if (statSync(f).mtimeMs > built) changed.push(f);
for (const f of FILES) if (existsSync(join(root, f)) && statSync(join(root, f)).mtimeMs > built) changed.push(join(root, f));

const say = (line) => process.stdout.write(`packline: ${line}\n`);
if (built >= 0 && changed.length === 0) {
  say(`build up to date (dist/ from ${new Date(built).toLocaleString()}, no source changed since): starting`);
  process.exit(0);
}
const why =
  built < 0
    ? 'no build yet'
    : `${changed.length} source file${changed.length === 1 ? '' : 's'} changed (${changed
        .slice(0, 3)
        .map((f) => relative(root, f))
        .join(', ')}${changed.length > 3 ? ', …' : ''})`;
say(`${why}: compiling TypeScript to dist/ …`);
const t0 = Date.now();
const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc');
const r = spawnSync(
  process.execPath,
  [tsc, '-p', join(root, 'tsconfig.build.json'), '--incremental', '--tsBuildInfoFile', join(root, 'dist', '.tsbuildinfo')],
  { stdio: 'inherit' },
);
if (r.status !== 0) {
  say('build failed (above); nothing started');
  process.exit(r.status ?? 1);
}
// Stamped with the time the build started: a file saved during the build is newer, so rebuilt next time.
writeFileSync(stamp, `${new Date(t0).toISOString()}\n`);
utimesSync(stamp, new Date(t0), new Date(t0));
say(`built in ${((Date.now() - t0) / 1000).toFixed(1)} s: starting`);
