/** The event log on the HTTP wire: what cloud sync drains, readable by admins for audits. */
import { type Static, Type } from '@sinclair/typebox';
import type { EventRecord } from '../../storage/types.js';
import { SEQ_BOUNDS } from './common.js';

export const DEFAULT_EVENT_PAGE = 100;
export const MAX_EVENT_PAGE = 1000;

export const EventWire = Type.Object({
  seq: Type.Integer({ description: 'gap-free per gateway' }),
  hlc: Type.String({ description: 'hybrid logical clock, sortable' }),
  boot: Type.Integer(),
  clock_unsynced: Type.Boolean(),
  type: Type.String(),
  subject: Type.String({ description: 'e.g. shipment:S-…, order:O-…, device:scale-1' }),
  data: Type.Unknown(),
});
export type EventWire = Static<typeof EventWire>;

export const EventQueryWire = Type.Object(
  {
    after: Type.Optional(Type.Integer({ ...SEQ_BOUNDS, default: 0, description: 'return events with seq > after' })),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: MAX_EVENT_PAGE, default: DEFAULT_EVENT_PAGE })),
  },
  { additionalProperties: false },
);

export const EventListReply = Type.Object({
  events: Type.Array(EventWire, { description: 'ascending seq' }),
  next_after: Type.Integer({ description: 'pass as `after` for the next page' }),
  high_water: Type.Integer({ description: 'highest seq in the log now' }),
});

export function eventToWire(e: EventRecord): EventWire {
  return {
    seq: e.seq,
    hlc: e.hlc,
    boot: e.boot,
    clock_unsynced: e.clockUnsynced,
    type: e.type,
    subject: e.subject,
    data: e.data,
  };
}
