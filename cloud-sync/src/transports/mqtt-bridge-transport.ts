/**
 * The fleet transport: sync requests travel as MQTT messages through a cloud broker to a
 * bridge that turns them back into HTTP requests to the cloud order system. The envelope,
 * the topics and why they are what they are (QoS 1, MQTT 3.1.1 on the wire rather than the
 * MQTT 5 Response Topic / Correlation Data properties) are in contracts/sync.ts, "MQTT bridge
 * envelope".
 *
 * Behaviour the outbox pump relies on:
 * - A request never waits for the broker: with no connection it fails at once with
 *   `unreachable` (we check `connected` ourselves and never let MQTT.js park a request in its
 *   offline queue), so the pump backs off instead of piling requests up.
 * - A connection lost while a request waits fails that request at once with `reset`. The
 *   clean session has dropped any answer, and MQTT.js may resend the unacknowledged PUBLISH
 *   after reconnecting: the bridge then answers a request nobody waits for, which is
 *   harmless because the sync protocol is idempotent.
 * - No answer (the bridge is down, the broker dropped it) within the deadline: `timeout`.
 * - The client reconnects by itself every `reconnectPeriodMs`, also after a refused CONNACK
 *   (wrong credentials, "server unavailable"), which the operator may fix on the cloud side.
 */
import { randomUUID } from 'node:crypto';
import { TypeCompiler } from '@sinclair/typebox/compiler';
import type { IClientOptions, MqttClient } from 'mqtt';
import { PacklineError } from '../../../contracts/errors.js';
import { type SyncBridgeRequest, SyncBridgeResponse, parseSyncBridgeTopic, syncBridgeTopics } from '../../../contracts/sync.js';
import { isValidId } from '../../../contracts/topics.js';
import { type SyncLogger, silentSyncLogger } from '../logger.js';
import { type SyncRequest, type SyncResponse, type SyncTransport, SyncTransportError } from '../transport.js';
import { MAX_RESPONSE_BYTES } from './response-body.js';

const checkResponse = TypeCompiler.Compile(SyncBridgeResponse);

export interface MqttBridgeTransportOptions {
  /** `mqtts://broker.example.com:8883` (or `mqtt://` on a trusted network). */
  url: string;
  /** Unique per gateway on the cloud broker (a second connection with it takes the first one over). */
  clientId: string;
  username?: string;
  password?: string;
  /** PEM of the CA(s) that signed the broker's certificate, for a private CA. */
  ca?: string | Buffer;
  /** Verify the broker's certificate (default true). */
  rejectUnauthorized?: boolean;
  /** PEM client certificate and key, for brokers that authenticate devices by certificate. */
  clientCert?: string | Buffer;
  clientKey?: string | Buffer;
  /** Names the topics: `packline/sync/{gatewayId}/…`. */
  gatewayId: string;
  /**
   * MQTT keep alive in seconds (default 30). The broker drops a silent client after 1.5 times
   * this (MQTT 3.1.1 §3.1.2.10) and the client notices a dead link about as fast.
   */
  keepalive?: number;
  /** Delay between reconnect attempts (default 1000 ms). */
  reconnectPeriodMs?: number;
  /** Give up one connect attempt (TCP + TLS + CONNACK) after this long (default 10 s). */
  connectTimeoutMs?: number;
  /** Cap on an answer's size (default 8 MB, as for HTTP). */
  maxResponseBytes?: number;
  logger?: SyncLogger;
}

interface Pending {
  resolve: (r: SyncResponse) => void;
  reject: (e: SyncTransportError) => void;
  timer: NodeJS.Timeout;
}

export class MqttBridgeTransport implements SyncTransport {
  readonly name = 'mqtt';
  private client: MqttClient | null = null;
  /** Connected AND subscribed to our answers: only then may a request go out. */
  private ready = false;
  /** Bumped on every connection, so a late SUBACK of an old connection changes nothing. */
  private generation = 0;
  private readonly pending = new Map<string, Pending>();
  private lastError: string | null = 'not connected yet';
  private readonly log: SyncLogger;
  private readonly maxResponseBytes: number;
  private readonly requestTopic: string;
  private readonly responsesTopic: string;
  private onReady: (() => void) | null = null;

  constructor(private readonly opts: MqttBridgeTransportOptions) {
    if (!/^mqtts?:\/\//.test(opts.url)) {
      throw new PacklineError('PKL_CONFIG_INVALID', { reason: `MQTT bridge URL must be mqtt:// or mqtts://, not ${JSON.stringify(opts.url)}` });
    }
    // The gateway id becomes a topic level: it must not smuggle in `/`, `+` or `#`.
    if (!isValidId(opts.gatewayId)) {
      throw new PacklineError('PKL_CONFIG_INVALID', { reason: `gateway id ${JSON.stringify(opts.gatewayId)} cannot be a topic level` });
    }
    this.log = opts.logger ?? silentSyncLogger;
    this.maxResponseBytes = opts.maxResponseBytes ?? MAX_RESPONSE_BYTES;
    this.requestTopic = syncBridgeTopics.request(opts.gatewayId);
    this.responsesTopic = syncBridgeTopics.responses(opts.gatewayId);
  }

  /** True while connected to the broker and subscribed to the answers. */
  get connected(): boolean {
    return this.ready && this.client?.connected === true;
  }

  /**
   * Starts connecting. Resolves once connected and subscribed, or once the first attempt
   * failed or took longer than `connectTimeoutMs`: a broker that is down is a link state (the
   * client keeps trying), not a reason for the gateway not to start.
   */
  async start(): Promise<void> {
    // Loaded when the bridge starts, not with the gateway (~4 MB resident otherwise).
    const { connect } = await import('mqtt');
    if (this.client) return;
    const o = this.opts;
    const options: IClientOptions = {
      clientId: o.clientId,
      // 3.1.1 on the wire, see contracts/sync.ts for why.
      protocolVersion: 4,
      // Nothing to resume: an answer that missed us is retried by the pump (see contracts/sync.ts).
      clean: true,
      keepalive: o.keepalive ?? 30,
      reconnectPeriod: o.reconnectPeriodMs ?? 1000,
      connectTimeout: o.connectTimeoutMs ?? 10_000,
      reconnectOnConnackError: true,
      queueQoSZero: false,
      // We subscribe on every CONNACK ourselves and only then accept requests.
      resubscribe: false,
      rejectUnauthorized: o.rejectUnauthorized ?? true,
      ...(o.username !== undefined ? { username: o.username } : {}),
      ...(o.password !== undefined ? { password: o.password } : {}),
      ...(o.ca !== undefined ? { ca: o.ca } : {}),
      ...(o.clientCert !== undefined ? { cert: o.clientCert } : {}),
      ...(o.clientKey !== undefined ? { key: o.clientKey } : {}),
    };
    const firstOutcome = new Promise<void>((resolve) => {
      const timer = setTimeout(done, options.connectTimeout);
      function done(): void {
        clearTimeout(timer);
        resolve();
      }
      this.onReady = done;
    });
    const client = connect(o.url, options);
    this.client = client;
    client.on('connect', () => this.onConnect(client));
    client.on('close', () => this.onClose());
    client.on('error', (err) => this.onError(err));
    client.on('message', (topic, payload) => this.onMessage(topic, payload));
    await firstOutcome;
    this.onReady = null;
  }

  async stop(): Promise<void> {
    const client = this.client;
    this.client = null;
    this.ready = false;
    this.failAll(new SyncTransportError('transport stopped', 'closed'));
    this.onReady?.();
    if (!client) return;
    // Force: nothing of ours is worth waiting for (every pending request has just failed),
    // and a graceful end would wait for PUBACKs from a broker that may be gone.
    await client.endAsync(true);
  }

  request(req: SyncRequest, timeoutMs: number): Promise<SyncResponse> {
    const client = this.client;
    if (!client) return Promise.reject(new SyncTransportError('MQTT bridge transport is not started', 'closed'));
    if (!this.connected) {
      return Promise.reject(new SyncTransportError(`MQTT broker not connected (${this.lastError ?? 'connecting'})`, 'unreachable'));
    }
    const id = randomUUID();
    const envelope: SyncBridgeRequest = {
      id,
      method: req.method,
      path: req.path,
      headers: req.headers,
      body_b64: req.body === null ? null : Buffer.from(req.body.buffer, req.body.byteOffset, req.body.byteLength).toString('base64'),
    };
    return new Promise<SyncResponse>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new SyncTransportError(`${req.method} ${req.path}: no answer over MQTT within ${timeoutMs} ms`, 'timeout'));
      }, timeoutMs);
      this.pending.set(id, { resolve, reject, timer });
      // QoS 1: the broker acknowledges the request (MQTT 3.1.1 §4.3.2); the answer is ours to wait for.
      client.publish(this.requestTopic, JSON.stringify(envelope), { qos: 1 }, (err) => {
        if (err) this.settle(id, new SyncTransportError(`publishing the request failed: ${err.message}`, 'reset'));
      });
    });
  }

  private onConnect(client: MqttClient): void {
    if (client !== this.client) return;
    const generation = ++this.generation;
    const stream = client.stream as { setNoDelay?: (on: boolean) => void } | undefined;
    // Nagle's algorithm would delay each small PUBLISH by the broker's delayed ACK (40 ms on Linux).
    stream?.setNoDelay?.(true);
    client.subscribe(this.responsesTopic, { qos: 1 }, (err) => {
      if (generation !== this.generation || client !== this.client) return;
      if (err) {
        // A refused subscription (SUBACK 0x80) is usually the broker's ACL: configuration.
        this.lastError = `subscribing to ${this.responsesTopic} failed: ${err.message}`;
        this.log.error({ topic: this.responsesTopic, err: err.message }, 'MQTT bridge: cannot subscribe to the answers');
        return;
      }
      this.ready = true;
      this.lastError = null;
      this.log.info({ url: this.opts.url }, 'MQTT bridge connected');
      this.onReady?.();
    });
  }

  private onClose(): void {
    if (this.ready) this.log.warn({ url: this.opts.url, err: this.lastError }, 'MQTT bridge connection lost');
    this.ready = false;
    this.lastError ??= 'connection closed';
    this.failAll(new SyncTransportError('connection to the MQTT broker lost before the answer', 'reset'));
    this.onReady?.();
  }

  private onError(err: Error): void {
    // MQTT.js emits an error for every failed reconnect; the link state is the pump's to report.
    this.lastError = err.message;
    this.log.debug({ err: err.message }, 'MQTT bridge error');
  }

  private onMessage(topic: string, payload: Buffer): void {
    const t = parseSyncBridgeTopic(topic);
    if (t?.kind !== 'response' || t.gatewayId !== this.opts.gatewayId) return;
    if (!this.pending.has(t.id)) {
      // QoS 1 may deliver an answer twice, or it arrives after its request timed out.
      this.log.debug({ id: t.id }, 'MQTT bridge: answer for no pending request (duplicate or late)');
      return;
    }
    if (payload.length > this.maxResponseBytes) {
      this.settle(t.id, new SyncTransportError(`answer larger than ${this.maxResponseBytes} bytes`, 'other'));
      return;
    }
    let env: unknown;
    try {
      env = JSON.parse(payload.toString('utf8'));
    } catch {
      env = undefined;
    }
    if (!checkResponse.Check(env) || env.id !== t.id) {
      this.settle(t.id, new SyncTransportError('the bridge answered with a malformed envelope', 'other'));
      return;
    }
    this.settle(t.id, null, { status: env.status, body: env.body ?? null });
  }

  private settle(id: string, err: SyncTransportError | null, res?: SyncResponse): void {
    const p = this.pending.get(id);
    if (!p) return;
    this.pending.delete(id);
    clearTimeout(p.timer);
    if (err) p.reject(err);
    else p.resolve(res as SyncResponse);
  }

  private failAll(err: SyncTransportError): void {
    for (const id of [...this.pending.keys()]) this.settle(id, err);
  }
}
