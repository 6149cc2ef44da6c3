/**
 * A floor scenario: which simulated stations, sorter lines and cloud run, and how they
 * misbehave. Plain JSON (can live in a file or be passed on the command line); every field
 * has a default, so `{}` is the default floor: 2 packing stations, 1 DWS line and the cloud.
 */
import { type Static, Type } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { PacklineError } from '../../../contracts/errors.js';
import { ID_PATTERN } from '../../../contracts/topics.js';
import { SIMULATED_PROTOCOLS } from '../scale/device-side.js';

const Id = Type.String({ pattern: ID_PATTERN });
const Share = Type.Number({ minimum: 0, maximum: 1 });

export const StationScenario = Type.Object(
  {
    id: Id,
    /** Device ids; when left out they are looked up in the credentials by station + role. */
    scanner: Type.Optional(Id),
    scale: Type.Optional(Id),
    printer: Type.Optional(Id),
    /** `null` runs no screen; left out, a display is used if the credentials have one. */
    display: Type.Optional(Type.Union([Id, Type.Null()])),
    verifyItems: Type.Union([Type.Literal('always'), Type.Literal('multi_item'), Type.Literal('never')], { default: 'always' }),
    orderBarcode: Type.Union([Type.Literal('order_id'), Type.Literal('pick_slip')], { default: 'order_id' }),
    /**
     * Post-print (后置打单, docs/packing-modes.md): the station works a same-SKU batch (the floor
     * builds one by rule and starts it over HTTP when the station has none) and scans an item
     * barcode per parcel instead of the order.
     */
    postprint: Type.Boolean({ default: false }),
    /** Pause after each parcel (seconds). */
    parcelEverySeconds: Type.Number({ minimum: 0, maximum: 3600, default: 4 }),
    wrongItemRate: Type.Number({ minimum: 0, maximum: 1, default: 0.05 }),
    wrongWeightRate: Type.Number({ minimum: 0, maximum: 1, default: 0.02 }),
    scaleFaults: Type.Object(
      {
        noiseGrams: Type.Number({ minimum: 0, maximum: 1000, default: 2 }),
        driftGramsPerParcel: Type.Number({ minimum: -1000, maximum: 1000, default: 0 }),
        unstable: Type.Boolean({ default: false }),
      },
      { default: {}, additionalProperties: false },
    ),
    printerFaults: Type.Object(
      {
        paperOut: Type.Boolean({ default: false }),
        slowMs: Type.Integer({ minimum: 0, maximum: 60_000, default: 0 }),
      },
      { default: {}, additionalProperties: false },
    ),
  },
  { additionalProperties: false },
);
export type StationScenario = Static<typeof StationScenario>;

/**
 * A station whose scale and printer are wire-protocol devices the GATEWAY drives
 * (`devices[].driver` in its config, as on a real site): the floor only plays the devices on
 * the far end of the wires, so every path and port here must match that config. The scanner
 * and the screen stay MQTT devices (looked up in the credentials like a packing station's).
 */
export const WireStationScenario = Type.Object(
  {
    id: Id,
    scanner: Type.Optional(Id),
    display: Type.Optional(Type.Union([Id, Type.Null()])),
    verifyItems: Type.Union([Type.Literal('always'), Type.Literal('multi_item'), Type.Literal('never')], { default: 'always' }),
    parcelEverySeconds: Type.Number({ minimum: 0, maximum: 3600, default: 4 }),
    wrongItemRate: Type.Number({ minimum: 0, maximum: 1, default: 0.05 }),
    scale: Type.Object(
      {
        /** The indicator's protocol; the gateway's scale definition must speak the same. */
        protocol: Type.Union(
          SIMULATED_PROTOCOLS.map((p) => Type.Literal(p)),
          { default: 'toledo-8217' },
        ),
        /** Protocol options as in the gateway's scale definition (e.g. `{ "unit": "kg" }`). */
        options: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
        line: Type.Optional(
          Type.Object(
            {
              baudRate: Type.Integer({ minimum: 300, maximum: 921_600 }),
              dataBits: Type.Union([Type.Literal(7), Type.Literal(8)]),
              parity: Type.Union([Type.Literal('none'), Type.Literal('even'), Type.Literal('odd')]),
              stopBits: Type.Union([Type.Literal(1), Type.Literal(2)]),
            },
            { additionalProperties: false },
          ),
        ),
        /** The pty link the gateway's scale driver opens (its `link.path`). */
        driverPath: Type.String({ minLength: 1 }),
        /** The pty link the simulated indicator opens. */
        devicePath: Type.String({ minLength: 1 }),
      },
      { additionalProperties: false },
    ),
    /** The ZPL printer simulator listens on 127.0.0.1:port (the gateway's printer driver `port`). */
    printer: Type.Object({ port: Type.Integer({ minimum: 1, maximum: 65535 }) }, { additionalProperties: false }),
  },
  { additionalProperties: false },
);
export type WireStationScenario = Static<typeof WireStationScenario>;

export const LineScenario = Type.Object(
  {
    id: Id,
    /** The DWS device id; looked up in the credentials (station = line id, role conveyor) when left out. */
    device: Type.Optional(Id),
    /** Seconds between parcels entering the tunnel. */
    parcelEverySeconds: Type.Number({ minimum: 0.01, maximum: 3600, default: 2 }),
    noReadRate: Type.Number({ minimum: 0, maximum: 1, default: 0.03 }),
    /**
     * When no packed parcel is waiting: chance per tick that a pre-packed order (direct
     * shipment, no packing station) goes onto the line instead. 0 sorts only station parcels.
     */
    directShipmentRate: Type.Number({ minimum: 0, maximum: 1, default: 0 }),
    divertTimeoutMs: Type.Integer({ minimum: 10, maximum: 60_000, default: 2000 }),
    defaultChute: Type.String({ minLength: 1, maxLength: 32, default: 'DEFAULT' }),
  },
  { additionalProperties: false },
);
export type LineScenario = Static<typeof LineScenario>;

export const CloudScenario = Type.Object(
  {
    initialOrders: Type.Integer({ minimum: 0, maximum: 1_000_000, default: 200 }),
    batchSize: Type.Integer({ minimum: 0, maximum: 100_000, default: 20 }),
    batchEverySeconds: Type.Number({ minimum: 0, default: 30 }),
    refundFlipEverySeconds: Type.Number({ minimum: 0, default: 20 }),
    waybillEverySeconds: Type.Number({ minimum: 0, default: 15 }),
    /** Share of orders that are one unit of a promoted best seller (the post-print station's batches). */
    hotSkuShare: Type.Number({ minimum: 0, maximum: 1, default: 0 }),
    shares: Type.Object(
      {
        refundRequested: Type.Optional(Share),
        cancelled: Type.Optional(Share),
        platformClosed: Type.Optional(Share),
        noWaybill: Type.Optional(Share),
      },
      { default: {}, additionalProperties: false },
    ),
  },
  { additionalProperties: false },
);
export type CloudScenario = Static<typeof CloudScenario>;

/**
 * A picker with a PDA (picker.ts): waves of one shop's orders, built and released over the HTTP
 * API, picked over MQTT; the picked orders are packed at `packAt` (a packing station of this
 * scenario), which also packs from the common pool when no picked order waits.
 */
export const PickerScenario = Type.Object(
  {
    /** The PDA's device id (role pda in the credentials). */
    id: Id,
    shop: Type.String({ minLength: 1, maxLength: 64, default: 'tmall-flagship' }),
    packAt: Id,
    waveOrders: Type.Integer({ minimum: 1, maximum: 1000, default: 6 }),
    waveEverySeconds: Type.Number({ minimum: 0, maximum: 3600, default: 5 }),
    mistakeRate: Type.Number({ minimum: 0, maximum: 1, default: 0.05 }),
    shortRate: Type.Number({ minimum: 0, maximum: 1, default: 0.02 }),
    faceUnits: Type.Integer({ minimum: 1, maximum: 100_000, default: 60 }),
  },
  { additionalProperties: false },
);
export type PickerScenario = Static<typeof PickerScenario>;

export const Scenario = Type.Object(
  {
    name: Type.String({ maxLength: 100, default: 'default' }),
    seed: Type.Integer({ default: 42 }),
    /** Order-id prefix for this run; left out, one is derived from the clock so reruns never collide. */
    runTag: Type.Optional(Type.String({ pattern: '^[A-Za-z0-9]{1,12}$' })),
    stations: Type.Array(StationScenario, {
      default: [{ id: 'st-01' }, { id: 'st-02' }],
      maxItems: 500,
    }),
    /** None by default: a wire station needs the gateway configured to drive its devices (sim-config does). */
    wireStations: Type.Array(WireStationScenario, { default: [], maxItems: 50 }),
    lines: Type.Array(LineScenario, { default: [{ id: 'line-01' }], maxItems: 50 }),
    /** Pickers with PDAs (none by default); their shop's orders are picked in waves before packing. */
    pickers: Type.Array(PickerScenario, { default: [], maxItems: 50 }),
    /** `null`: no simulated cloud (orders must already be on the gateway, or passed to startFloor). */
    cloud: Type.Union([CloudScenario, Type.Null()], { default: {} }),
    /** Packaging weight the gateway uses for orders without one (config shipment.defaultPackagingGrams). */
    defaultPackagingGrams: Type.Number({ minimum: 0, default: 30 }),
    scaleSettleReadings: Type.Integer({ minimum: 0, maximum: 50, default: 3 }),
    scaleReadingIntervalMs: Type.Integer({ minimum: 0, maximum: 10_000, default: 80 }),
    replyTimeoutMs: Type.Integer({ minimum: 10, maximum: 600_000, default: 10_000 }),
    printTimeoutMs: Type.Integer({ minimum: 10, maximum: 600_000, default: 15_000 }),
  },
  { additionalProperties: false },
);
export type Scenario = Static<typeof Scenario>;

/**
 * Fills defaults and validates; bad input is PKL_CONFIG_INVALID naming the first bad field.
 * Nested defaults need a second pass: Value.Default fills an array's default items only
 * after their parent exists.
 */
export function parseScenario(input: unknown): Scenario {
  if (input === null || typeof input !== 'object' || Array.isArray(input)) {
    throw new PacklineError('PKL_CONFIG_INVALID', { reason: 'scenario must be a JSON object' });
  }
  const copy: unknown = structuredClone(input);
  Value.Default(Scenario, copy);
  Value.Default(Scenario, copy);
  if (!Value.Check(Scenario, copy)) {
    const first = Value.Errors(Scenario, copy).First();
    const where = first?.path ? first.path.slice(1).replaceAll('/', '.') : 'scenario';
    throw new PacklineError('PKL_CONFIG_INVALID', { reason: `scenario ${where}: ${first?.message ?? 'is invalid'}` });
  }
  const s = copy as Scenario;
  const ids = new Set<string>();
  for (const x of [...s.stations, ...s.wireStations, ...s.lines]) {
    if (ids.has(x.id)) throw new PacklineError('PKL_CONFIG_INVALID', { reason: `scenario: id ${x.id} is used twice` });
    ids.add(x.id);
  }
  for (const p of s.pickers) {
    if (!s.stations.some((st) => st.id === p.packAt && !st.postprint)) {
      throw new PacklineError('PKL_CONFIG_INVALID', {
        reason: `scenario: picker ${p.id} packs at ${p.packAt}, which is not an order-by-order station of this scenario`,
      });
    }
  }
  return s;
}

export function defaultScenario(): Scenario {
  return parseScenario({});
}
