/**
 * `packline start --sim` as a user runs it (what `npm start` does after the build): the
 * gateway, the simulated floor and the simulated cloud come up as separate processes,
 * parcels ship, the outbox drains to the cloud, and Ctrl-C (SIGINT) stops all of them. The
 * default config is encrypted (docs/security.md): the banner gives https:// URLs and the local
 * CA, the simulated devices connect over MQTT/TLS trusting that CA (plaintext MQTT is off in
 * this run, so nothing else would ship), and the API is asked over HTTPS with it.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, expect, it } from 'vitest';
import { localRequest } from '../../src/tls/local-request.js';
import { runCli } from '../support/cli.js';
import { until } from '../support/sync-rig.js';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const dir = mkdtempSync(join(tmpdir(), 'pkl-start-'));

afterAll(() => rmSync(dir, { recursive: true, force: true }));

function freePort(): Promise<number> {
  return new Promise((ok, fail) => {
    const s = createServer();
    s.once('error', fail);
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      s.close(() => (typeof a === 'object' && a !== null ? ok(a.port) : fail(new Error('no port'))));
    });
  });
}

it('runs the gateway, the floor and the cloud; ships, syncs, and stops on Ctrl-C', async () => {
  const [http, mqtt, mqtts] = [await freePort(), await freePort(), await freePort()];
  const proc = spawn(
    process.execPath,
    [join(repoRoot, 'bin/packline.js'), '--data-dir', dir, 'start', '--sim', '--sim-every', '0.5', '--sim-wire-scale', 'none'],
    {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: {
        ...process.env,
        PACKLINE_RUN_FROM: 'source',
        PACKLINE_HTTP__PORT: String(http),
        PACKLINE_MQTT__PORT: String(mqtt),
        PACKLINE_MQTT__TLS__PORT: String(mqtts),
        PACKLINE_MQTT__PLAINTEXT: 'false',
      },
    },
  );
  let out = '';
  proc.stdout.on('data', (b: Buffer) => (out += b.toString()));
  proc.stderr.on('data', (b: Buffer) => (out += b.toString()));
  const exited = new Promise<number | null>((ok) => proc.once('exit', (code) => ok(code)));
  try {
    await until('the banner', () => /Cloud \(sim\)\s+http:\/\/127\.0\.0\.1:\d+/.test(out), 90_000);
    const token = (JSON.parse(readFileSync(join(dir, 'api-tokens.json'), 'utf8')) as { admin: string }).admin;
    const caFile = join(dir, 'tls', 'ca.crt');
    const ca = readFileSync(caFile);
    const get = (path: string) => localRequest(`https://127.0.0.1:${http}${path}`, { headers: { authorization: `Bearer ${token}` }, ca, timeoutMs: 10_000 });
    const status = await until(
      'shipments synced to the simulated cloud',
      async () => {
        const s = (await get('/api/v1/sync')).json<{ link: { state: string; acked_seq: number }; outbox: { events_sent: number } }>();
        const any = (await get('/api/v1/shipments?state=shipped&limit=1')).json<{ shipments: unknown[] }>().shipments.length > 0;
        return any && s.link.state === 'online' && s.link.acked_seq > 0 ? s : null;
      },
      90_000,
    );
    expect(status.outbox.events_sent).toBeGreaterThan(0);
    // The floor picks: its PDA works waves of one shop's orders (simulators/src/floor/picker.ts).
    const picking = await until(
      'a unit picked on the simulated floor',
      async () => {
        const s = (await get('/api/v1/picking/summary')).json<{ picked: number; waves: { picking: number; closed: number } }>();
        return s.picked > 0 ? s : null;
      },
      90_000,
    );
    expect(picking.waves.picking + picking.waves.closed).toBeGreaterThan(0);
    // The banner names the screens, with the token for this local demo.
    const tokens = JSON.parse(readFileSync(join(dir, 'api-tokens.json'), 'utf8')) as { admin: string; station: string };
    expect(out).toContain(`Dashboard       https://127.0.0.1:${http}/ui/dashboard#token=${tokens.admin}`);
    expect(out).toMatch(new RegExp(`Station screens https://127\\.0\\.0\\.1:${http}/ui/station/st-1#token=${tokens.station}`));
    expect(out).toContain(`MQTT/TLS        mqtts://127.0.0.1:${mqtts}`);
    expect(out).toContain(`Local CA        ${caFile}`);
    // Plaintext MQTT is off in this run, so the parcels above prove the simulated devices use TLS.
    expect(out).toContain('MQTT            (plaintext off: mqtt.plaintext)');
    // Not a terminal: JSON log records, ISO timestamps only; the floor summary among them.
    const summary = await until('a floor summary line', () => /"msg":"floor: \d+ shipped[^"]*intercepted[^"]*held[^"]*sync backlog/.exec(out), 30_000);
    expect(summary[0]).toBeTruthy();
    const times = [...out.matchAll(/"time":("[^"]*"|\d+)/g)].map((m) => m[1] as string);
    expect(times.length).toBeGreaterThan(0);
    expect(times.filter((t) => !/^"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z"$/.test(t))).toEqual([]);
    // `packline sync status` names the cloud this gateway syncs to.
    const cli = await runCli(dir, ['sync', 'status']);
    expect(cli.stdout).toMatch(/^cloud\s+http:\/\/127\.0\.0\.1:\d+ {2}\(the simulated floor's cloud; gateway pid \d+ is syncing to it\)$/m);
    expect(cli.stdout).not.toContain('not configured');
  } finally {
    proc.kill('SIGINT');
  }
  expect(await exited).toBe(0);
  // The floor and the cloud went with it.
  const pids = out.match(/"pid":(\d+)/g) ?? [];
  for (const p of new Set(pids.map((m) => Number(m.slice(6))))) {
    if (p === proc.pid) continue;
    expect(() => process.kill(p, 0)).toThrow();
  }
}, 180_000);
