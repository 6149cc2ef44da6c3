/**
 * `packline tls init` end to end: the local CA, a server certificate for the gateway's names
 * and addresses that standard clients verify, and mutual TLS when mqtt.tls.caFile is set
 * (a client certificate signed by that CA is required, and its CN must be the username).
 * Needs the openssl command: skipped with that reason without it, FAILS under CI=true.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { X509Certificate } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EmbeddedBroker } from '../../src/broker/embedded-broker.js';
import { parseConfig } from '../../src/config/load.js';
import type { Config } from '../../src/config/schema.js';
import { initLocalCa } from '../../src/tls/local-ca.js';
import { runCli } from '../support/cli.js';
import { client, makeDirectory, silentLogger } from './broker-helpers.js';

const OPENSSL = ['/usr/bin/openssl', '/bin/openssl'].find((p) => existsSync(p));
const RUN = OPENSSL !== undefined || process.env.CI === 'true';

describe.skipIf(!RUN)('packline tls init and mutual TLS (skipped: the openssl command is not installed)', () => {
  let dir: string;
  let broker: EmbeddedBroker;
  let secrets: Record<string, string>;
  let tlsPort: number;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'pkl-tls-'));
    const cli = await runCli(join(dir, 'data'), [
      'tls',
      'init',
      '--name',
      'gw.example.lan',
      'localhost',
      '--ip',
      '127.0.0.1',
      '--client',
      'scanner-1',
      'printer-1',
    ]);
    expect(cli.code, cli.stderr).toBe(0);
    expect(cli.stdout).toMatch(/pin SHA-256 [0-9A-F:]{95}/);
    const tls = join(dir, 'data', 'tls');
    const dirs = await makeDirectory([
      { id: 'scanner-1', role: 'scanner', station: 'st-1' },
      { id: 'printer-1', role: 'printer', station: 'st-1' },
    ]);
    secrets = dirs.secrets;
    broker = new EmbeddedBroker({
      config: parseConfig({
        gatewayId: 'gw-tls',
        mqtt: {
          host: '127.0.0.1',
          port: 0,
          tls: { port: 0, certFile: join(tls, 'server.crt'), keyFile: join(tls, 'server.key'), caFile: join(tls, 'ca.crt') },
        },
      }) as Config,
      directory: dirs.directory,
      logger: silentLogger(),
    });
    await broker.start();
    tlsPort = broker.ports().tls as number;
  }, 60_000);

  afterAll(async () => {
    await broker?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const file = (name: string) => readFileSync(join(dir, 'data', 'tls', name));

  it('writes a CA, a server certificate for the given names and addresses, and client certificates; keys are 0600', () => {
    const ca = new X509Certificate(file('ca.crt'));
    expect(ca.ca).toBe(true);
    const server = new X509Certificate(file('server.crt'));
    expect(server.checkIssued(ca)).toBe(true);
    expect(server.verify(ca.publicKey)).toBe(true);
    expect(server.subjectAltName).toContain('DNS:gw.example.lan');
    expect(server.subjectAltName).toContain('IP Address:127.0.0.1');
    expect(server.checkHost('gw.example.lan')).toBe('gw.example.lan');
    const scanner = new X509Certificate(file('client-scanner-1.crt'));
    expect(scanner.subject).toContain('CN=scanner-1');
    expect(scanner.verify(ca.publicKey)).toBe(true);
    for (const k of ['ca.key', 'server.key', 'client-scanner-1.key']) expect(statSync(join(dir, 'data', 'tls', k)).mode & 0o077).toBe(0);
  });

  it('a device that pins the CA and presents its own client certificate connects over TLS', async () => {
    const c = await client(`mqtts://127.0.0.1:${tlsPort}`, {
      clientId: 'scanner-1',
      username: 'scanner-1',
      password: secrets['scanner-1'],
      ca: file('ca.crt'),
      cert: file('client-scanner-1.crt'),
      key: file('client-scanner-1.key'),
      rejectUnauthorized: true,
    });
    expect(c.connected).toBe(true);
    await c.endAsync();
  });

  it('with mqtt.tls.caFile set, no client certificate means no connection', async () => {
    await expect(
      client(`mqtts://127.0.0.1:${tlsPort}`, {
        clientId: 'scanner-1',
        username: 'scanner-1',
        password: secrets['scanner-1'],
        ca: file('ca.crt'),
        connectTimeout: 5000,
      }),
    ).rejects.toThrow();
  });

  it('another device’s certificate is refused (CONNACK 5): the CN must be the username', async () => {
    await expect(
      client(`mqtts://127.0.0.1:${tlsPort}`, {
        clientId: 'scanner-1',
        username: 'scanner-1',
        password: secrets['scanner-1'],
        ca: file('ca.crt'),
        cert: file('client-printer-1.crt'),
        key: file('client-printer-1.key'),
      }),
    ).rejects.toThrow(/Not authorized/i);
  });

  it('running it again keeps the CA (pinned devices keep working) and adds client certificates', async () => {
    const before = file('ca.crt').toString();
    const again = await initLocalCa({ outDir: join(dir, 'data', 'tls'), noServer: true, clients: ['scale-1'], ...(OPENSSL ? { openssl: OPENSSL } : {}) });
    expect(file('ca.crt').toString()).toBe(before);
    expect(new X509Certificate(readFileSync(again.clients[0]!.cert)).verify(new X509Certificate(before).publicKey)).toBe(true);
  });
});
