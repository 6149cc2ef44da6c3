/**
 * The embedded MQTT 3.1.1 broker: aedes 1.2 behind Packline's authentication, ACL, per-client
 * rate limit, connection cap, maximum packet size, retained-topic rule and bounded queues. Listeners: TCP, TLS (when a certificate is
 * configured) and MQTT over WebSocket on `mqtt.wsPath` of the HTTP server the composition root
 * hands in. docs/mqtt.md is the contract devices are held to.
 *
 * Refusing a PUBLISH. MQTT 3.1.1 has no negative PUBACK: a server that does not authorise a
 * PUBLISH "MUST either make a positive acknowledgement, according to the normal QoS rules, or
 * close the Network Connection" [MQTT-3.3.5-2]. In aedes 1.2 an error from `authorizePublish`
 * makes the publish handler fail, which emits `clientError` and closes the connection (read in
 * node_modules/aedes/lib/handlers/publish.js → runSeries → client `_onError`; also docs/Aedes.md
 * "Handler: authorizePublish"). Closing on every over-limit message would turn a brief burst
 * into a reconnect storm, so we take the other branch the spec allows: the packet is marked in
 * `authorizePublish`, aedes acknowledges it as usual (PUBACK/PUBREC), and our wrapper around
 * `aedes.publish` discards it before it reaches the emitter or any subscriber. Only a client
 * that keeps being refused (`limits.disconnectAfterRefused` refusals without ever letting its
 * token bucket fill up again) gets the error and thus the disconnect. Dropping before mqemitter
 * is also what keeps aedes alive under a QoS 0 flood (docs/decisions/0001-stack.md, mqemitter #204).
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { IncomingMessage, Server as HttpServer } from 'node:http';
import type { Server as HttpsServer } from 'node:https';
import { createServer as createNetServer, type AddressInfo, type Server as NetServer, type Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { createServer as createTlsServer, type Server as TlsServer, TLSSocket } from 'node:tls';
import { Aedes, type AedesOptions, type AuthenticateError, type Client, type ConnectPacket, type PublishPacket } from 'aedes';
import { WebSocketServer, createWebSocketStream, type WebSocket } from 'ws';
import { type ErrorCode, type ErrorDetails, toWireError } from '../../../contracts/errors.js';
import { isRetainedTopic, parseTopic, ROLE_EVENTS, topics } from '../../../contracts/topics.js';
import { checkDeviceState, readMsgId } from '../../../contracts/validate.js';
import type { Config } from '../config/schema.js';
import type { Component } from '../lib/component.js';
import type { Logger } from '../lib/logger.js';
import type { DeviceRecord } from '../storage/types.js';
import { canPublish, canSubscribe, filtersOverlap, type Identity, isRole, topicMatches } from './acl.js';
import { createBoundedPersistence, type BoundedPersistence } from './bounded-persistence.js';
import { type MqttRefusalReason, type RefusalCounts, zeroRefusals } from './refusals.js';
import { generateSecret, hashSecret, verifySecret } from './secrets.js';
import { LoginGuard, MAX_LOGIN_FIELD, normaliseSource, RefusalLog, type LoginGuardStats } from './auth-guard.js';
import { TokenBucket } from '../lib/token-bucket.js';

/** What the broker needs to authenticate devices; the SQLite store implements it. */
export interface DeviceDirectory {
  getDevice(deviceId: string): DeviceRecord | null;
}

export interface BrokerStats {
  /** Authenticated clients currently connected. */
  connections: number;
  /** CONNECTs refused for credentials (unknown device, wrong secret, anonymous, client id). */
  authFailures: number;
  /** CONNECTs refused because `limits.maxConnections` was reached. */
  connectionsRefused: number;
  aclDenied: { publish: number; subscribe: number };
  /** Publishes dropped by the per-client token bucket. */
  rateLimited: number;
  disconnectedForFlood: number;
  /** Client publishes accepted. */
  messagesIn: number;
  /** Messages forwarded to clients (one per recipient). */
  messagesOut: number;
  /** QoS 1/2 messages dropped because a client's queue reached `limits.maxQueuedPerClient`. */
  queueDropped: number;
  /** Every refusal, by reason (`packline_mqtt_refused_total{reason}`). */
  refused: RefusalCounts;
  /** Connections closed by the idle limit (keep-alive 0 and no traffic for `limits.idleTimeout`). */
  idleClosed: number;
  /** The login-flood guard (auth-guard.ts): verifications run, refusals without hashing, bans. */
  loginGuard: LoginGuardStats;
}

export interface EmbeddedBrokerOptions {
  config: Pick<Config, 'gatewayId' | 'mqtt'>;
  directory: DeviceDirectory;
  logger: Logger;
  /** The HTTP(S) server that also carries MQTT over WebSocket on `mqtt.wsPath`. */
  httpServer?: HttpServer | HttpsServer;
  /** Login-flood guard; a default one when not given (tests hand in tighter settings). */
  loginGuard?: LoginGuard;
  /**
   * Whether a WebSocket handshake's Origin header (absent for devices, present for browser
   * pages) may open MQTT over WebSocket; default: any. The composition root hands in the
   * HTTP API's Host/Origin allow-list.
   */
  originAllowed?: (origin: string | undefined) => boolean;
  /**
   * With `mqtt.plaintext` off: open a plaintext listener on 127.0.0.1 (any free port) for the
   * drivers hosted in this process, which connect over loopback; nothing on the LAN reaches it.
   */
  loopbackListener?: boolean;
}

interface ClientState {
  identity: Identity;
  anonymous: boolean;
  /** Anonymous lab client confined to `mqtt.labTopics`. */
  lab: boolean;
  /** Publish rate limit (lib/token-bucket.ts). */
  bucket: TokenBucket;
  /** Refusals since the bucket was last full. */
  refused: number;
  /** ACL refusals not yet logged (logging is rate-limited per client). */
  unlogged: number;
  lastLogged: number;
}

/** What preConnect saw in the CONNECT packet, for the later hooks. */
interface ConnectFacts {
  /** Zero-byte client id with CleanSession=0: refused with CONNACK 2 ([MQTT-3.1.3-8]). */
  emptyIdPersistent: boolean;
}

/** At most one ACL-refusal log line per client in this interval (the counters count them all). */
const ACL_LOG_INTERVAL_MS = 10_000;
/**
 * TCP keep-alive on every socket: after this long without traffic the kernel probes the peer,
 * so half-open connections (a device that lost power) are reaped even with MQTT keep-alive 0.
 */
const TCP_KEEPALIVE_DELAY_MS = 60_000;

// CONNACK return codes (MQTT 3.1.1 §3.2.2.3, Table 3.1): only 0–5 are defined.
const CONNACK_IDENTIFIER_REJECTED = 2;
const CONNACK_SERVER_UNAVAILABLE = 3;
const CONNACK_BAD_CREDENTIALS = 4;
const CONNACK_NOT_AUTHORIZED = 5;

function authError(returnCode: number, message: string): AuthenticateError {
  return Object.assign(new Error(message), { returnCode }) as AuthenticateError;
}

function sha256(s: string): Buffer {
  return createHash('sha256').update(s, 'utf8').digest();
}

/** A device's MQTT client id must be its device id, optionally followed by `:suffix`. */
export function clientIdFits(clientId: string, deviceId: string): boolean {
  return clientId === deviceId || clientId.startsWith(`${deviceId}:`);
}

/** The address a client connects from (TCP/TLS socket, or the WebSocket's HTTP request). */
function sourceOf(client: Client): string {
  const c = client as Client & { conn?: { remoteAddress?: string }; req?: { socket?: { remoteAddress?: string } } };
  return normaliseSource(c.conn?.remoteAddress ?? c.req?.socket?.remoteAddress);
}

export class EmbeddedBroker implements Component {
  readonly name = 'mqtt-broker';

  private readonly cfg: EmbeddedBrokerOptions['config'];
  private readonly directory: DeviceDirectory;
  private readonly log: Logger;
  private readonly httpServer: HttpServer | HttpsServer | undefined;

  private broker: Aedes | null = null;
  private persistence: BoundedPersistence | null = null;
  private tcp: NetServer | null = null;
  private tls: TlsServer | null = null;
  private wss: WebSocketServer | null = null;
  private onUpgrade: ((req: IncomingMessage, socket: Duplex, head: Buffer) => void) | null = null;
  private readonly sockets = new Set<Socket>();
  private readonly states = new WeakMap<Client, ClientState>();
  private readonly connects = new WeakMap<Client, ConnectFacts>();
  /** The transport socket under each client (TCP/TLS socket, or the WebSocket's socket). */
  private readonly rawSockets = new WeakMap<Client, Socket>();
  /** Packets refused in authorizePublish but acknowledged; aedes.publish discards them. */
  private readonly discard = new WeakSet<object>();
  /** deviceId → last verified secret hash record and sha256 of the secret (see authenticate). */
  private readonly verified = new Map<string, { encoded: string; digest: Buffer }>();
  private dummyHash = '';
  private readonly guard: LoginGuard;
  private readonly originAllowed: (origin: string | undefined) => boolean;
  private readonly refusalLog: RefusalLog;
  private readonly loopbackListener: boolean;
  private authenticating = 0;
  private boundPorts = { tcp: null as number | null, tls: null as number | null };
  private counters = {
    authFailures: 0,
    connectionsRefused: 0,
    aclPublish: 0,
    aclSubscribe: 0,
    rateLimited: 0,
    disconnectedForFlood: 0,
    messagesIn: 0,
    messagesOut: 0,
    idleClosed: 0,
  };
  private readonly refusals: RefusalCounts = zeroRefusals();

  constructor(opts: EmbeddedBrokerOptions) {
    this.cfg = opts.config;
    this.directory = opts.directory;
    this.log = opts.logger;
    this.httpServer = opts.httpServer;
    this.guard = opts.loginGuard ?? new LoginGuard();
    this.originAllowed = opts.originAllowed ?? (() => true);
    this.refusalLog = new RefusalLog(this.log, 'mqtt connect refused');
    this.loopbackListener = opts.loopbackListener === true;
  }

  /** The running aedes instance (embedded-link.ts publishes and subscribes through it). */
  get aedes(): Aedes {
    if (!this.broker) throw new Error('embedded broker is not started');
    return this.broker;
  }

  /** The identity a connected client authenticated as, if any. */
  identityOf(client: Client): (Identity & { anonymous: boolean }) | undefined {
    const s = this.states.get(client);
    return s ? { ...s.identity, anonymous: s.anonymous } : undefined;
  }

  /** Bound ports (useful with port 0); null for a listener that is not running. */
  ports(): { tcp: number | null; tls: number | null } {
    return { tcp: this.cfg.mqtt.plaintext ? this.boundPorts.tcp : null, tls: this.boundPorts.tls };
  }

  /** The port hosted drivers connect to over loopback: the plaintext listener's, or the loopback-only one. */
  loopbackPort(): number | null {
    return this.boundPorts.tcp;
  }

  stats(): BrokerStats {
    const c = this.counters;
    return {
      connections: this.broker?.connectedClients ?? 0,
      authFailures: c.authFailures,
      connectionsRefused: c.connectionsRefused,
      aclDenied: { publish: c.aclPublish, subscribe: c.aclSubscribe },
      rateLimited: c.rateLimited,
      disconnectedForFlood: c.disconnectedForFlood,
      messagesIn: c.messagesIn,
      messagesOut: c.messagesOut,
      queueDropped: this.persistence?.dropped() ?? 0,
      refused: { ...this.refusals },
      idleClosed: c.idleClosed,
      loginGuard: this.guard.stats(),
    };
  }

  async start(): Promise<void> {
    if (this.broker) return;
    const mqtt = this.cfg.mqtt;
    if (mqtt.allowAnonymous) {
      this.log.warn('!!! mqtt.allowAnonymous is ON: any client may connect WITHOUT credentials and gets FULL access. Lab use only. !!!');
    }
    // Unknown devices are checked against a throwaway hash so that "no such device" and
    // "wrong secret" take the same time.
    this.dummyHash = await hashSecret(generateSecret());
    this.persistence = createBoundedPersistence(mqtt.limits.maxQueuedPerClient);

    const options: AedesOptions = {
      id: `packline-${this.cfg.gatewayId}`,
      persistence: this.persistence.persistence,
      // A socket must send CONNECT within 10 s or is closed (MQTT 3.1.1 §3.1: "reasonable amount of time").
      connectTimeout: 10_000,
      // $SYS heartbeat; also paces aedes' stale-will sweep (4 × this).
      heartbeatInterval: 60_000,
      // A subscriber whose socket does not drain within 30 s is disconnected instead of
      // stalling delivery for everyone (aedes#1060; docs/decisions/0001-stack.md).
      drainTimeout: 30_000,
      // Any keep-alive is accepted: 0 means "the keep alive mechanism is turned off" (MQTT 3.1.1
      // §3.1.2.10) and aedes' keepaliveLimit would refuse it with return code 6, which 3.1.1 does
      // not define (§3.2.2.3: 0–5). aedes closes a client silent for 1.5 × its keep-alive
      // [MQTT-3.1.2-24]; keep-alive-0 connections get the idle limit and TCP keep-alive instead.
      keepaliveLimit: 0,
      // Client ids are `{deviceId}` or `{deviceId}:{suffix}`; ids are up to 64 characters.
      maxClientsIdLength: 128,
      // Contract topics have at most 4 levels, aedes' own $SYS topics 4; deep topics are abuse.
      maxTopicLevels: 16,
      // Devices publish at QoS ≤ 1; bound half-open QoS 2 handshakes tightly.
      maxInflightInbound: 100,
      preConnect: (client, packet, cb) => this.preConnect(client, packet, cb),
      authenticate: (client, username, password, cb) => {
        void this.authenticate(client, username, password).then(
          () => cb(null, true),
          (err: AuthenticateError) => cb(err, false),
        );
      },
      authorizePublish: (client, packet, cb) => this.authorizePublish(client, packet, cb),
      authorizeSubscribe: (client, sub, cb) => {
        const st = this.states.get(client);
        if (st && canSubscribe(st.identity, sub.topic) && (!st.lab || this.labOverlaps(sub.topic))) return cb(null, sub);
        this.counters.aclSubscribe++;
        this.refusals.acl_subscribe++;
        if (st) this.logAclRefusal(client, st, 'subscribe', sub.topic);
        cb(null, null); // → SUBACK 0x80 for this filter (MQTT 3.1.1 §3.9.3)
      },
      authorizeForward: (client, packet) => {
        // A lab client's wildcard may overlap the contract's topics: it only ever sees the sandbox.
        if (this.states.get(client)?.lab && !this.labMatches(packet.topic)) return null;
        this.counters.messagesOut++;
        return packet;
      },
    };
    const broker = new Aedes(options);
    await broker.listen();
    this.installDiscard(broker);
    (broker as unknown as NodeJS.EventEmitter).on('error', (err: Error) => this.log.error({ err }, 'broker error'));
    broker.on('clientError', (client: Client, err: Error) => this.log.debug({ clientId: client.id, err: err.message }, 'client error'));
    broker.on('connectionError', (_client: Client, err: Error) => this.log.debug({ err: err.message }, 'connection error'));
    this.broker = broker;

    try {
      if (mqtt.plaintext || this.loopbackListener) {
        this.tcp = createNetServer((socket) => this.handleSocket(socket, socket));
        this.boundPorts.tcp = mqtt.plaintext ? await listen(this.tcp, mqtt.port, mqtt.host) : await listen(this.tcp, 0, '127.0.0.1');
      }
      if (mqtt.tls.certFile && mqtt.tls.keyFile) {
        this.tls = createTlsServer(
          {
            cert: readFileSync(mqtt.tls.certFile),
            key: readFileSync(mqtt.tls.keyFile),
            // caFile means "require a client certificate signed by this CA" (mutual TLS): the
            // handshake fails without one (docs/mqtt.md §1, `packline tls init --client`).
            ...(mqtt.tls.caFile ? { ca: readFileSync(mqtt.tls.caFile), requestCert: true, rejectUnauthorized: true } : {}),
            minVersion: 'TLSv1.2',
          },
          (socket) => this.handleSocket(socket, socket),
        );
        this.boundPorts.tls = await listen(this.tls, mqtt.tls.port, mqtt.host);
      }
      if (this.httpServer) this.attachWebSocket(this.httpServer, mqtt.wsPath);
      await this.publishGatewayState('online');
      this.log.info(
        { tcp: this.ports().tcp, loopback: mqtt.plaintext ? null : this.boundPorts.tcp, tls: this.boundPorts.tls, ws: this.httpServer ? mqtt.wsPath : null },
        'mqtt broker listening',
      );
    } catch (err) {
      await this.stop();
      throw err;
    }
  }

  async stop(): Promise<void> {
    const broker = this.broker;
    if (!broker) return;
    try {
      await this.publishGatewayState('offline');
    } catch (err) {
      this.log.warn({ err }, 'could not publish gateway offline state');
    }
    if (this.httpServer && this.onUpgrade) this.httpServer.off('upgrade', this.onUpgrade);
    this.onUpgrade = null;
    const closing = [this.tcp, this.tls].filter((s): s is NetServer => s !== null).map(closeServer);
    await new Promise<void>((resolve) => broker.close(() => resolve()));
    for (const s of this.sockets) s.destroy();
    this.sockets.clear();
    if (this.wss) {
      for (const ws of this.wss.clients) ws.terminate();
      await new Promise<void>((resolve) => this.wss?.close(() => resolve()));
    }
    await Promise.all(closing);
    this.broker = null;
    this.tcp = null;
    this.tls = null;
    this.wss = null;
    this.boundPorts = { tcp: null, tls: null };
    this.verified.clear();
    this.refusalLog.flush();
  }

  // ---- listeners --------------------------------------------------------------------------

  private handleSocket(stream: Duplex, socket: Socket, req?: IncomingMessage): void {
    if (!this.broker) return void socket.destroy();
    if (this.guard.banned(normaliseSource(socket.remoteAddress))) return void socket.destroy();
    this.sockets.add(socket);
    socket.on('close', () => this.sockets.delete(socket));
    // MQTT is request/response in small packets (PUBLISH → PUBACK, event → ack/command).
    // With Nagle's algorithm a small write waits for the peer's delayed ACK (up to 40 ms on
    // Linux) before it leaves, which showed up as ~40 ms per round trip in the core benchmark.
    socket.setNoDelay(true);
    socket.setKeepAlive(true, TCP_KEEPALIVE_DELAY_MS);
    const client = req ? this.broker.handle(stream, req) : this.broker.handle(stream);
    this.rawSockets.set(client, socket);
    this.limitPacketSize(client);
  }

  /**
   * Refuses a packet bigger than `limits.maxPacketSize` as soon as its fixed header is read
   * (MQTT 3.1.1 §2.2.3: the Remaining Length precedes the body), before its body is buffered,
   * parsed or routed: the parser's error makes aedes close the connection. MQTT 3.1.1 has no
   * way to tell the client (MQTT 5 would send DISCONNECT 0x95, §3.2.2.3.6); closing the
   * Network Connection is what a server does on a packet it will not process (§4.8).
   * Hooks mqtt-packet's `_parseLength` state (mqtt-packet 9.x parser.js; pinned by a test).
   */
  private limitPacketSize(client: Client): void {
    const max = this.cfg.mqtt.limits.maxPacketSize;
    const parser = (client as unknown as { _parser?: MqttParser })._parser;
    if (!parser || typeof parser._parseLength !== 'function') {
      throw new Error('mqtt-packet parser internals changed: maxPacketSize cannot be enforced');
    }
    const parseLength = parser._parseLength.bind(parser);
    parser._parseLength = () => {
      const done = parseLength();
      if (done) {
        const rl = parser.packet.length;
        const size = 1 + (rl < 128 ? 1 : rl < 16_384 ? 2 : rl < 2_097_152 ? 3 : 4) + rl;
        if (size > max) {
          this.refusals.packet_too_large++;
          this.log.warn({ clientId: client.id, cmd: parser.packet.cmd, size, max }, 'mqtt packet too large: connection closed');
          parser._emitError(new Error(`packet of ${size} bytes exceeds mqtt.limits.maxPacketSize (${max})`));
          return false;
        }
      }
      return done;
    };
  }

  private attachWebSocket(server: HttpServer | HttpsServer, path: string): void {
    // A WebSocket frame never needs to be bigger than the biggest MQTT packet accepted.
    const wss = new WebSocketServer({ noServer: true, maxPayload: this.cfg.mqtt.limits.maxPacketSize });
    this.wss = wss;
    this.onUpgrade = (req, socket, head) => {
      let pathname: string;
      try {
        pathname = new URL(req.url ?? '/', 'http://localhost').pathname;
      } catch {
        pathname = '';
      }
      if (pathname !== path) {
        // Another upgrade handler may own this path; if we are the only one, nobody will answer.
        if (server.listenerCount('upgrade') <= 1) socket.destroy();
        return;
      }
      if (this.guard.banned(normaliseSource(req.socket.remoteAddress))) return void socket.destroy();
      if (!this.originAllowed(req.headers.origin)) {
        // RFC 6455 §4.2.2: a server that does not accept the origin answers an HTTP error.
        this.log.info({ origin: String(req.headers.origin).slice(0, 100) }, 'mqtt over websocket refused: origin not allowed');
        socket.end('HTTP/1.1 403 Forbidden\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
        return;
      }
      wss.handleUpgrade(req, socket, head, (ws: WebSocket) => {
        if (!this.broker) return void ws.terminate();
        const stream = createWebSocketStream(ws);
        stream.on('error', () => ws.terminate());
        this.handleSocket(stream, socket as Socket, req);
      });
    };
    server.on('upgrade', this.onUpgrade);
  }

  // ---- hooks ------------------------------------------------------------------------------

  private preConnect(client: Client, packet: ConnectPacket, cb: (err: Error | null, ok: boolean) => void): void {
    const broker = this.broker;
    const max = this.cfg.mqtt.limits.maxConnections;
    if (broker && broker.connectedClients + this.authenticating >= max) {
      this.counters.connectionsRefused++;
      this.refusals.connection_limit++;
      this.log.warn({ max }, 'connection refused: mqtt.limits.maxConnections reached');
      // An error here makes aedes close the socket without CONNACK.
      return cb(new Error('connection limit reached'), false);
    }
    if (packet.protocolVersion !== 3 && packet.protocolVersion !== 4) {
      // aedes answers CONNACK 1 (unacceptable protocol level) and closes [MQTT-3.1.2-2].
      this.refusals.protocol++;
      this.log.info({ clientId: packet.clientId, protocolVersion: packet.protocolVersion }, 'mqtt connect refused: protocol level');
    }
    this.connects.set(client, { emptyIdPersistent: packet.clientId === '' && !packet.clean });
    const keepalive = packet.keepalive ?? 0;
    const socket = this.rawSockets.get(client);
    if (keepalive === 0 && socket) {
      // Keep-alive turned off (§3.1.2.10): the idle limit stands in for aedes' 1.5 × keep-alive timer.
      socket.setTimeout(this.cfg.mqtt.limits.idleTimeout * 1000, () => {
        this.counters.idleClosed++;
        this.log.info({ clientId: client.id, idleTimeout: this.cfg.mqtt.limits.idleTimeout }, 'mqtt connection idle: closed');
        socket.destroy();
      });
    }
    cb(null, true);
  }

  private async authenticate(client: Client, username: string | undefined, password: Buffer | undefined): Promise<void> {
    this.authenticating++;
    try {
      await this.authenticateInner(client, username, password);
    } catch (err) {
      this.counters.authFailures++;
      this.refusals[(err as AuthenticateError).returnCode === CONNACK_IDENTIFIER_REJECTED ? 'client_id' : 'auth']++;
      this.refusalLog.note({ source: sourceOf(client), clientId: client.id, username, reason: (err as Error).message });
      throw err;
    } finally {
      this.authenticating--;
    }
  }

  private async authenticateInner(client: Client, username: string | undefined, password: Buffer | undefined): Promise<void> {
    const limits = this.cfg.mqtt.limits;
    const fresh = (identity: Identity, anonymous: boolean): ClientState => ({
      identity,
      anonymous,
      lab: anonymous && this.cfg.mqtt.labTopics.length > 0,
      bucket: new TokenBucket(limits.publishRate, limits.publishBurst, performance.now()),
      refused: 0,
      unlogged: 0,
      lastLogged: -Infinity,
    });
    if (this.connects.get(client)?.emptyIdPersistent) {
      // "If the Client supplies a zero-byte ClientId with CleanSession set to 0, the Server MUST
      // respond to the CONNECT Packet with a CONNACK return code 0x02 (Identifier rejected)" [MQTT-3.1.3-8].
      throw authError(CONNACK_IDENTIFIER_REJECTED, 'empty client id with CleanSession=0');
    }
    if (username === undefined || username === '') {
      if (!this.cfg.mqtt.allowAnonymous) throw authError(CONNACK_NOT_AUTHORIZED, 'anonymous clients are not allowed');
      this.states.set(client, fresh({ deviceId: client.id, role: 'service' }, true));
      return;
    }
    // Capped before anything is looked up, hashed or logged (auth-guard.ts).
    if (username.length > MAX_LOGIN_FIELD || (password?.length ?? 0) > MAX_LOGIN_FIELD) {
      this.guard.refuse('oversized');
      throw authError(CONNACK_BAD_CREDENTIALS, 'credentials too long');
    }
    const secret = password ? password.toString('utf8') : '';
    const source = sourceOf(client);
    let rec: DeviceRecord | null;
    try {
      rec = this.directory.getDevice(username);
    } catch (err) {
      this.log.error({ err }, 'device directory failed during mqtt authentication');
      throw authError(CONNACK_SERVER_UNAVAILABLE, 'device directory unavailable');
    }
    const digest = sha256(secret);
    const cached = rec ? this.verified.get(username) : undefined;
    // A secret that verified before costs a hash, not an scrypt, and no flood guard applies.
    let ok = rec !== null && cached !== undefined && cached.encoded === rec.secretHash && timingSafeEqual(cached.digest, digest);
    if (!ok) {
      const gate = this.guard.gate(source, username);
      if (!gate.ok) throw authError(CONNACK_SERVER_UNAVAILABLE, `login ${gate.reason}, retry in ${Math.ceil(gate.retryAfterMs / 1000)} s`);
      const known = rec !== null && isRole(rec.role) ? rec.secretHash : null;
      // Unknown devices are checked against the throwaway hash: same cost, same answer.
      const verdict = await this.guard.verify(() => verifySecret(secret, known ?? this.dummyHash));
      if (verdict === null) throw authError(CONNACK_SERVER_UNAVAILABLE, 'login busy: too many verifications waiting');
      if (!known || !verdict) {
        this.guard.failed(source, username);
        throw authError(CONNACK_BAD_CREDENTIALS, known ? 'wrong secret' : 'unknown device');
      }
      ok = true;
      this.guard.succeeded(source, username);
      // Cache only successes: a reconnecting device then costs a hash, not an scrypt.
      this.verified.set(username, { encoded: known, digest });
    }
    if (!rec || !isRole(rec.role)) throw authError(CONNACK_BAD_CREDENTIALS, 'unknown device');
    const socket = this.rawSockets.get(client);
    if (this.cfg.mqtt.tls.caFile && socket instanceof TLSSocket) {
      // Mutual TLS (mqtt.tls.caFile): the certificate the handshake verified must be this
      // device's own (CN = device id), so a stolen secret alone is not enough, nor another
      // device's certificate.
      const cn = socket.getPeerCertificate().subject?.CN;
      if (cn !== username) throw authError(CONNACK_NOT_AUTHORIZED, `client certificate is for ${JSON.stringify(cn ?? null)}, not ${username}`);
    }
    if (rec.role !== 'service' && !clientIdFits(client.id, username)) {
      // Otherwise one device could take over another's session ([MQTT-3.1.4-2]).
      throw authError(CONNACK_IDENTIFIER_REJECTED, `client id must be "${username}" or "${username}:<suffix>"`);
    }
    this.states.set(client, fresh({ deviceId: rec.deviceId, role: rec.role, station: rec.station }, false));
  }

  private authorizePublish(client: Client | null, packet: PublishPacket, cb: (err?: Error | null) => void): void {
    if (client === null) {
      // Wills of clients gone before a restart (aedes' will sweep): only device state wills.
      return cb(parseTopic(packet.topic)?.type === 'state' ? null : new Error('will not allowed'));
    }
    const st = this.states.get(client);
    if (!st) return cb(new Error('not authenticated'));
    if (packet === (client as Client & { will?: unknown }).will) {
      // The client's last will, published as it goes: ACL applies, the rate limit does not.
      return cb(this.mayPublish(st, packet.topic) && this.mayRetain(st, packet) ? null : new Error('will topic not allowed'));
    }
    const now = performance.now();
    // A client that let its bucket fill up again has stopped flooding: forgive earlier refusals.
    if (st.bucket.level(now) >= this.cfg.mqtt.limits.publishBurst) st.refused = 0;
    if (!st.bucket.take(now)) {
      this.counters.rateLimited++;
      return this.refuse(client, st, packet, cb, 'rate_limited');
    }
    if (!this.mayPublish(st, packet.topic)) {
      this.counters.aclPublish++;
      this.logAclRefusal(client, st, 'publish', packet.topic);
      this.answerDevice(st, packet, 'acl_publish');
      return this.refuse(client, st, packet, cb, 'acl_publish');
    }
    if (!this.mayRetain(st, packet)) {
      this.logAclRefusal(client, st, 'retain', packet.topic);
      return this.refuse(client, st, packet, cb, 'retain');
    }
    if (parseTopic(packet.topic)?.type === 'state' && !st.lab) {
      const checked = checkDeviceState(packet.payload as Buffer);
      if (!checked.ok) {
        this.sendDeviceError(st, packet, checked.code, checked.details);
        return this.refuse(client, st, packet, cb, 'state_invalid');
      }
    }
    this.counters.messagesIn++;
    cb(null);
  }

  private mayPublish(st: ClientState, topic: string): boolean {
    return canPublish(st.identity, topic) && (!st.lab || this.labMatches(topic));
  }

  /** Retained messages only on the contract's retained topics, or inside the lab sandbox. */
  private mayRetain(st: ClientState, packet: PublishPacket): boolean {
    return !packet.retain || isRetainedTopic(packet.topic) || (st.lab && this.labMatches(packet.topic));
  }

  private labMatches(topic: string): boolean {
    return this.cfg.mqtt.labTopics.some((f) => topicMatches(f, topic));
  }

  private labOverlaps(filter: string): boolean {
    return this.cfg.mqtt.labTopics.some((f) => filtersOverlap(f, filter));
  }

  /**
   * A device's refused publish inside its own subtree gets a coded answer on `dev/{self}/err`
   * (docs/mqtt.md §3): PKL_TOPIC_UNKNOWN for a topic outside the contract, PKL_DEVICE_ROLE_MISMATCH
   * for an event its role does not send, PKL_ACL_DENIED for topics only the gateway publishes.
   * Publishes outside the own subtree get no answer (the device has no business there).
   */
  private answerDevice(st: ClientState, packet: PublishPacket, _why: MqttRefusalReason): void {
    const { deviceId, role } = st.identity;
    if (role === 'service' || !packet.topic.startsWith(`dev/${deviceId}/`)) return;
    const parsed = parseTopic(packet.topic);
    if (parsed === null) return this.sendDeviceError(st, packet, 'PKL_TOPIC_UNKNOWN', { topic: packet.topic });
    if (parsed.type === 'event' && !ROLE_EVENTS[role].includes(parsed.kind)) {
      return this.sendDeviceError(st, packet, 'PKL_DEVICE_ROLE_MISMATCH', { deviceId, role, kind: parsed.kind });
    }
    this.sendDeviceError(st, packet, 'PKL_ACL_DENIED', { deviceId, action: 'publish', topic: packet.topic });
  }

  private sendDeviceError(st: ClientState, packet: PublishPacket, code: ErrorCode, details: ErrorDetails): void {
    const broker = this.broker;
    if (!broker || st.identity.role === 'service') return;
    const parsed = parseTopic(packet.topic);
    const wire: Record<string, unknown> = { ...toWireError(code, details) };
    if (parsed?.type === 'event') wire.kind = parsed.kind;
    const msgId = readMsgId(packet.payload as Buffer);
    if (msgId !== undefined) wire.msg_id = msgId;
    broker.publish(
      { cmd: 'publish', topic: topics.error(st.identity.deviceId), payload: Buffer.from(JSON.stringify(wire)), qos: 1, retain: false, dup: false },
      (err) => {
        if (err) this.log.warn({ err, deviceId: st.identity.deviceId }, 'could not publish error');
      },
    );
  }

  /** Logs an ACL refusal at most once per client every ACL_LOG_INTERVAL_MS, with the count in between. */
  private logAclRefusal(client: Client, st: ClientState, action: string, topic: string): void {
    const now = performance.now();
    st.unlogged++;
    if (now - st.lastLogged < ACL_LOG_INTERVAL_MS) return;
    this.log.warn({ clientId: client.id, deviceId: st.identity.deviceId, role: st.identity.role, action, topic, refused: st.unlogged }, 'mqtt refused by ACL');
    st.unlogged = 0;
    st.lastLogged = now;
  }

  private refuse(
    client: Client,
    st: ClientState,
    packet: PublishPacket,
    cb: (err?: Error | null) => void,
    why: 'acl_publish' | 'rate_limited' | 'retain' | 'state_invalid',
  ) {
    this.refusals[why]++;
    st.refused++;
    if (st.refused >= this.cfg.mqtt.limits.disconnectAfterRefused) {
      this.counters.disconnectedForFlood++;
      this.refusals.flood_disconnect++;
      this.log.warn({ clientId: client.id, deviceId: st.identity.deviceId, refused: st.refused, why }, 'disconnecting flooding client');
      st.refused = 0;
      return cb(new Error(`too many refused publishes (${why})`)); // aedes closes the connection
    }
    this.discard.add(packet);
    cb(null); // acknowledged per QoS, then dropped by the aedes.publish wrapper
  }

  /** Wraps aedes.publish so packets marked in authorizePublish are acknowledged but not routed. */
  private installDiscard(broker: Aedes): void {
    const original = broker.publish.bind(broker) as (p: PublishPacket, c: unknown, d?: unknown) => void;
    const discard = this.discard;
    (broker as unknown as { publish: (p: PublishPacket, c?: unknown, d?: unknown) => void }).publish = function publish(
      packet: PublishPacket,
      client?: unknown,
      done?: unknown,
    ) {
      if (discard.has(packet)) {
        discard.delete(packet);
        const cb = (typeof client === 'function' ? client : done) as ((e?: Error) => void) | undefined;
        return cb?.();
      }
      return original(packet, client, done);
    };
  }

  private publishGatewayState(state: 'online' | 'offline'): Promise<void> {
    const broker = this.broker;
    if (!broker) return Promise.resolve();
    const payload = Buffer.from(JSON.stringify({ state, ts: Date.now() }));
    return new Promise((resolve, reject) =>
      broker.publish({ cmd: 'publish', topic: topics.gatewayState(this.cfg.gatewayId), payload, qos: 1, retain: true, dup: false }, (err) =>
        err ? reject(err) : resolve(),
      ),
    );
  }
}

/** The parts of mqtt-packet's Parser (9.x, parser.js) the packet-size limit hooks into. */
interface MqttParser {
  packet: { cmd: string; length: number };
  _parseLength(): boolean;
  _emitError(err: Error): void;
}

function listen(server: NetServer, port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve((server.address() as AddressInfo).port);
    });
  });
}

function closeServer(server: NetServer): Promise<void> {
  return new Promise((resolve) => server.close(() => resolve()));
}
