/**
 * The screens the gateway serves itself (docs/ui.md): the station screen, the wall dashboard and
 * the preflight page, their files, the `/ui/live` WebSocket and GET /api/v1/dashboard. Nothing
 * comes from a CDN: a station keeps its screen with the WAN down. docs/ui.md says what each page
 * shows; docs/decisions/0008-ui-stack.md why it is built this way.
 *
 * Lifecycle: `register(app)` before the HTTP server listens (routes, the WebSocket upgrade
 * listener), `start(link)` once the broker is up (live data), `stop()` before the server closes.
 */
import type { FastifyInstance, FastifyReply } from 'fastify';
import { PacklineError } from '../../../contracts/errors.js';
import type { GatewayLinkState } from '../../../contracts/payloads.js';
import { ID_PATTERN } from '../../../contracts/topics.js';
import type { BrokerLink } from '../broker/link.js';
import type { Config } from '../config/schema.js';
import type { ApiTokens } from '../runtime/api-tokens.js';
import type { StationService } from '../station/ports.js';
import { bearer, errorResponses } from '../http/schemas/common.js';
import type { Logger } from '../lib/logger.js';
import type { Store } from '../storage/types.js';
import { DashboardData } from './dashboard-data.js';
import { DeviceBoard } from './device-board.js';
import { LiveHub } from './live-hub.js';
import { StaticAssets } from './static-assets.js';

/**
 * Self only: no inline script or style (the pages have none), no framing, no other origin.
 * `connect-src 'self'` covers the page's own ws:// origin (CSP Level 3 §6.7.2.8), which
 * Chromium and Firefox implement.
 */
export const UI_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "font-src 'self'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

export interface UiDeps {
  config: Readonly<Config>;
  store: Store;
  stations: StationService;
  sync: { linkState(): GatewayLinkState };
  tokens: ApiTokens;
  /** Whether a device is connected to the broker now (late-bound: the broker starts after the app). */
  isOnline(deviceId: string): boolean;
  logger: Logger;
  /** Where the screens' files are (default: gateway/ui found from this module). */
  assetsDir?: string;
}

const PAGES = ['station', 'dashboard', 'preflight'] as const;
type Page = (typeof PAGES)[number];
const idPattern = new RegExp(ID_PATTERN);

function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

export class UiService {
  readonly name = 'ui';
  readonly devices: DeviceBoard;
  readonly dashboard: DashboardData;
  readonly live: LiveHub;
  readonly assets: StaticAssets;

  constructor(private readonly deps: UiDeps) {
    this.assets = new StaticAssets(deps.assetsDir);
    this.devices = new DeviceBoard(deps.config, deps.isOnline);
    this.dashboard = new DashboardData({
      config: deps.config,
      store: deps.store,
      stations: deps.stations,
      sync: deps.sync,
      devices: this.devices,
      logger: deps.logger,
    });
    this.live = new LiveHub({
      config: deps.config,
      tokens: deps.tokens,
      stations: deps.stations,
      dashboard: this.dashboard,
      devices: this.devices,
      sync: deps.sync,
      logger: deps.logger,
    });
  }

  /** Routes and the WebSocket upgrade listener; call before the app listens. */
  async register(app: FastifyInstance): Promise<void> {
    const { config } = this.deps;
    const hide = { hide: true } as const;

    app.get('/', { schema: hide }, async (_req, reply) => reply.redirect('/ui/dashboard'));
    app.get('/ui', { schema: hide }, async (_req, reply) => reply.redirect('/ui/'));
    app.get('/ui/', { schema: hide }, async (_req, reply) => this.sendIndex(reply));
    app.get('/ui/dashboard', { schema: hide }, async (_req, reply) => this.sendPage(reply, 'dashboard', {}));
    app.get('/ui/preflight', { schema: hide }, async (_req, reply) => this.sendPage(reply, 'preflight', {}));
    // The station comes from the screen's token (a token of `packline token add --station`).
    app.get('/ui/station', { schema: hide }, async (_req, reply) => this.sendPage(reply, 'station', {}));
    app.get<{ Params: { stationId: string } }>('/ui/station/:stationId', { schema: hide }, async (req, reply) => {
      const { stationId } = req.params;
      if (!idPattern.test(stationId) || !config.stations.some((s) => s.id === stationId)) {
        return this.sendIndex(reply.code(404), stationId);
      }
      return this.sendPage(reply, 'station', { STATION: stationId });
    });
    app.get<{ Params: { hash: string; '*': string } }>('/ui/static/:hash/*', { schema: hide }, async (req, reply) => {
      const asset = this.assets.files.get(req.params['*']);
      if (asset === undefined || asset.type.startsWith('text/html')) throw new PacklineError('PKL_NOT_FOUND', { what: `ui file ${req.params['*']}` });
      // A page of an older build asks with its hash: answer with today's file, but do not let it stick.
      const current = req.params.hash === this.assets.hash;
      void reply
        .header('content-type', asset.type)
        .header('etag', asset.etag)
        .header('x-content-type-options', 'nosniff')
        .header('cache-control', current ? 'public, max-age=31536000, immutable' : 'no-cache');
      if (req.headers['if-none-match'] === asset.etag) return reply.code(304).send();
      return reply.send(asset.body);
    });

    app.get(
      '/api/v1/dashboard',
      {
        config: { auth: 'read', station: 'any' },
        schema: {
          tags: ['dashboard'],
          summary: 'The wall dashboard figures: parcels per hour per station and line, devices, sync link, waybill coverage, exception queue',
          description: 'Same data as the dashboard page; see docs/http.md "Dashboard".',
          security: bearer,
          response: { ...errorResponses },
        },
      },
      async () => this.dashboard.snapshot(),
    );

    this.live.attach(app.server);
  }

  /** Live data from the broker; the rolling counts catch up from the event log. */
  async start(link?: BrokerLink): Promise<void> {
    await this.dashboard.start();
    if (link !== undefined) await this.live.start(link);
  }

  async stop(): Promise<void> {
    await this.live.stop();
    await this.dashboard.stop();
  }

  private headers(reply: FastifyReply): FastifyReply {
    return reply
      .header('content-type', 'text/html; charset=utf-8')
      .header('content-security-policy', UI_CSP)
      .header('x-content-type-options', 'nosniff')
      .header('referrer-policy', 'no-referrer')
      .header('cache-control', 'no-cache');
  }

  private sendPage(reply: FastifyReply, page: Page, vars: Record<string, string>): FastifyReply {
    const shell = this.assets.files.get(`${page}.html`);
    if (shell === undefined) throw new PacklineError('PKL_NOT_FOUND', { what: `ui page ${page}` });
    const all: Record<string, string> = { ASSETS: this.assets.prefix, GATEWAY: this.deps.config.gatewayId, STATION: '', ...vars };
    const html = shell.body.toString('utf8').replace(/\{\{(\w+)\}\}/g, (whole, key: string) => (key in all ? escapeHtml(all[key] ?? '') : whole));
    return this.headers(reply).send(html);
  }

  /** A plain list of the pages (no script): where a kiosk is pointed when set up. */
  private sendIndex(reply: FastifyReply, unknown?: string): FastifyReply {
    const { config } = this.deps;
    const li = (href: string, text: string) => `<li><a href="${escapeHtml(href)}">${escapeHtml(text)}</a></li>`;
    const html = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Packline ${escapeHtml(config.gatewayId)}</title><link rel="icon" href="data:,"><link rel="stylesheet" href="${this.assets.prefix}/ui.css"></head>
<body class="index"><main>
<h1>Packline · ${escapeHtml(config.gatewayId)}</h1>
${unknown === undefined ? '' : `<p class="bad">No station "${escapeHtml(unknown)}" on this gateway.</p>`}
<h2>Screens</h2><ul>${li('/ui/dashboard', 'Wall dashboard / 看板')}${li('/ui/preflight', 'Preflight / 高峰前检查')}</ul>
<h2>Stations / 工位</h2><ul>${config.stations.map((s) => li(`/ui/station/${s.id}`, s.id)).join('')}</ul>
</main></body></html>`;
    return this.headers(reply).send(html);
  }
}
