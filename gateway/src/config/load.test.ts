import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { PacklineError } from '../../../contracts/errors.js';
import { envPath, loadConfig, parseConfig } from './load.js';

function reason(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(PacklineError);
    expect((err as PacklineError).code).toBe('PKL_CONFIG_INVALID');
    return String((err as PacklineError).details?.reason);
  }
  throw new Error('expected a PKL_CONFIG_INVALID error');
}

const devices = [
  { id: 'scan-1', role: 'scanner' },
  { id: 'scale-1', role: 'scale' },
  { id: 'prn-1', role: 'printer' },
  { id: 'dws-1', role: 'conveyor' },
];

describe('config', () => {
  it('works with nothing at all: embedded defaults', () => {
    const c = loadConfig({ env: {} });
    expect(c.mqtt.port).toBe(1883);
    expect(c.http.port).toBe(8080);
    expect(c.mqtt.wsPath).toBe('/mqtt');
    expect(c.mqtt.allowAnonymous).toBe(false);
    expect(c.dataDir).toBe('./data');
    expect(Object.isFrozen(c.mqtt)).toBe(true);
  });

  it('names the field, the value and what is allowed', () => {
    expect(reason(() => parseConfig({ mqtt: { port: 70000 } }))).toBe('mqtt.port: got 70000, expected a number <= 65535');
    expect(reason(() => parseConfig({ log: { level: 'loud' } }))).toContain('log.level: got "loud", expected one of "fatal"');
    expect(reason(() => parseConfig({ mqtt: { prot: 1 } }))).toBe('mqtt.prot: unknown field (check the spelling; see docs/config.md)');
    expect(reason(() => parseConfig({ gatewayId: 'a/b' }))).toContain('gatewayId: got "a/b", expected text matching');
  });

  it('applies environment overrides with __ between levels', () => {
    const c = loadConfig({ env: { PACKLINE_MQTT__PORT: '1884', PACKLINE_MQTT__ALLOW_ANONYMOUS: 'true', PACKLINE_LOG__LEVEL: 'debug' } });
    expect(c.mqtt.port).toBe(1884);
    expect(c.mqtt.allowAnonymous).toBe(true);
    expect(c.log.level).toBe('debug');
    expect(reason(() => loadConfig({ env: { PACKLINE_HTTP__PORT: 'eighty' } }))).toBe('http.port: got "eighty", expected a value of type integer');
  });

  it('reads a file and reports unreadable or non-JSON files', () => {
    const dir = mkdtempSync(join(tmpdir(), 'pkl-cfg-'));
    const file = join(dir, 'c.json');
    writeFileSync(file, JSON.stringify({ gatewayId: 'gw-7', devices }));
    expect(loadConfig({ file, env: {} }).gatewayId).toBe('gw-7');
    writeFileSync(file, '{ nope');
    expect(reason(() => loadConfig({ file, env: {} }))).toContain('is not valid JSON');
    expect(reason(() => loadConfig({ file: join(dir, 'missing.json'), env: {} }))).toContain('cannot read');
  });

  it('checks cross-field rules: bindings, roles, duplicates, ports', () => {
    const station = { id: 'st-1', scanner: 'scan-1', scale: 'scale-1', printer: 'prn-1' };
    expect(parseConfig({ devices, stations: [station] }).stations[0]?.verifyItems).toBe('always');
    expect(reason(() => parseConfig({ devices, stations: [{ ...station, scale: 'prn-1' }] }))).toContain(
      'stations.0.scale: device "prn-1" has role printer, expected scale',
    );
    expect(reason(() => parseConfig({ devices, stations: [{ ...station, printer: 'nope' }] }))).toContain(
      'stations.0.printer: got "nope", expected the id of a device in devices[]',
    );
    expect(reason(() => parseConfig({ devices: [...devices, devices[0]] }))).toContain('id "scan-1" is used twice');
    expect(reason(() => parseConfig({ mqtt: { port: 8080 } }))).toContain('http.port: got 8080, expected a port not already used by mqtt.port');
    expect(reason(() => parseConfig({ devices, lines: [{ id: 'l1', device: 'scan-1' }] }))).toContain(
      'lines.0.device: device "scan-1" has role scanner, expected conveyor',
    );
  });
});

describe('environment names of camelCase fields', () => {
  it('take the field with or without `_` between its words, at every level', () => {
    for (const [cert, key] of [
      ['PACKLINE_MQTT__TLS__CERT_FILE', 'PACKLINE_MQTT__TLS__KEY_FILE'],
      ['PACKLINE_MQTT__TLS__CERTFILE', 'PACKLINE_MQTT__TLS__KEYFILE'],
      ['PACKLINE_mqtt__tls__certFile', 'PACKLINE_mqtt__tls__keyFile'],
    ] as const) {
      const c = loadConfig({ env: { [cert]: '/etc/packline/tls.crt', [key]: '/etc/packline/tls.key' } });
      expect([c.mqtt.tls.certFile, c.mqtt.tls.keyFile]).toEqual(['/etc/packline/tls.crt', '/etc/packline/tls.key']);
    }
    expect(envPath('PRINTING__TEMPLATES__TSPLFONT')).toEqual(['printing', 'templates', 'tsplFont']);
    expect(envPath('DATA_DIR')).toEqual(['dataDir']);
    // Below a map (no fields in the schema) the segment is camel-cased as before.
    expect(envPath('PRINTING__TEMPLATES__CARRIERS__ZTO')).toEqual(['printing', 'templates', 'carriers', 'zto']);
  });

  it('a misspelt one is still refused', () => {
    expect(reason(() => loadConfig({ env: { PACKLINE_MQTT__TLS__CERT_FIEL: 'x' } }))).toMatch(/certFiel|cert_fiel|must NOT have additional/i);
  });
});

describe('hosted device drivers', () => {
  const scale = (driver: unknown) => ({ devices: [{ id: 'sc-1', role: 'scale', driver }] });
  it('accepts a known model on a serial or TCP link', () => {
    const c = parseConfig(scale({ kind: 'scale', definition: 'mettler-toledo-mt-sics', link: { type: 'serial', path: '/dev/ttyUSB0' } }));
    expect(c.devices[0]?.driver).toMatchObject({ kind: 'scale', link: { type: 'serial' } });
    expect(parseConfig(scale({ kind: 'scale', definition: 'cas-ci-22byte', link: { type: 'tcp', host: '10.0.0.5', port: 4001 } })).devices).toHaveLength(1);
  });
  it('names an unknown model and lists the known ones; refuses a driver for the wrong role', () => {
    expect(reason(() => parseConfig(scale({ kind: 'scale', definition: 'acme-9000', link: { type: 'serial', path: '/dev/x' } })))).toMatch(
      /devices\.0\.driver\.definition: got "acme-9000", expected one of .*"mettler-toledo-mt-sics"/,
    );
    expect(reason(() => parseConfig(scale({ kind: 'printer', definition: 'zebra-zd420', host: 'p1' })))).toContain(
      'devices.0.driver: a printer driver needs a device of role printer, got scale',
    );
  });
});

describe('docs/config.md', () => {
  it('matches the schema (run `npm run docs:config` after changing it)', async () => {
    const { readFileSync } = await import('node:fs');
    const { renderConfigDoc } = await import('./config-doc.js');
    expect(readFileSync(new URL('../../../docs/config.md', import.meta.url), 'utf8')).toBe(renderConfigDoc());
  });
});
