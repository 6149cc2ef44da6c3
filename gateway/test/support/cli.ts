/**
 * Runs the real `packline` command (bin/packline.js, from source) against a data directory, as
 * an operator would on the box: its exit code and what it printed.
 */
import { spawn } from 'node:child_process';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

export function runCli(dataDir: string, args: string[], opts: { stdin?: string; env?: NodeJS.ProcessEnv } = {}): Promise<CliResult> {
  return new Promise((done, fail) => {
    const proc = spawn(process.execPath, [join(repoRoot, 'bin/packline.js'), '--data-dir', dataDir, ...args], {
      cwd: repoRoot,
      env: { ...process.env, PACKLINE_RUN_FROM: 'source', ...opts.env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    proc.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    proc.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    proc.on('error', fail);
    proc.on('close', (code) => done({ code: code ?? -1, stdout, stderr }));
    proc.stdin.end(opts.stdin ?? '');
  });
}
