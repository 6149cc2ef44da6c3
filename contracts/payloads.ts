/**
 * JSON payload schemas for every topic in topics.ts (TypeBox: one definition gives the
 * TypeScript type and the JSON Schema that Ajv compiles for validation at the edge).
 *
 * Wire keys are snake_case. Every device → gateway event may carry `msg_id`: a device-chosen
 * id (unique per device) that makes a redelivered message (MQTT QoS 1 DUP, or an app retry)
 * apply once. Timestamps on the wire are Unix epoch milliseconds.
 */
import { type Static, Type } from '@sinclair/typebox';
import { ID_PATTERN } from './topics.js';

const MsgId = Type.String({ minLength: 1, maxLength: 64, pattern: '^[\\x21-\\x7e]+$' });
const Millis = Type.Integer({ minimum: 0, maximum: 8_640_000_000_000_000 });
const Id = Type.String({ pattern: ID_PATTERN });
/** Printable ASCII barcodes (GS1 FNC1 is passed as GS, 0x1d), up to 128 characters. */
export const BARCODE_PATTERN = '^[\\x1d\\x20-\\x7e]{1,128}$';
const Barcode = Type.String({ minLength: 1, maxLength: 128, pattern: BARCODE_PATTERN });
/** Weights in grams; 500 kg upper bound covers every pallet-free parcel scale. */
const Grams = Type.Number({ minimum: -500_000, maximum: 500_000 });

const eventBase = {
  msg_id: Type.Optional(MsgId),
  ts: Type.Optional(Millis),
};

// ---- device → gateway events (dev/{id}/evt/{kind}) --------------------------------------

export const ScanEvent = Type.Object(
  {
    ...eventBase,
    code: Barcode,
    /** AIM symbology identifier such as `]C1` (ISO/IEC 15424), when the scanner sends one. */
    symbology: Type.Optional(Type.String({ maxLength: 8 })),
  },
  { additionalProperties: false },
);
export type ScanEvent = Static<typeof ScanEvent>;

export const WeightEvent = Type.Object(
  {
    ...eventBase,
    grams: Grams,
    stable: Type.Boolean(),
  },
  { additionalProperties: false },
);
export type WeightEvent = Static<typeof WeightEvent>;

/** A DWS / conveyor parcel telegram. `barcode: null` is a no-read. */
export const ParcelEvent = Type.Object(
  {
    ...eventBase,
    seq: Type.Optional(Type.Integer({ minimum: 0, maximum: 4_294_967_295 })),
    barcode: Type.Union([Barcode, Type.Null()]),
    grams: Type.Optional(Grams),
    length_mm: Type.Optional(Type.Integer({ minimum: 0, maximum: 10_000 })),
    width_mm: Type.Optional(Type.Integer({ minimum: 0, maximum: 10_000 })),
    height_mm: Type.Optional(Type.Integer({ minimum: 0, maximum: 10_000 })),
  },
  { additionalProperties: false },
);
export type ParcelEvent = Static<typeof ParcelEvent>;

export const PrintResultEvent = Type.Object(
  {
    ...eventBase,
    job_id: Type.String({ minLength: 1, maxLength: 64 }),
    status: Type.Union([Type.Literal('printed'), Type.Literal('failed')]),
    reason: Type.Optional(Type.String({ maxLength: 200 })),
  },
  { additionalProperties: false },
);
export type PrintResultEvent = Static<typeof PrintResultEvent>;

export const PdaLoginEvent = Type.Object(
  {
    ...eventBase,
    operator: Type.String({ minLength: 1, maxLength: 64 }),
    station_id: Type.Optional(Id),
  },
  { additionalProperties: false },
);
export type PdaLoginEvent = Static<typeof PdaLoginEvent>;

export const PdaConfirmEvent = Type.Object(
  {
    ...eventBase,
    task_id: Type.String({ minLength: 1, maxLength: 64 }),
    result: Type.Union([Type.Literal('done'), Type.Literal('failed')]),
    note: Type.Optional(Type.String({ maxLength: 200 })),
  },
  { additionalProperties: false },
);
export type PdaConfirmEvent = Static<typeof PdaConfirmEvent>;

// ---- picking on PDAs (docs/mqtt.md §8, contract version PICK_CONTRACT_VERSION) -----------

/** Version of the PDA picking contract; task offers carry it as `v`, a PDA ignores fields it does not know. */
export const PICK_CONTRACT_VERSION = 1;
const TaskId = Type.String({ minLength: 1, maxLength: 64, pattern: ID_PATTERN });
const Qty = Type.Integer({ minimum: 1, maximum: 100_000 });

/** Ask for work: the oldest wave released to this PDA (or to any), or, with `order`, a pick list for that order. */
export const PickRequestEvent = Type.Object({ ...eventBase, order: Type.Optional(Barcode) }, { additionalProperties: false });
export type PickRequestEvent = Static<typeof PickRequestEvent>;

/** Accept an offered task: pick start (the interception check runs on every order). */
export const PickAcceptEvent = Type.Object(
  { ...eventBase, task_id: TaskId, operator: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })) },
  { additionalProperties: false },
);
export type PickAcceptEvent = Static<typeof PickAcceptEvent>;

/** One line picked: the location barcode scanned, then the item barcode, and the units taken. */
export const PickLineEvent = Type.Object({ ...eventBase, task_id: TaskId, location: Barcode, item: Barcode, qty: Qty }, { additionalProperties: false });
export type PickLineEvent = Static<typeof PickLineEvent>;

/** A short pick: only `found` good units at the location (0 = not there). */
export const PickShortEvent = Type.Object(
  {
    ...eventBase,
    task_id: TaskId,
    location: Barcode,
    item: Barcode,
    found: Type.Integer({ minimum: 0, maximum: 100_000 }),
    reason: Type.Union([Type.Literal('not_there'), Type.Literal('damaged'), Type.Literal('fewer')]),
  },
  { additionalProperties: false },
);
export type PickShortEvent = Static<typeof PickShortEvent>;

/** Wave sort (put wall / packing station): one picked unit scanned; the answer names its slot. */
export const PickSortEvent = Type.Object({ ...eventBase, task_id: TaskId, item: Barcode }, { additionalProperties: false });
export type PickSortEvent = Static<typeof PickSortEvent>;

/** A replenishment move done: `qty` units from the reserve to the pick face (default: as asked). */
export const ReplenishConfirmEvent = Type.Object({ ...eventBase, task_id: TaskId, qty: Type.Optional(Qty) }, { additionalProperties: false });
export type ReplenishConfirmEvent = Static<typeof ReplenishConfirmEvent>;
/** A parcel scanned into a courier handover manifest (docs/handover.md; PDA or station scanner). */
export const HandoverScanEvent = Type.Object(
  {
    ...eventBase,
    manifest_id: Type.String({ minLength: 1, maxLength: 128 }),
    code: Type.String({ minLength: 1, maxLength: 128 }),
  },
  { additionalProperties: false },
);
export type HandoverScanEvent = Static<typeof HandoverScanEvent>;

/** A PDA scanned a label it pulled off a parcel (the recall task, docs/mqtt.md §10). */
export const RecallScanEvent = Type.Object({ ...eventBase, code: Type.String({ minLength: 1, maxLength: 128 }) }, { additionalProperties: false });
export type RecallScanEvent = Static<typeof RecallScanEvent>;

export const EVENT_SCHEMAS = {
  scan: ScanEvent,
  weight: WeightEvent,
  parcel: ParcelEvent,
  print_result: PrintResultEvent,
  pda_login: PdaLoginEvent,
  pda_confirm: PdaConfirmEvent,
  pick_request: PickRequestEvent,
  pick_accept: PickAcceptEvent,
  pick_line: PickLineEvent,
  pick_short: PickShortEvent,
  pick_sort: PickSortEvent,
  replenish_confirm: ReplenishConfirmEvent,
  handover_scan: HandoverScanEvent,
  recall_scan: RecallScanEvent,
} as const;

export interface EventPayloads {
  scan: ScanEvent;
  weight: WeightEvent;
  parcel: ParcelEvent;
  print_result: PrintResultEvent;
  pda_login: PdaLoginEvent;
  pda_confirm: PdaConfirmEvent;
  pick_request: PickRequestEvent;
  pick_accept: PickAcceptEvent;
  pick_line: PickLineEvent;
  pick_short: PickShortEvent;
  pick_sort: PickSortEvent;
  replenish_confirm: ReplenishConfirmEvent;
  handover_scan: HandoverScanEvent;
  recall_scan: RecallScanEvent;
}

// ---- gateway → device commands (dev/{id}/cmd/{kind}) ------------------------------------

export const PrintCommand = Type.Object({
  job_id: Type.String(),
  shipment_id: Type.Optional(Type.String()),
  format: Type.Union([Type.Literal('zpl'), Type.Literal('tspl')]),
  data: Type.String(),
  copies: Type.Integer({ minimum: 1, maximum: 10 }),
});
export type PrintCommand = Static<typeof PrintCommand>;

export const DivertCommand = Type.Object({
  seq: Type.Optional(Type.Integer()),
  barcode: Type.Union([Type.String(), Type.Null()]),
  chute: Type.String(),
  /** Why this chute: `carrier`, an intercept / hold error code, `no_read` or `unknown`. */
  reason: Type.String(),
});
export type DivertCommand = Static<typeof DivertCommand>;

export const DisplayCommand = Type.Object({
  level: Type.Union([Type.Literal('info'), Type.Literal('ok'), Type.Literal('warn'), Type.Literal('alert')]),
  text: Type.String(),
  text_zh: Type.String(),
});
export type DisplayCommand = Static<typeof DisplayCommand>;

// ---- status topics ------------------------------------------------------------------------

export const DeviceState = Type.Object({
  state: Type.Union([Type.Literal('online'), Type.Literal('offline'), Type.Literal('error')]),
  reason: Type.Optional(Type.String({ maxLength: 200 })),
  ts: Type.Optional(Millis),
});
export type DeviceState = Static<typeof DeviceState>;

/** `gateway/{gw}/link` (retained): the cloud link as the station screens and dashboard show it. */
export const GatewayLinkState = Type.Object({
  /**
   * `contract_error`: the cloud answers, but with something that does not match the sync
   * contract (docs/sync.md); `last_error` says what. Sync waits with backoff until it does.
   */
  state: Type.Union([Type.Literal('online'), Type.Literal('degraded'), Type.Literal('offline'), Type.Literal('contract_error'), Type.Literal('disabled')]),
  /** When the state last changed. */
  since: Millis,
  /** `https`, `mqtt`, or `none` when sync is not configured. */
  transport: Type.String(),
  /** Events recorded but not yet acknowledged by the cloud. */
  backlog: Type.Integer({ minimum: 0 }),
  acked_seq: Type.Integer({ minimum: 0 }),
  /** Events tagged sync failed and not resolved. */
  failed: Type.Integer({ minimum: 0 }),
  last_error: Type.Union([Type.String(), Type.Null()]),
  ts: Millis,
});
export type GatewayLinkState = Static<typeof GatewayLinkState>;

export const Ack = Type.Object({
  msg_id: Type.Optional(Type.String()),
  kind: Type.String(),
  /** Event-log sequence number of the recorded event (absent for a duplicate). */
  seq: Type.Optional(Type.Integer()),
  duplicate: Type.Optional(Type.Boolean()),
});
export type Ack = Static<typeof Ack>;

export const StationViewLine = Type.Object({
  sku: Type.String(),
  barcode: Type.String(),
  name: Type.String(),
  qty: Type.Integer(),
  scanned: Type.Integer(),
});

/** Retained snapshot on station/{id}/view; everything a station screen needs to draw. */
export const StationView = Type.Object({
  station_id: Type.String(),
  state: Type.String(),
  shipment_id: Type.Union([Type.String(), Type.Null()]),
  order_id: Type.Union([Type.String(), Type.Null()]),
  lines: Type.Array(StationViewLine),
  expected_grams: Type.Union([Type.Number(), Type.Null()]),
  weight: Type.Union([Type.Object({ grams: Type.Number(), stable: Type.Boolean() }), Type.Null()]),
  waybill: Type.Union([Type.String(), Type.Null()]),
  carrier: Type.Union([Type.String(), Type.Null()]),
  label: Type.Union([Type.String(), Type.Null()]),
  alert: Type.Union([
    Type.Object({
      level: Type.Union([Type.Literal('info'), Type.Literal('ok'), Type.Literal('warn'), Type.Literal('alert')]),
      code: Type.Union([Type.String(), Type.Null()]),
      message: Type.String(),
      message_zh: Type.String(),
    }),
    Type.Null(),
  ]),
  updated_at: Millis,
  /**
   * The batch the station works (post-print), absent when it works order by order: its id,
   * mode, progress (orders picked, removed by an interception, left) and the next order a
   * scan picks.
   */
  batch: Type.Optional(
    Type.Object({
      batch_id: Type.String(),
      mode: Type.String(),
      composition: Type.Union([Type.String(), Type.Null()]),
      total: Type.Integer(),
      taken: Type.Integer(),
      removed: Type.Integer(),
      remaining: Type.Integer(),
      next_order_id: Type.Union([Type.String(), Type.Null()]),
      next_seq: Type.Union([Type.Integer(), Type.Null()]),
    }),
  ),
  /**
   * Presale parcels (docs/packing-modes.md "Presale"), absent when there are none: on the
   * presale shelf not paid yet, paid and waiting for a scan of their staging label, and the
   * unpack list (orders stopped before payment; the first 10 listed).
   */
  presale: Type.Optional(
    Type.Object({
      staged: Type.Integer(),
      ready: Type.Integer(),
      unpack: Type.Integer(),
      unpack_list: Type.Array(Type.Object({ staging_id: Type.String(), order_id: Type.String(), reason: Type.String() })),
    }),
  ),
  /**
   * Picking (docs/picking.md), absent when neither applies: `order` is the order at the station
   * when it was picked in a wave (its slot: where its picked units wait, and its picking state);
   * `sorted` is the last picked unit sorted at this station (a PDA of the station scanned the
   * wave, then the item): the slot to put it in.
   */
  picking: Type.Optional(
    Type.Object({
      order: Type.Union([Type.Object({ wave_id: Type.String(), order_id: Type.String(), slot: Type.Integer(), state: Type.String() }), Type.Null()]),
      sorted: Type.Union([
        Type.Object({ wave_id: Type.String(), order_id: Type.String(), slot: Type.Integer(), sku: Type.String(), item: Type.String(), at: Millis }),
        Type.Null(),
      ]),
    }),
  ),
  /**
   * Labels to pull (the gateway's one recall list: pre-printed labels whose order was
   * intercepted, voided labels of carrier switches), absent when none is open: how many, and
   * the first few.
   */
  recalls: Type.Optional(
    Type.Object({
      open: Type.Integer(),
      items: Type.Array(Type.Object({ waybill: Type.String(), order_id: Type.String(), kind: Type.String(), code: Type.String() })),
    }),
  ),
});
export type StationView = Static<typeof StationView>;
