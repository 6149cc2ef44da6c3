/**
 * Every Chinese message is fully Chinese: a station operator reads `message_zh` and nothing
 * else. Latin script is allowed only where it is not English prose: codes and acronyms (PKL_…,
 * JSON, API, MB), config paths and identifiers (sync.url, sync.keyFile, encryptedData), units.
 * Covers the catalogue's templates, the Chinese of the words callers pass as `{action}` and
 * `{state}` (DETAIL_ZH), and that every literal action in the code has such a Chinese.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { DETAIL_ZH, describeError, ERRORS } from './errors.js';

const UNITS = new Set(['kg', 'g', 'ms', 's', 'mm', 'dpi', 'h', 'min']);

/** The English words in a Chinese text (after its placeholders are taken out). */
function englishWords(zh: string): string[] {
  const words = zh.replace(/\{\w+\}/g, ' ').match(/[A-Za-z][A-Za-z0-9_./:=-]*/g) ?? [];
  return words.filter((w) => {
    if (/^[A-Z0-9][A-Z0-9_-]*$/.test(w)) return false; // code or acronym
    if (/[._]/.test(w) || /[a-z][A-Z]/.test(w)) return false; // config path or identifier
    return !UNITS.has(w);
  });
}

describe('Chinese error messages', () => {
  it('the rule catches half-English text and lets codes, paths and units through', () => {
    expect(englishWords('该令牌无权 read the shipment feed')).toEqual(['read', 'the', 'shipment', 'feed']);
    expect(englishWords('未配置云端同步（sync.url 未设置）；PKL_X；JSON；剩余 12 MB；1.2 kg；encryptedData')).toEqual([]);
  });

  it('every catalogue template is Chinese apart from codes, paths and units', () => {
    const bad = Object.entries(ERRORS)
      .map(([code, e]) => [code, englishWords(e.zh)] as const)
      .filter(([, w]) => w.length > 0);
    expect(bad).toEqual([]);
  });

  it('every action and state word has a fully Chinese rendering', () => {
    expect(Object.entries(DETAIL_ZH).filter(([, zh]) => englishWords(zh).length > 0 || !/\p{Script=Han}/u.test(zh))).toEqual([]);
    expect(describeError('PKL_FORBIDDEN', { action: 'read the shipment feed (admin token)' }).zh).toBe('该令牌无权 读取发货记录流（需管理员令牌）');
    expect(describeError('PKL_SHIPMENT_STATE', { shipmentId: 'S1', state: 'shipped', action: 'reprint' })).toEqual({
      en: 'Shipment S1 is shipped; reprint is not allowed',
      zh: '包裹 S1 当前为 已发货，不能 补打面单',
    });
  });

  it('every literal action the code passes to a message with {action} has its Chinese', () => {
    const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
    const withAction = Object.entries(ERRORS)
      .filter(([, e]) => e.zh.includes('{action}'))
      .map(([c]) => c);
    const files = (dir: string): string[] =>
      readdirSync(dir).flatMap((n) => {
        const p = join(dir, n);
        if (n === 'node_modules' || n === 'test') return [];
        if (statSync(p).isDirectory()) return files(p);
        return n.endsWith('.ts') && !n.endsWith('.test.ts') ? [p] : [];
      });
    const missing: string[] = [];
    let seen = 0;
    for (const f of ['gateway/src', 'cloud-sync/src', 'device-drivers/src'].flatMap((d) => files(join(root, d)))) {
      const text = readFileSync(f, 'utf8');
      // A call with one of those codes and a literal action within the same statement.
      for (const m of text.matchAll(new RegExp(`'(${withAction.join('|')})'[^;]{0,200}?action: '([^']+)'`, 'g'))) {
        seen++;
        if (!(m[2]! in DETAIL_ZH)) missing.push(`${f.slice(root.length + 1)}: ${m[2]}`);
      }
    }
    // The HTTP auth levels' actions (gateway/src/http/auth.ts ACTION).
    const auth = readFileSync(join(root, 'gateway/src/http/auth.ts'), 'utf8');
    const table = /const ACTION[^{]*\{([^}]*)\}/.exec(auth)?.[1] ?? '';
    for (const m of table.matchAll(/: '([^']+)'/g)) if (!(m[1]! in DETAIL_ZH)) missing.push(`auth.ts: ${m[1]}`);
    expect(table).not.toBe('');
    expect(seen).toBeGreaterThanOrEqual(4); // the scan does find the call sites
    expect(missing).toEqual([]);
  });
});
