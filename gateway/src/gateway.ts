/**
 * The composition root: builds every component from the validated config and runs them in
 * one lifecycle. Start order: store → device credentials and API tokens → HTTP app (not yet
 * listening) → broker and link → stations and lines (restored from the store) → ingress
 * (devices' events start flowing) → HTTP listen. Stop is the reverse, so in-flight steps
 * finish and are committed before the store closes.
 */
import { mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { parseTopic, topics } from '../../contracts/topics.js';
import { EmbeddedBroker } from './broker/embedded-broker.js';
import { EmbeddedLink } from './broker/embedded-link.js';
import { ExternalLink } from './broker/external-link.js';
import type { BrokerLink } from './broker/link.js';
import { DeviceProvisioner, type DeviceRegistry, type IssuedSecret } from './broker/provisioning.js';
import type { Config } from './config/schema.js';
import { DriverHost } from './drivers/driver-host.js';
import { CainiaoPrintEndpoint } from './printing/cainiao/endpoint.js';
import type { HealthService, StationService } from './http/deps.js';
import { buildHttpApp } from './http/app.js';
import { createStoreOrderService } from './http/order-import.js';
import { SyncService } from './sync/sync-service.js';
import { UiService } from './ui/ui-plugin.js';
import { createPrinterService } from './printing/printers.js';
import { Notifier } from '../../cloud-sync/src/notify/notifier.js';
import { type Component, stopAll } from './lib/component.js';
import type { Logger } from './lib/logger.js';
import { SdNotify } from './lib/sd-notify.js';
import { Metrics } from './metrics.js';
import { DeviceWatch } from './preflight/device-watch.js';
import { registerPreflightRoutes } from './preflight/http-route.js';
import { OpsAlerts } from './preflight/ops-alerts.js';
import { collectOpsMetrics } from './preflight/ops-metrics.js';
import { PreflightService } from './preflight/preflight-service.js';
import { loadOrCreateApiTokens } from './runtime/api-tokens.js';
import { buildBindings } from './runtime/bindings.js';
import { idSource } from './runtime/ids.js';
import { Ingress } from './runtime/ingress.js';
import { LineRuntime } from './runtime/line-runtime.js';
import { StationRuntime } from './runtime/station-runtime.js';
import { openStore } from './storage/sqlite-store.js';
import type { Store } from './storage/types.js';

export const VERSION = '0.1.0';

export interface GatewayInfo {
  gatewayId: string;
  httpUrl: string;
  mqttUrl: string | null;
  wsUrl: string;
  mqttTlsPort: number | null;
  dataDir: string;
  provisioningFile: string;
  apiTokensFile: string;
  /** Secrets issued at this start (first start, new devices); also in the provisioning file. */
  issued: IssuedSecret[];
  tokens: { admin: string; station: string };
}

/** The device registry the provisioner needs, served by the store. */
function storeRegistry(store: Store): DeviceRegistry {
  return {
    getDevice: (id) => store.getDevice(id),
    listDevices: () => store.listDevices(),
    putDevice: async (device) => {
      await store.write([{ op: 'device.put', device }]);
    },
    deleteDevice: async (deviceId) => {
      await store.write([{ op: 'device.delete', deviceId }]);
    },
  };
}

function hostFor(bind: string): string {
  return bind === '0.0.0.0' || bind === '::' ? '127.0.0.1' : bind;
}

export class Gateway implements Component {
  readonly name = 'gateway';
  private readonly running: Component[] = [];
  private app: FastifyInstance | null = null;
  private broker: EmbeddedBroker | null = null;
  private link: BrokerLink | null = null;
  private store: Store | null = null;
  private stations: StationRuntime | null = null;
  private information: GatewayInfo | null = null;
  private preflightService: PreflightService | null = null;
  readonly metrics = new Metrics();
  /** systemd readiness, watchdog and stopping notices (no-ops outside a Type=notify unit). */
  private readonly systemd = new SdNotify({ onError: (err) => this.logger.warn({ err: err.message }, 'sd_notify failed') });

  constructor(
    private readonly config: Readonly<Config>,
    private readonly logger: Logger,
  ) {}

  /** The preflight readiness check (after start). */
  preflight(): PreflightService {
    if (this.preflightService === null) throw new Error('gateway not started');
    return this.preflightService;
  }

  info(): GatewayInfo {
    if (this.information === null) throw new Error('gateway not started');
    return this.information;
  }

  async start(): Promise<void> {
    if (this.information !== null) return;
    try {
      await this.startComponents();
    } catch (err) {
      await this.stop();
      throw err;
    }
  }

  private async startComponents(): Promise<void> {
    const { config, logger, metrics } = this;
    const dataDir = resolve(config.dataDir);
    mkdirSync(dataDir, { recursive: true });
    const log = (component: string) => logger.child({ component });

    const store = openStore({
      dataDir,
      commitWindowMs: config.storage.commitWindowMs,
      minFreeMb: config.storage.minFreeMb,
      logger: log('store'),
    });
    this.store = store;
    await store.start();
    this.running.push({ name: 'store', start: () => store.start(), stop: () => store.stop() });

    const provisioner = new DeviceProvisioner(storeRegistry(store), { dataDir, logger: log('provisioning') });
    const issued = await provisioner.provisionConfigured(config.devices);
    const { tokens, file: apiTokensFile, exposed } = loadOrCreateApiTokens(dataDir);
    if (exposed !== null) log('http').warn({ code: exposed.code, ...exposed.details }, exposed.message);

    const ids = idSource(config.gatewayId, store.boot);
    const bindings = buildBindings(config);

    // The HTTP app is built before the runtimes exist (the broker needs its server for
    // MQTT over WebSocket); it reaches the stations through this late-bound facade.
    const stationsFacade: StationService = {
      list: () => this.stations?.list() ?? [],
      view: (id) => this.stations?.view(id) ?? null,
      manualScan: (id, code, operator) => {
        if (this.stations === null) return Promise.reject(new Error('stations not started'));
        return this.stations.manualScan(id, code, operator);
      },
      override: (id, supervisor, note) => {
        if (this.stations === null) return Promise.reject(new Error('stations not started'));
        return this.stations.override(id, supervisor, note);
      },
      reprint: (shipmentId, request) => {
        if (this.stations === null) return Promise.reject(new Error('stations not started'));
        return this.stations.reprint(shipmentId, request);
      },
      shipUnlabelled: (shipmentId, request) => {
        if (this.stations === null) return Promise.reject(new Error('stations not started'));
        return this.stations.shipUnlabelled(shipmentId, request);
      },
    };
    const health: HealthService = {
      ready: () => {
        const checks = {
          store: { ok: this.store !== null && !this.store.diskLow(), detail: this.store?.diskLow() ? 'disk almost full' : 'ok' },
          broker: { ok: this.link !== null, detail: config.mqtt.external ? 'external' : 'embedded' },
          stations: { ok: this.stations !== null },
        };
        return { ready: Object.values(checks).every((c) => c.ok), checks };
      },
    };
    let stations: StationRuntime | null = null;
    const orders = createStoreOrderService(store, (orderIds) => {
      for (const id of orderIds) stations?.orderUpdated(id);
    });
    // Cloud sync is built before the broker (the API answers its status from the start)
    // and started after the runtimes; it publishes its link state once the broker is up.
    let brokerLink: BrokerLink | null = null;
    const notifier = new Notifier({ gatewayId: config.gatewayId, ...config.notify, logger: log('notify') });
    await notifier.start();
    this.running.push(notifier);
    const sync = new SyncService({
      config,
      store,
      alerts: notifier,
      link: { publish: (topic, payload, opts) => (brokerLink === null ? Promise.resolve() : brokerLink.publish(topic, payload, opts)) },
      logger: log('sync'),
      onOrdersChanged: (orderIds) => {
        for (const id of orderIds) stations?.orderUpdated(id);
      },
    });
    // Test pages go out through the broker link once it is up (late-bound, like sync's).
    const printers = createPrinterService({
      config,
      boot: store.boot,
      publish: (topic, payload, opts) => (brokerLink === null ? Promise.reject(new Error('broker not started')) : brokerLink.publish(topic, payload, opts)),
      isOnline: (deviceId) => brokerLink?.connectedDevices().has(deviceId) ?? false,
      logger: log('printers'),
    });
    const app = await buildHttpApp({
      config,
      store,
      stations: stationsFacade,
      printers,
      orders,
      sync,
      metrics,
      health,
      tokens,
      logger: log('http'),
      version: VERSION,
    });
    this.app = app;
    // The screens (issue 6): pages, /ui/live and GET /api/v1/dashboard, registered before listen.
    const ui = new UiService({
      config,
      store,
      stations: stationsFacade,
      sync,
      tokens,
      isOnline: (deviceId) => brokerLink?.connectedDevices().has(deviceId) ?? false,
      logger: log('ui'),
    });
    await ui.register(app);

    let link: BrokerLink;
    if (config.mqtt.external === undefined) {
      const broker = new EmbeddedBroker({ config, directory: store, logger: log('broker'), httpServer: app.server });
      this.broker = broker;
      await broker.start();
      this.running.push(broker);
      link = new EmbeddedLink(broker, log('link'));
    } else {
      link = new ExternalLink({ gatewayId: config.gatewayId, external: config.mqtt.external, logger: log('link') });
    }
    this.link = link;
    await link.start();
    this.running.push(link);
    brokerLink = link;
    const watch = new DeviceWatch({ config, link });
    await watch.start();
    this.running.push(watch);
    // Subscribed before the stations and drivers start, so every device state reaches the screens.
    await ui.start(link);
    this.running.push(ui);

    let online = 0;
    link.onPresence((_deviceId, isOnline) => {
      online += isOnline ? 1 : -1;
      metrics.setDevicesOnline(Math.max(0, online));
    });
    metrics.collectFrom(() => {
      const s = store.stats();
      metrics.setStoreCommitsTotal(s.commits);
      metrics.setEventLogSeq(s.lastSeq);
      metrics.setDevicesOnline(link.connectedDevices().size);
      if (this.broker) {
        const b = this.broker.stats();
        metrics.setMqttMessagesTotal('in', b.messagesIn);
        metrics.setMqttMessagesTotal('out', b.messagesOut);
      }
    });

    const isOnline = (deviceId: string) => link.connectedDevices().has(deviceId);
    stations = new StationRuntime({ config, store, link, metrics, logger: log('stations'), ids, isOnline });
    const lines = new LineRuntime({ config, store, link, metrics, logger: log('lines'), ids });
    await stations.start();
    this.running.push(stations);
    this.stations = stations;
    const runtime = stations;
    await link.subscribe(topics.allDeviceStates, (msg) => {
      const parsed = parseTopic(msg.topic);
      if (parsed?.type !== 'state') return;
      let body: { state?: unknown; reason?: unknown };
      try {
        body = JSON.parse(msg.payload.toString('utf8')) as { state?: unknown; reason?: unknown };
      } catch {
        return; // a device's own status topic; garbage there changes nothing
      }
      if (typeof body?.state === 'string') runtime.deviceState(parsed.deviceId, body.state, typeof body.reason === 'string' ? body.reason : null);
    });
    await lines.start();
    this.running.push(lines);

    const ingress = new Ingress({ link, store, bindings, owners: { station: stations, line: lines }, logger: log('ingress') });
    await ingress.start();
    this.running.push(ingress);

    // Drivers hosted in the gateway connect to the broker like any device, over TCP on
    // loopback (embedded) or to the external broker.
    const tcpPort = this.broker?.ports().tcp ?? null;
    const driverUrl = config.mqtt.external?.url ?? (tcpPort === null ? null : `mqtt://127.0.0.1:${tcpPort}`);
    if (driverUrl !== null && config.devices.some((d) => d.driver !== undefined)) {
      const drivers = new DriverHost({ config, store, mqttUrl: driverUrl, logger: log('drivers') });
      await drivers.start();
      this.running.push(drivers);
    }
    // Cainiao print-component endpoint: ERP pages print on the broker's printers (docs/printing-cainiao.md).
    if (config.printing.cainiao.enabled) {
      const cainiao = new CainiaoPrintEndpoint({ config, link, logger: log('cainiao') });
      await cainiao.start();
      this.running.push(cainiao);
    }

    await sync.start();
    this.running.push(sync);
    metrics.collectFrom(() => {
      const l = sync.linkState();
      metrics.setSync(l.state, l.backlog, l.failed, sync.totals());
    });

    // Preflight, the dashboard's metrics and the operations alerts (docs/operations.md).
    const ops = new OpsAlerts({ config, store, watch, alerts: notifier, logger: log('ops'), runPreflight: () => preflight.run() });
    const preflight = new PreflightService({
      config,
      store,
      watch,
      sync,
      printers,
      logger: log('preflight'),
      onReport: (report) => {
        const disk = report.checks.find((c) => c.id === 'disk')?.data?.['bufferHours'];
        metrics.setPreflight(report.status, typeof disk === 'number' ? disk : null);
        ops.preflightReport(report);
      },
    });
    this.preflightService = preflight;
    registerPreflightRoutes(app, preflight);
    const stopOpsMetrics = collectOpsMetrics({ config, metrics, store, watch, stations: () => runtime.list(), ackedSeq: () => sync.ackedSeq() });
    this.running.push({ name: 'ops-metrics', start: async () => undefined, stop: async () => stopOpsMetrics() });
    await ops.start();
    this.running.push(ops);

    await app.listen({ host: config.http.host, port: config.http.port });
    const address = app.server.address();
    const httpPort = typeof address === 'object' && address !== null ? address.port : config.http.port;
    const host = hostFor(config.http.host);
    const tls = config.http.tls.certFile !== undefined;
    const ports = this.broker?.ports() ?? { tcp: null, tls: null };
    this.information = {
      gatewayId: config.gatewayId,
      httpUrl: `${tls ? 'https' : 'http'}://${host}:${httpPort}`,
      mqttUrl: config.mqtt.external?.url ?? (ports.tcp === null ? null : `mqtt://${hostFor(config.mqtt.host)}:${ports.tcp}`),
      wsUrl: `${tls ? 'wss' : 'ws'}://${host}:${httpPort}${config.mqtt.wsPath}`,
      mqttTlsPort: ports.tls,
      dataDir,
      provisioningFile: provisioner.provisioningFile,
      apiTokensFile,
      issued,
      tokens,
    };
    logger.info(
      { http: this.information.httpUrl, mqtt: this.information.mqttUrl, ws: this.information.wsUrl, dataDir, boot: store.boot },
      'gateway started',
    );
    await this.systemd.ready(`${config.stations.length} stations, ${config.lines.length} lines`);
  }

  /** Graceful: stop taking events, finish and commit in-flight steps, then close. */
  async stop(): Promise<void> {
    if (this.running.length > 0) await this.systemd.stopping();
    const components = this.running.splice(0);
    // HTTP stops first for new requests, but its server also carries MQTT over WebSocket,
    // so it is closed after the broker.
    const failures = await stopAll(components);
    if (this.app !== null) {
      await this.app.close().catch((err: unknown) => failures.push(err as Error));
      this.app = null;
    }
    this.information = null;
    this.preflightService = null;
    this.stations = null;
    this.link = null;
    this.broker = null;
    for (const err of failures) this.logger.error({ err }, 'error while stopping');
  }
}
