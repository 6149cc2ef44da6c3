/**
 * API tokens for the HTTP API, kept in `<dataDir>/api-tokens.json` (mode 0600, narrowed at
 * every start like the other secret files).
 *
 * - The bootstrap pair, generated on first start (no default passwords): `admin`, which the
 *   CLI (`packline preflight`) and the local demo use, and `station`, the all-stations token
 *   of versions before per-station tokens. Both are kept in clear so the owner can hand them
 *   out, like device secrets in provisioning.json. The bootstrap station token keeps working
 *   (preflight warns while it does) until `packline token revoke station`.
 * - Issued tokens (`packline token add --station st-1`, `packline token add --admin`): only
 *   their sha256 is stored; the token itself is printed once. A station token acts only for
 *   its station (http/auth.ts).
 *
 * The CLI edits the file while the gateway runs (write to a temporary file, then rename);
 * the gateway re-reads it when its size, mtime or inode change, so an added or revoked token
 * counts from the next request.
 */
import { createHash, randomBytes } from 'node:crypto';
import { chmodSync, chownSync, existsSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ID_PATTERN } from '../../../contracts/topics.js';
import { PacklineError } from '../../../contracts/errors.js';
import { narrowSecretFile } from '../broker/secrets.js';

export const API_TOKENS_FILE = 'api-tokens.json';

export interface ApiTokens {
  /** May do everything, including order import and reading the event log. */
  admin: string;
  /** The bootstrap all-stations token: read endpoints, scans and supervisor actions at any station. */
  station: string;
  /** The tokens file: issued tokens and revocations are read from it live (absent in unit tests). */
  file?: string;
}

export type TokenRole = 'admin' | 'station';

/** An issued token as stored: never the token, only its sha256. */
export interface IssuedToken {
  id: string;
  role: TokenRole;
  /** The station a station token acts for; null for admin tokens. */
  station: string | null;
  /** Lower-case hex sha256 of the token's UTF-8 bytes. */
  sha256: string;
  created_at: number;
  note?: string;
}

/** The file's content. */
export interface TokenFile {
  admin: string;
  station: string;
  /** Set by `packline token revoke station`: the bootstrap station token no longer works. */
  station_revoked_at?: number;
  issued?: IssuedToken[];
}

/** What a token lets its holder do; `station` null = every station. */
export interface Grant {
  id: string;
  role: TokenRole;
  station: string | null;
}

/** Ids of the bootstrap tokens in `packline token list|revoke`. */
export const BOOTSTRAP_ADMIN_ID = 'admin';
export const BOOTSTRAP_STATION_ID = 'station';

export function sha256Hex(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

function newToken(): string {
  return randomBytes(24).toString('base64url');
}

function isTokenFile(v: unknown): v is TokenFile {
  const t = v as Partial<TokenFile> | null;
  if (typeof t?.admin !== 'string' || t.admin.length < 16 || typeof t.station !== 'string' || t.station.length < 16) return false;
  if (t.issued !== undefined && !Array.isArray(t.issued)) return false;
  return (t.issued ?? []).every(
    (i) =>
      typeof i?.id === 'string' &&
      (i.role === 'admin' || i.role === 'station') &&
      (i.station === null || typeof i.station === 'string') &&
      typeof i.sha256 === 'string' &&
      /^[0-9a-f]{64}$/.test(i.sha256),
  );
}

export function readTokenFile(file: string): TokenFile {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new PacklineError('PKL_CONFIG_INVALID', { reason: `${file} is not valid JSON: ${(err as Error).message}` });
  }
  if (!isTokenFile(parsed)) {
    throw new PacklineError('PKL_CONFIG_INVALID', { reason: `${file} must hold {"admin": "...", "station": "...", "issued": [...]}` });
  }
  return parsed;
}

/**
 * Replaces the file atomically (rename), owner-only from the first byte. Run as root (a CLI
 * without `sudo -u packline`), the new file keeps the old one's owner, or the gateway's user
 * could no longer read it.
 */
function writeTokenFile(file: string, content: TokenFile): void {
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(content, null, 2)}\n`, { mode: 0o600 });
  chmodSync(tmp, 0o600);
  if (process.getuid?.() === 0) {
    const { uid, gid } = statSync(file);
    chownSync(tmp, uid, gid);
  }
  renameSync(tmp, file);
}

export function loadOrCreateApiTokens(dataDir: string): { tokens: ApiTokens; created: boolean; file: string; exposed: PacklineError | null } {
  const file = join(dataDir, API_TOKENS_FILE);
  if (existsSync(file)) {
    // Tighten permissions left loose by hand edits, and say so (the tokens may have leaked).
    const exposed = narrowSecretFile(file);
    const parsed = readTokenFile(file);
    return { tokens: { admin: parsed.admin, station: parsed.station, file }, created: false, file, exposed };
  }
  const tokens = { admin: newToken(), station: newToken() };
  writeFileSync(file, `${JSON.stringify(tokens, null, 2)}\n`, { mode: 0o600, flag: 'wx' });
  chmodSync(file, 0o600);
  return { tokens: { ...tokens, file }, created: true, file, exposed: null };
}

/** `packline token add`: a new token, returned once; only its sha256 is stored. */
export function addToken(dataDir: string, spec: { role: TokenRole; station: string | null; note?: string | undefined }): { id: string; token: string } {
  if (spec.role === 'station' && (spec.station === null || !new RegExp(ID_PATTERN).test(spec.station))) {
    throw new PacklineError('PKL_CONFIG_INVALID', { reason: `a station token needs a station id (${ID_PATTERN})` });
  }
  const { file, content } = existing(dataDir);
  const issued = content.issued ?? [];
  let id: string;
  do id = `tk-${randomBytes(4).toString('hex')}`;
  while (issued.some((i) => i.id === id));
  const token = newToken();
  const entry: IssuedToken = {
    id,
    role: spec.role,
    station: spec.role === 'station' ? spec.station : null,
    sha256: sha256Hex(token),
    created_at: Date.now(),
    ...(spec.note !== undefined && { note: spec.note }),
  };
  writeTokenFile(file, { ...content, issued: [...issued, entry] });
  return { id, token };
}

export interface TokenListing {
  id: string;
  role: TokenRole;
  /** `*` = every station. */
  station: string;
  kind: 'bootstrap' | 'issued';
  created_at: number | null;
  revoked_at: number | null;
  note: string | null;
}

/** `packline token list`: every token, never a token's value or hash. */
export function listTokens(dataDir: string): TokenListing[] {
  const { content } = existing(dataDir);
  return [
    { id: BOOTSTRAP_ADMIN_ID, role: 'admin', station: '*', kind: 'bootstrap', created_at: null, revoked_at: null, note: null },
    {
      id: BOOTSTRAP_STATION_ID,
      role: 'station',
      station: '*',
      kind: 'bootstrap',
      created_at: null,
      revoked_at: content.station_revoked_at ?? null,
      note: 'all stations (before per-station tokens)',
    },
    ...(content.issued ?? []).map((i) => ({
      id: i.id,
      role: i.role,
      station: i.station ?? '*',
      kind: 'issued' as const,
      created_at: i.created_at,
      revoked_at: null,
      note: i.note ?? null,
    })),
  ];
}

/**
 * `packline token revoke <id>`: an issued token is deleted; the bootstrap station token is
 * marked revoked. The bootstrap admin token is rotated by deleting the file (then every
 * token is new), never revoked alone: the CLI's preflight and the demo need one.
 */
export function revokeToken(dataDir: string, id: string): void {
  const { file, content } = existing(dataDir);
  if (id === BOOTSTRAP_ADMIN_ID) {
    throw new PacklineError('PKL_CONFIG_INVALID', {
      reason: `the bootstrap admin token cannot be revoked alone; delete ${file} and restart to rotate every token`,
    });
  }
  if (id === BOOTSTRAP_STATION_ID) {
    writeTokenFile(file, { ...content, station_revoked_at: content.station_revoked_at ?? Date.now() });
    return;
  }
  const issued = content.issued ?? [];
  if (!issued.some((i) => i.id === id)) throw new PacklineError('PKL_NOT_FOUND', { what: `token ${id}` });
  writeTokenFile(file, { ...content, issued: issued.filter((i) => i.id !== id) });
}

function existing(dataDir: string): { file: string; content: TokenFile } {
  const file = join(dataDir, API_TOKENS_FILE);
  if (!existsSync(file)) {
    throw new PacklineError('PKL_NOT_FOUND', { what: `${file} (start the gateway once to create it)` });
  }
  narrowSecretFile(file);
  return { file, content: readTokenFile(file) };
}

/**
 * The live view of the file for the auth check: issued tokens by sha256 and whether the
 * bootstrap station token is revoked, re-read when the file changes (one stat per check).
 * A file that became unreadable or invalid keeps the last good view (and says so once).
 */
export class TokenFileView {
  private key = '';
  private byHash = new Map<string, IssuedToken>();
  private stationRevoked = false;

  constructor(
    private readonly file: string,
    private readonly onError: (err: unknown) => void = () => {},
  ) {}

  private refresh(): void {
    let key: string;
    try {
      const s = statSync(this.file);
      key = `${s.ino}:${s.size}:${s.mtimeMs}`;
    } catch (err) {
      if (this.key !== 'missing') this.onError(err);
      this.key = 'missing';
      return;
    }
    if (key === this.key) return;
    try {
      const content = readTokenFile(this.file);
      this.byHash = new Map((content.issued ?? []).map((i) => [i.sha256, i]));
      this.stationRevoked = content.station_revoked_at !== undefined;
      this.key = key;
    } catch (err) {
      this.onError(err);
      this.key = key; // not again until it changes
    }
  }

  issued(hashHex: string): IssuedToken | null {
    this.refresh();
    return this.byHash.get(hashHex) ?? null;
  }

  bootstrapStationRevoked(): boolean {
    this.refresh();
    return this.stationRevoked;
  }
}

/** What preflight's `api-tokens` check looks at (never a token). */
export function tokenFacts(file: string): { bootstrapStationActive: boolean; stationTokens: Record<string, number>; adminTokens: number } {
  const content = readTokenFile(file);
  const stationTokens: Record<string, number> = {};
  let adminTokens = 0;
  for (const i of content.issued ?? []) {
    if (i.role === 'admin') adminTokens++;
    else if (i.station !== null) stationTokens[i.station] = (stationTokens[i.station] ?? 0) + 1;
  }
  return { bootstrapStationActive: content.station_revoked_at === undefined, stationTokens, adminTokens };
}
