/**
 * The data directory holds personal data (receivers' names, phones and addresses in the
 * database; printed label files) and password hashes, so nobody but the gateway's own user
 * may read it: the directory 0700, the database with its WAL and shared-memory files 0600,
 * label files and previews under it 0600 (their folders 0700).
 *
 * Made so on creation (the database file is created 0600 before SQLite opens it; SQLite's
 * unix VFS gives the -wal and -shm files the database file's permissions, os_unix.c
 * `findCreateFileMode`) and fixed at every start for what an older version, a copy or a
 * restore left wider: each file narrowed is reported as PKL_DATA_FILE_EXPOSED for the caller
 * to log. Secret files (provisioning.json, api-tokens.json) have their own check
 * (broker/secrets.ts `narrowSecretFile`).
 */
import { chmodSync, closeSync, lstatSync, mkdirSync, openSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { PacklineError } from '../../../contracts/errors.js';

export const PRIVATE_DIR_MODE = 0o700;
export const PRIVATE_FILE_MODE = 0o600;

/** Folders under the data directory whose files hold personal data (label files, previews). */
export const PERSONAL_DATA_DIRS = ['labels', 'previews'] as const;

/** Narrows `path` to `mode` when it grants more; the exposure, or null (also when missing). */
function narrow(path: string, mode: number): PacklineError | null {
  let current: number;
  try {
    const st = lstatSync(path);
    if (st.isSymbolicLink()) return null; // never follow a link out of the data directory
    current = st.mode & 0o777;
  } catch {
    return null;
  }
  if ((current & ~mode) === 0) return null;
  chmodSync(path, mode);
  return new PacklineError('PKL_DATA_FILE_EXPOSED', { file: path, mode: `0${current.toString(8)}` });
}

/** Every file below `dir` 0600 and every folder 0700 (depth-bounded: label folders are per station). */
function narrowTree(dir: string, found: PacklineError[], depth = 0): void {
  const e = narrow(dir, PRIVATE_DIR_MODE);
  if (e) found.push(e);
  if (depth > 3) return;
  let entries: import('node:fs').Dirent[];
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch {
    return;
  }
  for (const ent of entries) {
    const path = join(dir, ent.name);
    if (ent.isDirectory()) narrowTree(path, found, depth + 1);
    else if (ent.isFile()) {
      const f = narrow(path, PRIVATE_FILE_MODE);
      if (f) found.push(f);
    }
  }
}

/**
 * Creates the data directory 0700 if missing and narrows what is there: the directory, the
 * database `dbFile` with its -wal and -shm, and the personal-data folders. Returns what had
 * to be narrowed.
 */
export function lockDownDataDir(dataDir: string, dbFile: string): PacklineError[] {
  mkdirSync(dataDir, { recursive: true, mode: PRIVATE_DIR_MODE });
  const found: PacklineError[] = [];
  const dir = narrow(dataDir, PRIVATE_DIR_MODE);
  if (dir) found.push(dir);
  for (const f of [dbFile, `${dbFile}-wal`, `${dbFile}-shm`, `${dbFile}-journal`]) {
    const e = narrow(join(dataDir, f), PRIVATE_FILE_MODE);
    if (e) found.push(e);
  }
  for (const sub of PERSONAL_DATA_DIRS) {
    const path = join(dataDir, sub);
    try {
      if (!lstatSync(path).isDirectory()) continue;
    } catch {
      continue;
    }
    narrowTree(path, found);
  }
  return found;
}

/** Creates `file` empty with mode 0600 unless it exists (so SQLite opens a private file). */
export function createPrivateFile(file: string): void {
  closeSync(openSync(file, 'a', PRIVATE_FILE_MODE));
}
