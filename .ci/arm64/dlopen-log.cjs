// Preloaded (NODE_OPTIONS=--require) into every arm64 Node process of the smoke run: the
// gateway, its store worker, the floor and the cloud. Each native addon goes through
// process.dlopen (require of a .node file, node-gyp-build, bindings), so logging here names
// every addon that was actually loaded, in which process, before the smoke test checks that
// each one is an arm64 ELF (drive.mjs). Only active when ARM64_SMOKE_DLOPEN_LOG is set.
'use strict';
const fs = require('node:fs');

const log = process.env.ARM64_SMOKE_DLOPEN_LOG;
if (log && !process.dlopen.__packlineLogged) {
  const original = process.dlopen;
  const logged = function dlopen(module, filename, ...rest) {
    try {
      fs.appendFileSync(log, `${process.pid}\t${process.arch}\t${filename}\n`);
    } catch {
      // The log is evidence, not a dependency: a failed write is caught by the missing entry.
    }
    return original.call(this, module, filename, ...rest);
  };
  logged.__packlineLogged = true;
  process.dlopen = logged;
}
