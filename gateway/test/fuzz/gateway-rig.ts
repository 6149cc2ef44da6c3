/**
 * A real gateway in this process for the fuzz targets that need one: the composition root
 * (gateway.ts) with its embedded broker on an ephemeral port, SQLite store in a throwaway
 * directory, two packing stations, a PDA and a DWS line, orders imported through the HTTP API,
 * and a logger whose warnings and errors the targets read (an error logged while fuzzing is
 * a failure: every refusal is supposed to be coded and answered, not logged as a bug).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Aedes } from 'aedes';
import type { FastifyInstance } from 'fastify';
import { parsePlaintextConfig } from '../support/plaintext.js';
import type { EmbeddedBroker } from '../../src/broker/embedded-broker.js';
import { Gateway, type GatewayInfo } from '../../src/gateway.js';
import { createLogger } from '../../src/lib/logger.js';
import { floorConfig, importOrders, wireOrder } from '../support/floor.js';

export interface GatewayRig {
  gateway: Gateway;
  info: GatewayInfo;
  /** The running aedes instance (server-side publishes take the same path as a device's). */
  aedes: Aedes;
  broker: EmbeddedBroker;
  /** The HTTP app, for inject(). */
  app: FastifyInstance;
  secrets: Record<string, string>;
  /** Order barcodes and item barcodes of the imported orders. */
  orderCodes: string[];
  itemCodes: string[];
  /** Error-level log lines (and fatal) since the last `takeErrors()`. */
  takeErrors(): string[];
  dataDir: string;
  close(): Promise<void>;
}

export const ORDER_COUNT = 300;

export interface RigOptions {
  /** Extra top-level config (merged over the floor config). */
  extra?: Record<string, unknown>;
}

export async function startGatewayRig(options: RigOptions = {}): Promise<GatewayRig> {
  const dataDir = mkdtempSync(join(tmpdir(), 'pkl-fuzz-gw-'));
  const raw = floorConfig(
    dataDir,
    { stations: 2, lines: 1, verifyItems: 'multi_item' },
    {
      log: { level: 'warn' },
      // Fuzzing publishes far above a device's real rate; the rate limit has its own tests.
      mqtt: { host: '127.0.0.1', port: 0, limits: { publishRate: 1_000_000, publishBurst: 1_000_000, disconnectAfterRefused: 1_000_000 } },
      storage: { minFreeMb: 0, commitWindowMs: 2 },
      ...options.extra,
    },
  );
  (raw.devices as Array<Record<string, string>>).push({ id: 'pda-1', role: 'pda', station: 'st-1' });
  const errors: string[] = [];
  const logger = createLogger('warn', {
    write(line: string) {
      const m = /"level":(\d+)/.exec(line);
      if (m && Number(m[1]) >= 50 && errors.length < 1000) errors.push(line);
    },
  });
  const gateway = new Gateway(parsePlaintextConfig(raw), logger);
  await gateway.start();
  const info = gateway.info();
  // The composition root keeps these private; the fuzz targets drive them directly.
  const internals = gateway as unknown as { broker: EmbeddedBroker; app: FastifyInstance };
  const orders = Array.from({ length: ORDER_COUNT }, (_, i) =>
    wireOrder(`O-${1000 + i}`, {
      flags: i % 10 === 3 ? { refunded: true } : i % 10 === 7 ? { cancelled: true } : {},
      ...(i % 3 === 0 ? { items: [{ sku: 'SKU-C', barcode: '6900000000011', qty: 1, unit_grams: 400 }] } : {}),
    }),
  );
  const res = await importOrders(info.httpUrl, info.tokens.admin, orders);
  if (res.status !== 200) throw new Error(`order import answered ${res.status}: ${await res.text()}`);
  return {
    gateway,
    info,
    broker: internals.broker,
    aedes: internals.broker.aedes,
    app: internals.app,
    secrets: Object.fromEntries(info.issued.map((s) => [s.deviceId, s.secret])),
    orderCodes: orders.map((o) => (o.barcodes as string[])[0] as string),
    itemCodes: ['6901234567892', '6909876543210', '6900000000011'],
    takeErrors: () => errors.splice(0),
    dataDir,
    async close() {
      await gateway.stop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
