// Run by smoke.sh under the arm64 Node in emulation, from the arm64 install's directory: loads
// every native package the install holds (whether or not the simulated floor uses it, e.g.
// node-hid for USB HID scanners), so a missing arm64 build or a shared library missing from a
// Pi's bookworm (libudev, libusb) fails here, by name. Prints one JSON line per package.
'use strict';
const path = require('node:path');

const candidates = [
  ['better-sqlite3', (m) => new m(':memory:').prepare('select sqlite_version() as v').get().v],
  ['@serialport/bindings-cpp', (m) => typeof m.autoDetect()],
  // devices() loads the hidraw backend (HID_hidraw-linux-arm64: libudev, libusb from the sysroot).
  ['node-hid', (m) => `hidapi ${m.getHidapiVersion()}, ${m.devices().length} HID devices visible`],
  ['usb', (m) => `${m.getDeviceList().length} USB devices visible`],
];
/** The project depends on these: a missing one is a failure, not "not part of this install". */
const required = new Set(['better-sqlite3', '@serialport/bindings-cpp', 'node-hid']);
let failed = 0;
for (const [name, probe] of candidates) {
  let resolved;
  try {
    resolved = require.resolve(name, { paths: [process.cwd()] });
  } catch {
    if (required.has(name)) {
      failed++;
      console.log(JSON.stringify({ package: name, loaded: false, error: 'not installed' }));
    }
    continue; // not part of this install
  }
  let mod;
  try {
    mod = require(resolved);
  } catch (err) {
    failed++;
    console.log(JSON.stringify({ package: name, loaded: false, error: err instanceof Error ? err.message : String(err) }));
    continue;
  }
  try {
    console.log(JSON.stringify({ package: name, loaded: true, probe: String(probe(mod)), from: path.relative(process.cwd(), resolved) }));
  } catch (err) {
    // Some packages load their addon lazily, in the probe. A probe may also fail for want of
    // devices in a container: only a failure to load the addon counts.
    const message = err instanceof Error ? err.message : String(err);
    const loadError = /ELF|cannot open shared object|No native build|Could not locate the bindings|Exec format/i.test(message);
    if (loadError) failed++;
    console.log(JSON.stringify({ package: name, loaded: !loadError, probe_error: message }));
  }
}
process.exitCode = failed === 0 ? 0 : 1;
