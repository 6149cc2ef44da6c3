/**
 * The `packline` command as an operator types it: whatever the input, a coded one-line error
 * and an exit code, never a stack trace; `config check` draws the label templates; `sync
 * status` names the cloud the running gateway syncs to (running.json), not only the config's.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { PROVISIONING_NOTE } from '../../src/broker/provisioning.js';
import { removeRunningFile, writeRunningFile } from '../../src/cli/running-file.js';
import { startChildGateway } from '../support/child-gateway.js';
import { runCli } from '../support/cli.js';
import { floorConfig } from '../support/floor.js';

const dir = mkdtempSync(join(tmpdir(), 'pkl-cli-input-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const STACK = /\n\s+at .+\(|\n\s+at .+:\d+:\d+/;

describe('bad command-line input', () => {
  const cases: [string[], number, RegExp][] = [
    [['sync', 'retry', 'abc'], 1, /^error PKL_PAYLOAD_INVALID: .*not an event seq.*"abc"/],
    [['sync', 'retry', '1.5'], 1, /^error PKL_PAYLOAD_INVALID: /],
    [['sync', 'retry', '-3'], 1, /^error PKL_PAYLOAD_INVALID/],
    [['print', 'exceptions', '--limit', 'lots'], 1, /^error PKL_PAYLOAD_INVALID: .*--limit/],
    [['device', 'rotate-secret', 'no-such-device'], 1, /^error PKL_DEVICE_UNKNOWN/],
    [['sync', 'nonsense'], 2, /error: unknown command|error:/],
  ];
  for (const [args, code, stderr] of cases) {
    it(`packline ${args.join(' ')} → exit ${code}, a coded line, no stack trace`, async () => {
      const r = await runCli(dir, args);
      expect(r.code).toBe(code);
      expect(r.stderr).toMatch(stderr);
      expect(r.stderr + r.stdout).not.toMatch(STACK);
    });
  }
});

describe('provisioning.json', () => {
  it('its note names a command that exists', async () => {
    const cmd = /`packline ([a-z-]+(?: [a-z-]+)*) <id>`/.exec(PROVISIONING_NOTE)?.[1];
    expect(cmd).toBe('device rotate-secret');
    const r = await runCli(dir, [...(cmd as string).split(' '), '--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('Usage: packline device rotate-secret');
  });
});

describe('packline config check', () => {
  it('fails naming the template error and the fix when the label font cannot be used', async () => {
    const r = await runCli(dir, ['config', 'check'], { env: { PACKLINE_PRINTING__TEMPLATES__FONT: '/nonexistent/label-font.ttc' } });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('error PKL_TEMPLATE_FONT_INVALID');
    expect(r.stderr).toContain('fix: set printing.templates.font');
    expect(r.stderr).not.toMatch(STACK);
  });

  it('passes with the bundled font', async () => {
    const r = await runCli(dir, ['config', 'check']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^config ok/);
  });
});

describe('packline start with a label font that cannot be used', () => {
  it('starts, and says once at start-up what will fail and how to fix it', async () => {
    const dataDir = join(dir, 'bad-font');
    const configFile = join(dir, 'bad-font.json');
    writeFileSync(
      configFile,
      JSON.stringify(
        floorConfig(dataDir, { stations: 1, lines: 0 }, { log: { level: 'info' }, printing: { templates: { font: '/nonexistent/label-font.ttc' } } }),
      ),
    );
    const g = await startChildGateway(configFile, dataDir);
    try {
      await new Promise((r) => setTimeout(r, 500));
      const lines = g
        .output()
        .split('\n')
        .filter((l) => l.includes('labels will fail'));
      expect(lines).toHaveLength(1);
      expect(lines[0]).toContain('PKL_TEMPLATE_FONT_INVALID');
      expect(lines[0]).toContain('fix: set printing.templates.font');
    } finally {
      g.proc.kill('SIGTERM');
      await g.exited;
    }
  });
});

describe('packline sync status', () => {
  it('without a running gateway: not configured, and says the gateway is not running', async () => {
    const r = await runCli(dir, ['sync', 'status']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^cloud\s+\(not configured: sync\.url; the gateway is not running\)$/m);
  });

  it("with a gateway syncing to the simulated floor's cloud: that cloud", async () => {
    writeRunningFile(dir, {
      pid: process.pid,
      started_at: new Date().toISOString(),
      http_url: 'http://127.0.0.1:1',
      sync_url: 'http://127.0.0.1:45407',
      sync_source: 'simulated',
    });
    try {
      const r = await runCli(dir, ['sync', 'status', '--json']);
      const s = JSON.parse(r.stdout) as { cloud: string; cloud_note: string };
      expect(s.cloud).toBe('http://127.0.0.1:45407');
      expect(s.cloud_note).toContain("simulated floor's cloud");
    } finally {
      removeRunningFile(dir);
    }
  });
});
