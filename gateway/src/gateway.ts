/**
 * The composition root: builds every component from the validated config and runs them in
 * one lifecycle (lib/component.ts), in phases: storage → transport (the API's server, the
 * broker and its link) → the shipment flow (station/) → the services around it (sync,
 * printers, HTTP API, screens) → start in order: broker and link → stations and lines
 * (restored from the store) → ingress (devices' events start flowing) → HTTP listen. Stop is
 * the reverse, so in-flight steps finish and are committed before the store closes.
 */
import { mkdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Server as HttpsServer } from 'node:https';
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
import type { HealthService } from './http/deps.js';
import { buildHttpApp, createHttpServer } from './http/app.js';
import { registerPickingRoutes } from './http/routes/picking.js';
import { PickingRuntime } from './picking/picking-runtime.js';
import { SNAPSHOT_FILE } from './picking/snapshot.js';
import { makeHostCheck, originAllowed } from './http/request-guard.js';
import { createStoreOrderService } from './http/order-import.js';
import { SyncService } from './sync/sync-service.js';
import { UiService } from './ui/ui-plugin.js';
import { createPrinterService } from './printing/printers.js';
import { Notifier } from '../../cloud-sync/src/notify/notifier.js';
import { type Component, stopAll } from './lib/component.js';
import type { Logger } from './lib/logger.js';
import { SdNotify } from './lib/sd-notify.js';
import { Signals } from './lib/signals.js';
import { Metrics } from './metrics.js';
import { DeviceWatch } from './preflight/device-watch.js';
import { registerPreflightRoutes } from './preflight/http-route.js';
import { OpsAlerts } from './preflight/ops-alerts.js';
import { collectOpsMetrics } from './preflight/ops-metrics.js';
import { PreflightService } from './preflight/preflight-service.js';
import { loadOrCreateApiTokens, tokenFacts } from './runtime/api-tokens.js';
import { displayTargets, resolveStations } from './provisioning/stations.js';
import { BatchService } from './batches/batch-service.js';
import { StationProvisioning } from './provisioning/station-provisioning.js';
import { provisioningService } from './provisioning/provisioning-service.js';
import { idSource } from './runtime/ids.js';
import { Ingress } from './runtime/ingress.js';
import { LineRuntime } from './station/apply/line-runtime.js';
import { StationRuntime } from './station/apply/station-runtime.js';
import { openStore } from './storage/sqlite-store.js';
import { PICK_EVENT_TYPES } from './picking/events.js';
import { RetentionService } from './storage/retention.js';
import { answerPlaintextOnTlsPort } from './tls/plaintext-on-tls-port.js';
import { ensureLocalTls, type LocalTls, wantsLocalTls, withLocalTls } from './tls/auto-tls.js';
import { CarrierService } from './handover/carrier-service.js';
import { ConsumablesService } from './handover/consumables-service.js';
import { checkHandover } from './handover/handover-cutoff.js';
import { registerHandoverMetrics } from './handover/handover-metrics.js';
import { HandoverService } from './handover/handover-service.js';
import { registerHandoverRoutes } from './handover/http-routes.js';
import { PowerPlan, UpsLineWatch } from './handover/power.js';
import { registerPresaleRoutes } from './presale/http-routes.js';
import { PresaleService } from './presale/presale-service.js';
import { registerRecallRoutes } from './recalls/http-routes.js';
import { RecallService } from './recalls/recall-service.js';
import type { Store } from './storage/types.js';

/** The gateway's version: package.json's, read once (the sources and dist/ sit at different depths). */
export const VERSION = packageVersion();

function packageVersion(): string {
  for (const up of ['../../package.json', '../../../package.json']) {
    try {
      const pkg = JSON.parse(readFileSync(new URL(up, import.meta.url), 'utf8')) as { name?: unknown; version?: unknown };
      if (pkg.name === 'packline' && typeof pkg.version === 'string') return pkg.version;
    } catch {
      // not at this depth
    }
  }
  return '0.0.0';
}

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
  /** The local CA the gateway made (tls.mode auto): what devices and station PCs trust; null otherwise. */
  caFile: string | null;
  /** mqtts://host:port when MQTT over TLS listens, else null. */
  mqttTlsUrl: string | null;
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
  private stopping: string | null = null;
  readonly metrics = new Metrics();
  /** systemd readiness, watchdog and stopping notices (no-ops outside a Type=notify unit). */
  private readonly systemd = new SdNotify({ onError: (err) => this.logger.warn({ err: err.message }, 'sd_notify failed') });

  constructor(
    private readonly config: Readonly<Config>,
    private readonly logger: Logger,
    /** How a UPS shutdown stops the process (default: SIGTERM to itself, the graceful path). */
    private readonly hooks: { requestStop?: () => void } = {},
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

  /**
   * In phases: 1 storage (store, device credentials, API tokens); 2 transport (the API's
   * server, the broker and its link, built); 3 the shipment flow (built); 4 the services
   * around it (sync, printers, HTTP API, screens), each handed the real parts, no late
   * binding; 5 everything started in order, the HTTP listen last.
   */
  private async startComponents(): Promise<void> {
    const { logger, metrics } = this;
    const dataDir = resolve(this.config.dataDir);
    mkdirSync(dataDir, { recursive: true });
    const log = (component: string) => logger.child({ component });
    // Encrypted by default: the local CA and server certificate fill in mqtt.tls / http.tls
    // where no files are configured (tls/auto-tls.ts); every component below sees the result.
    const localTls = wantsLocalTls(this.config) ? await this.localTls(dataDir, log('tls')) : null;
    const config = withLocalTls(this.config, localTls);

    const store = openStore({
      dataDir,
      commitWindowMs: config.storage.commitWindowMs,
      minFreeMb: config.storage.minFreeMb,
      logger: log('store'),
      vacuumAtStartMaxBytes: config.retention.vacuumAtStartMaxMb * 1024 * 1024,
    });
    this.store = store;
    await store.start();
    this.running.push({ name: 'store', start: () => store.start(), stop: () => store.stop() });
    // Retention prunes through the store's writer in small steps (docs/security.md "Retention").
    const retention = new RetentionService({
      store,
      dataDir,
      settings: config.retention,
      logger: log('retention'),
      onPruned: (kind, n) => metrics.retentionPruned(kind, n),
      // The picking runtime folds its stock and waves from these events at start-up (docs/picking.md).
      keepEventTypes: PICK_EVENT_TYPES,
    });
    await retention.start();
    this.running.push(retention);

    const provisioner = new DeviceProvisioner(storeRegistry(store), { dataDir, logger: log('provisioning') });
    const issued = await provisioner.provisionConfigured(config.devices);
    const { tokens, file: apiTokensFile, exposed } = loadOrCreateApiTokens(dataDir);
    if (exposed !== null) log('http').warn({ code: exposed.code, ...exposed.details }, exposed.message);

    const ids = idSource(config.gatewayId, store.boot);
    // Config bindings plus devices and stations provisioned at run time (kept current by
    // StationProvisioning, in place).
    const bindings = resolveStations(config, store.listStations(), store.listDevices()).bindings;

    // Phase 2, transport: the API's server first, so the broker attaches MQTT over WebSocket
    // to it, then the broker and its link (built here, started below).
    const server = createHttpServer(config.http.tls);
    // HTTPS: a plaintext request on the same port gets one line naming the https:// address, never the API.
    if (config.http.tls.certFile !== undefined) answerPlaintextOnTlsPort(server as HttpsServer, log('http'));
    let link: BrokerLink;
    let broker: EmbeddedBroker | null = null;
    if (config.mqtt.external === undefined) {
      const hostOk = makeHostCheck(config.http.allowedHosts);
      broker = new EmbeddedBroker({
        config,
        directory: store,
        logger: log('broker'),
        httpServer: server,
        // MQTT over WebSocket from a browser page of another site is refused (http/request-guard.ts).
        originAllowed: (origin) => originAllowed(origin, hostOk),
        // Plaintext MQTT off: hosted drivers still reach the broker, over loopback only.
        loopbackListener: !config.mqtt.plaintext && config.devices.some((d) => d.driver !== undefined),
      });
      link = new EmbeddedLink(broker, log('link'));
    } else {
      link = new ExternalLink({ gatewayId: config.gatewayId, external: config.mqtt.external, logger: log('link') });
    }
    const isOnline = (deviceId: string) => link.connectedDevices().has(deviceId);

    // Courier handover, carrier holds, label rolls and the UPS plan (docs/handover.md): the
    // holds and the power plan are asked by the label gate and the scan, so they come first.
    const handover = new HandoverService({
      config,
      store,
      link,
      logger: log('handover'),
      boot: store.boot,
      pdas: () => config.devices.filter((d) => d.role === 'pda').map((d) => d.id),
    });
    const carriers = new CarrierService({
      config,
      store,
      logger: log('carriers'),
      ordersChanged: (orderIds) => signals.emit('ordersChanged', orderIds),
      onManifest: (shipmentId) => handover.manifestOf(shipmentId),
    });
    const consumables = new ConsumablesService(config, store);
    const power = new PowerPlan({
      gatewayId: config.gatewayId,
      trigger: config.handover.shutdownOn,
      write: (ops) => store.write(ops),
      printing: () => store.openShipments().filter((s) => s.state === 'labelling').length,
      requestStop: this.hooks.requestStop ?? (() => process.kill(process.pid, 'SIGTERM')),
      logger: log('power'),
    });
    await handover.start();
    await carriers.start();
    this.running.push(handover, carriers, power);
    // The recall gauge counts the one recall list (built below, read when scraped).
    registerHandoverMetrics(metrics.registry, { handover, carriers, consumables, openRecalls: () => recalls.open() });

    // Phase 3, the shipment flow (restored from the store when started).
    // Phase 3, the shipment flow (restored from the store when started). Batches first: a
    // station restored in batch mode needs its batch (gateway/src/batches/).
    let stationsRef: StationRuntime | null = null;
    const batches = new BatchService({
      store,
      logger: log('batches'),
      newId: (prefix) => ids.next(prefix),
      now: () => Date.now(),
      stationExists: (id) => stationsRef?.view(id) != null,
      changed: (id) => stationsRef?.refreshView(id),
    });
    await batches.start();
    this.running.push(batches);
    // Presale parcels packed ahead (gateway/src/presale/): rebuilt from the log before the
    // stations restore, which ask it at the label gate and at a staging-label scan.
    const presale = new PresaleService({
      store,
      logger: log('presale'),
      checkpoints: config.shipment.checkpoints,
      changed: () => {
        for (const s of stationsRef?.list() ?? []) stationsRef?.refreshView(s.stationId);
      },
    });
    // The one recall list (gateway/src/recalls/): pre-printed labels of intercepted orders and
    // carrier switches' voided labels; it follows every committed unit the batches see.
    const recalls = new RecallService({
      store,
      preprints: batches.preprints,
      carriers,
      link,
      logger: log('recalls'),
      pdas: () => config.devices.filter((d) => d.role === 'pda').map((d) => d.id),
      committed: (writes) => batches.committed(writes),
      changed: () => {
        for (const s of stationsRef?.list() ?? []) stationsRef?.refreshView(s.stationId);
      },
    });
    await presale.start();
    this.running.push(presale);
    batches.follow((writes) => recalls.committed(writes));
    const stations = new StationRuntime({
      batches,
      config,
      store,
      link,
      metrics,
      logger: log('stations'),
      ids,
      isOnline,
      displayTargets: (cfg) => displayTargets(cfg, bindings),
      carrierHold: (carrier) => carriers.holdOf(carrier),
      newWorkRefusal: () => power.refusal(),
      // Declared below; asked only at a scan, once the gateway runs.
      pickingState: (orderId) => picking.orderPicking(orderId),
      presale,
      pickingView: (stationId, orderId) => picking.stationView(stationId, orderId),
      recallView: () => recalls.view(),
      // A switched order's voided label: its next scan prints the new carrier's label (decide/relabel.ts).
      voidedLabel: (waybill) => {
        const r = carriers.recalls().find((x) => x.waybill === waybill);
        return r === undefined ? null : { orderId: r.orderId };
      },
      anyVoided: () => carriers.recalls().length > 0,
    });
    // Stations and devices provisioned at run time (packline station add, the API) open and
    // close in the runtime without a restart.
    const provisioning = new StationProvisioning({ config, store, bindings, host: stations, logger: log('provisioning') });
    // Order changes reach the stations through one signal, whoever made them (API import, cloud feed).
    const signals = new Signals((err, signal) => logger.error({ err, signal }, 'signal handler failed'));
    // Picking on PDAs (gateway/src/picking/): state rebuilt from the log when started.
    const picking = new PickingRuntime({
      store,
      link,
      logger: log('picking'),
      checkpoints: config.shipment.checkpoints,
      idStem: `${config.gatewayId}-${store.boot.toString(36)}`,
      // config.picking: wave rule defaults, the replenishment rule, partial shipment of short orders.
      waveDefaults: {
        groupBy: config.picking.waves.groupBy,
        maxOrders: config.picking.waves.maxOrders,
        maxLines: config.picking.waves.maxLines,
        maxUnits: config.picking.waves.maxUnits,
        maxWaves: config.picking.waves.maxWaves,
      },
      pendingOrders: config.picking.waves.pendingOrders,
      replenish: { trigger: config.picking.replenishment.defaultTrigger, capacity: config.picking.replenishment.defaultCapacity },
      partialAllowed: () => config.picking.partialShipment,
      onStationSort: (stationId) => stations.refreshView(stationId),
      // A restart folds the picking events after the snapshot, not the whole season (picking/snapshot.ts).
      snapshotFile: join(config.dataDir, SNAPSHOT_FILE),
    });
    stationsRef = stations;
    signals.on('ordersChanged', (orderIds) => {
      // Presale first: a station step the change queues asks it whether the order is paid.
      presale.ordersChanged(orderIds);
      for (const id of orderIds) stations.orderUpdated(id);
      for (const id of orderIds) picking.orderUpdated(id);
      batches.ordersChanged(orderIds);
    });
    // A held order the cloud moved to another carrier is recorded as a switch (docs/handover.md).
    signals.on('ordersChanged', (orderIds) => carriers.ordersChanged(orderIds));
    // A refund of an order whose label was printed ahead puts that label on the recall list.
    signals.on('ordersChanged', (orderIds) => recalls.ordersChanged(orderIds));

    // Phase 4, services around the flow: sync, printers, the HTTP API and the screens.
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
    const orders = createStoreOrderService(store, (orderIds) => signals.emit('ordersChanged', orderIds));
    // Cloud sync answers its status from the start and is started after the runtimes; it
    // publishes its link state once started (after the broker).
    const notifier = new Notifier({ gatewayId: config.gatewayId, ...config.notify, logger: log('notify') });
    await notifier.start();
    this.running.push(notifier);
    const sync = new SyncService({
      config,
      store,
      alerts: notifier,
      link,
      logger: log('sync'),
      onOrdersChanged: (orderIds) => signals.emit('ordersChanged', orderIds),
    });
    const printers = createPrinterService({
      config,
      boot: store.boot,
      publish: (topic, payload, opts) => link.publish(topic, payload, opts),
      isOnline,
      logger: log('printers'),
    });
    // The screens (pages, /ui/live, GET /api/v1/dashboard) and preflight, with the device
    // watch and the operations alerts behind them (docs/operations.md).
    const ui = new UiService({ config, store, stations, sync, tokens, isOnline, logger: log('ui') });
    const watch = new DeviceWatch({ config, link });
    const ops = new OpsAlerts({ config, store, watch, alerts: notifier, logger: log('ops'), runPreflight: () => preflight.run() });
    const preflight = new PreflightService({
      config,
      store,
      watch,
      sync,
      printers,
      logger: log('preflight'),
      listeners: () => {
        const p = this.broker?.ports();
        return { mqtt: p?.tcp ?? null, mqttTls: p?.tls ?? null };
      },
      apiTokens: () => tokenFacts(apiTokensFile),
      onReport: (report) => {
        const disk = report.checks.find((c) => c.id === 'disk')?.data?.['bufferHours'];
        metrics.setPreflight(report.status, typeof disk === 'number' ? disk : null);
        ops.preflightReport(report);
      },
      extraChecks: () => [checkHandover(handover.status()), consumables.check()],
    });
    this.preflightService = preflight;
    // Every route, in one place (http/app.ts).
    const app = await buildHttpApp(
      {
        config,
        store,
        stations,
        printers,
        orders,
        sync,
        metrics,
        health,
        tokens,
        logger: log('http'),
        version: VERSION,
        batches,
        provisioning: provisioningService({ config, store, refresh: () => provisioning.refresh(), list: () => provisioning.list() }),
      },
      server,
      [
        ui,
        { name: 'preflight', register: (fastify) => registerPreflightRoutes(fastify, preflight) },
        { name: 'picking', register: (fastify) => registerPickingRoutes(fastify, picking) },
        { name: 'handover', register: (fastify) => registerHandoverRoutes(fastify, { handover, carriers, consumables, power }) },
        { name: 'presale', register: (fastify) => registerPresaleRoutes(fastify, presale) },
        { name: 'recalls', register: (fastify) => registerRecallRoutes(fastify, { batches, stations, recalls }) },
      ],
    );
    this.app = app;

    // Phase 5, start in order: broker and link, screens, stations, lines, ingress, drivers, sync.
    if (broker !== null) {
      this.broker = broker;
      await broker.start();
      this.running.push(broker);
    }
    this.link = link;
    await link.start();
    this.running.push(link);
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
        metrics.setLoginGuard('mqtt', b.loginGuard);
        for (const [reason, total] of Object.entries(b.refused)) metrics.setMqttRefusedTotal(reason as keyof typeof b.refused, total);
      }
    });

    const lines = new LineRuntime({ config, store, link, metrics, logger: log('lines'), ids });
    await stations.start();
    this.running.push(stations);
    await provisioning.start();
    this.running.push(provisioning);
    this.stations = stations;
    await link.subscribe(topics.allDeviceStates, (msg) => {
      const parsed = parseTopic(msg.topic);
      if (parsed?.type !== 'state') return;
      let body: { state?: unknown; reason?: unknown };
      try {
        body = JSON.parse(msg.payload.toString('utf8')) as { state?: unknown; reason?: unknown };
      } catch {
        return; // a device's own status topic; garbage there changes nothing
      }
      if (typeof body?.state === 'string') stations.deviceState(parsed.deviceId, body.state, typeof body.reason === 'string' ? body.reason : null);
      if (typeof body?.state === 'string') recalls.deviceState(parsed.deviceId, body.state);
    });
    await lines.start();
    this.running.push(lines);
    await picking.start();
    this.running.push(picking);
    // After the link: open recalls go to the PDAs as tasks when it starts.
    await recalls.start();
    this.running.push(recalls);

    const ingress = new Ingress({
      link,
      store,
      bindings,
      owners: { station: stations, line: lines, picking, handover, recalls },
      logger: log('ingress'),
      refreshRegistry: () => provisioning.refresh(),
    });
    await ingress.start();
    this.running.push(ingress);

    // Drivers hosted in the gateway connect to the broker like any device, over TCP on
    // loopback (embedded) or to the external broker.
    const tcpPort = this.broker?.loopbackPort() ?? null;
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
    if (config.handover.upsLineFile !== undefined) {
      const lineLog = log('power');
      const line = new UpsLineWatch(
        config.handover.upsLineFile,
        (f) => readFileSync(f, 'utf8'),
        (event) => {
          power.signal(event, 'line').catch((err: unknown) => lineLog.error({ err, event }, 'UPS line event not recorded'));
        },
      );
      await line.start();
      this.running.push(line);
    }
    metrics.collectFrom(() => {
      const l = sync.linkState();
      metrics.setSync(l.state, l.backlog, l.failed, sync.totals());
    });

    const stopOpsMetrics = collectOpsMetrics({ config, metrics, store, watch, stations: () => stations.list(), ackedSeq: () => sync.ackedSeq() });
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
      caFile: localTls?.caCert ?? null,
      mqttTlsUrl: ports.tls === null ? null : `mqtts://${hostFor(config.mqtt.host)}:${ports.tls}`,
    };
    logger.info({ http: this.information.httpUrl, mqtt: this.information.mqttUrl, ws: this.information.wsUrl, dataDir, boot: store.boot }, 'gateway started');
    await this.systemd.ready(`${config.stations.length} stations, ${config.lines.length} lines`);
  }

  /** Makes, renews or reuses the local CA and server certificate, and says which. */
  private async localTls(dataDir: string, log: Logger): Promise<LocalTls> {
    const tls = await ensureLocalTls({ dataDir, renewDays: this.config.tls.renewDays, gatewayId: this.config.gatewayId });
    const fields = { ca: tls.caCert, cert: tls.certFile, notAfter: new Date(tls.notAfter).toISOString(), caSha256: tls.caFingerprint256 };
    if (tls.action === 'created') log.info(fields, 'TLS: created a local CA and server certificate; give devices and station PCs the CA (docs/security.md)');
    else if (tls.action === 'renewed') log.info({ ...fields, reason: tls.reason }, 'TLS: server certificate re-issued under the same CA');
    else log.debug(fields, 'TLS: using the local CA and server certificate');
    return tls;
  }

  /** Graceful: stop taking events, finish and commit in-flight steps, then close. */
  async stop(): Promise<void> {
    if (this.running.length > 0) await this.systemd.stopping();
    const components = this.running.splice(0);
    // HTTP stops first for new requests, but its server also carries MQTT over WebSocket,
    // so it is closed after the broker.
    const failures = await stopAll(components, (name) => {
      this.stopping = name;
    });
    this.stopping = 'http';
    if (this.app !== null) {
      await this.app.close().catch((err: unknown) => failures.push(err as Error));
      this.app = null;
    }
    this.information = null;
    this.preflightService = null;
    this.stations = null;
    this.link = null;
    this.broker = null;
    this.stopping = null;
    for (const err of failures) this.logger.error({ err }, 'error while stopping');
  }

  /** The component whose stop() is running (for a stop that hangs), or null. */
  stoppingComponent(): string | null {
    return this.stopping;
  }
}
