/**
 * `packline device add|list|rotate-secret|remove`: manage device credentials. Works while
 * the gateway runs (its own SQLite connection; the gateway reads credentials at each
 * connect). A new or rotated secret is printed once and written to the provisioning file
 * (mode 0600); only its scrypt hash is stored.
 */
import { resolve } from 'node:path';
import { type Command, Option } from 'commander';
import { ROLES } from '../../../contracts/topics.js';
import { writeMosquittoConfig } from '../broker/mosquitto-config.js';
import { DeviceProvisioner, type DeviceRegistry } from '../broker/provisioning.js';
import { configFromOptions, type GlobalOptions } from './options.js';
import { readFile } from 'node:fs/promises';
import { discoverSerialScales } from '../../../device-drivers/src/discovery/serial-discovery.js';
import { type HidBinding, type HidDeviceInfo, NodeHidBinding } from '../../../device-drivers/src/hid/binding.js';
import { type DiscoveredHid, discoverHid } from '../../../device-drivers/src/hid/discovery.js';
import { MockHidBinding } from '../../../device-drivers/src/hid/mock-binding.js';
import { hidUdevRules } from '../../../device-drivers/src/hid/udev-rules.js';
import { type AdminDb, openAdminDb } from '../storage/admin-db.js';

function adminRegistry(db: AdminDb): DeviceRegistry {
  return {
    getDevice: (id) => db.getDevice(id),
    listDevices: () => db.listDevices(),
    putDevice: async (rec) => {
      db.putDevice(rec);
    },
    deleteDevice: async (id) => {
      db.removeDevice(id);
    },
  };
}

async function withProvisioner<T>(program: Command, fn: (p: DeviceProvisioner) => Promise<T>): Promise<T> {
  return withProvisionerAndRegistry(program, (p) => fn(p));
}

async function withProvisionerAndRegistry<T>(program: Command, fn: (p: DeviceProvisioner, registry: DeviceRegistry) => Promise<T>): Promise<T> {
  const config = configFromOptions(program.opts<GlobalOptions>());
  const dataDir = resolve(config.dataDir);
  const db = openAdminDb(dataDir);
  try {
    const registry = adminRegistry(db);
    return await fn(new DeviceProvisioner(registry, { dataDir }), registry);
  } finally {
    db.close();
  }
}

export function registerDeviceCommands(program: Command): void {
  const device = program.command('device').description('manage device credentials (username = device id)');

  device
    .command('add <deviceId>')
    .description('register a device and print its new secret (shown once; also in provisioning.json)')
    .addOption(new Option('-r, --role <role>', 'device role').choices([...ROLES]).makeOptionMandatory())
    .option('-s, --station <id>', 'station or line the device belongs to')
    .option('-m, --model <model>', 'device model, for the inventory')
    .action(async (deviceId: string, opts: { role: string; station?: string; model?: string }) => {
      const secret = await withProvisioner(program, (p) => p.addDevice(deviceId, opts.role, opts.station ?? null, opts.model ?? null));
      process.stdout.write(`${deviceId}\t${secret}\n`);
    });

  device
    .command('list')
    .description('list registered devices (never their secrets)')
    .option('--json', 'print JSON instead of a table')
    .action(async (opts: { json?: boolean }) => {
      const devices = await withProvisioner(program, async (p) => p.listDevices());
      if (opts.json) {
        process.stdout.write(`${JSON.stringify(devices, null, 2)}\n`);
        return;
      }
      const rows = devices.map((d) => [d.deviceId, d.role, d.station ?? '-', d.model ?? '-', new Date(d.rotatedAt).toISOString()]);
      const header = ['DEVICE', 'ROLE', 'STATION', 'MODEL', 'SECRET SET'];
      const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
      for (const r of [header, ...rows]) process.stdout.write(`${r.map((c, i) => c.padEnd(widths[i] ?? 0)).join('  ')}\n`);
    });

  device
    .command('rotate-secret <deviceId>')
    .description('issue a new secret; the old one stops working at the next connect')
    .action(async (deviceId: string) => {
      const secret = await withProvisioner(program, (p) => p.rotateSecret(deviceId));
      process.stdout.write(`${deviceId}\t${secret}\n`);
    });

  device
    .command('remove <deviceId>')
    .description('delete a device and its credentials')
    .action(async (deviceId: string) => {
      await withProvisioner(program, (p) => p.removeDevice(deviceId));
      process.stdout.write(`removed ${deviceId}\n`);
    });

  device
    .command('export-mosquitto <outDir>')
    .description(
      'external-broker mode: write Mosquitto password_file and acl_file (0600) for every registered device; issues each a fresh secret (printed, and in provisioning.json)',
    )
    .action(async (outDir: string) => {
      const files = await withProvisionerAndRegistry(program, (p, registry) => writeMosquittoConfig({ registry, provisioner: p, outDir }));
      for (const [id, secret] of Object.entries(files.secrets)) process.stdout.write(`${id}\t${secret}\n`);
      process.stderr.write(`wrote ${files.passwordFile} and ${files.aclFile}: chown them to the mosquitto user (docs/mqtt.md §6)\n`);
    });

  device
    .command('udev-rules')
    .description(
      'print the udev rules for the HID devices Packline drives: hidraw access for group input, keyboard-wedge scanners kept from typing into the console (docs/deploy-raspberry-pi.md §5)',
    )
    .action(() => {
      process.stdout.write(hidUdevRules());
    });

  device
    .command('discover')
    .description(
      'list serial ports (USB-serial adapters, /dev/serial/by-id) and USB HID devices, with the definition that claims each (unclaimed ones as unsupported)',
    )
    .option('-p, --path <path...>', 'also probe these configured paths (e.g. /dev/ttyS0)')
    .option('--hid-enumeration <file>', 'read a recorded HID enumeration (the "hid" devices of --json output) instead of asking node-hid')
    .option('--json', 'print JSON instead of a table')
    .action(async (opts: { path?: string[]; json?: boolean; hidEnumeration?: string }) => {
      const found = await discoverSerialScales({ configuredPaths: opts.path ?? [] });
      const hid = await discoverHidSafely(opts.hidEnumeration);
      if (opts.json) {
        process.stdout.write(`${JSON.stringify({ serial: found, hid }, null, 2)}\n`);
        return;
      }
      if (found.length === 0) process.stdout.write('serial: no ports found (checked SerialPort.list, /dev/serial/by-id and --path)\n');
      for (const p of found) {
        const usb = p.vendorId === undefined ? '' : ` usb ${p.vendorId.toString(16).padStart(4, '0')}:${(p.productId ?? 0).toString(16).padStart(4, '0')}`;
        const what = p.status === 'matched' ? `matched ${p.definition.id}` : `unsupported: ${p.why}`;
        process.stdout.write(`${p.path}${p.realPath ? ` -> ${p.realPath}` : ''}${usb}  ${what}\n`);
      }
      if (!Array.isArray(hid)) {
        process.stdout.write(`hid: ${hid.unavailable}\n`);
        return;
      }
      if (hid.length === 0) process.stdout.write('hid: no HID devices found\n');
      for (const h of hid) process.stdout.write(`${hidLine(h)}\n`);
    });
}

const hex2 = (n: number | undefined) => (n === undefined ? '?' : `0x${n.toString(16).padStart(2, '0')}`);

/** How to configure what a definition claims (the link/wire of devices[].driver). */
function configHint(h: Extract<DiscoveredHid, { status: 'matched' }>): string {
  const link = `link {type: hid, device: "${h.identity}"}`;
  switch (h.definition.class) {
    case 'hid-pos-scanner':
      return `kind scanner, wire hid-pos, ${link}`;
    case 'keyboard-wedge-scanner':
      return `kind scanner, wire hid-keyboard, ${link}`;
    case 'hid-pos-scale':
      return `kind scale, definition ${h.definition.scaleDefinition ?? 'hid-pos-scale'}, ${link}`;
  }
}

function hidLine(h: DiscoveredHid): string {
  const d = h.device;
  const head = `hid ${h.identity} ${d.path} page ${hex2(d.usagePage)} usage ${hex2(d.usage)} if ${d.interface}${d.product ? ` "${d.product}"` : ''}`;
  if (h.status !== 'matched') return `${head}  unsupported: ${h.why}`;
  const leaks = h.keystrokeLeaks;
  const keys =
    leaks === undefined
      ? ''
      : leaks === null
        ? '; keystrokes: unknown (no sysfs inhibited attribute, or a recording)'
        : leaks.length === 0
          ? '; keystrokes: kept from the console'
          : `; keystrokes LEAK to the console (${leaks.join(', ')} not inhibited): packline device udev-rules`;
  return `${head}  matched ${h.definition.id} (${h.definition.class}): ${configHint(h)}${keys}`;
}

/** HID discovery never fails the command: without node-hid/libudev it says why instead. */
async function discoverHidSafely(recorded: string | undefined): Promise<DiscoveredHid[] | { unavailable: string }> {
  let binding: HidBinding;
  if (recorded !== undefined) {
    const mock = new MockHidBinding();
    const rows = JSON.parse(await readFile(recorded, 'utf8')) as Array<HidDeviceInfo | { device: HidDeviceInfo }>;
    for (const r of rows) mock.plug('device' in r ? r.device : r, null, null); // a recording knows nothing of sysfs
    binding = mock;
  } else {
    binding = new NodeHidBinding();
  }
  try {
    return await discoverHid(binding);
  } catch (err) {
    return { unavailable: `cannot enumerate (${err instanceof Error ? err.message : String(err)}); node-hid needs Debian's libudev1 and libusb-1.0-0` };
  }
}
