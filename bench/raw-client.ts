/**
 * A lean MQTT 3.1.1 device client for the load generator: mqtt-packet's encoder and parser
 * over a plain TCP socket with TCP_NODELAY, nothing else. What it does, by the spec (OASIS
 * MQTT 3.1.1):
 *
 * - CONNECT with clean session, credentials and keep-alive; waits for CONNACK return code 0
 *   (§3.2.2.3).
 * - SUBSCRIBE at QoS 1; waits for the SUBACK with the same packet identifier (§3.9).
 * - PUBLISH at QoS 1 with a fresh packet identifier; the PUBACK is read and dropped: on a
 *   loopback link nothing is retransmitted, so no outgoing store is kept (§4.3.2 allows the
 *   sender to discard its copy once acknowledged; we simply never need it).
 * - Every QoS 1 PUBLISH received is answered with PUBACK at once (§4.3.2, receiver side).
 * - PINGREQ when nothing was sent for half the keep-alive (§3.1.2.10), DISCONNECT on end.
 *
 * MQTT.js does all of this plus stores, reconnects and events; for ~500 devices at thousands
 * of messages per second that cost more CPU than the gateway under test.
 */
import { connect, type Socket } from 'node:net';
import mqtt from 'mqtt-packet';

export interface RawConnect {
  host: string;
  port: number;
  clientId: string;
  username: string;
  password: string;
  keepalive: number;
}

export class RawClient {
  private socket: Socket | null = null;
  private readonly parser = mqtt.parser({ protocolVersion: 4 });
  private nextId = 1;
  private readonly waiting = new Map<number, () => void>();
  private connack: ((code: number) => void) | null = null;
  private ping: NodeJS.Timeout | null = null;
  private lastSent = 0;

  constructor(private readonly onPublish: (topic: string, payload: Buffer) => void) {
    this.parser.on('packet', (p: mqtt.Packet) => this.onPacket(p));
    this.parser.on('error', () => this.socket?.destroy());
  }

  connect(o: RawConnect): Promise<void> {
    return new Promise((resolve, reject) => {
      const socket = connect({ host: o.host, port: o.port, noDelay: true });
      this.socket = socket;
      socket.on('data', (b: Buffer) => this.parser.parse(b));
      socket.once('error', reject);
      socket.on('close', () => this.stopPing());
      this.connack = (code) => {
        socket.off('error', reject);
        socket.on('error', () => undefined);
        if (code === 0) resolve();
        else {
          socket.destroy();
          reject(new Error(`CONNACK return code ${code} for ${o.clientId}`));
        }
      };
      socket.once('connect', () => {
        this.send({
          cmd: 'connect',
          protocolId: 'MQTT',
          protocolVersion: 4,
          clean: true,
          clientId: o.clientId,
          keepalive: o.keepalive,
          username: o.username,
          password: Buffer.from(o.password),
        });
      });
      if (o.keepalive > 0) {
        const every = (o.keepalive * 1000) / 2;
        this.ping = setInterval(() => {
          if (performance.now() - this.lastSent >= every) this.send({ cmd: 'pingreq' });
        }, every);
        this.ping.unref();
      }
    });
  }

  subscribe(topics: string[]): Promise<void> {
    const messageId = this.id();
    return new Promise((resolve) => {
      this.waiting.set(messageId, resolve);
      this.send({ cmd: 'subscribe', messageId, subscriptions: topics.map((topic) => ({ topic, qos: 1 as const })) });
    });
  }

  publish(topic: string, payload: string): void {
    this.send({ cmd: 'publish', topic, payload, qos: 1, messageId: this.id(), retain: false, dup: false });
  }

  async end(): Promise<void> {
    const s = this.socket;
    this.stopPing();
    if (s === null || s.destroyed) return;
    await new Promise<void>((resolve) => {
      s.once('close', () => resolve());
      s.end(mqtt.generate({ cmd: 'disconnect' }));
    });
  }

  private id(): number {
    const id = this.nextId;
    this.nextId = id === 65535 ? 1 : id + 1;
    return id;
  }

  private send(p: mqtt.Packet): void {
    const s = this.socket;
    if (s === null || s.destroyed) return;
    this.lastSent = performance.now();
    s.write(mqtt.generate(p));
  }

  private onPacket(p: mqtt.Packet): void {
    switch (p.cmd) {
      case 'publish':
        if (p.qos === 1 && p.messageId !== undefined) this.send({ cmd: 'puback', messageId: p.messageId });
        this.onPublish(p.topic, Buffer.isBuffer(p.payload) ? p.payload : Buffer.from(p.payload));
        return;
      case 'connack':
        this.connack?.(p.returnCode ?? 0);
        this.connack = null;
        return;
      case 'suback': {
        const w = p.messageId === undefined ? undefined : this.waiting.get(p.messageId);
        if (w !== undefined) {
          this.waiting.delete(p.messageId as number);
          w();
        }
        return;
      }
      default:
        return; // puback, pingresp
    }
  }

  private stopPing(): void {
    if (this.ping !== null) clearInterval(this.ping);
    this.ping = null;
  }
}
