/**
 * Debian's mosquitto as a real peer for tests: anonymous, no persistence, on a free loopback
 * port. Missing mosquitto fails the test; callers skip first on a developer's machine (test-peers/peers.ts).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { createServer, connect } from 'node:net';
import { join } from 'node:path';

export const MOSQUITTO = '/usr/sbin/mosquitto';

export interface Mosquitto {
  port: number;
  url: string;
  start(): Promise<void>;
  stop(): Promise<void>;
  log(): string;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      s.close(() => (typeof a === 'object' && a !== null ? resolve(a.port) : reject(new Error('no port'))));
    });
  });
}

function portOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const c = connect(port, '127.0.0.1');
    c.once('connect', () => (c.destroy(), resolve(true)));
    c.once('error', () => resolve(false));
  });
}

export async function mosquitto(dir: string): Promise<Mosquitto> {
  if (!existsSync(MOSQUITTO)) throw new Error(`${MOSQUITTO} is missing: apt-get install mosquitto`);
  const port = await freePort();
  const conf = join(dir, 'mosquitto.conf');
  writeFileSync(
    conf,
    [
      'allow_anonymous true',
      'persistence false',
      `listener ${port} 127.0.0.1`,
      // Started as root, mosquitto 2 drops to user `mosquitto`, which cannot read a 0700 temp dir.
      ...(process.getuid?.() === 0 ? ['user root'] : []),
      'log_dest stderr',
      'log_type error',
      '',
    ].join('\n'),
  );
  let proc: ChildProcess | null = null;
  let out = '';
  return {
    port,
    url: `mqtt://127.0.0.1:${port}`,
    log: () => out,
    async start() {
      const p = spawn(MOSQUITTO, ['-c', conf], { stdio: ['ignore', 'pipe', 'pipe'] });
      proc = p;
      p.stderr?.on('data', (d: Buffer) => (out += d.toString()));
      const t0 = Date.now();
      while (!(await portOpen(port))) {
        if (p.exitCode !== null) throw new Error(`mosquitto exited ${p.exitCode}: ${out}`);
        if (Date.now() - t0 > 20_000) throw new Error(`mosquitto did not listen: ${out}`);
        await new Promise((r) => setTimeout(r, 50));
      }
    },
    async stop() {
      const p = proc;
      proc = null;
      if (p === null || p.exitCode !== null) return;
      await new Promise<void>((resolve) => {
        p.once('exit', () => resolve());
        p.kill('SIGTERM');
      });
    },
  };
}
