/**
 * `packline preflight` against a running gateway with the simulated floor and a cloud (the
 * reference cloud, in process): the CLI asks the gateway's API (it never opens the database),
 * prints the checklist or JSON and exits 0 / 1 / 2 by the report's status. Then a printer
 * reports paper out and a shop's authorisation expires: both checks fail, exit 2.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli } from '../support/cli.js';
import { ReferenceCloud } from '../../../simulators/src/cloud/reference/reference-cloud.js';
import { type Floor, startFloor } from '../../../simulators/src/floor/floor.js';
import { parseConfig } from '../../src/config/load.js';
import { parsePlaintextConfig } from '../support/plaintext.js';
import { Gateway } from '../../src/gateway.js';
import { createLogger } from '../../src/lib/logger.js';
import type { PreflightReport } from '../../src/preflight/report.js';
import { simFloorScenario, withSimulatedFloor } from '../../src/sim/sim-config.js';

const dir = mkdtempSync(join(tmpdir(), 'pkl-preflight-'));
const KEY = 'preflight-test-key-0123456789abcdef';
let gateway: Gateway | null = null;
let floor: Floor | null = null;
let cloud: ReferenceCloud | null = null;

afterAll(async () => {
  await floor?.stop();
  await gateway?.stop();
  await cloud?.stop();
  rmSync(dir, { recursive: true, force: true });
});

const cli = (args: string[]) => runCli(join(dir, 'data'), ['preflight', ...args]);

const EXIT = { pass: 0, warn: 1, fail: 2 } as const;
const ALL_CHECKS = [
  'config',
  'label_templates',
  'devices',
  'printer-media',
  'scales',
  'scanners',
  'waybill-coverage',
  'shop-auth',
  'disk',
  'clock',
  'cloud',
  'encryption',
  'api-tokens',
  'handover',
  'consumables',
];

describe('packline preflight', () => {
  it('reports the simulated floor, then fails on paper out and an expired shop', async () => {
    cloud = new ReferenceCloud({ dbPath: join(dir, 'cloud.db'), gateways: { 'gw-01': KEY }, shopAuthorisations: { 'shop-a': Date.now() + 400 * 86_400_000 } });
    await cloud.start();
    writeFileSync(join(dir, 'sync.key'), KEY, { mode: 0o600 });
    const config = parsePlaintextConfig(
      withSimulatedFloor(
        parseConfig({
          dataDir: join(dir, 'data'),
          log: { level: 'silent' },
          mqtt: { host: '127.0.0.1', port: 0 },
          http: { host: '127.0.0.1', port: 0 },
          storage: { minFreeMb: 0 },
          sync: { url: cloud.url, keyFile: join(dir, 'sync.key') },
          preflight: { bufferFailHours: 0, bufferWarnHours: 0 },
          sim: { enabled: true, stations: 2, lines: 1, parcelEverySeconds: 0.2 },
        }),
        { wireStation: null },
      ),
    );
    gateway = new Gateway(config, createLogger('silent'));
    await gateway.start();
    const info = gateway.info();
    floor = await startFloor({
      mqttUrl: info.mqttUrl as string,
      httpUrl: info.httpUrl,
      adminToken: info.tokens.admin,
      credentials: info.provisioningFile,
      labelsDir: join(dir, 'labels'),
      scenario: simFloorScenario(config, null),
    });
    // Wait until every device is connected and parcels have shipped.
    const api = async (): Promise<PreflightReport> => {
      const res = await fetch(`${info.httpUrl}/api/v1/preflight`, { headers: { authorization: `Bearer ${info.tokens.station}` } });
      expect(res.status).toBe(200);
      return (await res.json()) as PreflightReport;
    };
    let report = await api();
    for (let i = 0; i < 120 && report.checks.find((c) => c.id === 'devices')?.status !== 'pass'; i++) {
      await new Promise((r) => setTimeout(r, 250));
      report = await api();
    }
    expect(report.checks.map((c) => c.id)).toEqual(ALL_CHECKS);
    const byId = Object.fromEntries(report.checks.map((c) => [c.id, c]));
    expect(byId['devices']?.status, byId['devices']?.detail).toBe('pass');
    expect(byId['cloud']?.status, byId['cloud']?.detail).toBe('pass');
    expect(byId['shop-auth']?.status, byId['shop-auth']?.detail).toBe('pass');
    expect(byId['clock']?.status, byId['clock']?.detail).not.toBe('fail');
    expect(byId['disk']?.data?.['bufferHours']).toBeGreaterThan(0);
    // This rig is plaintext on purpose (support/plaintext.ts): preflight says the credentials
    // travel in clear, with the fix.
    expect(byId['encryption']?.status).toBe('warn');
    expect(byId['encryption']?.detail).toMatch(/plaintext MQTT \(port \d+\) is open while \d+ device\(s\) log in with passwords/);
    expect(byId['encryption']?.detail).toContain('set mqtt.plaintext false');
    expect(byId['encryption']?.detail).toContain('the HTTP API and screens are served without TLS');

    // The CLI, text: a checklist whose exit code is the report's status.
    const text = await cli(['--url', info.httpUrl, '--token', info.tokens.station]);
    expect(text.stderr).toBe('');
    expect(text.stdout).toMatch(/^\[(PASS|WARN|FAIL)\] Devices reachable$/m);
    expect(text.stdout).toMatch(/^\[PASS\] Cloud reachable$/m);
    const result = /Result: (PASS|WARN|FAIL)/.exec(text.stdout)?.[1]?.toLowerCase() as keyof typeof EXIT;
    expect(text.code).toBe(EXIT[result]);

    // JSON, with a test page on every printer; the token comes from <dataDir>/api-tokens.json (admin).
    const json = await cli(['--json', '--test-print', '--url', info.httpUrl]);
    const full = JSON.parse(json.stdout) as PreflightReport;
    expect(full.checks.map((c) => c.id)).toEqual([...ALL_CHECKS, 'test-print']);
    const tp = full.checks.find((c) => c.id === 'test-print');
    expect(tp?.status, tp?.detail).toBe('pass');
    expect(json.code).toBe(EXIT[full.status]);

    // A printer runs out of paper (its retained state, as a driver reports it) and a shop's grant expires.
    const secret = (JSON.parse((await import('node:fs')).readFileSync(info.provisioningFile, 'utf8')) as { devices: Record<string, { secret: string }> })
      .devices['st-2-printer']?.secret;
    const client = await mqtt.connectAsync(info.mqttUrl as string, {
      clientId: 'st-2-printer:preflight-test',
      username: 'st-2-printer',
      password: secret,
      reconnectPeriod: 0,
    });
    await client.publishAsync('dev/st-2-printer/state', JSON.stringify({ state: 'error', reason: 'paper_out', ts: Date.now() }), { qos: 1, retain: true });
    await client.endAsync();
    const put = await fetch(`${cloud.url}/admin/shops/shop-a/authorisation`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ expires_at: Date.now() - 86_400_000, platform: 'tmall' }),
    });
    expect(put.status).toBe(200);

    const failing = await cli(['--url', info.httpUrl, '--token', info.tokens.admin]);
    expect(failing.code).toBe(2);
    expect(failing.stdout).toMatch(/^\[FAIL\] Printer media and ribbon\n {7}st-2-printer: paper_out$/m);
    expect(failing.stdout).toMatch(/^\[FAIL\] Shop authorisations/m);
    expect(failing.stdout).toContain('shop-a (tmall): EXPIRED');
    expect(failing.stdout).toContain('Result: FAIL');

    // The figures of the dashboard are on /metrics.
    const metrics = await (await fetch(`${info.httpUrl}/metrics`)).text();
    expect(metrics).toMatch(/^packline_printer_media_state\{printer="st-2-printer",state="paper_out"\} 1$/m);
    expect(metrics).toMatch(/^packline_device_online\{device="st-1-scanner",role="scanner"\} 1$/m);
    expect(metrics).toMatch(/^packline_parcels_shipped_total\{kind="station",id="st-1"\} \d+$/m);
    expect(metrics).toMatch(/^packline_preflight_status 2$/m);
    expect(metrics).toMatch(/^packline_exception_queue\{kind="print_failure"\} \d+$/m);
    expect(metrics).toMatch(/^packline_sync_lag_seconds \d/m);
    expect(metrics).toMatch(/^packline_waybill_coverage_ratio /m);
  }, 180_000);

  it('exits 3 when no gateway answers', async () => {
    const r = await cli(['--url', 'http://127.0.0.1:9', '--token', 'x'.repeat(32)]);
    expect(r.code).toBe(3);
    expect(r.stderr).toContain('PKL_PREFLIGHT_UNAVAILABLE');
  }, 60_000);
});
