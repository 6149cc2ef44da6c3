/**
 * Graceful shutdown as systemd does it (docs/packline.service: KillSignal=SIGTERM): a gateway
 * child process under load from four stations gets SIGTERM at a random moment. It must stop
 * taking new events, finish what is in flight (commits, acks, print jobs already dispatched,
 * the outbox batch in flight) and exit 0 (well within TimeoutStopSec). After a restart on the same data
 * directory every acknowledged seq is in the log and every shipment whose print result was
 * acknowledged is `shipped`; the store passes SQLite's integrity check.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { ReferenceCloud } from '../../../simulators/src/cloud/reference/reference-cloud.js';
import { adminGet, allSeqs, type ChildGateway, startChildGateway } from '../support/child-gateway.js';
import { floorConfig, importOrders, wireOrder, wireOrderGrams } from '../support/floor.js';
import { type AckedShipment, startStationDriver } from '../support/station-driver.js';

const STATIONS = 4;
const KEY = 'sigterm-test-key-0123456789abcdef';
const dir = mkdtempSync(join(tmpdir(), 'pkl-sigterm-'));
const configFile = join(dir, 'packline.json');
let child: ChildGateway | null = null;
let cloud: ReferenceCloud | null = null;

afterAll(async () => {
  child?.proc.kill('SIGKILL');
  await cloud?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('SIGTERM under load', () => {
  it('finishes in-flight work, exits 0 and loses nothing acknowledged', async () => {
    // A cloud, so an outbox batch may be in flight when the signal comes.
    cloud = new ReferenceCloud({ dbPath: join(dir, 'cloud.db'), gateways: { 'gw-test': KEY } });
    await cloud.start();
    cloud.faults.replace({ latencyMs: 50 });
    writeFileSync(join(dir, 'sync.key'), KEY, { mode: 0o600 });
    const dataDir = join(dir, 'data');
    writeFileSync(
      configFile,
      JSON.stringify(
        floorConfig(dataDir, { stations: STATIONS, lines: 0 }, { sync: { url: cloud.url, keyFile: join(dir, 'sync.key'), batch: { lingerMs: 0 } } }),
      ),
    );
    const orders = Array.from({ length: 3000 }, (_, i) =>
      wireOrder(`O-${String(i).padStart(5, '0')}`, {
        items: [{ sku: `SKU-${i % 7}`, barcode: `69000000${String(i % 7).padStart(5, '0')}`, qty: 1, unit_grams: 300 }],
      }),
    );
    let nextOrder = 0;

    const g = await startChildGateway(configFile, dataDir);
    child = g;
    expect((await importOrders(g.httpUrl, g.tokens.admin, orders)).status).toBe(200);
    const drivers = await Promise.all(
      Array.from({ length: STATIONS }, (_, i) =>
        startStationDriver({
          mqttUrl: g.mqttUrl,
          secrets: g.secrets,
          station: i + 1,
          runTag: 'sigterm',
          timeoutMs: 5000,
          nextOrder: () => {
            const o = orders[nextOrder++];
            if (o === undefined) return null;
            const items = (o.lines as Array<{ barcode: string }>).map((l) => l.barcode);
            return { orderId: String(o.order_id), items, grams: wireOrderGrams(o) };
          },
        }),
      ),
    );
    await new Promise((r) => setTimeout(r, 1000 + Math.random() * 1500));
    g.proc.kill('SIGTERM');
    const exit = await g.exited;
    expect(exit, g.output().slice(-3000)).toEqual({ code: 0, signal: null });
    await Promise.all(drivers.map((d) => d.stop()));
    await Promise.all(drivers.map((d) => d.done));
    const acked: AckedShipment[] = drivers.flatMap((d) => d.acked);
    const ackedSeqs = drivers.flatMap((d) => d.ackedSeqs);
    expect(acked.length).toBeGreaterThan(0);

    child = await startChildGateway(configFile, dataDir);
    const seqs = await allSeqs(child);
    expect(seqs).toEqual(seqs.map((_, i) => i + 1));
    const have = new Set(seqs);
    expect(ackedSeqs.filter((s) => !have.has(s))).toEqual([]);
    for (const a of acked) {
      const s = await adminGet<{ state: string }>(child, `/api/v1/shipments/${a.shipmentId}`);
      expect(s.state, `${a.shipmentId} of ${a.orderId}`).toBe('shipped');
    }
    // What the cloud acknowledged before the stop is still acknowledged (the cursor never goes back).
    const status = await adminGet<{ link: { acked_seq: number } }>(child, '/api/v1/sync');
    expect(status.link.acked_seq).toBeLessThanOrEqual(seqs.length);

    child.proc.kill('SIGTERM');
    expect((await child.exited).code).toBe(0);
    child = null;
    const db = new Database(join(dataDir, 'packline.db'), { readonly: true });
    expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
    db.close();
  }, 240_000);
});
