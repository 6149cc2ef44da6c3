/**
 * Runs the real `packline start` in a child process (as systemd would) and finds its
 * ports from the start-up banner, so tests can SIGKILL and restart it.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PLAINTEXT_ENV } from './plaintext.js';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');

export interface ChildGateway {
  proc: ChildProcess;
  httpUrl: string;
  mqttUrl: string;
  tokens: { admin: string; station: string };
  secrets: Record<string, string>;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  output(): string;
}

export async function startChildGateway(configFile: string, dataDir: string, env: NodeJS.ProcessEnv = {}): Promise<ChildGateway> {
  const proc = spawn(process.execPath, [join(repoRoot, 'bin/packline.js'), 'start', '--config', configFile], {
    stdio: ['ignore', 'pipe', 'pipe'],
    // Plaintext unless the caller's env says otherwise (support/plaintext.ts).
    env: { ...process.env, PACKLINE_RUN_FROM: 'source', ...PLAINTEXT_ENV, ...env },
  });
  let out = '';
  proc.stdout?.on('data', (b: Buffer) => {
    out += b.toString();
  });
  proc.stderr?.on('data', (b: Buffer) => {
    out += b.toString();
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((res) => proc.once('exit', (code, signal) => res({ code, signal })));
  const urls = await new Promise<{ http: string; mqtt: string }>((res, rej) => {
    const timer = setTimeout(() => rej(new Error(`gateway did not start within 60 s:\n${out}`)), 60_000);
    const check = () => {
      const http = /HTTP API\s+(http:\/\/\S+)/.exec(out)?.[1];
      const mqtt = /MQTT\s+(mqtt:\/\/\S+)/.exec(out)?.[1];
      if (http && mqtt) {
        clearTimeout(timer);
        proc.stdout?.off('data', check);
        res({ http, mqtt });
      }
    };
    proc.stdout?.on('data', check);
    void exited.then(({ code, signal }) => {
      clearTimeout(timer);
      rej(new Error(`gateway exited (${code ?? signal}) before it was ready:\n${out}`));
    });
  });
  const tokens = JSON.parse(readFileSync(join(dataDir, 'api-tokens.json'), 'utf8')) as { admin: string; station: string };
  const prov = JSON.parse(readFileSync(join(dataDir, 'provisioning.json'), 'utf8')) as {
    devices: Record<string, { secret: string }>;
  };
  const secrets = Object.fromEntries(Object.entries(prov.devices).map(([id, d]) => [id, d.secret]));
  return { proc, httpUrl: urls.http, mqttUrl: urls.mqtt, tokens, secrets, exited, output: () => out };
}

/** GET `path` on a child gateway with its admin token; anything but 200 throws. */
export async function adminGet<T>(g: ChildGateway, path: string): Promise<T> {
  const res = await fetch(`${g.httpUrl}${path}`, { headers: { authorization: `Bearer ${g.tokens.admin}` } });
  if (res.status !== 200) throw new Error(`GET ${path} answered ${res.status}: ${await res.text()}`);
  return (await res.json()) as T;
}

/** Every seq in the child gateway's event log, in order (paged through GET /api/v1/events). */
export async function allSeqs(g: ChildGateway): Promise<number[]> {
  const seqs: number[] = [];
  for (;;) {
    const page = await adminGet<{ events: Array<{ seq: number }> }>(g, `/api/v1/events?after=${seqs.at(-1) ?? 0}&limit=1000`);
    if (page.events.length === 0) return seqs;
    seqs.push(...page.events.map((e) => e.seq));
  }
}
