/**
 * `packline device add|list|rotate-secret|remove`: manage device credentials. Works while
 * the gateway runs (its own SQLite connection; the gateway reads credentials at each
 * connect). A new or rotated secret is printed once and written to the provisioning file
 * (mode 0600); only its scrypt hash is stored.
 */
import { resolve } from 'node:path';
import { type Command, Option } from 'commander';
import { ROLES } from '../../../contracts/topics.js';
import { DeviceProvisioner, type DeviceRegistry } from '../broker/provisioning.js';
import { configFromOptions, type GlobalOptions } from './options.js';
import { discoverSerialScales } from '../../../device-drivers/src/discovery/serial-discovery.js';
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
  const config = configFromOptions(program.opts<GlobalOptions>());
  const dataDir = resolve(config.dataDir);
  const db = openAdminDb(dataDir);
  try {
    return await fn(new DeviceProvisioner(adminRegistry(db), { dataDir }));
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
    .command('discover')
    .description('list serial ports (USB-serial adapters, /dev/serial/by-id) and which scale model claims each')
    .option('-p, --path <path...>', 'also probe these configured paths (e.g. /dev/ttyS0)')
    .option('--json', 'print JSON instead of a table')
    .action(async (opts: { path?: string[]; json?: boolean }) => {
      const found = await discoverSerialScales({ configuredPaths: opts.path ?? [] });
      if (opts.json) {
        process.stdout.write(`${JSON.stringify(found, null, 2)}\n`);
        return;
      }
      if (found.length === 0) {
        process.stdout.write('no serial ports found (checked SerialPort.list, /dev/serial/by-id and --path)\n');
        return;
      }
      for (const p of found) {
        const usb = p.vendorId === undefined ? '' : ` usb ${p.vendorId.toString(16).padStart(4, '0')}:${(p.productId ?? 0).toString(16).padStart(4, '0')}`;
        const what = p.status === 'matched' ? `matched ${p.definition.id}` : `unsupported: ${p.why}`;
        process.stdout.write(`${p.path}${p.realPath ? ` -> ${p.realPath}` : ''}${usb}  ${what}\n`);
      }
    });
}
