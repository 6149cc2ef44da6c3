/**
 * The cloud side of the MQTT bridge transport: subscribes to the gateways' sync requests on a
 * broker, hands each one to a request handler (the reference cloud passes one built on
 * fastify's inject(), so the same routes answer HTTP and MQTT) and publishes the answer on the
 * request's own answer topic. The envelope and topics are contracts/sync.ts, "MQTT bridge
 * envelope".
 *
 * Requests are handled concurrently and each is answered once; QoS 1 may still deliver a
 * request twice (MQTT 3.1.1 §4.3.2), and then it is handled twice: the sync protocol is
 * idempotent, so the second answer says the same (a batch's second ack is marked duplicate).
 * Clean session on purpose: a request sent while no bridge runs is dropped by the broker and
 * the gateway retries after its timeout, rather than the bridge waking up to a backlog of
 * requests whose senders gave up long ago.
 */
import { randomUUID } from 'node:crypto';
import { TypeCompiler } from '@sinclair/typebox/compiler';
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import { PacklineError } from '../../../contracts/errors.js';
import {
  SYNC_BRIDGE_ID_PATTERN,
  SYNC_HEADERS,
  SYNC_REQUEST_ERRORS,
  SyncBridgeRequest,
  type SyncBridgeResponse,
  parseSyncBridgeTopic,
  syncBridgeTopics,
} from '../../../contracts/sync.js';
import { isValidId } from '../../../contracts/topics.js';
import { type SimLogger, silentLogger } from '../lib/logger.js';

const checkRequest = TypeCompiler.Compile(SyncBridgeRequest);
const ID_RE = new RegExp(SYNC_BRIDGE_ID_PATTERN);

/** One request as the handler sees it: the HTTP request the gateway would have sent. */
export interface BridgeRequest {
  /** From the topic (the broker's ACL vouches for it). */
  gatewayId: string;
  method: 'GET' | 'POST';
  path: string;
  headers: Record<string, string>;
  /** Exact wire bytes (gzip for batches), null for GET. */
  body: Buffer | null;
}

export interface BridgeAnswer {
  status: number;
  headers?: Record<string, string>;
  /**
   * The answer's JSON value (or text), null when empty. Raw bytes (e.g. fastify inject()'s
   * `rawPayload`) are accepted too: parsed as JSON when they are JSON, else sent as text.
   */
  body: unknown;
}

export type BridgeHandler = (req: BridgeRequest) => Promise<BridgeAnswer>;

export interface MqttBridgeServerOptions {
  /** The cloud broker, `mqtt://` or `mqtts://`. */
  url: string;
  /** Gateways to serve (one subscription each), or `'+'` for every gateway. */
  gatewayIds: readonly string[] | '+';
  handle: BridgeHandler;
  /** Default `packline-sync-bridge-<random>`. */
  clientId?: string;
  username?: string;
  password?: string;
  ca?: string | Buffer;
  rejectUnauthorized?: boolean;
  /** Delay between reconnect attempts (default 1000 ms). */
  reconnectPeriodMs?: number;
  /** start() fails if the broker has not accepted us and our subscriptions by then (default 10 s). */
  connectTimeoutMs?: number;
  logger?: SimLogger;
}

export interface MqttBridgeServerStats {
  received: number;
  answered: number;
  /** Envelopes that were not a {@link SyncBridgeRequest} (answered 400 when they had an id). */
  malformed: number;
  /** Handler calls that threw (answered 500). */
  handlerErrors: number;
  /** Answers not sent because the broker connection was down at the time. */
  dropped: number;
}

export class MqttBridgeServer {
  private client: MqttClient | null = null;
  private ready = false;
  private readonly topics: string[];
  private readonly log: SimLogger;
  private readonly counters: MqttBridgeServerStats = { received: 0, answered: 0, malformed: 0, handlerErrors: 0, dropped: 0 };

  constructor(private readonly opts: MqttBridgeServerOptions) {
    if (opts.gatewayIds === '+') {
      this.topics = [syncBridgeTopics.allRequests];
    } else {
      const bad = opts.gatewayIds.find((id) => !isValidId(id));
      if (bad !== undefined) throw new PacklineError('PKL_CONFIG_INVALID', { reason: `gateway id ${JSON.stringify(bad)} cannot be a topic level` });
      this.topics = opts.gatewayIds.map((id) => syncBridgeTopics.request(id));
    }
    this.log = opts.logger ?? silentLogger;
  }

  /** True while connected and subscribed. */
  get connected(): boolean {
    return this.ready && this.client?.connected === true;
  }

  stats(): MqttBridgeServerStats {
    return { ...this.counters };
  }

  /** Resolves once connected and subscribed; rejects if that fails at first (then stops). */
  async start(): Promise<void> {
    if (this.client) return;
    const o = this.opts;
    const options: IClientOptions = {
      clientId: o.clientId ?? `packline-sync-bridge-${randomUUID().slice(0, 8)}`,
      protocolVersion: 4,
      clean: true,
      reconnectPeriod: o.reconnectPeriodMs ?? 1000,
      connectTimeout: o.connectTimeoutMs ?? 10_000,
      reconnectOnConnackError: true,
      resubscribe: false,
      rejectUnauthorized: o.rejectUnauthorized ?? true,
      ...(o.username !== undefined ? { username: o.username } : {}),
      ...(o.password !== undefined ? { password: o.password } : {}),
      ...(o.ca !== undefined ? { ca: o.ca } : {}),
    };
    const client = mqtt.connect(o.url, options);
    this.client = client;
    let first: { resolve: () => void; reject: (e: Error) => void } | null = null;
    const firstReady = new Promise<void>((resolve, reject) => (first = { resolve, reject }));
    const timer = setTimeout(
      () => first?.reject(new Error(`MQTT bridge server: not subscribed on ${o.url} within ${options.connectTimeout} ms`)),
      options.connectTimeout,
    );
    client.on('connect', () => {
      (client.stream as { setNoDelay?: (on: boolean) => void }).setNoDelay?.(true);
      client.subscribe(this.topics, { qos: 1 }, (err) => {
        if (client !== this.client) return;
        if (err) {
          this.log.error({ topics: this.topics, err: err.message }, 'MQTT bridge server: subscription refused');
          first?.reject(err);
          return;
        }
        this.ready = true;
        this.log.info({ url: o.url, topics: this.topics }, 'MQTT bridge server subscribed');
        first?.resolve();
      });
    });
    client.on('close', () => (this.ready = false));
    client.on('error', (err) => {
      this.log.debug({ err: err.message }, 'MQTT bridge server error');
      first?.reject(err);
    });
    client.on('message', (topic, payload) => void this.onMessage(client, topic, payload));
    try {
      await firstReady;
    } catch (err) {
      await this.stop();
      throw err;
    } finally {
      clearTimeout(timer);
      first = null;
    }
  }

  async stop(): Promise<void> {
    const client = this.client;
    this.client = null;
    this.ready = false;
    if (client) await client.endAsync(true);
  }

  private async onMessage(client: MqttClient, topic: string, payload: Buffer): Promise<void> {
    const t = parseSyncBridgeTopic(topic);
    if (t?.kind !== 'request') return;
    if (this.opts.gatewayIds !== '+' && !this.opts.gatewayIds.includes(t.gatewayId)) return;
    this.counters.received++;
    let env: unknown;
    try {
      env = JSON.parse(payload.toString('utf8'));
    } catch {
      env = undefined;
    }
    if (!checkRequest.Check(env)) {
      this.counters.malformed++;
      const id = (env as { id?: unknown } | undefined)?.id;
      this.log.warn({ topic, gatewayId: t.gatewayId }, 'MQTT bridge server: malformed request envelope');
      if (typeof id === 'string' && ID_RE.test(id)) {
        this.answer(client, t.gatewayId, refusal(id, 400, SYNC_REQUEST_ERRORS.malformed, 'not a sync bridge request envelope'));
      }
      return;
    }
    const body = env.body_b64 === null ? null : Buffer.from(env.body_b64, 'base64');
    // Buffer.from skips characters that are not base64; re-encoding shows whether any were.
    if (body !== null && body.toString('base64') !== env.body_b64) {
      this.counters.malformed++;
      this.answer(client, t.gatewayId, refusal(env.id, 400, SYNC_REQUEST_ERRORS.malformed, 'body_b64 is not canonical base64'));
      return;
    }
    const claimed = env.headers[SYNC_HEADERS.gateway];
    if (claimed !== undefined && claimed !== t.gatewayId) {
      // A gateway publishing on another gateway's topic (a broker ACL gap): never serve it.
      this.answer(client, t.gatewayId, refusal(env.id, 401, SYNC_REQUEST_ERRORS.unauthorized, 'gateway header does not match the topic'));
      return;
    }
    let res: SyncBridgeResponse;
    try {
      const a = await this.opts.handle({ gatewayId: t.gatewayId, method: env.method, path: env.path, headers: env.headers, body });
      res = { id: env.id, status: a.status, body: normaliseBody(a.body), ...(a.headers ? { headers: a.headers } : {}) };
    } catch (err) {
      this.counters.handlerErrors++;
      this.log.error({ path: env.path, err: (err as Error).message }, 'MQTT bridge server: handler failed');
      res = refusal(env.id, 500, 'BRIDGE_HANDLER_FAILED', (err as Error).message);
    }
    this.answer(client, t.gatewayId, res);
  }

  private answer(client: MqttClient, gatewayId: string, res: SyncBridgeResponse): void {
    // Published on a connection that has since dropped, the answer would sit in MQTT.js's
    // store for the next connection; the gateway's clean session would not get it anyway.
    if (client !== this.client || !client.connected) {
      this.counters.dropped++;
      return;
    }
    client.publish(syncBridgeTopics.response(gatewayId, res.id), JSON.stringify(res), { qos: 1 });
    this.counters.answered++;
  }
}

function refusal(id: string, status: number, code: string, message: string): SyncBridgeResponse {
  return { id, status, body: { error: { code, message } } };
}

function normaliseBody(body: unknown): unknown {
  if (body === undefined || body === null) return null;
  if (!(body instanceof Uint8Array)) return body;
  if (body.length === 0) return null;
  const text = Buffer.from(body.buffer, body.byteOffset, body.byteLength).toString('utf8');
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}
