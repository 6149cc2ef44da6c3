/** Shipments on the HTTP wire (snake_case) and the list query. */
import { type Static, Type } from '@sinclair/typebox';
import { SHIPMENT_STATES, type Shipment } from '../../storage/types.js';
import { Id, Millis, Nullable, SEQ_BOUNDS } from './common.js';

export const DEFAULT_SHIPMENT_PAGE = 50;
export const MAX_SHIPMENT_PAGE = 500;

export const ShipmentWire = Type.Object({
  shipment_id: Type.String(),
  order_id: Type.String(),
  station_id: Type.String({ description: 'station or line id' }),
  state: Type.Union(SHIPMENT_STATES.map((s) => Type.Literal(s))),
  reason_code: Nullable(Type.String({ description: 'PKL_* code of the current hold or intercept' })),
  scanned: Type.Record(Type.String(), Type.Integer(), { description: 'item barcode → scanned count' }),
  expected_grams: Nullable(Type.Number()),
  actual_grams: Nullable(Type.Number()),
  carrier: Nullable(Type.String()),
  waybill: Nullable(Type.String()),
  label_job_id: Nullable(Type.String()),
  operator: Nullable(Type.String()),
  opened_at: Type.Integer(),
  updated_at: Type.Integer(),
  shipped_at: Nullable(Type.Integer()),
});
export type ShipmentWire = Static<typeof ShipmentWire>;

export const ShipmentQueryWire = Type.Object(
  {
    station: Type.Optional(Id),
    state: Type.Optional(Type.Union(SHIPMENT_STATES.map((s) => Type.Literal(s)))),
    order: Type.Optional(Id),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: MAX_SHIPMENT_PAGE, default: DEFAULT_SHIPMENT_PAGE })),
    before: Type.Optional({ ...Millis, description: 'only shipments updated before this (epoch ms); for paging' }),
    after: Type.Optional(
      Type.Integer({
        ...SEQ_BOUNDS,
        description: 'cloud pull feed: shipments changed after this event seq, in seq order (admin token); use next_cursor of the previous page',
      }),
    ),
  },
  { additionalProperties: false },
);

export const ShipmentListReply = Type.Object({
  shipments: Type.Array(ShipmentWire, { description: 'newest first (by updated_at)' }),
  next_before: Nullable(Type.Integer({ description: 'pass as `before` for the next page; null on the last page' })),
});

export const ShipmentParams = Type.Object({ shipmentId: Type.String({ minLength: 1, maxLength: 64 }) });

export function shipmentToWire(s: Shipment): ShipmentWire {
  return {
    shipment_id: s.shipmentId,
    order_id: s.orderId,
    station_id: s.stationId,
    state: s.state,
    reason_code: s.reasonCode,
    scanned: s.scanned,
    expected_grams: s.expectedGrams,
    actual_grams: s.actualGrams,
    carrier: s.carrier,
    waybill: s.waybill,
    label_job_id: s.labelJobId,
    operator: s.operator,
    opened_at: s.openedAt,
    updated_at: s.updatedAt,
    shipped_at: s.shippedAt,
  };
}
