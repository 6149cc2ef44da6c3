#!/usr/bin/env node
// Entry point of the `packline` command.
//
// Production runs the compiled JavaScript in dist/ (`npm run build`; `npm start` builds when a
// source changed, bin/build-if-changed.js): it starts faster and needs ~45 MB less memory than compiling TypeScript on the
// fly (measured: 120 MB vs 165 MB RSS idle; docs/decisions/0001-stack.md). Without a build,
// or with PACKLINE_RUN_FROM=source (tests, development), the sources run through tsx.
import { existsSync } from 'node:fs';

const compiled = new URL('../dist/gateway/src/cli.js', import.meta.url);
let main;
if (process.env.PACKLINE_RUN_FROM !== 'source' && existsSync(compiled)) {
  ({ main } = await import(compiled.href));
} else {
  const { register } = await import('tsx/esm/api');
  register();
  ({ main } = await import('../gateway/src/cli.ts'));
}
process.exitCode = await main(process.argv);
