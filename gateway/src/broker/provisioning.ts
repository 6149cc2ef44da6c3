/**
 * Device credentials: every device gets its own random secret; only its scrypt hash is stored.
 * There are no default passwords: a configured device without credentials is given a fresh
 * secret at start-up, written once to `<dataDir>/provisioning.json` (mode 0600) for the
 * installer to copy into the device, and the CLI can add, rotate and remove devices.
 */
import { randomBytes } from 'node:crypto';
import { chmod, mkdir, open, readFile, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { PacklineError } from '../../../contracts/errors.js';
import { isValidId } from '../../../contracts/topics.js';
import type { DeviceConfig } from '../config/schema.js';
import type { Logger } from '../lib/logger.js';
import type { DeviceRecord } from '../storage/types.js';
import { isRole } from './acl.js';
import { generateSecret, hashSecret, narrowSecretFile } from './secrets.js';

/** The device registry the broker layer needs; the lead adapts the SQLite store to it. */
export interface DeviceRegistry {
  getDevice(deviceId: string): DeviceRecord | null;
  listDevices(): DeviceRecord[];
  putDevice(rec: DeviceRecord): Promise<void>;
  deleteDevice(deviceId: string): Promise<void>;
}

/** A device as the CLI and API show it: never the hash. */
export interface DeviceInfo {
  deviceId: string;
  role: string;
  station: string | null;
  model: string | null;
  createdAt: number;
  rotatedAt: number;
}

export interface IssuedSecret {
  deviceId: string;
  role: string;
  secret: string;
}

export const PROVISIONING_FILE = 'provisioning.json';

interface ProvisioningFile {
  note: string;
  devices: Record<string, { role: string; station: string | null; secret: string; issuedAt: string }>;
}

/** The note at the top of provisioning.json (its command is checked to exist: cli-input.test.ts). */
export const PROVISIONING_NOTE =
  'Secrets issued by Packline for MQTT (username = device id, password = secret). ' +
  'Configure each device, then delete this file; `packline device rotate-secret <id>` issues a new one.';

export interface ProvisionerOptions {
  dataDir: string;
  logger?: Logger;
  now?: () => number;
}

function invalid(reason: string): PacklineError {
  return new PacklineError('PKL_PAYLOAD_INVALID', { reason });
}

function checkId(deviceId: string): void {
  if (typeof deviceId !== 'string' || !isValidId(deviceId)) {
    throw invalid(`device id ${JSON.stringify(deviceId)} must match [A-Za-z0-9_.-]{1,64}`);
  }
}

export class DeviceProvisioner {
  private readonly now: () => number;
  /** Serialises read-modify-write of provisioning.json within this process. */
  private fileLock: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly registry: DeviceRegistry,
    private readonly opts: ProvisionerOptions,
  ) {
    this.now = opts.now ?? Date.now;
  }

  get provisioningFile(): string {
    return join(this.opts.dataDir, PROVISIONING_FILE);
  }

  /**
   * Makes the registry match the configured devices: a device without credentials gets a new
   * secret (written to provisioning.json); role/station/model changes are applied keeping the
   * secret. Devices only in the registry (added by the CLI) are left alone.
   */
  async provisionConfigured(devices: readonly DeviceConfig[]): Promise<IssuedSecret[]> {
    const exposed = narrowSecretFile(this.provisioningFile);
    if (exposed !== null) this.opts.logger?.warn({ code: exposed.code, ...exposed.details }, exposed.message);
    const issued: IssuedSecret[] = [];
    for (const d of devices) {
      checkId(d.id);
      if (!isRole(d.role)) throw invalid(`device ${d.id}: unknown role ${JSON.stringify(d.role)}`);
      const existing = this.registry.getDevice(d.id);
      const station = d.station ?? null;
      const model = d.model ?? null;
      if (!existing) {
        const secret = generateSecret();
        const t = this.now();
        await this.registry.putDevice({
          deviceId: d.id,
          role: d.role,
          station,
          model,
          secretHash: await hashSecret(secret),
          createdAt: t,
          rotatedAt: t,
        });
        issued.push({ deviceId: d.id, role: d.role, secret });
      } else if (existing.role !== d.role || existing.station !== station || existing.model !== model) {
        await this.registry.putDevice({ ...existing, role: d.role, station, model });
        this.opts.logger?.info({ deviceId: d.id, role: d.role, station }, 'device registration updated from config');
      }
    }
    if (issued.length > 0) {
      await this.recordSecrets(issued, []);
      this.opts.logger?.warn(
        { devices: issued.map((i) => i.deviceId), file: this.provisioningFile },
        'issued MQTT credentials for new devices; hand them over and delete the file',
      );
    }
    return issued;
  }

  /** Registers a new device and returns its secret (also recorded in provisioning.json). */
  async addDevice(deviceId: string, role: string, station?: string | null, model?: string | null): Promise<string> {
    checkId(deviceId);
    if (!isRole(role)) throw invalid(`unknown role ${JSON.stringify(role)}`);
    if (station !== undefined && station !== null) checkId(station);
    if (this.registry.getDevice(deviceId)) throw new PacklineError('PKL_DEVICE_EXISTS', { deviceId });
    const secret = generateSecret();
    const t = this.now();
    await this.registry.putDevice({
      deviceId,
      role,
      station: station ?? null,
      model: model ?? null,
      secretHash: await hashSecret(secret),
      createdAt: t,
      rotatedAt: t,
    });
    await this.recordSecrets([{ deviceId, role, secret }], []);
    return secret;
  }

  /** Replaces a device's secret; the old one stops working for new connections at once. */
  async rotateSecret(deviceId: string): Promise<string> {
    checkId(deviceId);
    const existing = this.registry.getDevice(deviceId);
    if (!existing) throw new PacklineError('PKL_DEVICE_UNKNOWN', { deviceId });
    const secret = generateSecret();
    await this.registry.putDevice({ ...existing, secretHash: await hashSecret(secret), rotatedAt: this.now() });
    await this.recordSecrets([{ deviceId, role: existing.role, secret }], []);
    return secret;
  }

  async removeDevice(deviceId: string): Promise<void> {
    checkId(deviceId);
    if (!this.registry.getDevice(deviceId)) throw new PacklineError('PKL_DEVICE_UNKNOWN', { deviceId });
    await this.registry.deleteDevice(deviceId);
    await this.recordSecrets([], [deviceId]);
  }

  listDevices(): DeviceInfo[] {
    return this.registry.listDevices().map((r) => ({
      deviceId: r.deviceId,
      role: r.role,
      station: r.station,
      model: r.model,
      createdAt: r.createdAt,
      rotatedAt: r.rotatedAt,
    }));
  }

  /** Merges issued secrets into provisioning.json (and drops removed devices), mode 0600. */
  private recordSecrets(issued: readonly IssuedSecret[], removed: readonly string[]): Promise<void> {
    const run = this.fileLock.then(() => this.writeFile(issued, removed));
    this.fileLock = run.catch(() => undefined);
    return run;
  }

  private async writeFile(issued: readonly IssuedSecret[], removed: readonly string[]): Promise<void> {
    const file = this.provisioningFile;
    await mkdir(this.opts.dataDir, { recursive: true });
    let current: ProvisioningFile = { note: PROVISIONING_NOTE, devices: {} };
    try {
      const parsed = JSON.parse(await readFile(file, 'utf8')) as Partial<ProvisioningFile>;
      if (typeof parsed !== 'object' || parsed === null || typeof parsed.devices !== 'object' || parsed.devices === null) {
        throw new Error('no "devices" object');
      }
      current = { note: PROVISIONING_NOTE, devices: { ...parsed.devices } };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') {
        // Never overwrite secrets we cannot read: the operator may not have copied them yet.
        throw new PacklineError('PKL_CONFIG_INVALID', {
          reason: `${file} is unreadable (${(err as Error).message}); move it away and retry`,
        });
      }
    }
    for (const id of removed) delete current.devices[id];
    const issuedAt = new Date(this.now()).toISOString();
    for (const i of issued) {
      const rec = this.registry.getDevice(i.deviceId);
      current.devices[i.deviceId] = { role: i.role, station: rec?.station ?? null, secret: i.secret, issuedAt };
    }
    // Write a temp file created 0600 (so the secrets are never world-readable, even briefly),
    // chmod it (the umask may have narrowed, but an existing file could be wider), fsync, then
    // rename over the old file so a crash leaves either the old or the new content.
    const tmp = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
    const fh = await open(tmp, 'wx', 0o600);
    try {
      await fh.writeFile(`${JSON.stringify(current, null, 2)}\n`, 'utf8');
      await fh.chmod(0o600);
      await fh.sync();
    } catch (err) {
      await fh.close();
      await rm(tmp, { force: true });
      throw err;
    }
    await fh.close();
    await rename(tmp, file);
    await chmod(file, 0o600);
  }
}
