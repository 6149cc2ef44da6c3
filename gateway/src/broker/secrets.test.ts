import { describe, expect, it } from 'vitest';
import { generateSecret, hashSecret, verifySecret } from './secrets.js';

describe('secrets', () => {
  it('generates distinct base64url secrets of at least 24 bytes', () => {
    const a = generateSecret();
    const b = generateSecret();
    expect(a).not.toBe(b);
    expect(a).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(Buffer.from(a, 'base64url').length).toBeGreaterThanOrEqual(24);
  });

  it('hashes as scrypt$N$r$p$salt$hash and verifies only the right secret', async () => {
    const s = generateSecret();
    const h = await hashSecret(s);
    expect(h).toMatch(/^scrypt\$16384\$8\$1\$[A-Za-z0-9_-]+\$[A-Za-z0-9_-]+$/);
    expect(h).not.toContain(s);
    expect(await hashSecret(s)).not.toBe(h); // salted
    expect(await verifySecret(s, h)).toBe(true);
    expect(await verifySecret(`${s}x`, h)).toBe(false);
    expect(await verifySecret('', h)).toBe(false);
  });

  it('returns false for garbage encodings instead of throwing', async () => {
    const s = generateSecret();
    const good = await hashSecret(s);
    const parts = good.split('$');
    const garbage = [
      '',
      'scrypt',
      'plain-text-password',
      'scrypt$$$$$',
      good.replace('scrypt$', 'bcrypt$'),
      [...parts.slice(0, 1), '1000', ...parts.slice(2)].join('$'), // N not a power of two
      [...parts.slice(0, 1), String(2 ** 30), ...parts.slice(2)].join('$'), // N absurdly large
      [...parts.slice(0, 2), '0', ...parts.slice(3)].join('$'), // r = 0
      [...parts.slice(0, 4), 'not base64!', parts[5]].join('$'),
      [...parts.slice(0, 5), 'AA'].join('$'), // truncated hash
      `${good}$extra`,
    ];
    for (const g of garbage) expect(await verifySecret(s, g), g).toBe(false);
    expect(await verifySecret(undefined as unknown as string, good)).toBe(false);
  });
});
