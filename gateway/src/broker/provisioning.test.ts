import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { PacklineError } from '../../../contracts/errors.js';
import type { DeviceRecord } from '../storage/types.js';
import { renderAclFile } from './mosquitto-config.js';
import { DeviceProvisioner, type DeviceRegistry } from './provisioning.js';
import { verifySecret } from './secrets.js';

function memoryRegistry(): DeviceRegistry & { rows: Map<string, DeviceRecord> } {
  const rows = new Map<string, DeviceRecord>();
  return {
    rows,
    getDevice: (id) => rows.get(id) ?? null,
    listDevices: () => [...rows.values()],
    putDevice: async (rec) => void rows.set(rec.deviceId, { ...rec }),
    deleteDevice: async (id) => void rows.delete(id),
  };
}

async function code(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (err) {
    return err instanceof PacklineError ? err.code : `not coded: ${String(err)}`;
  }
  return 'resolved';
}

describe('DeviceProvisioner', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'pkl-prov-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('provisions configured devices once, writes 0600 provisioning.json, merges later secrets', async () => {
    const reg = memoryRegistry();
    const p = new DeviceProvisioner(reg, { dataDir: dir });
    const issued = await p.provisionConfigured([
      { id: 'scanner-1', role: 'scanner', station: 'st-1' },
      { id: 'disp-1', role: 'display', station: 'st-1' },
    ]);
    expect(issued.map((i) => i.deviceId)).toEqual(['scanner-1', 'disp-1']);
    for (const i of issued) expect(await verifySecret(i.secret, reg.rows.get(i.deviceId)!.secretHash)).toBe(true);
    const file = join(dir, 'provisioning.json');
    expect((await stat(file)).mode & 0o777).toBe(0o600);

    // Second start: nothing new; a role change keeps the hash.
    const hash = reg.rows.get('scanner-1')!.secretHash;
    expect(await p.provisionConfigured([{ id: 'scanner-1', role: 'pda', station: 'st-1' }])).toEqual([]);
    expect(reg.rows.get('scanner-1')!.role).toBe('pda');
    expect(reg.rows.get('scanner-1')!.secretHash).toBe(hash);

    const s3 = await p.addDevice('printer-1', 'printer', 'st-1');
    const doc = JSON.parse(await readFile(file, 'utf8')) as { devices: Record<string, { secret: string }> };
    expect(Object.keys(doc.devices).sort()).toEqual(['disp-1', 'printer-1', 'scanner-1']);
    expect(doc.devices['printer-1']!.secret).toBe(s3);
    expect((await stat(file)).mode & 0o777).toBe(0o600);
  });

  it('rotates, removes and lists without hashes', async () => {
    const reg = memoryRegistry();
    const p = new DeviceProvisioner(reg, { dataDir: dir });
    const s1 = await p.addDevice('scale-1', 'scale', 'st-1');
    const s2 = await p.rotateSecret('scale-1');
    expect(s2).not.toBe(s1);
    expect(await verifySecret(s1, reg.rows.get('scale-1')!.secretHash)).toBe(false);
    expect(await verifySecret(s2, reg.rows.get('scale-1')!.secretHash)).toBe(true);
    const list = p.listDevices();
    expect(list).toHaveLength(1);
    expect(JSON.stringify(list)).not.toContain('scrypt');
    await p.removeDevice('scale-1');
    expect(reg.rows.size).toBe(0);
    const doc = JSON.parse(await readFile(join(dir, 'provisioning.json'), 'utf8')) as { devices: object };
    expect(doc.devices).toEqual({});
  });

  it('refuses bad input with coded errors and changes nothing', async () => {
    const reg = memoryRegistry();
    const p = new DeviceProvisioner(reg, { dataDir: dir });
    await p.addDevice('scanner-1', 'scanner');
    const before = JSON.stringify([...reg.rows]);
    expect(await code(p.addDevice('scanner-1', 'scanner'))).toBe('PKL_DEVICE_EXISTS');
    expect(await code(p.addDevice('bad/id', 'scanner'))).toBe('PKL_PAYLOAD_INVALID');
    expect(await code(p.addDevice('x-1', 'admin'))).toBe('PKL_PAYLOAD_INVALID');
    expect(await code(p.addDevice('x-1', 'scanner', 'st/1'))).toBe('PKL_PAYLOAD_INVALID');
    expect(await code(p.rotateSecret('nope'))).toBe('PKL_DEVICE_UNKNOWN');
    expect(await code(p.removeDevice('nope'))).toBe('PKL_DEVICE_UNKNOWN');
    expect(JSON.stringify([...reg.rows])).toBe(before);
  });

  it('never overwrites an unreadable provisioning.json', async () => {
    const reg = memoryRegistry();
    const p = new DeviceProvisioner(reg, { dataDir: dir });
    await writeFile(join(dir, 'provisioning.json'), '{ not json');
    expect(await code(p.addDevice('scanner-1', 'scanner'))).toBe('PKL_CONFIG_INVALID');
    expect(await readFile(join(dir, 'provisioning.json'), 'utf8')).toBe('{ not json');
  });
});

describe('renderAclFile', () => {
  it('grants per role like acl.ts', () => {
    const acl = renderAclFile([
      { deviceId: 'scanner-1', role: 'scanner', station: 'st-1' },
      { deviceId: 'pda-1', role: 'pda', station: 'st-2' },
      { deviceId: 'gw', role: 'service', station: null },
    ]);
    expect(acl).toContain('pattern write dev/%u/state');
    expect(acl).toContain('user scanner-1\ntopic write dev/scanner-1/evt/scan\ntopic write dev/scanner-1/evt/handover_scan\n');
    expect(acl).toContain(
      'user pda-1\ntopic write dev/pda-1/evt/scan\ntopic write dev/pda-1/evt/pda_login\ntopic write dev/pda-1/evt/pda_confirm\ntopic write dev/pda-1/evt/pick_request\ntopic write dev/pda-1/evt/pick_accept\ntopic write dev/pda-1/evt/pick_line\ntopic write dev/pda-1/evt/pick_short\ntopic write dev/pda-1/evt/pick_sort\ntopic write dev/pda-1/evt/replenish_confirm\ntopic write dev/pda-1/evt/handover_scan\ntopic write dev/pda-1/evt/recall_scan\ntopic read station/st-2/view\n',
    );
    expect(acl).toContain('user gw\ntopic readwrite #\n');
    expect(acl).not.toMatch(/user scanner-1\n[^\n]*cmd/);
  });
});
