import { describe, expect, it } from 'vitest';
import { measureCommitPages } from './commit-pages.js';

// Page counts are exact (the WAL read frame by frame), not timings: this holds the hot path to
// what a station step writes, on any machine.
describe('what an acknowledged station step writes (commit-pages.ts)', () => {
  const r = measureCommitPages({ shipments: 40, warm: 300 });
  const pages = (name: string) => r.perShipment.get(name) ?? 0;

  it('new databases use 512-byte pages', () => {
    expect(r.pageSize).toBe(512);
  });

  it('no step rewrites meta (the HLC) or the dedupe table: the key rides on the event row', () => {
    expect(pages('meta')).toBe(0);
    expect(pages('dedupe')).toBe(0);
    expect(pages('dedupe_at')).toBe(0);
    expect(pages('events_dedupe')).toBeGreaterThan(0);
  });

  it('a shipment is updated in place: its primary-key and order index entries are written once, not per step', () => {
    // Four steps per shipment; the entries are inserted by the first step only (a leaf split
    // now and then writes a sibling and the parent too).
    expect(pages('sqlite_autoindex_shipments_1')).toBeLessThan(3);
    expect(pages('shipments_order')).toBeLessThan(3);
    expect(pages('sqlite_autoindex_print_jobs_1')).toBeLessThan(3);
    expect(pages('print_jobs_shipment')).toBeLessThan(3);
  });

  it('a shipment (four durable commits) writes under 40 KB of WAL', () => {
    // 82 KB before (1 KiB pages, REPLACE, meta and dedupe rows per step).
    expect(r.commits).toBe(160);
    expect(r.walBytesPerShipment).toBeLessThan(40 * 1024);
  });
});
