/**
 * A gateway wired to the reference cloud (simulators/src/cloud/reference) over real HTTP,
 * with the helpers the cloud-sync tests share: orders created in the cloud (they reach the
 * gateway through the change feed), stations driven over MQTT, "wait until drained", and the
 * sync checker.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { checkSync } from '../../../simulators/src/cloud/reference/checker.js';
import { ReferenceCloud } from '../../../simulators/src/cloud/reference/reference-cloud.js';
import { DB_FILE } from '../../src/storage/sqlite-store.js';
import { floorConfig, wireOrder, wireOrderGrams } from './floor.js';

export const GATEWAY_ID = 'gw-test';
export const SYNC_KEY = 'k3y-for-tests-0123456789abcdef';

/** Sync settings that make retries and pulls fast enough for a test. */
export function fastSync(url: string, keyFile: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    url,
    keyFile,
    timeoutMs: 2_000,
    batch: { maxEvents: 200, lingerMs: 20 },
    backoff: { baseMs: 20, maxMs: 300, failureThreshold: 3 },
    inbound: { pollMs: 150, pageSize: 200 },
    ...extra,
  };
}

export interface Rig {
  dir: string;
  keyFile: string;
  cloud: ReferenceCloud;
  /** Raw gateway config (validated by the gateway) with sync pointed at the cloud. */
  config(stations: number, extra?: Record<string, unknown>): Record<string, unknown>;
  gatewayDb(): string;
  /** Creates orders in the cloud (they reach the gateway through the change feed). */
  addOrders(ids: string[]): Promise<void>;
  admin(method: string, path: string, body?: unknown): Promise<{ status: number; body: any }>;
  check(): ReturnType<typeof checkSync>;
  close(): Promise<void>;
}

export async function startRig(): Promise<Rig> {
  const dir = mkdtempSync(join(tmpdir(), 'pkl-sync-'));
  const keyFile = join(dir, 'sync.key');
  writeFileSync(keyFile, `${SYNC_KEY}\n`, { mode: 0o600 });
  const debug = process.env['SYNC_TEST_LOG'] === 'debug';
  const say = (level: string) => (obj: object, msg?: string) => debug && console.log(`[cloud ${level}] ${msg ?? ''} ${JSON.stringify(obj)}`);
  const cloud = new ReferenceCloud({
    dbPath: join(dir, 'cloud.db'),
    gateways: { [GATEWAY_ID]: SYNC_KEY },
    seed: 7,
    ...(debug ? { logger: { debug: say('debug'), info: say('info'), warn: say('warn'), error: say('error') } } : {}),
  });
  await cloud.start();
  const dataDir = join(dir, 'gw');
  const admin = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(`${cloud.url}${path}`, {
      method,
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await res.text();
    return { status: res.status, body: text.length > 0 ? (JSON.parse(text) as unknown) : null };
  };
  return {
    dir,
    keyFile,
    cloud,
    config: (stations, extra = {}) => floorConfig(dataDir, { stations, lines: 0, verifyItems: 'never' }, { sync: fastSync(cloud.url, keyFile), ...extra }),
    gatewayDb: () => join(dataDir, DB_FILE),
    addOrders: async (ids) => {
      const r = await admin(
        'POST',
        '/admin/orders',
        ids.map((id) => wireOrder(id)),
      );
      if (r.status !== 200) throw new Error(`cloud refused orders: ${JSON.stringify(r.body)}`);
    },
    admin,
    check: () => checkSync({ gatewayDbPath: join(dataDir, DB_FILE), cloud: cloud.db, gatewayId: GATEWAY_ID }),
    close: async () => {
      await cloud.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** What the station driver needs to ship one of these orders (items are not verified). */
export function shippable(orderId: string): { orderId: string; items: string[]; grams: number } {
  return { orderId, items: [], grams: wireOrderGrams(wireOrder(orderId)) };
}

/** Polls `fn` until it returns a truthy value (a safety net, not a speed assertion). */
export async function until<T>(what: string, fn: () => T | Promise<T>, timeoutMs = 30_000): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  let last: T | undefined;
  for (;;) {
    last = await fn();
    if (last) return last as NonNullable<T>;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what} (last: ${JSON.stringify(last)})`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

export async function syncStatus(httpUrl: string, token: string): Promise<any> {
  const res = await fetch(`${httpUrl}/api/v1/sync`, { headers: { authorization: `Bearer ${token}` } });
  return res.json();
}

/** Waits until the cloud has acknowledged every event the gateway has written. */
export async function drained(httpUrl: string, token: string, timeoutMs = 60_000): Promise<any> {
  return until(
    'the outbox to drain',
    async () => {
      const s = await syncStatus(httpUrl, token);
      return s.link.backlog === 0 && s.link.acked_seq > 0 ? s : null;
    },
    timeoutMs,
  );
}
