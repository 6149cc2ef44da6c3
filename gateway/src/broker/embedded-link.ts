/**
 * BrokerLink over the embedded aedes broker: server-side subscriptions and publishes go
 * straight into aedes (no socket, no ACL — the gateway is the broker), and presence is exact
 * because aedes tells us who connects and disconnects, keyed by the authenticated device id.
 */
import type { AedesPublishPacket, Client } from 'aedes';
import { isRetainedTopic } from '../../../contracts/topics.js';
import type { Logger } from '../lib/logger.js';
import { isValidTopicFilter, isValidTopicName } from './acl.js';
import type { EmbeddedBroker } from './embedded-broker.js';
import type { BrokerLink, InboundMessage, PublishOptions } from './link.js';

type Deliver = (packet: AedesPublishPacket, cb: () => void) => void;

export class EmbeddedLink implements BrokerLink {
  readonly name = 'broker-link';

  private readonly subs: Array<{ filter: string; deliver: Deliver }> = [];
  private readonly presenceHandlers: Array<(deviceId: string, online: boolean) => void> = [];
  /** deviceId → open connections (a device may hold `id` and `id:suffix` at once). */
  private readonly online = new Map<string, number>();
  /** What connectedDevices() returns until presence changes (never mutated once handed out). */
  private snapshot: Set<string> | null = null;
  private readonly onReady = (client: Client) => this.change(client, +1);
  private readonly onGone = (client: Client) => this.change(client, -1);
  private started = false;

  constructor(
    private readonly broker: EmbeddedBroker,
    private readonly log: Logger,
  ) {}

  async start(): Promise<void> {
    if (this.started) return;
    const aedes = this.broker.aedes;
    aedes.on('clientReady', this.onReady);
    aedes.on('clientDisconnect', this.onGone);
    this.started = true;
    // Clients that connected before the link started.
    const clients = (aedes as unknown as { clients: Record<string, Client> }).clients;
    for (const id of Object.keys(clients)) {
      const c = clients[id];
      if (c?.connected) this.change(c, +1);
    }
  }

  async stop(): Promise<void> {
    if (!this.started) return;
    this.started = false;
    let aedes;
    try {
      aedes = this.broker.aedes;
    } catch {
      aedes = null; // broker already stopped: its subscriptions went with it
    }
    if (aedes) {
      aedes.off('clientReady', this.onReady);
      aedes.off('clientDisconnect', this.onGone);
      await Promise.all(this.subs.map((s) => new Promise<void>((resolve) => aedes.unsubscribe(s.filter, s.deliver, () => resolve()))));
    }
    this.subs.length = 0;
    this.online.clear();
    this.snapshot = null;
  }

  subscribe(filter: string, handler: (msg: InboundMessage) => void): Promise<void> {
    if (!isValidTopicFilter(filter)) return Promise.reject(new Error(`invalid topic filter ${JSON.stringify(filter)}`));
    const deliver: Deliver = (packet, cb) => {
      try {
        handler({
          topic: packet.topic,
          payload: Buffer.isBuffer(packet.payload) ? packet.payload : Buffer.from(packet.payload),
          qos: packet.qos,
          dup: packet.dup,
          retain: packet.retain,
        });
      } catch (err) {
        this.log.error({ err, topic: packet.topic }, 'broker-link handler threw');
      }
      cb();
    };
    this.subs.push({ filter, deliver });
    return new Promise((resolve) => this.broker.aedes.subscribe(filter, deliver, () => resolve()));
  }

  publish(topic: string, payload: string | Buffer, opts: PublishOptions = {}): Promise<void> {
    if (!isValidTopicName(topic)) return Promise.reject(new Error(`invalid topic ${JSON.stringify(topic)}`));
    if (opts.retain && !isRetainedTopic(topic)) return Promise.reject(new Error(`${topic} is not a retained topic (docs/mqtt.md §2)`));
    const packet = {
      cmd: 'publish' as const,
      topic,
      payload: typeof payload === 'string' ? Buffer.from(payload, 'utf8') : payload,
      qos: opts.qos ?? 1,
      retain: opts.retain ?? false,
      dup: false,
    };
    return new Promise((resolve, reject) => this.broker.aedes.publish(packet, (err) => (err ? reject(err) : resolve())));
  }

  connectedDevices(): ReadonlySet<string> {
    // A snapshot shared by every caller until presence changes: the station flow asks at
    // every print routing (a copy of ~500 ids each time was 3 % of the main thread at 100/s).
    if (this.snapshot === null) this.snapshot = new Set(this.online.keys());
    return this.snapshot;
  }

  onPresence(handler: (deviceId: string, online: boolean) => void): void {
    this.presenceHandlers.push(handler);
  }

  private change(client: Client, delta: 1 | -1): void {
    const who = this.broker.identityOf(client);
    if (!who || who.anonymous) return;
    const id = who.deviceId;
    const before = this.online.get(id) ?? 0;
    const after = Math.max(0, before + delta);
    if (after === 0) this.online.delete(id);
    else this.online.set(id, after);
    if ((before === 0) !== (after === 0)) this.snapshot = null;
    if ((before === 0) !== (after === 0)) {
      for (const h of this.presenceHandlers) {
        try {
          h(id, after > 0);
        } catch (err) {
          this.log.error({ err, deviceId: id }, 'presence handler threw');
        }
      }
    }
  }
}
