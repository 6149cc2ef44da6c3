/** Wire schemas of the picking API (docs/http.md "Picking", docs/picking.md). */
import { Type } from '@sinclair/typebox';
import { ID_PATTERN } from '../../../../contracts/topics.js';
import { Nullable } from './common.js';

const Code = Type.String({ minLength: 1, maxLength: 128 });
const WaveState = Type.Union(['built', 'released', 'picking', 'closed', 'cancelled'].map((s) => Type.Literal(s)));

export const WaveWire = Type.Object(
  {
    wave_id: Type.String(),
    mode: Type.Union([Type.Literal('wave'), Type.Literal('order')]),
    state: WaveState,
    device_id: Nullable(Type.String()),
    operator: Nullable(Type.String()),
    orders: Type.Array(
      Type.Object({
        order_id: Type.String(),
        slot: Type.Integer({ description: 'put-wall / sort slot, 1-based, in wave order' }),
        state: Type.Union(['picking', 'picked', 'short', 'released_short', 'pulled'].map((s) => Type.Literal(s))),
        code: Nullable(Type.String({ description: 'why pulled (intercept code) or held (PKL_PICK_SHORT)' })),
      }),
    ),
    lines: Type.Array(
      Type.Object({
        line_no: Type.Integer(),
        location: Type.String(),
        sku: Type.String(),
        barcodes: Type.Array(Type.String()),
        qty: Type.Integer(),
        picked: Type.Integer(),
        short: Type.Boolean(),
        orders: Type.Array(Type.Object({ order_id: Type.String(), qty: Type.Integer(), picked: Type.Integer() })),
      }),
      { description: 'consolidated lines (units summed per SKU and location) in pick-path order' },
    ),
    units: Type.Integer(),
    picked_units: Type.Integer(),
    lines_done: Type.Integer(),
  },
  { description: 'A wave or a one-order pick list' },
);

export const WaveRulesBody = Type.Object(
  {
    preview: Type.Optional(Type.Boolean({ default: false, description: 'compute and show the waves without recording them' })),
    group_by: Type.Optional(
      Type.Array(Type.Union([Type.Literal('carrier'), Type.Literal('shop')]), { maxItems: 2, description: 'default: config picking.waves.groupBy' }),
    ),
    cutoff: Type.Optional(Nullable(Type.Integer({ minimum: 0, description: 'only orders due (ship-by) by this epoch ms' }))),
    carriers: Type.Optional(Type.Array(Type.String({ maxLength: 64 }), { maxItems: 50 })),
    shops: Type.Optional(Type.Array(Type.String({ maxLength: 64 }), { maxItems: 200 })),
    max_orders: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, description: 'default: config picking.waves.maxOrders' })),
    max_lines: Type.Optional(Type.Integer({ minimum: 1, maximum: 10_000, description: 'default: config picking.waves.maxLines' })),
    max_units: Type.Optional(Type.Integer({ minimum: 1, maximum: 100_000, description: 'default: config picking.waves.maxUnits' })),
    zone: Type.Optional(Nullable(Type.String({ maxLength: 64 }))),
    max_waves: Type.Optional(Type.Integer({ minimum: 1, maximum: 200, description: 'default: config picking.waves.maxWaves' })),
  },
  { additionalProperties: false },
);

export const BuildReply = Type.Object({
  waves: Type.Array(WaveWire),
  left_out: Type.Array(Type.Object({ orderId: Type.String(), code: Type.String(), sku: Type.Optional(Type.String()) }), {
    description: 'orders not waved and why: intercepted at pick start, no stock, in a wave already, too big',
  }),
});

export const WaveParams = Type.Object({ waveId: Type.String({ pattern: ID_PATTERN }) });
export const WaveListQuery = Type.Object({ state: Type.Optional(WaveState) }, { additionalProperties: false });
export const ReleaseBody = Type.Object({ device_id: Type.Optional(Nullable(Type.String({ pattern: ID_PATTERN }))) }, { additionalProperties: false });
export const CancelBody = Type.Object({ reason: Type.String({ minLength: 1, maxLength: 200 }) }, { additionalProperties: false });

export const ShortWire = Type.Object({
  order_id: Type.String(),
  state: Type.String({ description: 'held, released (ship what was picked) or cancelled' }),
  wave_id: Nullable(Type.String()),
  lines: Type.Array(Type.Object({ location: Type.String(), sku: Type.String(), missing: Type.Integer(), reason: Type.String() })),
});
export const OrderParams = Type.Object({ orderId: Type.String({ pattern: ID_PATTERN }) });
export const ShortDecisionBody = Type.Object(
  {
    action: Type.Union([Type.Literal('release'), Type.Literal('cancel')]),
    supervisor: Type.String({ minLength: 1, maxLength: 64 }),
  },
  { additionalProperties: false },
);

export const LocationParams = Type.Object({ location: Code });
export const LocationStockWire = Type.Object({
  location: Type.String(),
  zone: Type.String(),
  aisle: Type.Integer(),
  bay: Type.Integer(),
  level: Type.Integer(),
  kind: Type.Union([Type.Literal('pick'), Type.Literal('reserve')]),
  capacity: Nullable(Type.Integer()),
  trigger: Nullable(Type.Integer()),
  stock: Type.Array(Type.Object({ sku: Type.String(), qty: Type.Integer(), reserved: Type.Integer({ description: 'promised to open waves' }) })),
});

export const ReplenishmentWire = Type.Object({
  request_id: Type.String(),
  location: Type.String(),
  sku: Type.String(),
  qty: Type.Integer({ description: 'estimated: capacity − current when requested' }),
  state: Type.Union([Type.Literal('requested'), Type.Literal('tasked'), Type.Literal('done')]),
  from: Nullable(Type.String()),
  device_id: Nullable(Type.String()),
  moved: Type.Integer(),
  on_hand: Type.Integer(),
});
export const RequestParams = Type.Object({ requestId: Type.String({ pattern: ID_PATTERN }) });
export const TaskBody = Type.Object({ device_id: Type.Optional(Nullable(Type.String({ pattern: ID_PATTERN }))) }, { additionalProperties: false });
export const ConfirmBody = Type.Object({ qty: Type.Optional(Type.Integer({ minimum: 1, maximum: 100_000 })) }, { additionalProperties: false });

export const FloorBody = Type.Object(
  {
    locations: Type.Optional(
      Type.Array(
        Type.Object(
          {
            code: Code,
            zone: Type.String({ minLength: 1, maxLength: 64 }),
            aisle: Type.Integer({ minimum: 0, maximum: 10_000 }),
            bay: Type.Integer({ minimum: 0, maximum: 10_000 }),
            level: Type.Integer({ minimum: 0, maximum: 100 }),
            walk_seq: Type.Optional(Nullable(Type.Integer({ minimum: 0 }))),
            kind: Type.Union([Type.Literal('pick'), Type.Literal('reserve')]),
            capacity: Type.Optional(Nullable(Type.Integer({ minimum: 0 }))),
            trigger: Type.Optional(Nullable(Type.Integer({ minimum: 0 }))),
          },
          { additionalProperties: false },
        ),
        { maxItems: 10_000 },
      ),
    ),
    stock: Type.Optional(
      Type.Array(
        Type.Object(
          {
            location: Code,
            sku: Type.String({ minLength: 1, maxLength: 64 }),
            qty: Type.Integer({ minimum: 0, maximum: 10_000_000 }),
            revision: Type.Optional(Type.Integer({ minimum: 0 })),
          },
          { additionalProperties: false },
        ),
        { maxItems: 50_000 },
      ),
    ),
  },
  { additionalProperties: false },
);

export const PickingSummaryWire = Type.Object({
  waves: Type.Object({ open: Type.Integer(), picking: Type.Integer(), closed: Type.Integer() }),
  units: Type.Integer(),
  picked: Type.Integer(),
  shorts: Type.Integer(),
  replenishments: Type.Integer(),
  pickers: Type.Array(Type.Object({ device_id: Type.String(), lines: Type.Integer(), units: Type.Integer(), lines_per_hour: Nullable(Type.Integer()) })),
});
