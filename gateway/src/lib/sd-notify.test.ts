/**
 * sd_notify through the real systemd-notify tool, received on a real AF_UNIX datagram socket
 * (bound by python3, standing in for systemd's end: Node cannot bind one).
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { SdNotify } from './sd-notify.js';

const haveTools = spawnSync('python3', ['--version']).status === 0 && spawnSync('systemd-notify', ['--help']).error === undefined;

const RECEIVER = `
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
print("bound", flush=True)
while True:
    print(repr(s.recv(4096).decode()), flush=True)
`;

let receiver: ChildProcess | null = null;
let dir: string | null = null;
afterEach(() => {
  receiver?.kill('SIGKILL');
  receiver = null;
  if (dir !== null) rmSync(dir, { recursive: true, force: true });
  dir = null;
});

async function listen(): Promise<{ socket: string; messages: string[] }> {
  dir = mkdtempSync(join(tmpdir(), 'pkl-sd-'));
  const socket = join(dir, 'notify');
  const messages: string[] = [];
  const proc = spawn('python3', ['-c', RECEIVER, socket], { stdio: ['ignore', 'pipe', 'inherit'] });
  receiver = proc;
  await new Promise<void>((ok) => {
    proc.stdout.on('data', (b: Buffer) => {
      for (const line of b.toString().split('\n')) {
        if (line === 'bound') ok();
        // systemd-notify follows each message with a BARRIER=1 (sd_notify_barrier(3)); not ours.
        else if (line.startsWith("'") && line !== "'BARRIER=1'") messages.push(line.slice(1, -1).replaceAll('\\n', '\n'));
      }
    });
  });
  return { socket, messages };
}

const until = async (cond: () => boolean) => {
  for (let i = 0; i < 200 && !cond(); i++) await new Promise((r) => setTimeout(r, 25));
};

describe('SdNotify', () => {
  it('does nothing without NOTIFY_SOCKET', async () => {
    const sd = new SdNotify({ env: {}, command: '/nonexistent/systemd-notify', onError: () => expect.fail('should not spawn') });
    expect(sd.enabled).toBe(false);
    expect(sd.watchdogIntervalMs()).toBeNull();
    await sd.ready();
    await sd.stopping();
  });

  it('reads the watchdog interval as half of WATCHDOG_USEC, for this PID only', () => {
    expect(new SdNotify({ env: { NOTIFY_SOCKET: '/x', WATCHDOG_USEC: '30000000' } }).watchdogIntervalMs()).toBe(15_000);
    expect(new SdNotify({ env: { NOTIFY_SOCKET: '/x', WATCHDOG_USEC: '30000000', WATCHDOG_PID: String(process.pid) } }).watchdogIntervalMs()).toBe(15_000);
    expect(new SdNotify({ env: { NOTIFY_SOCKET: '/x', WATCHDOG_USEC: '30000000', WATCHDOG_PID: '1' } }).watchdogIntervalMs()).toBeNull();
    expect(new SdNotify({ env: { WATCHDOG_USEC: '30000000' } }).watchdogIntervalMs()).toBeNull();
  });

  it.skipIf(!haveTools)('sends READY=1, WATCHDOG=1 pings and STOPPING=1 through systemd-notify', async () => {
    const { socket, messages } = await listen();
    const errors: Error[] = [];
    // WATCHDOG_USEC 200 ms → a ping every 100 ms.
    const sd = new SdNotify({ env: { ...process.env, NOTIFY_SOCKET: socket, WATCHDOG_USEC: '200000' }, onError: (e) => errors.push(e) });
    await sd.ready('2 stations');
    await until(() => messages.filter((m) => m === 'WATCHDOG=1').length >= 2);
    await sd.stopping();
    await until(() => messages.includes('STOPPING=1'));
    expect(errors).toEqual([]);
    expect(messages[0]).toBe('READY=1\nSTATUS=2 stations');
    expect(messages.filter((m) => m === 'WATCHDOG=1').length).toBeGreaterThanOrEqual(2);
    expect(messages.at(-1)).toBe('STOPPING=1');
  });

  it.skipIf(!haveTools)('stops feeding the watchdog while unhealthy', async () => {
    const { socket, messages } = await listen();
    let healthy = false;
    const sd = new SdNotify({ env: { ...process.env, NOTIFY_SOCKET: socket, WATCHDOG_USEC: '100000' }, healthy: () => healthy });
    await sd.ready();
    await new Promise((r) => setTimeout(r, 300));
    expect(messages.filter((m) => m === 'WATCHDOG=1')).toEqual([]);
    healthy = true;
    await until(() => messages.includes('WATCHDOG=1'));
    expect(messages).toContain('WATCHDOG=1');
    await sd.stopping();
  });
});
