/**
 * The one configuration schema: types, defaults and validation come from here.
 * `packline config check` and start-up both validate against it; docs/config.md describes it.
 * Every field has a default so `npm start` works with no config file at all.
 */
import { type Static, Type } from '@sinclair/typebox';
import { NotifyConfigSchema } from '../../../cloud-sync/src/notify/notify-config.js';
import { ID_PATTERN, ROLES, type Role } from '../../../contracts/topics.js';

const Id = Type.String({ pattern: ID_PATTERN, description: 'letters, digits, "_", "." or "-", at most 64' });
const Port = Type.Integer({ minimum: 0, maximum: 65535 });

export { ROLES, type Role };

export const CHECKPOINTS = ['pick_start', 'inspection', 'packing', 'weighing', 'direct_shipment'] as const;
export type Checkpoint = (typeof CHECKPOINTS)[number];

const SerialLink = Type.Object(
  {
    type: Type.Literal('serial'),
    /** Prefer /dev/serial/by-id/… links: they survive re-plugging into another USB port. */
    path: Type.String({ minLength: 1 }),
  },
  { additionalProperties: false },
);
const TcpLink = Type.Object(
  { type: Type.Literal('tcp'), host: Type.String({ minLength: 1 }), port: Type.Integer({ minimum: 1, maximum: 65535 }) },
  { additionalProperties: false },
);
/**
 * A USB HID device by identity, read through node-hid: `vid:pid` (hex, as lsusb prints it) or
 * `vid:pid:serial` when two identical devices share a gateway. Never `/dev/hidrawN`: the number
 * changes on replug (`packline device discover` prints the identity to use).
 */
const HidLink = Type.Object(
  {
    type: Type.Literal('hid'),
    device: Type.String({
      pattern: '^[0-9a-fA-F]{4}:[0-9a-fA-F]{4}(:.+)?$',
      description: 'vid:pid[:serial] in hex, e.g. 0c2e:0b61 (see packline device discover)',
    }),
  },
  { additionalProperties: false },
);
const TcpListenLink = Type.Object(
  { type: Type.Literal('tcp-listen'), host: Type.String({ default: '0.0.0.0' }), port: Type.Integer({ minimum: 0, maximum: 65535 }) },
  { additionalProperties: false },
);

/**
 * A device the gateway drives itself (a serial scale, a network label printer, a DWS line):
 * the driver runs inside the gateway and bridges the device onto the broker under the
 * device's own identity. `definition` names a model in device-drivers (docs/devices/).
 */
export const DriverConfig = Type.Union(
  [
    Type.Object(
      {
        kind: Type.Literal('scale'),
        definition: Type.String({ minLength: 1 }),
        /** serial (RS-232 / USB-serial), TCP device server, or USB HID (HID POS scales: definitions with transport hid) */
        link: Type.Union([SerialLink, TcpLink, HidLink]),
        pollIntervalMs: Type.Optional(Type.Integer({ minimum: 50, maximum: 10_000 })),
      },
      { additionalProperties: false },
    ),
    Type.Object(
      {
        kind: Type.Literal('printer'),
        definition: Type.String({ minLength: 1 }),
        host: Type.String({ minLength: 1 }),
        port: Type.Optional(Type.Integer({ minimum: 1, maximum: 65535 })),
      },
      { additionalProperties: false },
    ),
    Type.Object(
      {
        kind: Type.Literal('ipp-printer'),
        /** e.g. ipp://10.0.20.32:631/ipp/print */
        uri: Type.String({ pattern: '^ipps?://' }),
      },
      { additionalProperties: false },
    ),
    Type.Object(
      {
        kind: Type.Literal('scanner'),
        /** serial lines, evdev input events, HID keyboard boot reports (hidraw) or HID POS reports */
        wire: Type.Union([Type.Literal('serial'), Type.Literal('evdev'), Type.Literal('hid-keyboard'), Type.Literal('hid-pos')]),
        /** hid: wire hid-keyboard or hid-pos through node-hid by identity; file: an evdev node or a FIFO */
        link: Type.Union([
          SerialLink,
          HidLink,
          Type.Object({ type: Type.Literal('file'), path: Type.String({ minLength: 1 }) }, { additionalProperties: false }),
        ]),
        baudRate: Type.Optional(Type.Integer({ minimum: 300, maximum: 921_600 })),
        /** serial wire: the scanner's suffix; default any (CR, LF or CR LF); none = suffix off, a scan ends after an idle gap */
        terminator: Type.Optional(Type.Union([Type.Literal('cr'), Type.Literal('lf'), Type.Literal('crlf'), Type.Literal('any'), Type.Literal('none')])),
        layout: Type.Optional(Type.Union([Type.Literal('us'), Type.Literal('de'), Type.Literal('fr')])),
        prefix: Type.Optional(Type.String({ maxLength: 16 })),
        suffix: Type.Optional(Type.String({ maxLength: 16 })),
        duplicateWindowMs: Type.Optional(Type.Integer({ minimum: 0, maximum: 60_000 })),
      },
      { additionalProperties: false },
    ),
    Type.Object(
      {
        kind: Type.Literal('dws'),
        definition: Type.String({ minLength: 1 }),
        link: Type.Union([TcpLink, TcpListenLink]),
        replyTimeoutMs: Type.Optional(Type.Integer({ minimum: 10, maximum: 60_000 })),
        defaultChute: Type.Optional(Type.String({ minLength: 1, maxLength: 32 })),
      },
      { additionalProperties: false },
    ),
  ],
  {
    description:
      'run this device through a driver inside the gateway (see docs/devices/); link: serial {path} (prefer /dev/serial/by-id/…), tcp {host, port}, hid {device: vid:pid[:serial], never /dev/hidrawN} for HID POS scales and HID scanners, file {path} for evdev',
  },
);
export type DriverConfig = Static<typeof DriverConfig>;

export const DeviceConfig = Type.Object(
  {
    id: Id,
    role: Type.Union(ROLES.map((r) => Type.Literal(r))),
    /** Station or line this device belongs to (displays: the station whose view they show). */
    station: Type.Optional({ ...Id, description: 'station or line this device belongs to (displays: the station whose view they show)' }),
    model: Type.Optional(Type.String({ maxLength: 64 })),
    description: Type.Optional(Type.String({ maxLength: 200 })),
    driver: Type.Optional(DriverConfig),
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
    channel: Type.Integer({
      description: 'Print channel number of this workstation (printing issue routes jobs by it).',
      minimum: 1,
      maximum: 999,
      default: 1,
    }),
    /**
     * Item verification: `always` scans every item; `multi_item` skips single-item orders;
     * `never` skips verification (pre-packed parcels).
     */
    verifyItems: Type.Union([Type.Literal('always'), Type.Literal('multi_item'), Type.Literal('never')], {
      description: 'item verification by scan: always; multi_item skips single-item orders; never (pre-packed)',
      default: 'always',
    }),
    /**
     * Language of this station's labels. Unset: the printer's own when the gateway drives it
     * (`devices[].driver` kind `printer`: its definition's language), else ZPL (IPP and
     * MQTT-native printers). Set it for a TSPL printer behind IPP or on MQTT; a value that
     * contradicts a driven printer's language is refused at start-up.
     */
    labelFormat: Type.Optional(
      Type.Union([Type.Literal('zpl'), Type.Literal('tspl')], {
        description: "label language: zpl or tspl; unset = the driven printer's language (devices[].driver kind printer), else zpl (IPP, MQTT-native printers)",
      }),
    ),
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
      description: 'carrier code → chute',
      default: {},
    }),
    exceptionChute: Type.String({ minLength: 1, maxLength: 32, default: 'EXC' }),
    defaultChute: Type.String({ minLength: 1, maxLength: 32, default: 'DEFAULT' }),
    /** Whether the line checks weight against the order (needs a DWS with a scale). */
    checkWeight: Type.Boolean({ description: 'Whether the line checks weight against the order (needs a DWS with a scale).', default: true }),
  },
  { additionalProperties: false },
);
export type LineConfig = Static<typeof LineConfig>;

export const ConfigSchema = Type.Object(
  {
    gatewayId: Type.String({ description: "this gateway's id: in event ids, shipment ids and the cloud sync", pattern: ID_PATTERN, default: 'gw-01' }),
    dataDir: Type.String({ description: 'SQLite store, provisioning and token files, labels', minLength: 1, default: './data' }),
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
        port: Type.Integer({ description: 'MQTT over TCP (0 = any free port)', minimum: 0, maximum: 65535, default: 1883 }),
        /** MQTT over WebSocket shares the HTTP server on this path. */
        wsPath: Type.String({ description: 'MQTT over WebSocket shares the HTTP server on this path.', pattern: '^/', default: '/mqtt' }),
        tls: Type.Object(
          {
            port: Type.Integer({
              description: "MQTT over TLS: with certFile/keyFile, else the gateway's own certificate (tls.mode auto); closed with neither",
              minimum: 0,
              maximum: 65535,
              default: 8883,
            }),
            certFile: Type.Optional(Type.String({ description: "server certificate (PEM); unset = the gateway's own (tls.mode auto)" })),
            keyFile: Type.Optional(Type.String({ description: 'its private key (PEM), with certFile' })),
            /** Mutual TLS: every TLS client must present a certificate signed by this CA, with CN = its username. */
            caFile: Type.Optional(
              Type.String({
                description:
                  'Mutual TLS: require every TLS client to present a certificate signed by this CA, with CN = its username (packline tls init --client).',
              }),
            ),
          },
          { default: {}, additionalProperties: false },
        ),
        /** Lab only: let clients in without credentials, with full access. Start-up warns loudly. */
        allowAnonymous: Type.Boolean({ description: 'Lab only: let clients in without credentials, with full access. Start-up warns loudly.', default: false }),
        /**
         * Lab only, with allowAnonymous: confine anonymous clients to these topic filters, a
         * sandbox outside the device contract (e.g. for the Eclipse Paho interoperability suite).
         * Empty: anonymous clients have full access.
         */
        labTopics: Type.Array(Type.String({ minLength: 1 }), {
          description:
            'Lab only, with allowAnonymous: topic filters anonymous clients are confined to (a sandbox outside the device contract, e.g. for conformance suites); empty = full access.',
          default: [],
        }),
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
            publishRate: Type.Number({
              description: 'Sustained publishes per second per client (token bucket refill rate).',
              exclusiveMinimum: 0,
              default: 200,
            }),
            /** Token bucket size: short bursts above the rate that are still accepted. */
            publishBurst: Type.Integer({ description: 'Token bucket size: short bursts above the rate that are still accepted.', minimum: 1, default: 400 }),
            /** Refused publishes in a row after which the client is disconnected. */
            disconnectAfterRefused: Type.Integer({
              description: 'Refused publishes in a row after which the client is disconnected.',
              minimum: 1,
              default: 1000,
            }),
            /** QoS 1/2 messages queued per client (offline or slow) before the oldest are dropped. */
            maxQueuedPerClient: Type.Integer({
              description: 'QoS 1/2 messages queued per client (offline or slow) before the oldest are dropped.',
              minimum: 1,
              default: 1000,
            }),
            maxConnections: Type.Integer({ description: 'clients connected at once; further CONNECTs are refused', minimum: 1, default: 2000 }),
            /**
             * Largest MQTT control packet accepted (bytes, fixed header included; MQTT 5 §3.1.2.11.4
             * "Maximum Packet Size" semantics). A bigger packet closes the connection as soon as its
             * fixed header is read, so it is never buffered or delivered.
             */
            maxPacketSize: Type.Integer({
              description:
                'Largest MQTT packet accepted (bytes, whole packet); a bigger one closes the connection before its body is read and is delivered to nobody.',
              minimum: 1024,
              maximum: 268435460,
              default: 1048576,
            }),
            /**
             * Connections that declared keep-alive 0 ("turned off", MQTT 3.1.1 §3.1.2.10) are
             * closed after this many seconds without any traffic; TCP keep-alive probes reap
             * half-open sockets of every connection as well.
             */
            idleTimeout: Type.Integer({
              description:
                'Seconds without traffic after which a connection that declared keep-alive 0 is closed (others are reaped at 1.5 × their keep-alive).',
              minimum: 1,
              default: 3600,
            }),
          },
          { default: {}, additionalProperties: false },
        ),
        /**
         * The plaintext MQTT listener (`port`, 1883) for devices that cannot do TLS. Off: MQTT
         * only over TLS (`tls.port`) and secure WebSocket; drivers hosted in the gateway then
         * reach the broker on a loopback-only listener (docs/security.md).
         */
        plaintext: Type.Boolean({
          description:
            'open the plaintext MQTT listener (port) for devices that cannot do TLS; false = MQTT only over TLS and secure WebSocket (hosted drivers use a loopback-only listener)',
          default: true,
        }),
      },
      { default: {}, additionalProperties: false },
    ),
    http: Type.Object(
      {
        host: Type.String({ default: '0.0.0.0' }),
        port: Type.Integer({ description: 'HTTP API, web pages and MQTT over WebSocket', minimum: 0, maximum: 65535, default: 8080 }),
        /**
         * Host names the API, screens and MQTT over WebSocket answer to besides IP addresses,
         * `localhost` and this machine's host name (and `<name>.local`): a request for any
         * other name is refused (DNS rebinding), and so is a browser request from a page of
         * another origin (docs/security.md).
         */
        allowedHosts: Type.Array(Type.String({ minLength: 1, maxLength: 253 }), {
          description: "host names served besides IP addresses, localhost and this machine's name (Host and Origin checks, docs/security.md)",
          default: [],
        }),
        tls: Type.Object(
          {
            certFile: Type.Optional(Type.String({ description: "HTTPS server certificate (PEM); unset = the gateway's own (tls.mode auto)" })),
            keyFile: Type.Optional(Type.String({ description: 'its private key (PEM), with certFile' })),
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
        commitWindowMs: Type.Number({
          description: 'longest a write waits for company before its group commit (ms); 0 = commit when the writer is free',
          minimum: 0,
          maximum: 50,
          default: 0,
        }),
        /** Refuse new work when the data directory's filesystem has less free space (MB). */
        minFreeMb: Type.Integer({ description: "Refuse new work when the data directory's filesystem has less free space (MB).", minimum: 0, default: 200 }),
      },
      { default: {}, additionalProperties: false },
    ),
    shipment: Type.Object(
      {
        weight: Type.Object(
          {
            toleranceGrams: Type.Number({ description: 'allowed deviation = max(toleranceGrams, tolerancePercent × expected)', minimum: 0, default: 50 }),
            tolerancePercent: Type.Number({ description: 'see toleranceGrams', minimum: 0, maximum: 100, default: 5 }),
          },
          { default: {}, additionalProperties: false },
        ),
        /** Checkpoints at which the interception check runs (guide: 拦截节点). */
        checkpoints: Type.Array(Type.Union(CHECKPOINTS.map((c) => Type.Literal(c))), {
          description: 'checkpoints at which the order-flag interception check runs (guide: 拦截节点)',
          default: ['pick_start', 'packing', 'weighing', 'direct_shipment'],
          uniqueItems: true,
        }),
        /** Default packaging weight (g) when an order does not state one. */
        defaultPackagingGrams: Type.Number({ description: 'Default packaging weight (g) when an order does not state one.', minimum: 0, default: 30 }),
      },
      { default: {}, additionalProperties: false },
    ),
    sync: Type.Object(
      {
        /**
         * The cloud order system: https://… (HTTPS, the default transport) or mqtt(s)://… (a
         * bridge through a cloud broker, for fleets). Unset: no cloud sync; the event log keeps
         * everything until one is configured.
         */
        url: Type.Optional(
          Type.String({
            description: 'cloud order system: https://… or http://… (HTTPS transport) or mqtt(s)://… (MQTT bridge); unset = no cloud sync',
            pattern: '^(https?|mqtts?)://',
          }),
        ),
        /** File holding this gateway's HMAC key (shared with the cloud). PACKLINE_SYNC_KEY overrides. */
        keyFile: Type.Optional(
          Type.String({ description: "file holding this gateway's HMAC-SHA256 key, shared with the cloud (PACKLINE_SYNC_KEY overrides)" }),
        ),
        caFile: Type.Optional(Type.String({ description: 'PEM CA bundle for a private cloud CA (HTTPS or MQTTS)' })),
        mqttUsername: Type.Optional(Type.String({ description: 'MQTT bridge: user name at the cloud broker' })),
        mqttPassword: Type.Optional(Type.String({ description: 'MQTT bridge: password at the cloud broker' })),
        timeoutMs: Type.Integer({ description: 'longest a sync request may take before it counts as failed', minimum: 100, default: 30_000 }),
        batch: Type.Object(
          {
            maxEvents: Type.Integer({ description: 'events per upstream batch, at most', minimum: 1, maximum: 5_000, default: 1_000 }),
            maxBytes: Type.Integer({
              description: 'uncompressed bytes per upstream batch, at most',
              minimum: 1_024,
              maximum: 4 * 1024 * 1024,
              default: 1024 * 1024,
            }),
            lingerMs: Type.Integer({
              description: 'longest an event waits for company before a partial batch goes',
              minimum: 0,
              maximum: 60_000,
              default: 200,
            }),
          },
          { default: {}, additionalProperties: false },
        ),
        backoff: Type.Object(
          {
            baseMs: Type.Integer({ description: 'first retry delay (full jitter, doubling)', minimum: 10, default: 500 }),
            maxMs: Type.Integer({ description: 'retry delay cap; retries never stop', minimum: 100, default: 60_000 }),
            failureThreshold: Type.Integer({ description: 'unanswered calls in a row after which the link is offline (breaker open)', minimum: 1, default: 3 }),
          },
          { default: {}, additionalProperties: false },
        ),
        inbound: Type.Object(
          {
            pollMs: Type.Integer({ description: 'how often the cloud change feed is pulled', minimum: 100, default: 2_000 }),
            pageSize: Type.Integer({ description: 'changes per pull', minimum: 1, maximum: 1_000, default: 500 }),
          },
          { default: {}, additionalProperties: false },
        ),
        /** Alarm when the cloud has been unreachable this long (and again when it is back). */
        outageAlertAfterMs: Type.Integer({ description: 'alarm when the cloud link has not been online for this long', minimum: 1_000, default: 300_000 }),
        /** Alarm when fewer open orders than this share have a waybill (they cannot ship offline). */
        waybillCoverageAlarmPercent: Type.Number({
          description: 'alarm when fewer open orders than this percentage have a pre-fetched waybill',
          minimum: 0,
          maximum: 100,
          default: 90,
        }),
        /**
         * Pre-shipment callback (前置回传): report a shipment upstream as shipped as soon as its
         * label is queued, for these shops ("*" = all). Later changes are not re-sent as a
         * ship confirmation.
         */
        preShipmentCallbackShops: Type.Array(Type.String({ minLength: 1 }), {
          description: 'shops ("*" = all) whose shipments are reported shipped as soon as the label is queued (前置回传)',
          default: [],
          uniqueItems: true,
        }),
      },
      { default: {}, additionalProperties: false },
    ),
    printing: Type.Object(
      {
        /**
         * Print channels (多通道打印): printers that share a channel's labels. A station prints on
         * its `channel`; when its own printer faults or is offline, labels go to another printer
         * of the channel. A channel's printers must speak the same label language.
         */
        channels: Type.Array(
          Type.Object(
            {
              id: Type.Integer({ description: 'channel number (stations[].channel)', minimum: 1, maximum: 999 }),
              printers: Type.Array(Id, { description: 'printer device ids of this channel', minItems: 1, uniqueItems: true }),
            },
            { additionalProperties: false },
          ),
          { description: 'print channels and their printers; a station without one prints on its own printer only', default: [] },
        ),
        /** Routing rules: the first rule whose carrier / shop match sends the label to its channel. */
        routes: Type.Array(
          Type.Object(
            {
              channel: Type.Integer({ minimum: 1, maximum: 999 }),
              carrier: Type.Optional(Type.String({ minLength: 1, maxLength: 32 })),
              shop: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
            },
            { additionalProperties: false },
          ),
          { description: 'label routing rules by carrier and/or shop (first match wins), e.g. all SF labels to channel 7', default: [] },
        ),
        queueLimit: Type.Integer({
          description: 'unanswered labels per printer before new scans are refused (PKL_PRINT_QUEUE_FULL)',
          minimum: 1,
          maximum: 1000,
          default: 20,
        }),
        reprint: Type.Object(
          {
            /** Wrong supervisor passwords allowed per supervisor within `windowMs` before reprints are locked. */
            maxFailures: Type.Integer({
              description: 'wrong supervisor passwords allowed per supervisor within windowMs before reprints lock',
              minimum: 1,
              default: 5,
            }),
            windowMs: Type.Integer({ description: 'window (and lock time) for the wrong-password limit, ms', minimum: 1_000, default: 300_000 }),
          },
          { default: {}, additionalProperties: false },
        ),
        /**
         * Label templates per carrier (docs/printing.md): template files are JSON data
         * (gateway/templates/ ships standard-76x130, zto-76x130, yto-76x130, sf-100x150; `dir`
         * adds the site's own). Nothing set = the built-in label for every carrier.
         */
        templates: Type.Object(
          {
            dir: Type.Optional(
              Type.String({ minLength: 1, description: "directory of the site's own label template files (*.json); same id as a shipped one replaces it" }),
            ),
            default: Type.Optional(
              Type.String({ minLength: 1, maxLength: 64, description: 'template id for carriers not listed in carriers; unset = the built-in label' }),
            ),
            carriers: Type.Record(Type.String({ minLength: 1, maxLength: 32 }), Type.String({ minLength: 1, maxLength: 64 }), {
              description: 'carrier code (as in orders, e.g. ZTO, YTO, SF) → template id',
              default: {},
            }),
            font: Type.Optional(
              Type.String({
                minLength: 1,
                description:
                  'TrueType font (.ttf/.ttc with glyf outlines) ZPL label text is drawn with (as ^GF graphics, so no printer font is needed); unset = the bundled WenQuanYi Micro Hei (gateway/fonts/)',
              }),
            ),
            tsplFont: Type.String({ description: 'printer font for TSPL label text (must hold Chinese glyphs)', default: 'TSS24.BF2' }),
          },
          { default: {}, additionalProperties: false },
        ),
        /**
         * Cainiao print-component endpoint (菜鸟打印组件 protocol, WebSocket): ERP web pages that
         * print through `ws://localhost:13528` print on the gateway's printers instead.
         */
        cainiao: Type.Object(
          {
            enabled: Type.Boolean({ description: 'serve the Cainiao print-component WebSocket protocol', default: false }),
            host: Type.String({ description: 'listen address of the print-component endpoint', default: '0.0.0.0' }),
            port: Type.Integer({
              description: 'print-component port (13528 is what ERP pages dial; 0 = any free port)',
              minimum: 0,
              maximum: 65535,
              default: 13528,
            }),
          },
          { default: {}, additionalProperties: false },
        ),
      },
      { default: {}, additionalProperties: false },
    ),
    /** Alerts (sync outage, sync failed, waybill coverage): webhooks (JSON, WeCom, DingTalk) and e-mail. */
    notify: NotifyConfigSchema,
    /**
     * The pre-peak readiness check (`packline preflight`, GET /api/v1/preflight, docs/operations.md)
     * and the operations alerts that watch the same figures between runs.
     */
    preflight: Type.Object(
      {
        peakShipmentsPerHour: Type.Integer({
          description: 'peak shipments per hour of the whole site: sizes the offline buffer the disk gives',
          minimum: 1,
          default: 3_000,
        }),
        eventsPerShipment: Type.Number({
          description: 'event-log events one shipment writes, for the offline buffer estimate (scan, items, weight, label, shipped…)',
          minimum: 1,
          default: 6,
        }),
        bufferWarnHours: Type.Number({ description: 'warn when the free disk holds fewer hours of offline events at the peak rate', minimum: 0, default: 72 }),
        bufferFailHours: Type.Number({ description: 'fail when the free disk holds fewer hours of offline events at the peak rate', minimum: 0, default: 8 }),
        scannerStaleMinutes: Type.Integer({ description: 'warn when a scanner has not scanned for this long', minimum: 1, default: 30 }),
        scaleZeroGrams: Type.Number({ description: 'a scale whose last stable reading is within this of 0 g counts as at zero', minimum: 0, default: 5 }),
        shopAuthWarnDays: Type.Integer({
          description: 'warn when a shop authorisation expires within this many days (fail once expired)',
          minimum: 1,
          default: 30,
        }),
        cloudLatencyWarnMs: Type.Integer({ description: 'warn when a signed ping to the cloud takes longer', minimum: 1, default: 2_000 }),
        clockSkewWarnMs: Type.Integer({ description: "warn (fail at 10×) when the clock differs from the cloud's by more", minimum: 100, default: 5_000 }),
        deviceOfflineAlertMinutes: Type.Number({ description: 'alert when a configured device has been offline this long', minimum: 0.05, default: 5 }),
        checkEveryMinutes: Type.Number({
          description: 'run the preflight in the background this often and alert when it fails (0 = never)',
          minimum: 0,
          default: 15,
        }),
      },
      { default: {}, additionalProperties: false },
    ),
    devices: Type.Array(DeviceConfig, { default: [] }),
    stations: Type.Array(StationConfig, { default: [] }),
    lines: Type.Array(LineConfig, { default: [] }),
    sim: Type.Object(
      {
        /** Run the simulated floor (stations, DWS line, cloud) inside this process group. */
        enabled: Type.Boolean({ description: 'Run the simulated floor (stations, DWS line, cloud) inside this process group.', default: false }),
        stations: Type.Integer({ description: 'simulated packing stations (when no stations are configured)', minimum: 0, maximum: 500, default: 2 }),
        lines: Type.Integer({ description: 'simulated DWS lines', minimum: 0, maximum: 50, default: 1 }),
        /** Seconds between parcels per simulated station. */
        parcelEverySeconds: Type.Number({ description: 'Seconds between parcels per simulated station.', minimum: 0.05, default: 4 }),
      },
      { default: {}, additionalProperties: false },
    ),
    /**
     * How long data stays on the card (storage/retention*.ts, docs/security.md "Retention").
     * Nothing the cloud has not acknowledged is pruned, nor an order still open or held.
     * The defaults keep a season at the peak rate within a third of a 32 GB card (the
     * arithmetic is in docs/security.md).
     */
    retention: Type.Object(
      {
        enabled: Type.Boolean({ description: 'prune old data in small steps in the background', default: true }),
        ordersDays: Type.Number({
          description:
            'closed orders (shipped, cancelled, refunded, closed by the platform) with their shipments and print jobs: kept this many days after their last change',
          minimum: 1,
          default: 14,
        }),
        eventsDays: Type.Number({
          description: 'events the cloud acknowledged: kept this many days (events it has not acknowledged are never pruned)',
          minimum: 1,
          default: 7,
        }),
        labelFilesDays: Type.Number({
          description: 'label files and previews under the data directory (labels/, previews/): kept this many days after they were written',
          minimum: 0.01,
          default: 2,
        }),
        batchRows: Type.Integer({
          description: 'orders and events looked at per step (each step is one short transaction on the writer)',
          minimum: 10,
          maximum: 5_000,
          default: 100,
        }),
        filesPerStep: Type.Integer({ description: 'label files deleted per step at most', minimum: 1, maximum: 10_000, default: 200 }),
        stepEveryMs: Type.Integer({ description: 'pause between steps while there is something to prune (ms)', minimum: 10, default: 1_000 }),
        idleEveryMs: Type.Integer({ description: 'pause after a pass that found nothing to prune (ms)', minimum: 1_000, default: 60_000 }),
        vacuumPagesPerStep: Type.Integer({
          description: 'free database pages given back to the file system per step (PRAGMA incremental_vacuum; a new database has 512-byte pages)',
          minimum: 0,
          default: 256,
        }),
        vacuumAtStartMaxMb: Type.Integer({
          description:
            'an existing database without incremental vacuum is switched (one VACUUM) at start when at most this size (MB); larger: `packline store compact`',
          minimum: 0,
          default: 256,
        }),
      },
      { default: {}, additionalProperties: false },
    ),
    /**
     * Encrypted by default (docs/security.md): `auto` makes a local CA and a server certificate
     * in `<dataDir>/tls` on first start (tls/auto-tls.ts) and serves MQTT over TLS and the API
     * and screens over HTTPS with it wherever mqtt.tls / http.tls name no files of their own;
     * `off` keeps plaintext unless those files are set by hand (labs, tests).
     */
    tls: Type.Object(
      {
        mode: Type.Union([Type.Literal('auto'), Type.Literal('off')], {
          description:
            'auto = make and use a local CA and server certificate in <dataDir>/tls where mqtt.tls / http.tls set no files; off = plaintext unless those files are set (labs, tests)',
          default: 'auto',
        }),
        renewDays: Type.Integer({
          description: 'a local server certificate expiring within this many days is re-issued at start (preflight warns meanwhile)',
          minimum: 1,
          maximum: 365,
          default: 30,
        }),
      },
      { default: {}, additionalProperties: false },
    ),
    /** Courier handover, carrier holds, consumables and the UPS signal (docs/handover.md). */
    handover: Type.Object(
      {
        cutoff: Type.String({
          description: "the couriers' last pickup, HH:MM local time: shipped parcels not handed over by then raise an alert",
          pattern: '^([01]?\\d|2[0-3]):[0-5]\\d$',
          default: '18:00',
        }),
        cutoffByCarrier: Type.Record(Type.String(), Type.String({ pattern: '^([01]?\\d|2[0-3]):[0-5]\\d$' }), {
          description: 'per-carrier cut-offs (HH:MM) that differ from `cutoff`',
          default: {},
        }),
        lookbackHours: Type.Number({ description: 'shipped parcels older than this are no longer expected at a handover', minimum: 1, default: 72 }),
        printer: Type.Optional(Type.String({ description: 'printer (device id) that prints the ZPL manifest when a manifest closes' })),
        waybillPool: Type.Record(Type.String(), Type.Array(Type.String({ pattern: '^[A-Za-z0-9-]{4,40}$' })), {
          description: 'spare waybill numbers per carrier, used when a held order is switched to that carrier and the cloud sent none',
          default: {},
        }),
        rollLabels: Type.Record(Type.String(), Type.Integer({ minimum: 1 }), {
          description: 'labels on a full roll, per printer device id (consumables; "*" = every printer)',
          default: {},
        }),
        lowMediaPercent: Type.Number({ description: 'warn when a roll has less than this share of its labels left', minimum: 0, maximum: 100, default: 10 }),
        upsLineFile: Type.Optional(
          Type.String({
            description: 'file polled for a UPS line (content "onbatt", "lowbatt" or "online", e.g. from a GPIO sysfs value or a NUT NOTIFYCMD script)',
          }),
        ),
        shutdownOn: Type.Union([Type.Literal('onbatt'), Type.Literal('lowbatt')], {
          description: 'the UPS event that starts the graceful shutdown',
          default: 'lowbatt',
        }),
      },
      { default: {}, additionalProperties: false },
    ),
    /**
     * Picking on PDAs (docs/picking.md): the wave rules a build uses where the request names
     * none (POST /api/v1/waves), the replenishment rule for pick faces the feed gives no
     * trigger, and whether a supervisor may ship what was picked of an order held short.
     */
    picking: Type.Object(
      {
        waves: Type.Object(
          {
            groupBy: Type.Array(Type.Union([Type.Literal('carrier'), Type.Literal('shop')]), {
              description: 'orders of one wave share these attributes (a request may name others)',
              maxItems: 2,
              default: ['carrier'],
            }),
            maxOrders: Type.Integer({ description: 'orders per wave at most (the put wall or cart slots)', minimum: 1, maximum: 1_000, default: 50 }),
            maxLines: Type.Integer({ description: 'consolidated pick lines per wave at most', minimum: 1, maximum: 10_000, default: 400 }),
            maxUnits: Type.Integer({ description: 'units per wave at most (what one cart carries)', minimum: 1, maximum: 100_000, default: 1_000 }),
            maxWaves: Type.Integer({ description: 'waves made by one build at most', minimum: 1, maximum: 200, default: 1 }),
            pendingOrders: Type.Integer({
              description: 'pending orders a build looks at (earliest ship-by first)',
              minimum: 100,
              maximum: 100_000,
              default: 20_000,
            }),
          },
          { default: {}, additionalProperties: false },
        ),
        replenishment: Type.Object(
          {
            defaultTrigger: Type.Union([Type.Integer({ minimum: 1 }), Type.Null()], {
              description: 'replenishment trigger (units) of a pick face whose location carries none; null: such faces are not replenished by rule',
              default: null,
            }),
            defaultCapacity: Type.Union([Type.Integer({ minimum: 1 }), Type.Null()], {
              description: 'capacity (units) of a pick face whose location carries none, for the request quantity (capacity − on hand); null: the trigger',
              default: null,
            }),
          },
          { default: {}, additionalProperties: false },
        ),
        partialShipment: Type.Boolean({
          description: 'a supervisor may release an order held short to ship what was picked (false: held orders can only be cancelled)',
          default: true,
        }),
      },
      { default: {}, additionalProperties: false },
    ),
  },
  { additionalProperties: false },
);

export type Config = Static<typeof ConfigSchema>;
export { Port };
