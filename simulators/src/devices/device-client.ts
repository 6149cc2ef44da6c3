/**
 * One simulated device = one MQTT connection with the device's own credentials
 * (username = device id, password = its secret), exactly as a real device talks to Packline.
 *
 * It announces itself with a retained `dev/{id}/state` {state:'online'} and leaves a last will
 * {state:'offline'} (MQTT 3.1.1 §3.1.2.5: the broker publishes the will when the connection
 * drops without DISCONNECT), publishes events at QoS 1 with a `msg_id`, and pairs each event
 * with the gateway's `dev/{id}/ack` or `dev/{id}/err` answer.
 */
import { EventEmitter } from 'node:events';
import mqtt, { type MqttClient } from 'mqtt';
import { PacklineError, type WireError } from '../../../contracts/errors.js';
import type { Ack, EventPayloads } from '../../../contracts/payloads.js';
import { type CommandKind, type EventKind, parseTopic, topics } from '../../../contracts/topics.js';
import { decodeEvent } from '../../../contracts/validate.js';
import { type SimLogger, silentLogger } from '../lib/logger.js';
import { Counter } from '../lib/stats.js';
import { nowMs, sleep } from '../lib/time.js';

export interface DeviceClientOptions {
  /** mqtt://host:port or ws://host:port/mqtt */
  mqttUrl: string;
  deviceId: string;
  secret: string;
  /** Defaults to the device id, as a real device would use. */
  clientId?: string;
  /** Command kinds to subscribe to on `dev/{id}/cmd/{kind}`. */
  commands?: readonly CommandKind[];
  /** Extra topics to subscribe to (a display's station view). */
  extraTopics?: readonly string[];
  /** How long an event waits for its ack/err before it counts as a timeout. */
  replyTimeoutMs?: number;
  /** Keep retrying a refused/unreachable broker this long in start() (0: fail at once). */
  connectRetryMs?: number;
  logger?: SimLogger;
}

export type EventReply =
  | { status: 'ack'; msgId: string; ack: Ack; latencyMs: number }
  | { status: 'error'; msgId: string; error: WireError; latencyMs: number }
  | { status: 'timeout'; msgId: string; latencyMs: number };

interface Pending {
  kind: EventKind;
  startedAt: number;
  timer: NodeJS.Timeout;
  resolve: (r: EventReply) => void;
}

export interface DeviceClientStats {
  deviceId: string;
  connected: boolean;
  published: number;
  acks: number;
  timeouts: number;
  errors: Record<string, number>;
}

export interface DeviceClientEvents {
  command: [kind: CommandKind, payload: unknown];
  message: [topic: string, payload: unknown];
}

function parseJson(buf: Buffer): unknown {
  try {
    return JSON.parse(buf.toString('utf8'));
  } catch {
    return undefined;
  }
}

/**
 * Turns off Nagle's algorithm on a TCP connection: small MQTT packets otherwise wait for the
 * peer's delayed ACK (typically 40 ms on Linux), which would dominate every latency measured.
 */
function noDelay(client: MqttClient): void {
  const stream = client.stream as { setNoDelay?: (on: boolean) => void } | undefined;
  stream?.setNoDelay?.(true);
}

/** The msg_id an error answer refers to, wherever the gateway put it. */
function errorMsgId(err: Record<string, unknown>): string | undefined {
  const details = (err['details'] ?? {}) as Record<string, unknown>;
  const id = err['msg_id'] ?? details['msg_id'] ?? details['msgId'];
  return typeof id === 'string' ? id : undefined;
}

export class DeviceClient extends EventEmitter<DeviceClientEvents> {
  readonly deviceId: string;
  private client: MqttClient | null = null;
  private readonly pending = new Map<string, Pending>();
  private readonly bootTag = Math.floor(Math.random() * 36 ** 6).toString(36);
  private seq = 0;
  private published = 0;
  private acks = 0;
  private timeouts = 0;
  private readonly errors = new Counter();
  private readonly log: SimLogger;

  constructor(private readonly opts: DeviceClientOptions) {
    super();
    this.deviceId = opts.deviceId;
    this.log = opts.logger ?? silentLogger;
  }

  get connected(): boolean {
    return this.client?.connected ?? false;
  }

  async start(): Promise<void> {
    if (this.client) return;
    const deadline = Date.now() + (this.opts.connectRetryMs ?? 0);
    for (;;) {
      try {
        return await this.connectOnce();
      } catch (err) {
        // Bad credentials never get better; an unreachable broker may still be starting.
        if (err instanceof PacklineError || Date.now() >= deadline) throw err;
        await sleep(500);
      }
    }
  }

  private async connectOnce(): Promise<void> {
    const id = this.deviceId;
    const client = await mqtt
      .connectAsync(this.opts.mqttUrl, {
        clientId: this.opts.clientId ?? id,
        username: id,
        password: this.opts.secret,
        protocolVersion: 4, // MQTT 3.1.1: what the embedded aedes broker speaks
        clean: true,
        keepalive: 30,
        reconnectPeriod: 1000,
        connectTimeout: 10_000,
        will: { topic: topics.deviceState(id), payload: Buffer.from(JSON.stringify({ state: 'offline' })), qos: 1, retain: true },
      })
      .catch((err: Error & { code?: unknown }) => {
        // CONNACK return codes 4 and 5 (MQTT 3.1.1 §3.2.2.3): bad credentials / not authorised.
        if (err.code === 4 || err.code === 5 || /not authori[sz]ed|bad username/i.test(err.message)) {
          throw new PacklineError('PKL_AUTH_FAILED', { deviceId: id }, { cause: err });
        }
        throw err;
      });
    this.client = client;
    noDelay(client);
    // Every reconnect brings a new socket.
    client.on('connect', () => noDelay(client));
    client.on('message', (topic, payload) => this.onMessage(topic, payload));
    client.on('error', (err) => {
      // Errors while this client is being shut down are expected noise.
      if (this.client === client) this.log.warn({ deviceId: id, err: err.message }, 'device mqtt error');
    });
    const subs = [topics.ack(id), topics.error(id), ...(this.opts.commands ?? []).map((k) => topics.command(id, k))];
    subs.push(...(this.opts.extraTopics ?? []));
    await client.subscribeAsync(subs, { qos: 1 });
    await client.publishAsync(topics.deviceState(id), JSON.stringify({ state: 'online', ts: Date.now() }), {
      qos: 1,
      retain: true,
    });
  }

  /** Clean shutdown: says `offline` itself (a clean DISCONNECT suppresses the will). */
  async stop(): Promise<void> {
    const client = this.client;
    if (!client) return;
    this.client = null;
    if (client.connected) {
      await client
        .publishAsync(topics.deviceState(this.deviceId), JSON.stringify({ state: 'offline', ts: Date.now() }), {
          qos: 1,
          retain: true,
        })
        .catch(() => {});
    }
    await client.endAsync();
    this.failPending();
  }

  /** Fault injection: the cable is pulled. No DISCONNECT, so the broker publishes the will. */
  async dropConnection(): Promise<void> {
    const client = this.client;
    if (!client) return;
    this.client = null;
    await client.endAsync(true);
    this.failPending();
  }

  nextMsgId(): string {
    this.seq++;
    return `${this.bootTag}-${this.seq}`;
  }

  /**
   * Publishes an event (QoS 1) and resolves with the gateway's answer. With
   * `expectReply: false` it resolves as soon as the broker has the message (PUBACK).
   */
  async publishEvent<K extends EventKind>(kind: K, body: EventPayloads[K], options: { expectReply?: boolean } = {}): Promise<EventReply> {
    const msgId = body.msg_id ?? this.nextMsgId();
    const payload = JSON.stringify({ ...body, msg_id: msgId });
    // Catch our own bugs before the gateway does (contracts/validate.ts).
    const check = decodeEvent(kind, payload);
    if (!check.ok) throw new PacklineError(check.code, check.details);
    return this.publishRaw(kind, payload, msgId, options.expectReply ?? true);
  }

  /** Publishes bytes as-is (fault injection of malformed events). */
  async publishRaw(kind: EventKind, payload: string, msgId: string, expectReply = true): Promise<EventReply> {
    const client = this.client;
    // Publishing on a stopped device is a bug in the calling simulator, not bad input.
    if (!client) throw new Error(`device ${this.deviceId} is not started`);
    const startedAt = nowMs();
    const reply = expectReply
      ? new Promise<EventReply>((resolve) => {
          const timer = setTimeout(() => {
            this.pending.delete(msgId);
            this.timeouts++;
            resolve({ status: 'timeout', msgId, latencyMs: nowMs() - startedAt });
          }, this.opts.replyTimeoutMs ?? 10_000);
          this.pending.set(msgId, { kind, startedAt, timer, resolve });
        })
      : null;
    this.published++;
    await client.publishAsync(topics.event(this.deviceId, kind), payload, { qos: 1 });
    return reply ?? { status: 'ack', msgId, ack: { msg_id: msgId, kind }, latencyMs: nowMs() - startedAt };
  }

  async publish(topic: string, payload: unknown, opts: { retain?: boolean } = {}): Promise<void> {
    if (!this.client) return;
    await this.client.publishAsync(topic, JSON.stringify(payload), { qos: 1, retain: opts.retain ?? false });
  }

  stats(): DeviceClientStats {
    return {
      deviceId: this.deviceId,
      connected: this.connected,
      published: this.published,
      acks: this.acks,
      timeouts: this.timeouts,
      errors: this.errors.toJSON(),
    };
  }

  private settle(msgId: string | undefined, kind: string | undefined, make: (p: Pending) => EventReply): void {
    let key = msgId !== undefined && this.pending.has(msgId) ? msgId : undefined;
    if (key === undefined && msgId === undefined) {
      // No msg_id in the answer: the gateway answers a device's events in order, so it is
      // the oldest one still waiting (of that kind, when the answer names one).
      for (const [k, p] of this.pending) {
        if (kind === undefined || p.kind === kind) {
          key = k;
          break;
        }
      }
    }
    if (key === undefined) return;
    const p = this.pending.get(key) as Pending;
    this.pending.delete(key);
    clearTimeout(p.timer);
    p.resolve(make(p));
  }

  private onMessage(topic: string, buf: Buffer): void {
    const parsed = parseTopic(topic);
    const payload = parseJson(buf);
    if (parsed?.type === 'ack' && payload && typeof payload === 'object') {
      const ack = payload as Ack;
      this.acks++;
      this.settle(ack.msg_id, ack.kind, (p) => ({
        status: 'ack',
        msgId: ack.msg_id ?? '',
        ack,
        latencyMs: nowMs() - p.startedAt,
      }));
      return;
    }
    if (parsed?.type === 'error' && payload && typeof payload === 'object') {
      const error = payload as WireError;
      this.errors.add(String(error.code));
      const msgId = errorMsgId(payload as Record<string, unknown>);
      this.settle(msgId, undefined, (p) => ({ status: 'error', msgId: msgId ?? '', error, latencyMs: nowMs() - p.startedAt }));
      return;
    }
    if (parsed?.type === 'command') {
      this.emit('command', parsed.kind, payload);
      return;
    }
    this.emit('message', topic, payload);
  }

  private failPending(): void {
    for (const [msgId, p] of this.pending) {
      clearTimeout(p.timer);
      p.resolve({ status: 'timeout', msgId, latencyMs: nowMs() - p.startedAt });
    }
    this.pending.clear();
  }
}
