/**
 * Nothing acknowledged is ever lost: a gateway child process under load from four stations
 * is killed with SIGKILL at a random moment, restarted on the same data directory, and
 * checked — every shipment whose print result was acknowledged is `shipped`, every
 * acknowledged seq is in the log, the event sequence has no gaps, and SQLite's
 * integrity check passes. Three kill/restart cycles.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { adminGet, allSeqs, type ChildGateway, startChildGateway } from '../support/child-gateway.js';
import { floorConfig, importOrders, wireOrder, wireOrderGrams } from '../support/floor.js';
import { type AckedShipment, startStationDriver } from '../support/station-driver.js';

const STATIONS = 4;
const CYCLES = 3;
const dir = mkdtempSync(join(tmpdir(), 'pkl-crash-'));
const configFile = join(dir, 'packline.json');
let child: ChildGateway | null = null;

afterAll(async () => {
  child?.proc.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

describe('SIGKILL under load', () => {
  it(`loses nothing acknowledged over ${CYCLES} kill/restart cycles`, async () => {
    writeFileSync(configFile, JSON.stringify(floorConfig(join(dir, 'data'), { stations: STATIONS, lines: 0 })));
    const dataDir = join(dir, 'data');
    const orders = Array.from({ length: 3000 }, (_, i) =>
      wireOrder(`O-${String(i).padStart(5, '0')}`, {
        items: [{ sku: `SKU-${i % 7}`, barcode: `69000000${String(i % 7).padStart(5, '0')}`, qty: 1, unit_grams: 300 }],
      }),
    );
    let nextOrder = 0;
    const acked: AckedShipment[] = [];
    const ackedSeqs: number[] = [];

    child = await startChildGateway(configFile, dataDir);
    expect((await importOrders(child.httpUrl, child.tokens.admin, orders)).status).toBe(200);

    for (let cycle = 0; cycle < CYCLES; cycle++) {
      const g: ChildGateway = child;
      const drivers = await Promise.all(
        Array.from({ length: STATIONS }, (_, i) =>
          startStationDriver({
            mqttUrl: g.mqttUrl,
            secrets: g.secrets,
            station: i + 1,
            runTag: `c${cycle}`,
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
      // Let load build up, then pull the plug at a random moment.
      await new Promise((r) => setTimeout(r, 800 + Math.random() * 1700));
      g.proc.kill('SIGKILL');
      const exit = await g.exited;
      expect(exit.signal).toBe('SIGKILL');
      await Promise.all(drivers.map((d) => d.stop()));
      await Promise.all(drivers.map((d) => d.done));
      for (const d of drivers) {
        acked.push(...d.acked);
        ackedSeqs.push(...d.ackedSeqs);
      }
      expect(acked.length).toBeGreaterThan(0);

      child = await startChildGateway(configFile, dataDir);
      const seqs = await allSeqs(child);
      expect(seqs).toEqual(seqs.map((_, i) => i + 1)); // gap-free from 1
      const have = new Set(seqs);
      expect(ackedSeqs.filter((s) => !have.has(s))).toEqual([]);
      for (const a of acked) {
        const s = await adminGet<{ state: string; label_job_id: string | null }>(child, `/api/v1/shipments/${a.shipmentId}`);
        expect(s.state, `${a.shipmentId} of ${a.orderId}`).toBe('shipped');
      }
    }

    child.proc.kill('SIGTERM');
    expect((await child.exited).code).toBe(0);
    child = null;
    const db = new Database(join(dataDir, 'packline.db'), { readonly: true });
    expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
    const shippedTwice = db.prepare("SELECT order_id, COUNT(*) n FROM shipments WHERE state = 'shipped' GROUP BY order_id HAVING n > 1").all();
    expect(shippedTwice).toEqual([]);
    db.close();
  });
});
