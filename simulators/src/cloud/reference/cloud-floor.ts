/**
 * The WMS side of the reference cloud: the floor's locations and the stock counts on them,
 * appended to the change log the gateway pulls (contracts/sync.ts `location.upsert`,
 * `stock.set`; docs/sync.md §17). A count carries `as_of_seq`, the gateway's event seq the cloud
 * had received in order when it counted (its high-water mark), so the gateway adds the picks it
 * recorded after it; the cloud's own stock (cloud-stock.ts) starts from the same count. Revisions are the change cursors: increasing, so an older count never wins.
 * Callers hold the transaction.
 */
import type { Change } from '../../../../contracts/sync.js';
import type { CloudDb } from './cloud-db.js';
import { putCount } from './cloud-stock.js';

type ChangeBody<K extends Change['kind']> = Omit<Extract<Change, { kind: K }>, 'cursor' | 'kind'>;
export type LocationWire = ChangeBody<'location.upsert'>['location'];

export interface FloorInput {
  locations?: LocationWire[];
  stock?: Array<{ location: string; sku: string; qty: number }>;
  /** Whose events the counts are as of (its high-water mark becomes `as_of_seq`). */
  gatewayId?: string;
}

export function putFloor(db: CloudDb, input: FloorInput, at: number): { locations: number; stock: number; last_cursor: number } {
  let last = 0;
  for (const location of input.locations ?? []) {
    const body: ChangeBody<'location.upsert'> = { location, at };
    last = db.appendChange('location.upsert', body, at);
  }
  const asOf = input.gatewayId === undefined ? 0 : db.hwm(input.gatewayId);
  for (const s of input.stock ?? []) {
    const body: ChangeBody<'stock.set'> = { location: s.location, sku: s.sku, qty: s.qty, revision: db.stats().lastCursor + 1, as_of_seq: asOf, at };
    last = db.appendChange('stock.set', body, at);
    // The cloud's own stock starts from this count too (cloud-stock.ts): the moves after asOf add to it.
    putCount(db, { location: s.location, sku: s.sku, qty: s.qty, revision: body.revision }, input.gatewayId ?? null, asOf, at);
  }
  return { locations: input.locations?.length ?? 0, stock: input.stock?.length ?? 0, last_cursor: last };
}
