import { chownSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { API_TOKENS_FILE, TokenFileView, addToken, loadOrCreateApiTokens, revokeToken, sha256Hex, tokenFacts } from './api-tokens.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'pkl-api-tokens-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('the API tokens file', () => {
  it('is created 0600 on first start with the bootstrap pair, and names itself for the live view', () => {
    const first = loadOrCreateApiTokens(dir);
    expect(first.created).toBe(true);
    expect((statSync(first.file).mode & 0o777).toString(8)).toBe('600');
    expect(first.tokens.file).toBe(first.file);
    const again = loadOrCreateApiTokens(dir);
    expect(again.created).toBe(false);
    expect(again.tokens).toEqual(first.tokens);
  });

  it('issues tokens stored as sha256 only, with a station id checked like every other id', () => {
    const file = loadOrCreateApiTokens(dir).file;
    const { id, token } = addToken(dir, { role: 'station', station: 'st-1', note: 'bench 1' });
    expect(id).toMatch(/^tk-[0-9a-f]{8}$/);
    expect(token.length).toBeGreaterThanOrEqual(32);
    const text = readFileSync(file, 'utf8');
    expect(text).not.toContain(token);
    expect(text).toContain(sha256Hex(token));
    expect((statSync(file).mode & 0o777).toString(8)).toBe('600');
    expect(() => addToken(dir, { role: 'station', station: null })).toThrow(/needs a station id/);
    expect(() => addToken(dir, { role: 'station', station: 'st 1/../x' })).toThrow(/needs a station id/);
    expect(() => revokeToken(dir, 'tk-00000000')).toThrow(expect.objectContaining({ code: 'PKL_NOT_FOUND' }));
    expect(tokenFacts(file)).toEqual({ bootstrapStationActive: true, stationTokens: { 'st-1': 1 }, adminTokens: 0 });
    revokeToken(dir, 'station');
    expect(tokenFacts(file).bootstrapStationActive).toBe(false);
  });

  it.skipIf(process.getuid?.() !== 0)("a CLI run as root keeps the file owned by the gateway's user", () => {
    const file = loadOrCreateApiTokens(dir).file;
    chownSync(file, 4242, 4243);
    addToken(dir, { role: 'admin', station: null });
    expect(statSync(file)).toMatchObject({ uid: 4242, gid: 4243 });
  });

  it('the live view follows the file, and keeps its last good state while the file is broken', () => {
    const file = loadOrCreateApiTokens(dir).file;
    const errors: unknown[] = [];
    const view = new TokenFileView(file, (err) => errors.push(err));
    const a = addToken(dir, { role: 'station', station: 'st-1' });
    expect(view.issued(sha256Hex(a.token))).toMatchObject({ role: 'station', station: 'st-1' });
    const good = readFileSync(file, 'utf8');
    writeFileSync(join(dir, API_TOKENS_FILE), '{ half a file');
    expect(view.issued(sha256Hex(a.token))).toMatchObject({ station: 'st-1' });
    expect(view.issued(sha256Hex(a.token))).not.toBeNull();
    expect(errors).toHaveLength(1); // said once, not per request
    writeFileSync(join(dir, API_TOKENS_FILE), good.replace(/"issued": \[[\s\S]*\]/, '"issued": []'));
    expect(view.issued(sha256Hex(a.token))).toBeNull();
  });
});
