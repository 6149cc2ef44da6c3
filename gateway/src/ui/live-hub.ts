/**
 * `/ui/live`: the WebSocket the station screens and the wall dashboard draw from.
 *
 * It rides the gateway's HTTP server like the MQTT-over-WebSocket bridge (which owns
 * `mqtt.wsPath`): one more 'upgrade' listener that answers only its own path. What it pushes
 * comes from the broker: the retained `station/{id}/view` snapshots the stations publish,
 * `dev/+/state` and presence for the device grid, `gateway/{gw}/link` for the cloud link.
 *
 * Auth (docs/decisions/0008-ui-stack.md): a browser cannot set an Authorization header on a
 * WebSocket, so the first message must be `{"type":"hello","token":…}` with an API token
 * (admin or station, checked like the HTTP API's bearer tokens); nothing is sent before it,
 * and a socket that does not say hello within {@link HELLO_TIMEOUT_MS} is closed. The token
 * thus never appears in a URL (logs, history) and there is no cookie to ride a cross-site
 * request.
 *
 * Messages, server → page (JSON):
 *   {type:'welcome', role, station, gateway_id}  station: the one the token is limited to, or null
 *   {type:'view', view: StationView}                   station pages, on every change
 *   {type:'devices', devices: DeviceHealth[]}          station pages: the station's devices
 *   {type:'link', link: GatewayLinkState}              station pages: the cloud link
 *   {type:'dashboard', data: DashboardSnapshot}        dashboard pages, at most once a second
 *   {type:'tick', ts}                                   every 10 s, so a page can tell a dead socket
 *   {type:'error', error: WireError}                   then close (4401 bad token, 4403 another station than the
 *                                                       token's, 4404 unknown station, 4400 bad hello)
 */
import type { IncomingMessage, Server as HttpServer } from 'node:http';
import type { Server as HttpsServer } from 'node:https';
import type { Duplex } from 'node:stream';
import { type WebSocket, WebSocketServer } from 'ws';
import { toWireError } from '../../../contracts/errors.js';
import type { GatewayLinkState, StationView } from '../../../contracts/payloads.js';
import { parseTopic, topics } from '../../../contracts/topics.js';
import type { BrokerLink } from '../broker/link.js';
import type { Config } from '../config/schema.js';
import { makeGrantChecker, type Role } from '../http/auth.js';
import type { Grant } from '../runtime/api-tokens.js';
import type { ApiTokens } from '../runtime/api-tokens.js';
import type { StationService } from '../station/ports.js';
import type { Logger } from '../lib/logger.js';
import type { DashboardData } from './dashboard-data.js';
import type { DeviceBoard } from './device-board.js';
import { timeJob } from '../lib/loop-jobs.js';

export const LIVE_PATH = '/ui/live';
const HELLO_TIMEOUT_MS = 5_000;
const TICK_MS = 10_000;
/** The dashboard is recomputed at most this often, and at least every DASHBOARD_IDLE_MS. */
const DASHBOARD_MIN_MS = 1_000;
const DASHBOARD_IDLE_MS = 5_000;
/** Pages only ever send a hello; anything bigger is not one. */
const MAX_CLIENT_MESSAGE = 4 * 1024;
/** Screens on a site: a few dozen. The cap keeps a runaway kiosk from eating the Pi. */
const MAX_CLIENTS = 200;
/** A page that does not read its socket is dropped rather than buffered without end. */
const MAX_BUFFERED = 1024 * 1024;

interface Client {
  ws: WebSocket;
  role: Role | null;
  station: string | null;
  dashboard: boolean;
  lastDevices: string;
}

export interface LiveHubDeps {
  config: Readonly<Config>;
  tokens: ApiTokens;
  stations: Pick<StationService, 'view' | 'list'>;
  dashboard: Pick<DashboardData, 'snapshot'>;
  devices: DeviceBoard;
  sync: { linkState(): GatewayLinkState };
  logger: Logger;
}

export class LiveHub {
  readonly name = 'ui-live';
  private readonly clients = new Set<Client>();
  private readonly grantOf: (token: string) => Grant | null;
  private wss: WebSocketServer | null = null;
  private server: HttpServer | HttpsServer | null = null;
  private onUpgrade: ((req: IncomingMessage, socket: Duplex, head: Buffer) => void) | null = null;
  private timers: NodeJS.Timeout[] = [];
  private dashboardDirty = true;
  private lastDashboardAt = 0;
  private lastDashboard = '';
  private link: GatewayLinkState | null = null;

  constructor(private readonly deps: LiveHubDeps) {
    this.grantOf = makeGrantChecker(deps.tokens);
  }

  /** Takes `/ui/live` upgrades on the gateway's HTTP server (before it listens). */
  attach(server: HttpServer | HttpsServer): void {
    if (this.wss !== null) return;
    const wss = new WebSocketServer({ noServer: true, maxPayload: MAX_CLIENT_MESSAGE });
    this.wss = wss;
    this.server = server;
    const mqttPath = this.deps.config.mqtt.external === undefined ? this.deps.config.mqtt.wsPath : null;
    this.onUpgrade = (req, socket, head) => {
      let pathname = '';
      try {
        pathname = new URL(req.url ?? '/', 'http://localhost').pathname;
      } catch {
        // a malformed URL is nobody's
      }
      if (pathname !== LIVE_PATH) {
        // The MQTT bridge answers its own path; anything else nobody answers.
        if (pathname !== mqttPath || server.listenerCount('upgrade') <= 1) socket.destroy();
        return;
      }
      if (!sameOrigin(req) || this.clients.size >= MAX_CLIENTS) {
        socket.write('HTTP/1.1 403 Forbidden\r\nConnection: close\r\n\r\n');
        socket.destroy();
        return;
      }
      wss.handleUpgrade(req, socket, head, (ws) => this.accept(ws));
    };
    server.on('upgrade', this.onUpgrade);
  }

  /** Subscribes to the broker (after it started) and starts the timers. */
  async start(link: BrokerLink): Promise<void> {
    await link.subscribe(topics.stationView('+'), (msg) => {
      const parsed = parseTopic(msg.topic);
      if (parsed?.type !== 'stationView') return;
      const view = parseJson<StationView>(msg.payload);
      if (view === null) return;
      this.dashboardDirty = true;
      this.broadcast((c) => c.station === parsed.stationId, { type: 'view', view });
    });
    await link.subscribe(topics.allDeviceStates, (msg) => {
      const parsed = parseTopic(msg.topic);
      if (parsed?.type !== 'state') return;
      const body = parseJson<{ state?: unknown; reason?: unknown }>(msg.payload);
      if (typeof body?.state !== 'string') return;
      if (this.deps.devices.update(parsed.deviceId, body.state, typeof body.reason === 'string' ? body.reason : null)) this.devicesChanged();
    });
    link.onPresence(() => this.devicesChanged());
    await link.subscribe(topics.gatewayLink(this.deps.config.gatewayId), (msg) => {
      const state = parseJson<GatewayLinkState>(msg.payload);
      if (state === null) return;
      this.link = state;
      this.dashboardDirty = true;
      this.broadcast((c) => c.station !== null, { type: 'link', link: state });
    });
    this.timers.push(
      setInterval(() => timeJob('ui:tick', () => this.broadcast((c) => c.role !== null, { type: 'tick', ts: Date.now() })), TICK_MS),
      setInterval(() => timeJob('ui:dashboard-push', () => this.pushDashboard(false)), DASHBOARD_MIN_MS),
    );
    for (const t of this.timers) t.unref();
  }

  async stop(): Promise<void> {
    for (const t of this.timers) clearInterval(t);
    this.timers = [];
    if (this.server !== null && this.onUpgrade !== null) this.server.off('upgrade', this.onUpgrade);
    this.onUpgrade = null;
    for (const c of this.clients) c.ws.terminate();
    this.clients.clear();
    const wss = this.wss;
    this.wss = null;
    if (wss !== null) await new Promise<void>((resolve) => wss.close(() => resolve()));
  }

  /** Connected pages (for tests and the metrics). */
  clientCount(): number {
    return this.clients.size;
  }

  private accept(ws: WebSocket): void {
    const client: Client = { ws, role: null, station: null, dashboard: false, lastDevices: '' };
    this.clients.add(client);
    const helloTimer = setTimeout(() => ws.close(4400, 'no hello'), HELLO_TIMEOUT_MS);
    helloTimer.unref();
    ws.on('close', () => {
      clearTimeout(helloTimer);
      this.clients.delete(client);
    });
    ws.on('error', () => ws.terminate());
    ws.on('message', (data, isBinary) => {
      if (client.role !== null || isBinary) return; // only the hello is read
      clearTimeout(helloTimer);
      this.hello(client, parseJson<Record<string, unknown>>(Buffer.from(data as Buffer)));
    });
  }

  private hello(client: Client, msg: Record<string, unknown> | null): void {
    const { ws } = client;
    if (msg?.['type'] !== 'hello' || typeof msg['token'] !== 'string') {
      this.refuse(client, 4400, toWireError('PKL_PAYLOAD_INVALID', { field: 'hello', reason: 'the first message must be {"type":"hello","token":…}' }));
      return;
    }
    const grant = this.grantOf(msg['token']);
    if (grant === null) {
      this.refuse(client, 4401, toWireError('PKL_UNAUTHORIZED'));
      return;
    }
    const role = grant.role;
    // A station token (packline token add --station) watches its own station only; a hello
    // without a station gets the token's (the station screen opened as /ui/station).
    const asked = typeof msg['station'] === 'string' ? msg['station'] : null;
    if (grant.station !== null && asked !== null && asked !== grant.station) {
      this.refuse(client, 4403, toWireError('PKL_TOKEN_STATION_SCOPE', { tokenStation: grant.station, reason: `station ${asked} is not this token's` }));
      return;
    }
    const station = asked ?? (msg['dashboard'] === true ? null : grant.station);
    const view = station === null ? null : this.deps.stations.view(station);
    if (station !== null && view === null) {
      this.refuse(client, 4404, toWireError('PKL_STATION_UNKNOWN', { stationId: station }));
      return;
    }
    client.role = role;
    client.station = station;
    client.dashboard = msg['dashboard'] === true;
    this.deps.logger.debug({ role, station, dashboard: client.dashboard }, 'live page connected');
    send(ws, { type: 'welcome', role, station: grant.station, gateway_id: this.deps.config.gatewayId });
    if (view !== null) {
      send(ws, { type: 'view', view });
      send(ws, { type: 'link', link: this.link ?? this.deps.sync.linkState() });
      this.sendDevices(client, true);
    }
    if (client.dashboard) {
      try {
        const data = this.deps.dashboard.snapshot();
        send(ws, { type: 'dashboard', data });
      } catch (err) {
        this.deps.logger.warn({ err: (err as Error).message }, 'dashboard snapshot failed');
      }
    }
  }

  private refuse(client: Client, code: number, error: ReturnType<typeof toWireError>): void {
    send(client.ws, { type: 'error', error });
    client.ws.close(code, error.code);
  }

  private devicesChanged(): void {
    this.dashboardDirty = true;
    for (const c of this.clients) if (c.station !== null) this.sendDevices(c, false);
  }

  private sendDevices(client: Client, force: boolean): void {
    const st = this.deps.config.stations.find((s) => s.id === client.station);
    if (st === undefined) return;
    const ids = [st.scanner, st.scale, st.printer, ...(st.display === undefined ? [] : [st.display])];
    const devices = ids.map((id) => this.deps.devices.get(id));
    const json = JSON.stringify(devices);
    if (!force && json === client.lastDevices) return;
    client.lastDevices = json;
    send(client.ws, { type: 'devices', devices });
  }

  private pushDashboard(force: boolean): void {
    let any = false;
    for (const c of this.clients) if (c.dashboard && c.role !== null) any = true;
    if (!any) return;
    const now = Date.now();
    if (!force && !this.dashboardDirty && now - this.lastDashboardAt < DASHBOARD_IDLE_MS) return;
    this.dashboardDirty = false;
    this.lastDashboardAt = now;
    let data;
    try {
      data = this.deps.dashboard.snapshot();
    } catch (err) {
      this.deps.logger.warn({ err: (err as Error).message }, 'dashboard snapshot failed');
      return;
    }
    // generated_at always moves; compare the rest so an idle floor sends nothing new.
    const key = JSON.stringify({ ...data, generated_at: 0 });
    if (key === this.lastDashboard && now - this.lastDashboardAt < DASHBOARD_IDLE_MS) return;
    this.lastDashboard = key;
    this.broadcast((c) => c.dashboard, { type: 'dashboard', data });
  }

  private broadcast(to: (c: Client) => boolean, msg: unknown): void {
    let json: string | null = null;
    for (const c of this.clients) {
      if (c.role === null || !to(c)) continue;
      json ??= JSON.stringify(msg);
      sendRaw(c.ws, json);
    }
  }
}

function parseJson<T>(payload: Buffer): T | null {
  try {
    const v = JSON.parse(payload.toString('utf8')) as unknown;
    return v !== null && typeof v === 'object' ? (v as T) : null;
  } catch {
    return null;
  }
}

function send(ws: WebSocket, msg: unknown): void {
  sendRaw(ws, JSON.stringify(msg));
}

function sendRaw(ws: WebSocket, json: string): void {
  if (ws.readyState !== ws.OPEN) return;
  if (ws.bufferedAmount > MAX_BUFFERED) {
    ws.terminate();
    return;
  }
  ws.send(json);
}

/**
 * Browsers always send Origin on a WebSocket handshake; a page of another site must not open
 * one to the gateway (cross-site WebSocket hijacking). Non-browser clients send none.
 */
function sameOrigin(req: IncomingMessage): boolean {
  const origin = req.headers.origin;
  if (origin === undefined) return true;
  try {
    return new URL(origin).host === req.headers.host;
  } catch {
    return false;
  }
}
