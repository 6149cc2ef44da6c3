import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { JobMemory } from './job-memory.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});
function tmp(): string {
  const d = mkdtempSync(join(tmpdir(), 'pkl-jobmem-'));
  dirs.push(d);
  return join(d, 'jobs.jsonl');
}

describe('JobMemory', () => {
  it('forgets the oldest job beyond the limit', () => {
    const m = new JobMemory(2);
    m.record('a', { status: 'printed' });
    m.record('b', { status: 'printed' });
    m.record('c', { status: 'failed', reason: 'paper_out' });
    expect([m.get('a'), m.get('b'), m.get('c')]).toEqual([undefined, { status: 'printed' }, { status: 'failed', reason: 'paper_out' }]);
  });

  it('survives a restart through the journal; a job left "sent" by a crash becomes failed/interrupted', () => {
    const path = tmp();
    const m = new JobMemory(10, path);
    m.load();
    m.record('j1', { status: 'sent' });
    m.record('j1', { status: 'printed' });
    m.record('j2', { status: 'sent' }); // crash before the outcome
    const again = new JobMemory(10, path);
    again.load();
    expect(again.get('j1')).toEqual({ status: 'printed' });
    expect(again.get('j2')).toEqual({ status: 'failed', reason: 'interrupted' });
    expect(readFileSync(path, 'utf8').trim().split('\n')).toHaveLength(2); // compacted
  });

  it('ignores a torn last line', () => {
    const path = tmp();
    writeFileSync(path, '{"job_id":"ok","status":"printed"}\n{"job_id":"to');
    const m = new JobMemory(10, path);
    m.load();
    expect(m.get('ok')).toEqual({ status: 'printed' });
    expect(m.size).toBe(1);
  });
});
