/** Shared bits of the simulator command lines (floor/main.ts). */
import { readFileSync } from 'node:fs';
import { pino } from 'pino';
import { PacklineError } from '../../../contracts/errors.js';
import type { SimLogger } from './logger.js';

/** Logs go to stderr: stdout is reserved for the JSON result a benchmark parses. */
export function stderrLogger(level: string, name: string): SimLogger {
  // ISO timestamps, as the gateway's own log lines (one format on a shared console).
  return pino({ name, level, timestamp: pino.stdTimeFunctions.isoTime }, pino.destination(2));
}

/** `--x` value, else the environment variable, else the fallback. */
export function pick(cli: string | undefined, env: string, fallback?: string): string | undefined {
  return cli ?? process.env[env] ?? fallback;
}

export function required(value: string | undefined, what: string): string {
  if (value === undefined || value === '') {
    throw new PacklineError('PKL_CONFIG_INVALID', { reason: `${what} is required` });
  }
  return value;
}

/** The admin token from `--token`, `--token-file` or PACKLINE_ADMIN_TOKEN(_FILE). */
export function adminToken(token: string | undefined, tokenFile: string | undefined): string {
  const t = pick(token, 'PACKLINE_ADMIN_TOKEN');
  if (t) return t;
  const file = pick(tokenFile, 'PACKLINE_ADMIN_TOKEN_FILE');
  if (file) {
    try {
      return readFileSync(file, 'utf8').trim();
    } catch (err) {
      throw new PacklineError('PKL_CONFIG_INVALID', { reason: `cannot read token file ${file}: ${(err as Error).message}` });
    }
  }
  return required(undefined, 'admin token (--token, --token-file or PACKLINE_ADMIN_TOKEN)');
}

/** A JSON value given inline (`{...}`) or as a file path. */
export function jsonArg(value: string, what: string): unknown {
  const text = value.trimStart().startsWith('{') || value.trimStart().startsWith('[') ? value : readText(value, what);
  try {
    return JSON.parse(text);
  } catch {
    throw new PacklineError('PKL_CONFIG_INVALID', { reason: `${what} is not valid JSON` });
  }
}

function readText(path: string, what: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    throw new PacklineError('PKL_CONFIG_INVALID', { reason: `cannot read ${what} ${path}: ${(err as Error).message}` });
  }
}

export function positiveNumber(value: string | undefined, what: string): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new PacklineError('PKL_CONFIG_INVALID', { reason: `${what} must be a positive number, got "${value}"` });
  return n;
}

/** Prints a coded error as JSON on stderr and exits 2 (bad input) or 1 (anything else). */
export function fail(err: unknown): never {
  if (err instanceof PacklineError) {
    process.stderr.write(`${JSON.stringify({ error: err.toWire() })}\n`);
    process.exit(2);
  }
  process.stderr.write(`${JSON.stringify({ error: { message: (err as Error)?.message ?? String(err) } })}\n`);
  process.exit(1);
}
