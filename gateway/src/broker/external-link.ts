/**
 * BrokerLink over an MQTT.js client, for sites that run their own broker (Mosquitto, EMQX).
 * The gateway connects as a `service` user; devices authenticate against that broker, whose
 * password and ACL files mosquitto-config.ts can generate from the device registry.
 *
 * - `clean:false` with a stable client id, so the broker queues QoS 1 messages for us while the
 *   gateway restarts or the LAN blips (MQTT 3.1.1 §3.1.2.4).
 * - Our own reconnect backoff with jitter (MQTT.js' `reconnectPeriod` is a fixed interval, so it
 *   is set to 0 and a timer calls `reconnect()`), passing the existing stores so QoS 1 publishes
 *   in flight survive the reconnect (MQTT.js `reconnect()` without stores starts empty ones).
 * - Subscriptions are re-sent on every CONNACK (cheap, idempotent, and correct even when the
 *   broker lost the session).
 * - Presence is an estimate from the retained `dev/+/state` messages devices publish (and
 *   their last wills), since an external broker does not tell us who is connected.
 * - Our own last will marks `gateway/{id}/state` offline (retained) if the gateway vanishes.
 */
import type { IClientOptions, MqttClient } from 'mqtt';
import { isRetainedTopic, topics } from '../../../contracts/topics.js';
import type { Logger } from '../lib/logger.js';
import { isValidTopicFilter, isValidTopicName, topicMatches } from './acl.js';
import type { BrokerLink, InboundMessage, PublishOptions } from './link.js';

/** How long stop() waits for the broker (offline state PUBACK, then the in-flight publishes). */
const STOP_GRACE_MS = 2_000;

/** Whether `p` settled within `ms` (the timer never keeps the process alive). */
async function withinMs(p: Promise<boolean>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<boolean>((resolve) => {
    timer = setTimeout(() => resolve(false), ms);
    timer.unref();
  });
  try {
    return await Promise.race([p, late]);
  } finally {
    clearTimeout(timer);
  }
}

export interface ExternalLinkOptions {
  gatewayId: string;
  external: { url: string; username?: string | undefined; password?: string | undefined; clientId?: string | undefined };
  logger: Logger;
  /** Reconnect backoff bounds (ms); defaults 500 ms … 30 s. */
  backoff?: { minMs: number; maxMs: number };
  /** Extra MQTT.js options (TLS CA, rejectUnauthorized, …). */
  clientOptions?: Partial<IClientOptions>;
}

export class ExternalLink implements BrokerLink {
  readonly name = 'broker-link';

  private client: MqttClient | null = null;
  private readonly handlers = new Map<string, Array<(msg: InboundMessage) => void>>();
  private readonly presenceHandlers: Array<(deviceId: string, online: boolean) => void> = [];
  private readonly online = new Set<string>();
  /** What connectedDevices() returns until presence changes (never mutated once handed out). */
  private snapshot: Set<string> | null = null;
  private reconnectTimer: NodeJS.Timeout | null = null;
  private attempt = 0;
  private stopping = false;
  private connectedWaiters: Array<() => void> = [];
  /** Connected AND subscriptions re-sent (set at the end of afterConnect, cleared on close). */
  private ready = false;

  constructor(private readonly opts: ExternalLinkOptions) {}

  get clientId(): string {
    return this.opts.external.clientId ?? `packline-${this.opts.gatewayId}`;
  }

  isConnected(): boolean {
    return this.client?.connected ?? false;
  }

  /** Resolves once connected with all subscriptions in place (now, or after the next CONNACK). */
  onceConnected(): Promise<void> {
    if (this.ready && this.isConnected()) return Promise.resolve();
    return new Promise((resolve) => this.connectedWaiters.push(resolve));
  }

  /** Starts connecting and returns; the link keeps retrying in the background until stop(). */
  async start(): Promise<void> {
    // MQTT.js is loaded when a link starts (external-broker mode only): imported at start-up
    // it held ~4 MB resident in every gateway (decision 0015, fourth pass).
    const { connect } = await import('mqtt');
    if (this.client) return;
    this.stopping = false;
    const { external, gatewayId, logger } = this.opts;
    const stateTopic = topics.gatewayState(gatewayId);
    const client = connect(external.url, {
      clientId: this.clientId,
      username: external.username,
      password: external.password,
      protocolVersion: 4, // MQTT 3.1.1: what devices speak and what aedes/mosquitto both serve
      clean: false,
      keepalive: 30,
      connectTimeout: 10_000,
      reconnectPeriod: 0, // we reconnect ourselves, with backoff
      resubscribe: false, // we resubscribe ourselves, on every CONNACK
      // An unbounded in-memory QoS 0 queue would grow for as long as the broker is away.
      queueQoSZero: false,
      will: {
        topic: stateTopic,
        payload: Buffer.from(JSON.stringify({ state: 'offline' })),
        qos: 1,
        retain: true,
      },
      ...this.opts.clientOptions,
    });
    this.client = client;

    client.on('connect', (connack) => {
      this.attempt = 0;
      // Small request/response packets: without TCP_NODELAY each waits for a delayed ACK.
      (client.stream as { setNoDelay?: (v: boolean) => void }).setNoDelay?.(true);
      logger.info({ url: external.url, sessionPresent: connack.sessionPresent }, 'connected to external broker');
      void this.afterConnect(client, stateTopic);
    });
    client.on('message', (topic, payload, packet) => this.dispatch(topic, payload, packet.qos, packet.dup, packet.retain));
    client.on('error', (err) => logger.warn({ err: err.message }, 'external broker error'));
    client.on('close', () => {
      this.ready = false;
      this.scheduleReconnect();
    });
  }

  async stop(): Promise<void> {
    const client = this.client;
    if (!client) return;
    this.stopping = true;
    if (this.reconnectTimer) clearTimeout(this.reconnectTimer);
    this.reconnectTimer = null;
    // Every wait below is bounded: a broker that stops answering under load (PUBACKs that
    // never come) must not keep the gateway from exiting. MQTT.js' end(false) waits for every
    // QoS 1 publish in flight to be acknowledged; after the grace it is ended by force (the
    // broker then publishes our will, which says the same: offline).
    if (client.connected) {
      const announced = client
        .publishAsync(topics.gatewayState(this.opts.gatewayId), JSON.stringify({ state: 'offline', ts: Date.now() }), { qos: 1, retain: true })
        .then(() => true)
        .catch((err: unknown) => {
          this.opts.logger.warn({ err }, 'could not publish gateway offline state');
          return true;
        });
      if (!(await withinMs(announced, STOP_GRACE_MS)))
        this.opts.logger.warn({ graceMs: STOP_GRACE_MS }, 'external broker did not acknowledge the offline state in time');
    }
    const ended = client.endAsync(!client.connected).then(() => true);
    if (!(await withinMs(ended, STOP_GRACE_MS))) {
      this.opts.logger.warn({ graceMs: STOP_GRACE_MS }, 'external broker link did not close in time; closing it by force');
      await client.endAsync(true).catch(() => undefined);
    }
    this.client = null;
    this.online.clear();
    this.snapshot = null;
  }

  async subscribe(filter: string, handler: (msg: InboundMessage) => void): Promise<void> {
    if (!isValidTopicFilter(filter)) throw new Error(`invalid topic filter ${JSON.stringify(filter)}`);
    const list = this.handlers.get(filter);
    if (list) {
      list.push(handler);
      return;
    }
    this.handlers.set(filter, [handler]);
    // When offline, the filter is subscribed on the next CONNACK (afterConnect).
    if (this.client?.connected) await this.subscribeOn(this.client, [filter]);
  }

  async publish(topic: string, payload: string | Buffer, opts: PublishOptions = {}): Promise<void> {
    if (!isValidTopicName(topic)) throw new Error(`invalid topic ${JSON.stringify(topic)}`);
    // Mosquitto would keep it; the contract keeps retained messages only on its retained topics.
    if (opts.retain && !isRetainedTopic(topic)) throw new Error(`${topic} is not a retained topic (docs/mqtt.md §2)`);
    const client = this.client;
    if (!client) throw new Error('external broker link is not started');
    // QoS 1 resolves on PUBACK; while disconnected MQTT.js keeps it in its outgoing store.
    await client.publishAsync(topic, payload, { qos: opts.qos ?? 1, retain: opts.retain ?? false });
  }

  connectedDevices(): ReadonlySet<string> {
    // One snapshot for every caller until presence changes (the station flow asks at every routing).
    if (this.snapshot === null) this.snapshot = new Set(this.online);
    return this.snapshot;
  }

  onPresence(handler: (deviceId: string, online: boolean) => void): void {
    this.presenceHandlers.push(handler);
  }

  // ---- internals ----------------------------------------------------------------------------

  private async afterConnect(client: MqttClient, stateTopic: string): Promise<void> {
    try {
      await this.subscribeOn(client, [topics.allDeviceStates, ...this.handlers.keys()]);
      await client.publishAsync(stateTopic, JSON.stringify({ state: 'online', ts: Date.now() }), {
        qos: 1,
        retain: true,
      });
    } catch (err) {
      this.opts.logger.warn({ err }, 'external broker: subscribe/announce after connect failed');
    }
    if (!client.connected) return; // lost again meanwhile; the next CONNACK retries
    this.ready = true;
    const waiters = this.connectedWaiters;
    this.connectedWaiters = [];
    for (const w of waiters) w();
  }

  private async subscribeOn(client: MqttClient, filters: string[]): Promise<void> {
    const unique = [...new Set(filters)];
    const granted = await client.subscribeAsync(Object.fromEntries(unique.map((t) => [t, { qos: 1 as const }])));
    const refused = granted.filter((g) => g.qos === 128).map((g) => g.topic);
    if (refused.length > 0) throw new Error(`external broker refused subscription(s): ${refused.join(', ')}`);
  }

  private scheduleReconnect(): void {
    if (this.stopping || this.reconnectTimer || !this.client) return;
    const { minMs, maxMs } = this.opts.backoff ?? { minMs: 500, maxMs: 30_000 };
    const ceiling = Math.min(maxMs, minMs * 2 ** Math.min(this.attempt, 16));
    // "Equal jitter": half fixed, half random, so a site's gateways never reconnect in lockstep
    // yet the wait still grows.
    const delay = ceiling / 2 + Math.random() * (ceiling / 2);
    this.attempt++;
    this.opts.logger.info({ attempt: this.attempt, delayMs: Math.round(delay) }, 'external broker: reconnecting');
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = null;
      const c = this.client;
      if (this.stopping || !c || c.connected) return;
      c.reconnect({ incomingStore: c.incomingStore, outgoingStore: c.outgoingStore });
    }, delay);
  }

  private dispatch(topic: string, payload: Buffer, qos: 0 | 1 | 2, dup: boolean, retain: boolean): void {
    const msg: InboundMessage = { topic, payload, qos, dup, retain };
    if (topicMatches(topics.allDeviceStates, topic)) this.trackPresence(topic, payload);
    for (const [filter, list] of this.handlers) {
      if (!topicMatches(filter, topic)) continue;
      for (const h of list) {
        try {
          h(msg);
        } catch (err) {
          this.opts.logger.error({ err, topic }, 'broker-link handler threw');
        }
      }
    }
  }

  private trackPresence(topic: string, payload: Buffer): void {
    const deviceId = topic.split('/')[1] as string;
    let isOnline = false;
    try {
      isOnline = payload.length > 0 && (JSON.parse(payload.toString('utf8')) as { state?: unknown }).state === 'online';
    } catch {
      isOnline = false; // garbage state payload: treat as not online
    }
    const was = this.online.has(deviceId);
    if (isOnline === was) return;
    if (isOnline) this.online.add(deviceId);
    else this.online.delete(deviceId);
    this.snapshot = null;
    for (const h of this.presenceHandlers) {
      try {
        h(deviceId, isOnline);
      } catch (err) {
        this.opts.logger.error({ err, deviceId }, 'presence handler threw');
      }
    }
  }
}
