/**
 * Device secrets: generation, hashing and verification.
 *
 * Hashes use scrypt (RFC 7914) through the async `crypto.scrypt`, so hashing never blocks the
 * event loop, and are stored self-describing as `scrypt$N$r$p$salt$hash` (base64url parts)
 * so the cost parameters can be raised later without invalidating stored hashes.
 */
import { randomBytes, scrypt, timingSafeEqual, type ScryptOptions } from 'node:crypto';
import { chmodSync, statSync } from 'node:fs';
import { PacklineError } from '../../../contracts/errors.js';

/** 32 random bytes → 43 base64url characters; 256 bits is far beyond online guessing. */
const SECRET_BYTES = 32;
const SALT_BYTES = 16;
const KEY_BYTES = 32;

/**
 * N=2^14, r=8, p=1: the interactive-login parameters recommended by RFC 7914 §2 / OWASP
 * (16 MiB, tens of ms on a Pi 4). The broker caches successful verifications, so the cost is
 * paid once per device per secret, not on every reconnect.
 */
export const SCRYPT_PARAMS = { N: 16384, r: 8, p: 1 } as const;

/** Upper bounds for parameters read back from an encoding (a garbage hash must not DoS us). */
const MAX_N = 1 << 20;
const MAX_R = 32;
const MAX_P = 16;

export function generateSecret(): string {
  return randomBytes(SECRET_BYTES).toString('base64url');
}

function scryptAsync(secret: string, salt: Buffer, keylen: number, opts: ScryptOptions): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    scrypt(secret, salt, keylen, opts, (err, key) => (err ? reject(err) : resolve(key)));
  });
}

function maxmem(N: number, r: number, p: number): number {
  // scrypt needs 128·N·r bytes for V plus 128·r·p for B; leave headroom.
  return 128 * N * r * 2 + 128 * r * p + 1024 * 1024;
}

export async function hashSecret(secret: string): Promise<string> {
  const { N, r, p } = SCRYPT_PARAMS;
  const salt = randomBytes(SALT_BYTES);
  const key = await scryptAsync(secret, salt, KEY_BYTES, { N, r, p, maxmem: maxmem(N, r, p) });
  return `scrypt$${N}$${r}$${p}$${salt.toString('base64url')}$${key.toString('base64url')}`;
}

interface ParsedHash {
  N: number;
  r: number;
  p: number;
  salt: Buffer;
  key: Buffer;
}

const B64 = /^[A-Za-z0-9_\-+/]+={0,2}$/;

function parseHash(encoded: string): ParsedHash | null {
  const parts = encoded.split('$');
  if (parts.length !== 6 || parts[0] !== 'scrypt') return null;
  const [, nS, rS, pS, saltS, keyS] = parts as [string, string, string, string, string, string];
  if (!/^\d{1,8}$/.test(nS) || !/^\d{1,3}$/.test(rS) || !/^\d{1,3}$/.test(pS)) return null;
  const N = Number(nS);
  const r = Number(rS);
  const p = Number(pS);
  // N must be a power of two > 1 (RFC 7914 §2).
  if (N < 2 || N > MAX_N || (N & (N - 1)) !== 0 || r < 1 || r > MAX_R || p < 1 || p > MAX_P) return null;
  if (!B64.test(saltS) || !B64.test(keyS)) return null;
  const salt = Buffer.from(saltS, 'base64url');
  const key = Buffer.from(keyS, 'base64url');
  if (salt.length < 8 || key.length < 16 || key.length > 128) return null;
  return { N, r, p, salt, key };
}

/** True when `secret` matches `encoded`; any malformed encoding or input gives false. */
export async function verifySecret(secret: string, encoded: string): Promise<boolean> {
  if (typeof secret !== 'string' || typeof encoded !== 'string') return false;
  const h = parseHash(encoded);
  if (!h) return false;
  try {
    const key = await scryptAsync(secret, h.salt, h.key.length, {
      N: h.N,
      r: h.r,
      p: h.p,
      maxmem: maxmem(h.N, h.r, h.p),
    });
    return timingSafeEqual(key, h.key);
  } catch {
    return false;
  }
}

/**
 * Files holding secrets (provisioning.json, api-tokens.json) must be readable by their owner
 * only. One found readable by group or others (a hand edit, a copy, a restore from backup) is
 * narrowed to 0600 and reported as PKL_SECRET_FILE_EXPOSED, for the caller to log: whoever
 * could read it may have the secrets, so they should be rotated. Null when the file is
 * missing or already private.
 */
export function narrowSecretFile(file: string): PacklineError | null {
  let mode: number;
  try {
    mode = statSync(file).mode & 0o777;
  } catch {
    return null;
  }
  if ((mode & 0o077) === 0) return null;
  chmodSync(file, 0o600);
  return new PacklineError('PKL_SECRET_FILE_EXPOSED', { file, mode: `0${mode.toString(8)}` });
}
