/**
 * The HTTP API app factory (docs/http.md). It builds and returns the fastify instance but
 * never listens: the composition root calls `listen`. The node server can be made first
 * (`createHttpServer`) and handed in through fastify's `serverFactory`, so the MQTT-over-
 * WebSocket bridge attaches its 'upgrade' listener to the same server before the app exists
 * (no route here claims `/mqtt`).
 */
import { readFileSync } from 'node:fs';
import { createServer as createPlainServer, type IncomingMessage, type Server as HttpServer, type ServerResponse } from 'node:http';
import { createServer as createTlsServer, type Server as HttpsServer } from 'node:https';
import fastifySwagger from '@fastify/swagger';
import fastifySwaggerUi from '@fastify/swagger-ui';
import { Ajv } from 'ajv';
import Fastify, { type FastifyInstance, LogController } from 'fastify';
import { PacklineError } from '../../../contracts/errors.js';
import { LoginGuard } from '../broker/auth-guard.js';
import { HTTP_LOGIN_GUARD, makeAuthHook, type StationScopeLookup } from './auth.js';
import { makeRequestGuard } from './request-guard.js';
import type { HttpDeps } from './deps.js';
import { errorHandler, notFoundHandler, sendAnswer, toAnswer } from './errors.js';
import { registerEventRoutes } from './routes/events.js';
import { registerHealthRoutes } from './routes/health.js';
import { registerOrderRoutes } from './routes/orders.js';
import { ReprintGuard } from '../printing/reprint-guard.js';
import { registerPrintingRoutes } from './routes/printing.js';
import { registerPrintPreviewRoutes } from './routes/print-preview.js';
import { registerShipmentRoutes } from './routes/shipments.js';
import { registerStationRoutes } from './routes/stations.js';
import { registerBatchRoutes } from './routes/batches.js';
import { registerProvisioningRoutes } from './routes/provisioning.js';
import { registerSyncRoutes } from './routes/sync.js';
import { registerTokenRoutes } from './routes/token.js';
import type { App, TypeBoxProvider } from './type-provider.js';

/** Default request body limit: every body except order import is a few hundred bytes. */
export const DEFAULT_BODY_LIMIT = 64 * 1024;

/**
 * Two validators. Bodies are JSON and must already have the right types: "qty": "2" is a
 * client bug we report, not guess at. Query strings and path params are text by nature, so
 * `?limit=20` is coerced to a number. Neither removes unknown fields: they are refused.
 */
function makeValidatorCompiler() {
  const common = { allErrors: false, useDefaults: true, removeAdditional: false, strict: false } as const;
  const bodyAjv = new Ajv({ ...common, coerceTypes: false });
  const textAjv = new Ajv({ ...common, coerceTypes: true });
  return ({ schema, httpPart }: { schema: object; httpPart?: string }) => (httpPart === 'body' ? bodyAjv : textAjv).compile(schema);
}

/** fastify's `https` option from `http.tls`; unreadable files are a configuration error. */
function httpsOptions(tls: { certFile?: string | undefined; keyFile?: string | undefined }): { https?: { cert: Buffer; key: Buffer; minVersion: 'TLSv1.2' } } {
  if (tls.certFile === undefined || tls.keyFile === undefined) return {};
  const read = (file: string) => {
    try {
      return readFileSync(file);
    } catch (err) {
      throw new PacklineError('PKL_CONFIG_INVALID', { reason: `http.tls: cannot read ${file}: ${(err as Error).message}` });
    }
  };
  return { https: { cert: read(tls.certFile), key: read(tls.keyFile), minVersion: 'TLSv1.2' } };
}

/** fastify's own defaults for the server it would have made (keep-alive 72 s, no request timeout). */
const KEEP_ALIVE_MS = 72_000;

/**
 * The API's node server: HTTPS when http.tls names a certificate and key (the loader checks
 * they come together), so MQTT over WebSocket on the same server is then WSS.
 */
export function createHttpServer(tls: { certFile?: string | undefined; keyFile?: string | undefined }): HttpServer | HttpsServer {
  const https = httpsOptions(tls).https;
  const server = https === undefined ? createPlainServer() : createTlsServer(https);
  server.keepAliveTimeout = KEEP_ALIVE_MS;
  server.requestTimeout = 0;
  server.setTimeout(0);
  return server;
}

/** Routes owned by another component (the screens, preflight), mounted here with all the others. */
export interface RouteMount {
  readonly name: string;
  register(app: FastifyInstance): Promise<void> | void;
}

/**
 * Builds the app with every route of the gateway registered in one place (below): the API's
 * own route modules, then the mounts of other components. Each /api route declares its auth
 * level or the build fails (the onRoute hook).
 */
export async function buildHttpApp(deps: HttpDeps, server?: HttpServer | HttpsServer, mounts: readonly RouteMount[] = []): Promise<FastifyInstance> {
  // One login-flood guard for API tokens and supervisor passwords (broker/auth-guard.ts).
  const loginGuard = deps.loginGuard ?? new LoginGuard(HTTP_LOGIN_GUARD);
  deps.metrics.collectFrom(() => deps.metrics.setLoginGuard('http', loginGuard.stats()));
  // Which station a shipment, order or print job belongs to, for station tokens (auth.ts).
  const scopeLookup: StationScopeLookup = {
    shipmentStation: (id) => deps.store.getShipment(id)?.stationId ?? null,
    orderAtStation: (orderId, stationId) => deps.store.listShipments({ orderId, stationId, limit: 1 }).length > 0,
    jobStation: (id) => {
      const shipmentId = deps.store.getPrintJob(id)?.shipmentId ?? null;
      return shipmentId === null ? null : (deps.store.getShipment(shipmentId)?.stationId ?? null);
    },
  };
  // Throws PKL_CONFIG_INVALID on weak tokens.
  const authorise = makeAuthHook(deps.tokens, loginGuard, scopeLookup, (err) => {
    deps.logger.warn({ err: err instanceof Error ? err.message : String(err) }, 'cannot read the API tokens file; issued tokens as last read');
  });
  const app = Fastify({
    // A server made by the composition root (shared with MQTT over WebSocket), else fastify's
    // own, HTTPS when http.tls is set.
    ...(server === undefined
      ? httpsOptions(deps.config.http.tls)
      : {
          serverFactory: (handler: (req: IncomingMessage, res: ServerResponse) => void) => {
            server.on('request', handler);
            return server as HttpServer;
          },
        }),
    loggerInstance: deps.logger,
    // Each request is logged once, at debug, by the onResponse hook below (a Pi's SD card
    // should not take two info lines per Prometheus scrape).
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: DEFAULT_BODY_LIMIT,
    // Errors fastify finds before routing (bad URL encoding, bad Content-Type header…).
    frameworkErrors: (err, request, reply) => sendAnswer(reply, toAnswer(err, request)),
  }).withTypeProvider<TypeBoxProvider>() as unknown as App;

  app.setValidatorCompiler(makeValidatorCompiler());
  // Every body is JSON. Without this, a text/plain body would reach validation as a string
  // and be refused as "body must be array"; removed, it is refused for its media type.
  app.removeContentTypeParser('text/plain');
  app.setErrorHandler(errorHandler);
  app.setNotFoundHandler(notFoundHandler);
  // Closed by default: an /api route that states no auth level refuses to register, so the
  // gateway does not start with a forgotten one (public routes say `auth: 'none'`).
  app.addHook('onRoute', (route) => {
    const auth = (route.config as { auth?: unknown } | undefined)?.auth;
    if (route.url.startsWith('/api') && auth === undefined) {
      throw new PacklineError('PKL_CONFIG_INVALID', { reason: `route ${route.method} ${route.url} declares no auth level (config.auth)` });
    }
  });
  // Host and Origin before anything else; security headers on every answer (request-guard.ts).
  const requestGuard = makeRequestGuard(deps.config.http.allowedHosts);
  app.addHook('onRequest', requestGuard.onRequest);
  app.addHook('onSend', requestGuard.onSend);
  app.addHook('onRequest', authorise);
  app.addHook('onResponse', async (request, reply) => {
    const route = request.routeOptions.url ?? 'unmatched';
    deps.metrics.httpRequest(request.method, route, reply.statusCode);
    request.log.debug({ method: request.method, url: request.url, status: reply.statusCode, ms: Math.round(reply.elapsedTime) }, 'http request');
  });

  await app.register(fastifySwagger, {
    openapi: {
      openapi: '3.0.3',
      info: {
        title: 'Packline gateway API',
        description: 'Edge gateway HTTP API: orders, stations, shipments, event log, health. See docs/http.md.',
        version: deps.version,
      },
      components: {
        securitySchemes: { bearerAuth: { type: 'http', scheme: 'bearer', description: 'admin or station token' } },
      },
      tags: [
        { name: 'health', description: 'liveness, readiness, metrics (no token)' },
        { name: 'orders' },
        { name: 'stations' },
        { name: 'shipments' },
        { name: 'events' },
      ],
    },
  });
  // The UI's assets ship inside @fastify/swagger-ui and are served from disk: it works on a
  // warehouse LAN with no internet. The CSP keeps the page to its own origin; the plugin's
  // default also says `upgrade-insecure-requests`, which would make browsers fetch the
  // assets over https from a gateway that serves plain http on the LAN, so it is dropped.
  await app.register(fastifySwaggerUi, {
    routePrefix: '/docs',
    staticCSP: true,
    transformStaticCSP: (header) =>
      header
        .replace(/\s*upgrade-insecure-requests;?/, '')
        .replaceAll(' https:', '')
        .replace(' validator.swagger.io', ''),
  });

  registerHealthRoutes(app, deps);
  registerOrderRoutes(app, deps);
  // One supervisor-password guard for every guarded action (reprint, release of a hold at the
  // station): its failure counts and lockouts must outlive a request and span both routes,
  // or a brute force would simply alternate between them.
  const supervisorGuard = new ReprintGuard({
    maxFailures: deps.config.printing.reprint.maxFailures,
    windowMs: deps.config.printing.reprint.windowMs,
    passwordHash: (name) => deps.store.getSupervisor(name)?.secretHash ?? null,
    login: loginGuard,
    // Lockouts survive a restart: one meta row per supervisor and station (`supervisor.lock.*`).
    locks: {
      load: (key) => {
        const v = Number(deps.store.getMeta(`supervisor.lock.${key}`) ?? 0);
        return v > 0 ? v : null;
      },
      save: (key, until) => {
        deps.store.write([{ op: 'meta.put', key: `supervisor.lock.${key}`, value: String(until ?? 0) }]).catch((err: unknown) => {
          deps.logger.warn({ err, key }, 'could not persist a supervisor lockout');
        });
      },
    },
  });
  registerStationRoutes(app, deps, supervisorGuard);
  registerProvisioningRoutes(app, deps);
  registerShipmentRoutes(app, deps);
  registerEventRoutes(app, deps);
  registerSyncRoutes(app, deps);
  registerPrintingRoutes(app, deps, supervisorGuard);
  registerPrintPreviewRoutes(app, deps);
  registerTokenRoutes(app);
  if (deps.batches) registerBatchRoutes(app, deps.batches);
  for (const mount of mounts) await mount.register(app as unknown as FastifyInstance);

  return app as unknown as FastifyInstance;
}
