/**
 * The one configuration schema: types, defaults and validation come from here.
 * `packline config check` and start-up both validate against it; docs/config.md describes it.
 * Every field has a default so `npm start` works with no config file at all.
 */
import { type Static, Type } from '@sinclair/typebox';
import { ID_PATTERN, ROLES, type Role } from '../../../contracts/topics.js';

const Id = Type.String({ pattern: ID_PATTERN, description: 'letters, digits, "_", "." or "-", at most 64' });
const Port = Type.Integer({ minimum: 0, maximum: 65535 });

export { ROLES, type Role };

export const CHECKPOINTS = ['pick_start', 'inspection', 'packing', 'weighing', 'direct_shipment'] as const;
export type Checkpoint = (typeof CHECKPOINTS)[number];

export const DeviceConfig = Type.Object(
  {
    id: Id,
    role: Type.Union(ROLES.map((r) => Type.Literal(r))),
    /** Station or line this device belongs to (displays: the station whose view they show). */
    station: Type.Optional(Id),
    model: Type.Optional(Type.String({ maxLength: 64 })),
    description: Type.Optional(Type.String({ maxLength: 200 })),
  },
  { additionalProperties: false },
);
export type DeviceConfig = Static<typeof DeviceConfig>;

export const StationConfig = Type.Object(
  {
    id: Id,
    scanner: Id,
    scale: Id,
    printer: Id,
    display: Type.Optional(Id),
    /** Print channel number of this workstation (printing issue routes jobs by it). */
    channel: Type.Integer({ minimum: 1, maximum: 999, default: 1 }),
    /**
     * Item verification: `always` scans every item; `multi_item` skips single-item orders;
     * `never` skips verification (pre-packed parcels).
     */
    verifyItems: Type.Union([Type.Literal('always'), Type.Literal('multi_item'), Type.Literal('never')], {
      default: 'always',
    }),
  },
  { additionalProperties: false },
);
export type StationConfig = Static<typeof StationConfig>;

export const LineConfig = Type.Object(
  {
    id: Id,
    /** The conveyor / DWS device that publishes parcel telegrams and receives divert commands. */
    device: Id,
    /** carrier code → chute. */
    chutes: Type.Record(Type.String({ minLength: 1, maxLength: 32 }), Type.String({ minLength: 1, maxLength: 32 }), {
      default: {},
    }),
    exceptionChute: Type.String({ minLength: 1, maxLength: 32, default: 'EXC' }),
    defaultChute: Type.String({ minLength: 1, maxLength: 32, default: 'DEFAULT' }),
    /** Whether the line checks weight against the order (needs a DWS with a scale). */
    checkWeight: Type.Boolean({ default: true }),
  },
  { additionalProperties: false },
);
export type LineConfig = Static<typeof LineConfig>;

export const ConfigSchema = Type.Object(
  {
    gatewayId: Type.String({ pattern: ID_PATTERN, default: 'gw-01' }),
    dataDir: Type.String({ minLength: 1, default: './data' }),
    log: Type.Object(
      {
        level: Type.Union(
          ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].map((l) => Type.Literal(l)),
          { default: 'info' },
        ),
      },
      { default: {}, additionalProperties: false },
    ),
    mqtt: Type.Object(
      {
        host: Type.String({ default: '0.0.0.0' }),
        port: Type.Integer({ minimum: 0, maximum: 65535, default: 1883 }),
        /** MQTT over WebSocket shares the HTTP server on this path. */
        wsPath: Type.String({ pattern: '^/', default: '/mqtt' }),
        tls: Type.Object(
          {
            port: Type.Integer({ minimum: 0, maximum: 65535, default: 8883 }),
            certFile: Type.Optional(Type.String()),
            keyFile: Type.Optional(Type.String()),
            caFile: Type.Optional(Type.String()),
          },
          { default: {}, additionalProperties: false },
        ),
        /** Lab only: let clients in without credentials, with full access. Start-up warns loudly. */
        allowAnonymous: Type.Boolean({ default: false }),
        /**
         * Point the gateway at an external broker (Mosquitto, EMQX) instead of the embedded one.
         * Devices then authenticate against that broker; the gateway connects as a service client.
         */
        external: Type.Optional(
          Type.Object(
            {
              url: Type.String({ pattern: '^(mqtts?|wss?)://' }),
              username: Type.Optional(Type.String()),
              password: Type.Optional(Type.String()),
              clientId: Type.Optional(Type.String()),
            },
            { additionalProperties: false },
          ),
        ),
        limits: Type.Object(
          {
            /** Sustained publishes per second per client (token bucket refill rate). */
            publishRate: Type.Number({ exclusiveMinimum: 0, default: 200 }),
            /** Token bucket size: short bursts above the rate that are still accepted. */
            publishBurst: Type.Integer({ minimum: 1, default: 400 }),
            /** Refused publishes in a row after which the client is disconnected. */
            disconnectAfterRefused: Type.Integer({ minimum: 1, default: 1000 }),
            /** QoS 1/2 messages queued per client (offline or slow) before the oldest are dropped. */
            maxQueuedPerClient: Type.Integer({ minimum: 1, default: 1000 }),
            maxConnections: Type.Integer({ minimum: 1, default: 2000 }),
          },
          { default: {}, additionalProperties: false },
        ),
      },
      { default: {}, additionalProperties: false },
    ),
    http: Type.Object(
      {
        host: Type.String({ default: '0.0.0.0' }),
        port: Type.Integer({ minimum: 0, maximum: 65535, default: 8080 }),
        tls: Type.Object(
          {
            certFile: Type.Optional(Type.String()),
            keyFile: Type.Optional(Type.String()),
          },
          { default: {}, additionalProperties: false },
        ),
      },
      { default: {}, additionalProperties: false },
    ),
    storage: Type.Object(
      {
        /**
         * Longest a write waits for company before its group commit starts (ms). 0 commits as
         * soon as the previous commit finished; writes that arrive meanwhile share the next one.
         */
        commitWindowMs: Type.Number({ minimum: 0, maximum: 50, default: 0 }),
        /** Refuse new work when the data directory's filesystem has less free space (MB). */
        minFreeMb: Type.Integer({ minimum: 0, default: 200 }),
      },
      { default: {}, additionalProperties: false },
    ),
    shipment: Type.Object(
      {
        weight: Type.Object(
          {
            toleranceGrams: Type.Number({ minimum: 0, default: 50 }),
            tolerancePercent: Type.Number({ minimum: 0, maximum: 100, default: 5 }),
          },
          { default: {}, additionalProperties: false },
        ),
        /** Checkpoints at which the interception check runs (guide: 拦截节点). */
        checkpoints: Type.Array(Type.Union(CHECKPOINTS.map((c) => Type.Literal(c))), {
          default: ['packing', 'weighing', 'direct_shipment'],
          uniqueItems: true,
        }),
        /** Default packaging weight (g) when an order does not state one. */
        defaultPackagingGrams: Type.Number({ minimum: 0, default: 30 }),
      },
      { default: {}, additionalProperties: false },
    ),
    devices: Type.Array(DeviceConfig, { default: [] }),
    stations: Type.Array(StationConfig, { default: [] }),
    lines: Type.Array(LineConfig, { default: [] }),
    sim: Type.Object(
      {
        /** Run the simulated floor (stations, DWS line, cloud) inside this process group. */
        enabled: Type.Boolean({ default: false }),
        stations: Type.Integer({ minimum: 0, maximum: 500, default: 2 }),
        lines: Type.Integer({ minimum: 0, maximum: 50, default: 1 }),
        /** Seconds between parcels per simulated station. */
        parcelEverySeconds: Type.Number({ minimum: 0.05, default: 4 }),
      },
      { default: {}, additionalProperties: false },
    ),
  },
  { additionalProperties: false },
);

export type Config = Static<typeof ConfigSchema>;
export { Port };
