import { describe, expect, it } from 'vitest';
import { Value } from '@sinclair/typebox/value';
import { BatchBody } from '../../contracts/sync.js';
import { buildBatch } from './batch-builder.js';
import type { OutboxEventRow } from './ports.js';

function row(seq: number, data: unknown = { order_id: `O-${seq}` }, type = 'shipment.opened'): OutboxEventRow {
  return {
    seq,
    hlc: `${String(1_764_000_000_000 + seq).padStart(13, '0')}.000000`,
    boot: 3,
    clock_unsynced: seq % 2,
    type,
    subject: `shipment:S-${seq}`,
    data: JSON.stringify(data),
  };
}

describe('buildBatch', () => {
  it('builds a body the contract accepts, with data spliced in unchanged', () => {
    const rows = [row(5), row(6, { note: 'quote " and 中文 and \\ slash' }), row(7, null)];
    const b = buildBatch(rows, 'gw-01', 1_764_000_000_000)!;
    const body = JSON.parse(b.json) as unknown;
    expect(Value.Check(BatchBody, body)).toBe(true);
    expect(b).toMatchObject({ firstSeq: 5, lastSeq: 7, count: 3, bytes: Buffer.byteLength(b.json) });
    const parsed = body as { events: Array<{ data: unknown; clock_unsynced: boolean }> };
    expect(parsed.events[1]!.data).toEqual({ note: 'quote " and 中文 and \\ slash' });
    expect(parsed.events[2]!.data).toBeNull();
    expect(parsed.events.map((e) => e.clock_unsynced)).toEqual([true, false, true]);
  });

  it('stops at the event count bound', () => {
    const rows = Array.from({ length: 10 }, (_, i) => row(i + 1));
    const b = buildBatch(rows, 'gw-01', 0, { maxEvents: 4, maxBytes: 1e6 })!;
    expect([b.firstSeq, b.lastSeq, b.count]).toEqual([1, 4, 4]);
  });

  it('stops before the byte bound, but always carries one event', () => {
    const big = 'x'.repeat(500);
    const rows = Array.from({ length: 10 }, (_, i) => row(i + 1, { big }));
    const b = buildBatch(rows, 'gw-01', 0, { maxEvents: 100, maxBytes: 1_700 })!;
    expect(b.count).toBe(2);
    const one = buildBatch(rows, 'gw-01', 0, { maxEvents: 100, maxBytes: 10 })!;
    expect(one.count).toBe(1);
  });

  it('never sends across a gap in the rows it is given', () => {
    const b = buildBatch([row(1), row(2), row(4)], 'gw-01', 0)!;
    expect(b.lastSeq).toBe(2);
  });

  it('returns null for nothing to send', () => {
    expect(buildBatch([], 'gw-01', 0)).toBeNull();
  });
});
