/**
 * Ends `npm test` with ONE line naming the test files skipped for a missing test peer and the
 * Debian packages that enable them (test-peers/peers.ts records each skip in the file named by
 * TEST_PEER_SKIP_RECORD, which vitest.config.ts sets per run). Silent when nothing was skipped.
 */
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { relative } from 'node:path';
import type { Reporter, TestModule } from 'vitest/node';
import { PEERS, type PeerName, SKIP_RECORD_ENV, type SkipRecord } from './peers.js';

export function summaryLine(records: readonly SkipRecord[], skippedTests: (file: string) => number): string | null {
  if (records.length === 0) return null;
  const files = new Map<string, Set<PeerName>>();
  for (const r of records) {
    const s = files.get(r.file) ?? new Set<PeerName>();
    for (const p of r.peers) s.add(p);
    files.set(r.file, s);
  }
  const byPeer = new Map<PeerName, string[]>();
  for (const [file, peers] of files) for (const p of peers) byPeer.set(p, [...(byPeer.get(p) ?? []), file]);
  const tests = [...files.keys()].reduce((n, f) => n + skippedTests(f), 0);
  const packages = [...new Set([...byPeer.keys()].flatMap((p) => PEERS[p].debian))].sort();
  const parts = [...byPeer].map(([p, fs]) => `${p} (${PEERS[p].debian.join(' ')}): ${fs.sort().join(', ')}`);
  return `Skipped ${tests} tests in ${files.size} files for missing test peers — ${parts.join('; ')}. Enable them with: apt-get install ${packages.join(' ')} (CI=true makes a missing peer fail).`;
}

export default class SkipSummaryReporter implements Reporter {
  onTestRunEnd(testModules: ReadonlyArray<TestModule>): void {
    const record = process.env[SKIP_RECORD_ENV];
    if (record === undefined || !existsSync(record)) return;
    const records = readFileSync(record, 'utf8')
      .split('\n')
      .filter((l) => l !== '')
      .map((l) => JSON.parse(l) as SkipRecord);
    rmSync(record, { force: true });
    const skipped = (file: string): number => {
      const m = testModules.find((t) => relative(process.cwd(), t.moduleId) === file);
      if (m === undefined) return 0;
      let n = 0;
      for (const t of m.children.allTests()) if (t.result().state === 'skipped') n++;
      return n;
    };
    const line = summaryLine(records, skipped);
    if (line !== null) process.stdout.write(`\n${line}\n`);
  }
}
