/**
 * `<dataDir>/running.json`: what the running `packline start` actually does that the config
 * file alone does not say — chiefly the cloud it syncs to when `--sim` started a simulated
 * one. Written at start, removed at a clean stop; a file left by a killed gateway is ignored
 * because its pid is gone. Read by `packline sync status`, so it agrees with the gateway.
 */
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface RunningFile {
  pid: number;
  started_at: string;
  http_url: string;
  /** The cloud the outbox drains to, null when sync is off. */
  sync_url: string | null;
  /** `config` (sync.url) or `simulated` (the reference cloud `--sim` started). */
  sync_source: 'config' | 'simulated' | null;
}

export const RUNNING_FILE = 'running.json';

export function writeRunningFile(dataDir: string, r: RunningFile): void {
  writeFileSync(join(dataDir, RUNNING_FILE), `${JSON.stringify(r, null, 2)}\n`, { mode: 0o644 });
}

export function removeRunningFile(dataDir: string): void {
  rmSync(join(dataDir, RUNNING_FILE), { force: true });
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The running gateway's file, or null when none runs on this data directory. */
export function readRunningFile(dataDir: string): RunningFile | null {
  try {
    const r = JSON.parse(readFileSync(join(dataDir, RUNNING_FILE), 'utf8')) as RunningFile;
    return typeof r.pid === 'number' && alive(r.pid) ? r : null;
  } catch {
    return null;
  }
}
