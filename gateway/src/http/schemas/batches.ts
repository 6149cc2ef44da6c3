/** Batches and pre-pack jobs on the HTTP wire (gateway/src/batches/; docs/packing-modes.md). */
import { type Static, Type } from '@sinclair/typebox';
import { Id, Millis, Nullable } from './common.js';

const Structure = Type.Union(
  [Type.Literal('prepacked'), Type.Literal('single_same_sku'), Type.Literal('multi_same_composition'), Type.Literal('single'), Type.Literal('multi')],
  { description: '预包发货单 / 单品同品 / 多品同品 / 普通单品 / 普通多品' },
);
const Mode = Type.Union([Type.Literal('postprint'), Type.Literal('preprint')]);

export const BatchRuleWire = Type.Object(
  {
    structures: Type.Optional(Type.Array(Structure, { minItems: 1, maxItems: 5 })),
    carrier: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
    shop: Type.Optional(Type.String({ minLength: 1, maxLength: 128 })),
    ship_by_before: Type.Optional(Millis),
    max_size: Type.Integer({ minimum: 1, maximum: 5000 }),
    mode: Type.Optional(Mode),
    weigh: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false },
);
export type BatchRuleWire = Static<typeof BatchRuleWire>;

export const BuildBody = Type.Object(
  {
    /** By rules… */
    rules: Type.Optional(Type.Array(BatchRuleWire, { minItems: 1, maxItems: 20 })),
    /** …or by hand: these orders, in this sequence. */
    order_ids: Type.Optional(Type.Array(Id, { minItems: 1, maxItems: 5000 })),
    mode: Type.Optional(Mode),
    weigh: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false },
);

export const PreviewBody = Type.Object({ rules: Type.Array(BatchRuleWire, { minItems: 1, maxItems: 20 }) }, { additionalProperties: false });

export const BatchWire = Type.Object({
  batch_id: Type.String(),
  structure: Type.String(),
  composition: Nullable(Type.String()),
  carrier: Nullable(Type.String()),
  shop: Nullable(Type.String()),
  state: Type.Union([Type.Literal('open'), Type.Literal('working'), Type.Literal('done'), Type.Literal('cancelled')]),
  station_id: Nullable(Type.String()),
  mode: Mode,
  weigh: Type.Boolean(),
  order_ids: Type.Array(Type.String()),
  created_at: Millis,
  updated_at: Millis,
  progress: Type.Optional(
    Type.Object({
      total: Type.Integer(),
      taken: Type.Integer(),
      removed: Type.Integer(),
      remaining: Type.Integer(),
      next_order_id: Nullable(Type.String()),
      next_seq: Nullable(Type.Integer()),
    }),
  ),
});

export const BatchListReply = Type.Object({ batches: Type.Array(BatchWire) });
export const BatchReply = Type.Object({ batch: BatchWire });
export const BatchParams = Type.Object({ batchId: Id });
export const StartBody = Type.Object({ station_id: Id, mode: Type.Optional(Mode), weigh: Type.Optional(Type.Boolean()) }, { additionalProperties: false });

export const PrepackBody = Type.Object(
  {
    composition: Type.String({ minLength: 3, maxLength: 512, description: 'barcode*qty[+barcode*qty…], e.g. 6901234567890*1' }),
    units: Type.Integer({ minimum: 1, maximum: 10000 }),
  },
  { additionalProperties: false },
);
export const PrepackWire = Type.Object({
  job_id: Type.String(),
  composition: Type.String(),
  units: Type.Integer(),
  left: Type.Integer(),
  created_at: Millis,
  barcodes: Type.Optional(Type.Array(Type.String())),
});
export const PrepackListReply = Type.Object({ prepacks: Type.Array(PrepackWire) });
export const PrepackReply = Type.Object({ prepack: PrepackWire });
