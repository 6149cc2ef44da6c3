/**
 * Asks the cloud what the preflight needs, over its own short-lived transport of the kind the
 * sync uses (the sync's own stays busy draining the outbox and is not shared): a signed
 * cursor read as the ping (SyncClient.getCursor: URL, TLS, key and clock in one request), the
 * shop authorisations (contracts/sync.ts SYNC_PATHS.shops, signed the same way), and, for
 * HTTP clouds, the Date header (RFC 9110 §6.6.1) as a clock reference.
 */
import { readFileSync } from 'node:fs';
import { TypeCompiler } from '@sinclair/typebox/compiler';
import { SyncCallError, SyncClient } from '../../../cloud-sync/src/sync-client.js';
import type { SyncTransport } from '../../../cloud-sync/src/transport.js';
import { HttpSyncTransport } from '../../../cloud-sync/src/transports/http-transport.js';
import { MqttBridgeTransport } from '../../../cloud-sync/src/transports/mqtt-bridge-transport.js';
import {
  SYNC_HEADERS,
  SYNC_PATHS,
  SYNC_PROTOCOL_VERSION,
  type ShopAuthorisations,
  ShopAuthorisations as ShopAuthSchema,
  signRequest,
} from '../../../contracts/sync.js';
import type { Config } from '../config/schema.js';
import { loadSyncKey } from '../sync/sync-service.js';

const checkShops = TypeCompiler.Compile(ShopAuthSchema);

export type PingResult = { ok: true; latencyMs: number; ackedSeq: number } | { ok: false; latencyMs: number; error: string; answered: boolean };
export type ShopsResult = { ok: true; reply: ShopAuthorisations; rttMs: number; at: number } | { ok: false; error: string };

export interface CloudAnswers {
  ping: PingResult;
  shops: ShopsResult;
  /** Local minus cloud clock from the HTTP Date header (1 s resolution), or null. */
  dateHeaderOffsetMs: number | null;
}

export interface CloudProbeOptions {
  config: Readonly<Config>;
  /** Per request; default min(sync.timeoutMs, 10 s): a preflight should not hang for 30 s. */
  timeoutMs?: number;
  now?: () => number;
}

export async function probeCloud(opts: CloudProbeOptions): Promise<CloudAnswers | null> {
  const { config } = opts;
  const url = config.sync.url;
  if (url === undefined) return null;
  const now = opts.now ?? Date.now;
  const timeoutMs = opts.timeoutMs ?? Math.min(config.sync.timeoutMs, 10_000);
  let key: string;
  try {
    key = loadSyncKey(config.sync.keyFile);
  } catch (err) {
    const error = (err as Error).message;
    return { ping: { ok: false, latencyMs: 0, error, answered: false }, shops: { ok: false, error }, dateHeaderOffsetMs: null };
  }
  const transport = buildProbeTransport(config);
  try {
    await transport.start();
    const client = new SyncClient({ transport, gatewayId: config.gatewayId, key, timeoutMs, now });
    const t0 = performance.now();
    let ping: PingResult;
    try {
      const ackedSeq = await client.getCursor();
      ping = { ok: true, latencyMs: performance.now() - t0, ackedSeq };
    } catch (err) {
      const answered = err instanceof SyncCallError && err.answered;
      ping = { ok: false, latencyMs: performance.now() - t0, error: (err as Error).message, answered };
    }
    const shops =
      ping.ok || ping.answered ? await fetchShops(transport, config.gatewayId, key, timeoutMs, now) : { ok: false as const, error: 'cloud unreachable' };
    const dateHeaderOffsetMs = /^https?:/.test(url) && ping.ok ? await dateHeaderOffset(url, timeoutMs, now) : null;
    return { ping, shops, dateHeaderOffsetMs };
  } finally {
    await transport.stop().catch(() => undefined);
  }
}

function buildProbeTransport(config: Readonly<Config>): SyncTransport {
  const cfg = config.sync;
  const url = cfg.url as string;
  const ca = cfg.caFile !== undefined ? readFileSync(cfg.caFile) : undefined;
  if (url.startsWith('mqtt')) {
    return new MqttBridgeTransport({
      url,
      gatewayId: config.gatewayId,
      // Its own client id: the sync's bridge connection must not be taken over (MQTT 3.1.1 §3.1.4).
      clientId: `packline-preflight-${config.gatewayId}`,
      ...(cfg.mqttUsername !== undefined ? { username: cfg.mqttUsername } : {}),
      ...(cfg.mqttPassword !== undefined ? { password: cfg.mqttPassword } : {}),
      ...(ca !== undefined ? { ca } : {}),
    });
  }
  return new HttpSyncTransport({ baseUrl: url, ...(ca !== undefined ? { ca } : {}) });
}

/** Signed GET of the shop authorisations, exactly as SyncClient signs its cursor read. */
async function fetchShops(transport: SyncTransport, gatewayId: string, key: string, timeoutMs: number, now: () => number): Promise<ShopsResult> {
  const path = SYNC_PATHS.shops(gatewayId);
  const timestamp = now();
  const headers: Record<string, string> = {
    [SYNC_HEADERS.gateway]: gatewayId,
    [SYNC_HEADERS.timestamp]: String(timestamp),
    [SYNC_HEADERS.signature]: signRequest(key, { method: 'GET', path, gatewayId, timestamp, body: new Uint8Array(0) }),
    [SYNC_HEADERS.version]: String(SYNC_PROTOCOL_VERSION),
    accept: 'application/json',
  };
  const t0 = performance.now();
  try {
    const res = await transport.request({ method: 'GET', path, headers, body: null }, timeoutMs);
    const rttMs = performance.now() - t0;
    if (res.status === 404) return { ok: false, error: 'the cloud does not publish shop authorisations (404)' };
    if (res.status < 200 || res.status >= 300) return { ok: false, error: `the cloud answered ${res.status}` };
    if (!checkShops.Check(res.body)) return { ok: false, error: "the cloud's shop list does not match the sync contract" };
    return { ok: true, reply: res.body, rttMs, at: now() };
  } catch (err) {
    return { ok: false, error: (err as Error).message };
  }
}

/** Local minus cloud time from the Date header of a HEAD to the base URL, or null. */
async function dateHeaderOffset(url: string, timeoutMs: number, now: () => number): Promise<number | null> {
  try {
    const t0 = now();
    const res = await fetch(url, { method: 'HEAD', signal: AbortSignal.timeout(timeoutMs) });
    const t1 = now();
    const date = res.headers.get('date');
    if (date === null) return null;
    const cloud = Date.parse(date);
    if (!Number.isFinite(cloud)) return null;
    // The header is whole seconds, truncated: add half a second, and compare with the midpoint.
    return Math.round((t0 + t1) / 2 - (cloud + 500));
  } catch {
    return null;
  }
}
