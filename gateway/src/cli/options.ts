/** Options every `packline` command shares, and the exit status a command may set (cli.ts reads it). */
import { loadConfig } from '../config/load.js';
import type { Config } from '../config/schema.js';

/**
 * A command whose outcome is a status, not success or failure (`packline preflight`: 0 pass,
 * 1 warn, 2 fail), sets its exit code here; main() returns it.
 */
let exitCode = 0;
export function setCommandExitCode(code: number): void {
  exitCode = code;
}

export function resetCommandExitCode(): void {
  exitCode = 0;
}

export function commandExitCode(): number {
  return exitCode;
}

export interface GlobalOptions {
  config?: string;
  dataDir?: string;
}

/** Loads the config named by --config / PACKLINE_CONFIG, with --data-dir applied. */
export function configFromOptions(opts: GlobalOptions, extra: Record<string, unknown> = {}): Readonly<Config> {
  const overrides: Record<string, unknown> = { ...extra };
  if (opts.dataDir !== undefined) overrides.dataDir = opts.dataDir;
  return loadConfig({ file: opts.config ?? process.env.PACKLINE_CONFIG, overrides });
}
