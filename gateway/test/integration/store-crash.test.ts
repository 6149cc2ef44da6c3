/**
 * Kill -9 durability: a child writes units in a loop and prints each acknowledged seq; we
 * SIGKILL it at random moments, reopen, and check that every acknowledged seq is on disk,
 * the sequence has no gaps, every event's state change is there too (one transaction), and
 * `PRAGMA integrity_check` is ok. (Power loss needs a LazyFS/hardware rig; see docs/decisions/0002.)
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';

const CHILD = fileURLToPath(new URL('../support/store-crash-child.ts', import.meta.url));
const REPO = fileURLToPath(new URL('../../../', import.meta.url));
const CYCLES = 5;

const dataDir = mkdtempSync(join(tmpdir(), 'packline-crash-'));
afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

/** Runs the child until it acknowledged `killAfterAcks` units, SIGKILLs it, returns the acked seqs. */
function runAndKill(killAfterAcks: number): Promise<{ acked: number[]; boot: number }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', CHILD, dataDir], {
      cwd: REPO,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const acked: number[] = [];
    let boot = 0;
    let buf = '';
    let stderr = '';
    let killed = false;
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.stdout.on('data', (d: Buffer) => {
      buf += d.toString();
      const lines = buf.split('\n');
      buf = lines.pop() ?? '';
      for (const line of lines) {
        const [kind, value] = line.split(' ');
        if (kind === 'ready') boot = Number(value);
        if (kind === 'ack') acked.push(Number(value));
      }
      if (!killed && acked.length >= killAfterAcks) {
        killed = true;
        child.kill('SIGKILL');
      }
    });
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      if (signal !== 'SIGKILL') reject(new Error(`child exited (${code}) before being killed: ${stderr}`));
      else resolve({ acked, boot });
    });
  });
}

describe('store survives SIGKILL', () => {
  it(`keeps every acknowledged unit, gap-free, across ${CYCLES} random kills`, async () => {
    const allAcked: number[] = [];
    for (let cycle = 1; cycle <= CYCLES; cycle++) {
      // A random point: sometimes right after start, sometimes mid-stream.
      const { acked, boot } = await runAndKill(1 + Math.floor(Math.random() * 400));
      expect(boot).toBe(cycle);
      expect(acked.length).toBeGreaterThan(0);
      allAcked.push(...acked);

      const db = new Database(join(dataDir, 'packline.db'));
      try {
        expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
        const seqs = db.prepare('SELECT seq FROM events ORDER BY seq').pluck().all() as number[];
        expect(seqs.length).toBeGreaterThan(0);
        expect(seqs[0]).toBe(1);
        expect(seqs[seqs.length - 1]).toBe(seqs.length); // 1..n with no gaps
        const present = new Set(seqs);
        const lost = allAcked.filter((s) => !present.has(s));
        expect(lost).toEqual([]);
        const orphans = db
          .prepare(
            `SELECT count(*) FROM events e
             WHERE e.type = 'shipment.shipped'
               AND NOT EXISTS (SELECT 1 FROM shipments s WHERE 'shipment:' || s.shipment_id = e.subject)`,
          )
          .pluck()
          .get();
        expect(orphans).toBe(0);
        expect(db.prepare("SELECT value FROM meta WHERE key = 'store.boot'").pluck().get()).toBe(String(cycle));
      } finally {
        db.close();
      }
    }
  });
});
