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
    // meta: only the projector's mark, once per projection batch (20 shipments here).
    expect(pages('meta')).toBeLessThan(0.2);
    expect(pages('dedupe')).toBe(0);
    expect(pages('dedupe_at')).toBe(0);
    expect(pages('event_dedupe')).toBeGreaterThan(0);
  });

  it('the event log is append-only: no index on events and no sqlite_sequence row per step (schema v6)', () => {
    expect(pages('events_subject')).toBe(0);
    expect(pages('events_dedupe')).toBe(0);
    expect(pages('sqlite_sequence')).toBe(0);
    // The lookups are projected in batches: a shipment's events share a leaf of event_subjects.
    expect(pages('event_subjects')).toBeLessThan(2);
    expect(pages('event_dedupe')).toBeLessThan(6);
  });

  it('a shipment is updated in place: its primary-key and order index entries are written once, not per step', () => {
    // Four steps per shipment; the entries are inserted by the first step only (a leaf split
    // now and then writes a sibling and the parent too).
    expect(pages('sqlite_autoindex_shipments_1')).toBeLessThan(3);
    expect(pages('shipments_order')).toBeLessThan(3);
    expect(pages('sqlite_autoindex_print_jobs_1')).toBeLessThan(3);
    expect(pages('print_jobs_shipment')).toBeLessThan(3);
  });

  it('a shipment (four durable commits) writes under 30 KB of WAL', () => {
    // 82 KB before the third pass (1 KiB pages, REPLACE, meta and dedupe rows per step); 37.5 KB before v6.
    expect(r.commits).toBe(160);
    expect(r.walBytesPerShipment).toBeLessThan(30 * 1024);
  });

  it('the experiments measure what they say: no pointer-map pages without incremental vacuum; fewer bytes with the tables projected too (a model)', () => {
    const none = measureCommitPages({ shipments: 40, warm: 300, autoVacuum: 'NONE' });
    expect(none.perShipment.get('free or new pages') ?? 0).toBe(0);
    expect(none.walBytesPerShipment).toBeLessThan(r.walBytesPerShipment);
    const model = measureCommitPages({ shipments: 40, warm: 300, modelTableProjection: 'carried' });
    // The shipment's indexes are written once per projection batch, not at every step.
    expect(model.perShipment.get('shipments_open') ?? 0).toBeLessThan(1);
    expect(model.walBytesPerShipment).toBeLessThan(r.walBytesPerShipment);
    // Two more databases of ~1,400 synced commits each: a generous limit for a shared machine, not a timing.
  }, 120_000);
});
