/**
 * External-broker mode against Debian's real mosquitto 2.x: the generated password_file and
 * acl_file, the ExternalLink (events in, commands out, presence, reconnect + resubscribe) and
 * the ACL refusing a scanner's forged print command. mosquitto missing: skipped on a developer's machine (named in the run's last line), a FAILED test under CI=true (test-peers/peers.ts).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { createConnection, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { skipWithout } from '../../../test-peers/peers.js';
import { ExternalLink } from '../../src/broker/external-link.js';
import type { InboundMessage } from '../../src/broker/link.js';
import { mosquittoPasswordHash, writeMosquittoConfig } from '../../src/broker/mosquitto-config.js';
import { DeviceProvisioner, type DeviceRegistry } from '../../src/broker/provisioning.js';
import type { DeviceRecord } from '../../src/storage/types.js';
import { client, collect, run, silentLogger, waitFor } from './broker-helpers.js';

const MOSQUITTO = '/usr/sbin/mosquitto';
const MOSQUITTO_PASSWD = '/usr/bin/mosquitto_passwd';
const MOSQ_PUB = '/usr/bin/mosquitto_pub';

function memoryRegistry(): DeviceRegistry {
  const rows = new Map<string, DeviceRecord>();
  return {
    getDevice: (id) => rows.get(id) ?? null,
    listDevices: () => [...rows.values()],
    putDevice: async (rec) => void rows.set(rec.deviceId, { ...rec }),
    deleteDevice: async (id) => void rows.delete(id),
  };
}

async function freePort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const port = (srv.address() as { port: number }).port;
  await new Promise<void>((r) => srv.close(() => r()));
  return port;
}

async function portOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createConnection({ host: '127.0.0.1', port }, () => {
      s.destroy();
      resolve(true);
    });
    s.on('error', () => resolve(false));
  });
}

describe.skipIf(skipWithout(import.meta.url, 'mosquitto', 'mosquitto-clients'))('external broker mode with Debian mosquitto', () => {
  let dir: string;
  let port: number;
  let confFile: string;
  let mosq: ChildProcess | null = null;
  let mosqLog = '';
  let secrets: Record<string, string>;
  let link: ExternalLink;
  const opened: MqttClient[] = [];

  async function startMosquitto(): Promise<void> {
    mosq = spawn(MOSQUITTO, ['-c', confFile], { stdio: ['ignore', 'pipe', 'pipe'] });
    mosq.stderr?.on('data', (d: Buffer) => (mosqLog += d.toString()));
    mosq.stdout?.on('data', (d: Buffer) => (mosqLog += d.toString()));
    const start = Date.now();
    while (!(await portOpen(port))) {
      if (mosq.exitCode !== null) throw new Error(`mosquitto exited ${mosq.exitCode}: ${mosqLog}`);
      if (Date.now() - start > 20_000) throw new Error(`mosquitto did not listen: ${mosqLog}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  async function stopMosquitto(): Promise<void> {
    const p = mosq;
    mosq = null;
    if (!p || p.exitCode !== null) return;
    await new Promise<void>((resolve) => {
      p.once('exit', () => resolve());
      p.kill('SIGTERM');
    });
  }

  beforeAll(async () => {
    // Under CI=true the block runs without a skip, so a missing mosquitto fails here loudly.
    for (const bin of [MOSQUITTO, MOSQUITTO_PASSWD, MOSQ_PUB]) {
      if (!existsSync(bin)) throw new Error(`${bin} is missing: apt-get install mosquitto mosquitto-clients`);
    }
    dir = await mkdtemp(join(tmpdir(), 'pkl-mosq-'));
    const registry = memoryRegistry();
    const provisioner = new DeviceProvisioner(registry, { dataDir: dir });
    await provisioner.addDevice('svc', 'service');
    await provisioner.addDevice('scanner-1', 'scanner', 'st-1');
    await provisioner.addDevice('printer-1', 'printer', 'st-1');
    const files = await writeMosquittoConfig({ registry, provisioner, outDir: join(dir, 'mosquitto') });
    secrets = files.secrets;
    expect((await stat(files.passwordFile)).mode & 0o777).toBe(0o600);
    port = await freePort();
    confFile = join(dir, 'mosquitto.conf');
    await writeFile(
      confFile,
      [
        `listener ${port} 127.0.0.1`,
        'allow_anonymous false',
        `password_file ${files.passwordFile}`,
        `acl_file ${files.aclFile}`,
        'persistence false',
        // Started as root, mosquitto 2 drops to user `mosquitto`, which cannot read our 0600
        // files in a 0700 temp dir; stay as the test's own user instead. (Deployments chown the
        // generated files to the mosquitto user; see docs/mqtt.md.)
        ...(process.getuid?.() === 0 ? ['user root'] : []),
        'log_dest stderr',
        'log_type error',
        'log_type warning',
        '',
      ].join('\n'),
    );
    await startMosquitto();
    link = new ExternalLink({
      gatewayId: 'gw-ext',
      external: { url: `mqtt://127.0.0.1:${port}`, username: 'svc', password: secrets.svc, clientId: 'svc' },
      logger: silentLogger(),
      backoff: { minMs: 100, maxMs: 1000 },
    });
    await link.start();
    await link.onceConnected();
  });

  afterAll(async () => {
    await Promise.all(opened.map((c) => c.endAsync(true).catch(() => undefined)));
    await link?.stop();
    await stopMosquitto();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  const device = async (id: string) => {
    const user = id.split(':')[0] as string;
    const c = await client(`mqtt://127.0.0.1:${port}`, { clientId: id, username: user, password: secrets[user] });
    opened.push(c);
    return c;
  };

  it('writes password lines in the format Debian mosquitto_passwd writes', async () => {
    const pwFile = join(dir, 'reference.pw');
    const r = await run(MOSQUITTO_PASSWD, ['-c', '-b', pwFile, 'alice', 's3cret-Ü']);
    expect(r.code, r.stderr).toBe(0);
    const line = (await readFile(pwFile, 'utf8')).trim();
    const m = /^alice:\$7\$(\d+)\$([^$]+)\$([^$]+)$/.exec(line);
    expect(m, line).not.toBeNull();
    const ours = await mosquittoPasswordHash('s3cret-Ü', { iterations: Number(m![1]), salt: Buffer.from(m![2]!, 'base64') });
    expect(`alice:${ours}`).toBe(line);
  });

  it('device event → link; link command → device', async () => {
    const events: InboundMessage[] = [];
    await link.subscribe('dev/+/evt/+', (msg) => events.push(msg));
    const scanner = await device('scanner-1');
    await scanner.publishAsync('dev/scanner-1/evt/scan', JSON.stringify({ code: 'EXT-1' }), { qos: 1 });
    await waitFor(() => events.length > 0, 'event at the external link');
    expect(events[0]).toMatchObject({ topic: 'dev/scanner-1/evt/scan', qos: 1 });
    expect(JSON.parse(events[0]!.payload.toString())).toEqual({ code: 'EXT-1' });

    const printer = await device('printer-1');
    const got = collect(printer);
    await printer.subscribeAsync('dev/printer-1/cmd/+', { qos: 1 });
    await link.publish('dev/printer-1/cmd/print', JSON.stringify({ job_id: 'j1', format: 'zpl', data: '^XA^XZ', copies: 1 }));
    await waitFor(() => got.length > 0, 'command at the printer');
    expect(JSON.parse(got[0]!.payload).job_id).toBe('j1');
  });

  it('the generated ACL stops a scanner publishing a print command or reading another device', async () => {
    const printer = await device('printer-1:acl');
    const got = collect(printer);
    await printer.subscribeAsync('dev/printer-1/cmd/+', { qos: 1 });
    const forged = await run(MOSQ_PUB, [
      '-h',
      '127.0.0.1',
      '-p',
      String(port),
      '-i',
      'scanner-1-forge',
      '-u',
      'scanner-1',
      '-P',
      secrets['scanner-1']!,
      '-t',
      'dev/printer-1/cmd/print',
      '-q',
      '1',
      '-m',
      JSON.stringify({ job_id: 'evil' }),
    ]);
    expect(forged.code).toBe(0); // acknowledged and dropped, as MQTT 3.1.1 §3.3.5 allows
    await link.publish('dev/printer-1/cmd/print', JSON.stringify({ job_id: 'sentinel' }));
    await waitFor(() => got.length > 0, 'sentinel');
    expect(got.map((m) => JSON.parse(m.payload).job_id)).toEqual(['sentinel']);

    // mosquitto 2.0's acl_file check does not refuse SUBSCRIBE (security_default.c answers
    // "success" for MOSQ_ACL_SUBSCRIBE); it applies the read ACL to every delivery instead. So
    // the subscription is granted but nothing for printer-1 may ever reach the scanner.
    const scanner = await device('scanner-1');
    const spied = collect(scanner);
    await scanner.subscribeAsync(['dev/printer-1/cmd/+', 'dev/scanner-1/cmd/+'], { qos: 1 });
    await link.publish('dev/printer-1/cmd/print', JSON.stringify({ job_id: 'secret-job' }));
    await link.publish('dev/scanner-1/cmd/display', JSON.stringify({ text: 'own' }));
    await waitFor(() => spied.length > 0, 'scanner sentinel');
    await waitFor(() => got.length > 1, 'printer got its second job'); // the secret job did go out
    expect(spied.map((m) => m.topic)).toEqual(['dev/scanner-1/cmd/display']);
  });

  it('estimates presence from retained device state', async () => {
    const scanner = await device('scanner-1');
    await scanner.publishAsync('dev/scanner-1/state', JSON.stringify({ state: 'online' }), { qos: 1, retain: true });
    await waitFor(() => link.connectedDevices().has('scanner-1'), 'scanner online');
    await scanner.publishAsync('dev/scanner-1/state', JSON.stringify({ state: 'offline' }), { qos: 1, retain: true });
    await waitFor(() => !link.connectedDevices().has('scanner-1'), 'scanner offline');
  });

  it('reconnects with backoff and resubscribes after the broker restarts', async () => {
    const events: InboundMessage[] = [];
    await link.subscribe('dev/scanner-1/evt/scan', (msg) => events.push(msg));
    for (const c of opened.splice(0)) await c.endAsync(true).catch(() => undefined);
    await stopMosquitto();
    await waitFor(() => !link.isConnected(), 'link to notice the broker is gone');
    await startMosquitto(); // persistence false: the broker forgot every session
    await link.onceConnected();
    const scanner = await device('scanner-1');
    await scanner.publishAsync('dev/scanner-1/evt/scan', JSON.stringify({ code: 'AFTER-RESTART' }), { qos: 1 });
    await waitFor(() => events.some((e) => e.payload.toString().includes('AFTER-RESTART')), 'event after restart');
  });
});
