import { describe, expect, it } from 'vitest';
import { missingPeers, PEERS } from './peers.js';
import { summaryLine } from './skip-summary-reporter.js';

describe('the skipped-peer summary line', () => {
  it('is one line naming each skipped file under its peer and the Debian packages that enable them', () => {
    const line = summaryLine(
      [
        { file: 'a/broker-external.test.ts', peers: ['mosquitto', 'mosquitto-clients'] },
        { file: 'a/ui-browser.test.ts', peers: ['chromium'] },
        { file: 'a/broker-external.test.ts', peers: ['mosquitto'] },
      ],
      (f) => (f.endsWith('ui-browser.test.ts') ? 9 : 5),
    );
    expect(line).not.toBeNull();
    expect(line).not.toContain('\n');
    expect(line).toContain('Skipped 14 tests in 2 files');
    expect(line).toContain('mosquitto (mosquitto): a/broker-external.test.ts');
    expect(line).toContain('chromium (chromium): a/ui-browser.test.ts');
    expect(line).toContain('apt-get install chromium mosquitto mosquitto-clients');
  });

  it('is absent when nothing was skipped', () => {
    expect(summaryLine([], () => 0)).toBeNull();
  });

  it('finds a program that exists and misses one that does not', () => {
    expect(missingPeers()).toEqual([]);
    (PEERS as Record<string, { programs: readonly string[]; debian: readonly string[] }>)['nope'] = { programs: ['packline-no-such-program'], debian: ['x'] };
    expect(missingPeers('nope' as never)).toEqual(['nope']);
    delete (PEERS as Record<string, unknown>)['nope'];
  });
});
