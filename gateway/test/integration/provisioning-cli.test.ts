/**
 * An integrator with docs/mqtt.md, the `packline` CLI and Debian's mosquitto_pub/mosquitto_sub
 * alone: a gateway started with no station in its config, a station and its three devices
 * added with the CLI while it runs (no restart, no file edited), and a parcel shipped by
 * publishing exactly what the contract says. Also the same station over the HTTP API, and a
 * station's alerts reaching its scanner when it has no display (docs/mqtt.md §2).
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parsePlaintextConfig } from '../support/plaintext.js';
import { Gateway, type GatewayInfo } from '../../src/gateway.js';
import { createLogger } from '../../src/lib/logger.js';
import { runCli } from '../support/cli.js';
import { importOrders, wireOrder, wireOrderGrams } from '../support/floor.js';
import { skipWithout } from '../../../test-peers/peers.js';

const MOSQ_PUB = '/usr/bin/mosquitto_pub';
const MOSQ_SUB = '/usr/bin/mosquitto_sub';
// Under CI the Debian clients must be there: the test then fails instead of skipping; elsewhere
// the skip is named in npm test's closing line (test-peers/peers.ts).
const RUN = !skipWithout(import.meta.url, 'mosquitto-clients');
const execFileP = promisify(execFile);

let dir: string;
let gateway: Gateway;
let info: GatewayInfo;
let port: string;
const subs: ChildProcess[] = [];

/** mosquitto_sub as a device: every `topic payload` line it prints. */
function sub(id: string, secret: string, topics: string[]): { lines: string[]; ready: Promise<void> } {
  const args = ['-h', '127.0.0.1', '-p', port, '-i', `${id}:sub`, '-u', id, '-P', secret, '-q', '1', '-v'];
  for (const t of topics) args.push('-t', t);
  const p = spawn(MOSQ_SUB, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  subs.push(p);
  const lines: string[] = [];
  let buf = '';
  p.stdout.on('data', (d: Buffer) => {
    buf += d.toString();
    const parts = buf.split('\n');
    buf = parts.pop() ?? '';
    lines.push(...parts.filter((l) => l.length > 0));
  });
  // mosquitto_sub prints nothing on SUBACK; give it a moment to connect and subscribe.
  return { lines, ready: new Promise((r) => setTimeout(r, 700)) };
}

async function pub(id: string, secret: string, topic: string, payload: unknown, extra: string[] = []): Promise<void> {
  await execFileP(MOSQ_PUB, [
    '-h',
    '127.0.0.1',
    '-p',
    port,
    '-i',
    `${id}:pub`,
    '-u',
    id,
    '-P',
    secret,
    '-q',
    '1',
    '-t',
    topic,
    '-m',
    JSON.stringify(payload),
    ...extra,
  ]);
}

async function line(lines: string[], match: (topic: string, body: Record<string, unknown>) => boolean, what: string): Promise<Record<string, unknown>> {
  const t0 = Date.now();
  for (;;) {
    for (const l of lines) {
      const i = l.indexOf(' ');
      const topic = l.slice(0, i);
      let body: Record<string, unknown>;
      try {
        body = JSON.parse(l.slice(i + 1)) as Record<string, unknown>;
      } catch {
        continue;
      }
      if (match(topic, body)) return body;
    }
    if (Date.now() - t0 > 30_000) throw new Error(`timed out waiting for ${what}; got:\n${lines.join('\n')}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function cli(args: string[]): Promise<string> {
  const r = await runCli(dir, args);
  if (r.code !== 0) throw new Error(`packline ${args.join(' ')} → ${r.code}: ${r.stderr}`);
  return r.stdout;
}

const secretOf = (stdout: string) => stdout.trim().split('\t')[1] as string;

describe.skipIf(!RUN)('a station provisioned with the CLI ships a parcel driven by mosquitto_pub/sub (skipped: Debian mosquitto-clients not installed)', () => {
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'pkl-prov-'));
    const config = parsePlaintextConfig({
      gatewayId: 'gw-prov',
      dataDir: dir,
      log: { level: 'silent' },
      mqtt: { host: '127.0.0.1', port: 0 },
      http: { host: '127.0.0.1', port: 0 },
      storage: { minFreeMb: 0 },
    });
    gateway = new Gateway(config, createLogger('silent'));
    await gateway.start();
    info = gateway.info();
    port = new URL(info.mqttUrl as string).port;
    expect((await importOrders(info.httpUrl, info.tokens.admin, [wireOrder('O-9001'), wireOrder('O-9002', { flags: { cancelled: true } })])).status).toBe(200);
  }, 60_000);

  afterAll(async () => {
    for (const p of subs) p.kill();
    await gateway?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('station add + device add --station, no restart; scan → items → weight → label → printed → shipped', async () => {
    expect(await cli(['station', 'add', 'st-9'])).toMatch(/st-9\twaiting for scanner, scale, printer/);
    const scanner = secretOf(await cli(['device', 'add', 'st-9-scanner', '--role', 'scanner', '--station', 'st-9']));
    const scale = secretOf(await cli(['device', 'add', 'st-9-scale', '--role', 'scale', '--station', 'st-9']));
    const printer = secretOf(await cli(['device', 'add', 'st-9-printer', '--role', 'printer', '--station', 'st-9']));
    expect(await cli(['station', 'list'])).toMatch(/st-9\s+cli\/api\s+running\s+st-9-scanner\s+st-9-scale\s+st-9-printer/);

    // §2: devices subscribe to their command, ack and err topics, then announce themselves.
    const scannerIn = sub('st-9-scanner', scanner, ['dev/st-9-scanner/ack', 'dev/st-9-scanner/err', 'dev/st-9-scanner/cmd/+']);
    const printerIn = sub('st-9-printer', printer, ['dev/st-9-printer/cmd/+', 'dev/st-9-printer/ack']);
    await Promise.all([scannerIn.ready, printerIn.ready]);
    await pub('st-9-printer', printer, 'dev/st-9-printer/state', { state: 'online' }, ['-r']);

    // The station is running without a restart (GET /api/v1/stations lists it).
    const t0 = Date.now();
    for (;;) {
      const list = (await (await fetch(`${info.httpUrl}/api/v1/stations`, { headers: { authorization: `Bearer ${info.tokens.station}` } })).json()) as {
        stations: Array<{ station_id: string }>;
      };
      if (list.stations.some((s) => s.station_id === 'st-9')) break;
      if (Date.now() - t0 > 20_000) throw new Error('st-9 never appeared in GET /api/v1/stations');
      await new Promise((r) => setTimeout(r, 200));
    }

    await pub('st-9-scale', scale, 'dev/st-9-scale/evt/weight', { grams: 0, stable: true });
    await pub('st-9-scanner', scanner, 'dev/st-9-scanner/evt/scan', { msg_id: 'c-1', code: 'O-9001' });
    expect(typeof (await line(scannerIn.lines, (t, b) => t === 'dev/st-9-scanner/ack' && b.msg_id === 'c-1', 'ack of the order scan')).seq).toBe('number');
    for (const [i, code] of ['6901234567892', '6909876543210', '6909876543210'].entries()) {
      await pub('st-9-scanner', scanner, 'dev/st-9-scanner/evt/scan', { msg_id: `c-i${i}`, code });
      await line(scannerIn.lines, (t, b) => t === 'dev/st-9-scanner/ack' && b.msg_id === `c-i${i}`, `ack of item ${i}`);
    }
    await pub('st-9-scale', scale, 'dev/st-9-scale/evt/weight', { grams: wireOrderGrams(wireOrder('O-9001')) + 3, stable: true });
    const job = await line(printerIn.lines, (t) => t === 'dev/st-9-printer/cmd/print', 'the print job');
    expect(String(job.data)).toContain('^XA');
    await pub('st-9-printer', printer, 'dev/st-9-printer/evt/print_result', { msg_id: 'p-1', job_id: job.job_id, status: 'printed' });
    await line(printerIn.lines, (t, b) => t === 'dev/st-9-printer/ack' && b.msg_id === 'p-1', 'ack of the print result');

    const shipments = (await (
      await fetch(`${info.httpUrl}/api/v1/shipments?order=O-9001`, { headers: { authorization: `Bearer ${info.tokens.station}` } })
    ).json()) as { shipments: Array<{ state: string; station_id?: string }> };
    expect(shipments.shipments.map((s) => s.state)).toEqual(['shipped']);

    // docs/mqtt.md §2: a station without a display shows its alerts on its scanner.
    await pub('st-9-scanner', scanner, 'dev/st-9-scanner/evt/scan', { msg_id: 'c-x', code: 'O-9002' });
    const err = await line(scannerIn.lines, (t, b) => t === 'dev/st-9-scanner/err' && b.msg_id === 'c-x', 'the intercept error');
    expect(err.code).toBe('PKL_INTERCEPT_CANCELLED');
    const shown = await line(scannerIn.lines, (t, b) => t === 'dev/st-9-scanner/cmd/display' && b.level === 'alert', 'the alert on the scanner');
    expect(String(shown.text)).toMatch(/cancel/i);
    expect(String(shown.text_zh).length).toBeGreaterThan(0);
  });

  it('the same over the HTTP API (admin token): list, change, remove; removal closes the station at once', async () => {
    const auth = { authorization: `Bearer ${info.tokens.admin}`, 'content-type': 'application/json' };
    const denied = await fetch(`${info.httpUrl}/api/v1/provisioned-stations/st-10`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${info.tokens.station}`, 'content-type': 'application/json' },
      body: '{}',
    });
    expect(denied.status).toBe(403);
    const put = await fetch(`${info.httpUrl}/api/v1/provisioned-stations/st-10`, {
      method: 'PUT',
      headers: auth,
      body: JSON.stringify({ scanner: 'st-9-scanner', scale: 'st-9-scale', printer: 'st-9-printer', channel: 2 }),
    });
    expect(put.status).toBe(200);
    expect(await put.json()).toMatchObject({ station_id: 'st-10', running: true, missing: [], scanner: 'st-9-scanner' });
    const list = (await (await fetch(`${info.httpUrl}/api/v1/provisioned-stations`, { headers: auth })).json()) as { stations: Array<{ station_id: string }> };
    expect(list.stations.map((s) => s.station_id)).toEqual(['st-10', 'st-9']);
    const stations = (await (await fetch(`${info.httpUrl}/api/v1/stations`, { headers: auth })).json()) as { stations: Array<{ station_id: string }> };
    expect(stations.stations.map((s) => s.station_id)).toContain('st-10');

    const bad = await fetch(`${info.httpUrl}/api/v1/provisioned-stations/st-11`, {
      method: 'PUT',
      headers: auth,
      body: JSON.stringify({ scanner: 'no such/id' }),
    });
    expect(bad.status).toBe(400);

    const del = { authorization: auth.authorization };
    expect((await fetch(`${info.httpUrl}/api/v1/provisioned-stations/st-10`, { method: 'DELETE', headers: del })).status).toBe(200);
    const after = (await (await fetch(`${info.httpUrl}/api/v1/stations`, { headers: auth })).json()) as { stations: Array<{ station_id: string }> };
    expect(after.stations.map((s) => s.station_id)).not.toContain('st-10');
    const again = await fetch(`${info.httpUrl}/api/v1/provisioned-stations/st-10`, { method: 'DELETE', headers: del });
    expect(again.status).toBe(404);
    expect(((await again.json()) as { error: { code: string } }).error.code).toBe('PKL_STATION_UNKNOWN');
  });

  it('packline station remove takes effect without a restart', async () => {
    expect(await cli(['station', 'remove', 'st-9'])).toContain('removed st-9');
    const t0 = Date.now();
    for (;;) {
      const list = (await (await fetch(`${info.httpUrl}/api/v1/stations`, { headers: { authorization: `Bearer ${info.tokens.station}` } })).json()) as {
        stations: Array<{ station_id: string }>;
      };
      if (!list.stations.some((s) => s.station_id === 'st-9')) break;
      if (Date.now() - t0 > 20_000) throw new Error('st-9 still listed after packline station remove');
      await new Promise((r) => setTimeout(r, 200));
    }
    const r = await runCli(dir, ['station', 'remove', 'st-9']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('PKL_STATION_UNKNOWN');
  });
});
