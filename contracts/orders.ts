/**
 * The order as it crosses every wire: the gateway's import API (`POST /api/v1/orders`) and
 * the cloud's change feed (contracts/sync.ts). snake_case, epoch-ms timestamps, like every
 * other wire payload; gateway/src/storage/types.ts `Order` is the stored form.
 */
import { type Static, type TSchema, Type } from '@sinclair/typebox';
import { BARCODE_PATTERN } from './payloads.js';
import { ID_PATTERN } from './topics.js';

export const Id = Type.String({ pattern: ID_PATTERN, description: 'letters, digits, "_", "." or "-", at most 64' });
export const Barcode = Type.String({
  minLength: 1,
  maxLength: 128,
  pattern: BARCODE_PATTERN,
  description: 'printable ASCII (GS1 FNC1 as GS, 0x1d), 1 to 128 characters',
});
export const Millis = Type.Integer({ minimum: 0, maximum: 8_640_000_000_000_000, description: 'epoch ms' });
export const Grams = Type.Number({ minimum: 0, maximum: 500_000 });
export const Nullable = <T extends TSchema>(t: T) => Type.Union([t, Type.Null()]);

const Text = (max: number) => Type.String({ minLength: 1, maxLength: max });

export const OrderLineWire = Type.Object(
  {
    sku: Text(64),
    barcode: Barcode,
    name: Type.String({ maxLength: 200 }),
    qty: Type.Integer({ minimum: 1, maximum: 10_000 }),
    unit_grams: Grams,
  },
  { additionalProperties: false },
);

export const OrderFlagsWire = Type.Object(
  {
    refund_requested: Type.Optional(Type.Boolean()),
    refunded: Type.Optional(Type.Boolean()),
    cancelled: Type.Optional(Type.Boolean()),
    platform_closed: Type.Optional(Type.Boolean()),
    shipped: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false, description: 'interception flags; absent means false' },
);

export const PrintDataWire = Type.Object(
  {
    receiver_name: Text(200),
    receiver_phone: Type.String({ maxLength: 64 }),
    receiver_address: Text(500),
    sender_name: Type.Optional(Type.String({ maxLength: 200 })),
    routing_code: Type.Optional(Type.String({ maxLength: 64 })),
    sort_code: Type.Optional(Type.String({ maxLength: 64, description: '大头笔 big-character sort code' })),
  },
  { additionalProperties: false },
);

/** One order as imported. */
export const OrderInWire = Type.Object(
  {
    order_id: Id,
    shop: Type.Optional(Text(64)),
    barcodes: Type.Optional(
      Type.Array(Barcode, {
        maxItems: 16,
        uniqueItems: true,
        description: 'extra codes that identify the order: platform order no., pick-slip no., waybill no.',
      }),
    ),
    lines: Type.Array(OrderLineWire, { minItems: 1, maxItems: 500 }),
    packaging_grams: Type.Optional(Nullable(Grams)),
    flags: Type.Optional(OrderFlagsWire),
    carrier: Type.Optional(Nullable(Text(32))),
    waybill: Type.Optional(Nullable(Barcode)),
    print_data: Type.Optional(Nullable(PrintDataWire)),
    ship_by: Type.Optional(Nullable(Millis)),
    revision: Type.Optional(Type.Integer({ minimum: 0, description: 'newer revisions replace older ones; default 0' })),
    presale: Type.Optional(
      Type.Boolean({
        description:
          'a presale order not paid yet (预售): it may be packed ahead and staged, never labelled for a carrier until an order.paid change (docs/sync.md §18); absent means false',
      }),
    ),
  },
  { additionalProperties: false },
);
export type OrderInWire = Static<typeof OrderInWire>;
