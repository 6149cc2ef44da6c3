/**
 * API tokens for the HTTP API: one admin token and one station token, generated on first
 * start (no default passwords) and kept in `<dataDir>/api-tokens.json`, readable by the
 * owner only. Rotate by deleting the file and restarting.
 */
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PacklineError } from '../../../contracts/errors.js';
import { narrowSecretFile } from '../broker/secrets.js';

export const API_TOKENS_FILE = 'api-tokens.json';

export interface ApiTokens {
  /** May do everything, including order import and reading the event log. */
  admin: string;
  /** Station terminals: read endpoints and manual scans. */
  station: string;
}

function token(): string {
  return randomBytes(24).toString('base64url');
}

function isTokens(v: unknown): v is ApiTokens {
  const t = v as Partial<ApiTokens> | null;
  return typeof t?.admin === 'string' && t.admin.length >= 16 && typeof t.station === 'string' && t.station.length >= 16;
}

export function loadOrCreateApiTokens(dataDir: string): { tokens: ApiTokens; created: boolean; file: string; exposed: PacklineError | null } {
  const file = join(dataDir, API_TOKENS_FILE);
  if (existsSync(file)) {
    // Tighten permissions left loose by hand edits, and say so (the tokens may have leaked).
    const exposed = narrowSecretFile(file);
    let parsed: unknown;
    try {
      parsed = JSON.parse(readFileSync(file, 'utf8'));
    } catch (err) {
      throw new PacklineError('PKL_CONFIG_INVALID', { reason: `${file} is not valid JSON: ${(err as Error).message}` });
    }
    if (!isTokens(parsed)) {
      throw new PacklineError('PKL_CONFIG_INVALID', { reason: `${file} must hold {"admin": "...", "station": "..."}` });
    }
    return { tokens: { admin: parsed.admin, station: parsed.station }, created: false, file, exposed };
  }
  const tokens: ApiTokens = { admin: token(), station: token() };
  writeFileSync(file, `${JSON.stringify(tokens, null, 2)}\n`, { mode: 0o600, flag: 'wx' });
  chmodSync(file, 0o600);
  return { tokens, created: true, file, exposed: null };
}
