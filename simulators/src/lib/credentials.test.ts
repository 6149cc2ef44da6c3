import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseProvisioning, readProvisioningFile, stationsFromCredentials, toCredentialBook } from './credentials.js';

describe('provisioning reader', () => {
  it('reads the { devices: { id: { secret, role, station } } } shape', () => {
    const book = parseProvisioning({
      devices: {
        'sc-1': { secret: 's1', role: 'scanner', station: 'st-1' },
        'sl-1': { secret: 's2', role: 'scale', station: 'st-1' },
        'pr-1': { password: 's3', role: 'printer', station: 'st-1' },
        'sc-2': { secret: 's4', role: 'scanner', station: 'st-2' },
      },
    });
    expect(book.get('pr-1')).toEqual({ deviceId: 'pr-1', secret: 's3', role: 'printer', station: 'st-1' });
    const stations = stationsFromCredentials(book);
    // st-2 has no scale or printer, so it is not a complete station.
    expect(stations.map((s) => s.stationId)).toEqual(['st-1']);
    expect(stations[0]?.scale.deviceId).toBe('sl-1');
  });

  it('reads the flat { id: secret } shape and a device list', () => {
    expect(parseProvisioning({ a: 'x', b: { secret: 'y' } }).get('b')?.secret).toBe('y');
    expect(parseProvisioning({ devices: [{ id: 'c', secret: 'z', role: 'scale' }] }).get('c')?.role).toBe('scale');
  });

  it('refuses malformed input with PKL_CONFIG_INVALID', () => {
    for (const bad of [null, 42, { a: '' }, { a: 7 }, { 'bad id': 'x' }, { devices: [{ secret: 'x' }] }, { a: { role: 'scanner' } }]) {
      expect(() => parseProvisioning(bad)).toThrow(expect.objectContaining({ code: 'PKL_CONFIG_INVALID' }));
    }
  });

  it('reads a file, and reports unreadable or non-JSON files clearly', () => {
    const dir = mkdtempSync(join(tmpdir(), 'prov-'));
    const good = join(dir, 'provisioning.json');
    writeFileSync(good, JSON.stringify({ devices: { d1: { secret: 'k' } } }));
    expect(toCredentialBook(good).get('d1')?.secret).toBe('k');
    const bad = join(dir, 'bad.json');
    writeFileSync(bad, '{nope');
    expect(() => readProvisioningFile(bad)).toThrow(/not valid JSON/);
    expect(() => readProvisioningFile(join(dir, 'missing.json'))).toThrow(/cannot read/);
  });
});
