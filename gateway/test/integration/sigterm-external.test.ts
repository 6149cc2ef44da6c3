/**
 * Graceful shutdown in external-broker mode (the gateway is a service client of Debian's
 * mosquitto): under load from stations whose devices stay connected to that broker, SIGTERM
 * must end the process on its own — closing the sockets and the store is not enough if a
 * handle (a timer, a half-closed socket, a client's reconnect) keeps Node's event loop alive.
 * The gateway logs the handles still open when it had to force the exit after a clean stop
 * (start-command.ts); that warning fails this test too, so a leaked handle cannot hide
 * behind the fallback. After a restart every acknowledged step is in the log.
 *
 * mosquitto missing: skipped with the reason on a developer machine, a FAILED test under
 * CI=true (CI installs it).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { allSeqs, type ChildGateway, startChildGateway } from '../support/child-gateway.js';
import { floorConfig, importOrders, wireOrder, wireOrderGrams } from '../support/floor.js';
import { MOSQUITTO, type Mosquitto, mosquitto } from '../support/mosquitto.js';
import { startStationDriver } from '../support/station-driver.js';
import { skipWithout } from '../../../test-peers/peers.js';

const STATIONS = 6;
const skip = skipWithout(import.meta.url, 'mosquitto');
const dir = mkdtempSync(join(tmpdir(), 'pkl-sigterm-ext-'));
let child: ChildGateway | null = null;
let broker: Mosquitto | null = null;

afterAll(async () => {
  child?.proc.kill('SIGKILL');
  await broker?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe.skipIf(skip)(`SIGTERM in external-broker mode under load${skip ? ` (skipped: ${MOSQUITTO} is missing; apt-get install mosquitto)` : ''}`, () => {
  it('exits on its own, without forcing, and loses nothing acknowledged', async () => {
    broker = await mosquitto(dir);
    await broker.start();
    const dataDir = join(dir, 'data');
    const configFile = join(dir, 'packline.json');
    const cfg = floorConfig(dataDir, { stations: STATIONS, lines: 0 }, { log: { level: 'warn' } });
    cfg.mqtt = { host: '127.0.0.1', port: 0, external: { url: broker.url } };
    writeFileSync(configFile, JSON.stringify(cfg));
    const orders = Array.from({ length: 4000 }, (_, i) =>
      wireOrder(`X-${String(i).padStart(5, '0')}`, {
        items: [{ sku: `SKU-${i % 5}`, barcode: `69100000${String(i % 5).padStart(5, '0')}`, qty: 1, unit_grams: 250 }],
      }),
    );
    let nextOrder = 0;

    const g = await startChildGateway(configFile, dataDir);
    child = g;
    expect((await importOrders(g.httpUrl, g.tokens.admin, orders)).status).toBe(200);
    const drivers = await Promise.all(
      Array.from({ length: STATIONS }, (_, i) =>
        startStationDriver({
          mqttUrl: broker!.url,
          secrets: g.secrets,
          station: i + 1,
          runTag: 'sigterm-ext',
          timeoutMs: 5000,
          nextOrder: () => {
            const o = orders[nextOrder++];
            if (o === undefined) return null;
            return { orderId: String(o.order_id), items: (o.lines as Array<{ barcode: string }>).map((l) => l.barcode), grams: wireOrderGrams(o) };
          },
        }),
      ),
    );
    // Load running: wait for some acknowledged shipments, then the signal at a random moment.
    while (drivers.reduce((n, d) => n + d.acked.length, 0) < 10) await new Promise((r) => setTimeout(r, 50));
    await new Promise((r) => setTimeout(r, Math.random() * 1000));
    g.proc.kill('SIGTERM');
    // No wall-clock limit here: a gateway that never exits fails by the test's timeout.
    const exit = await g.exited;
    expect(exit, g.output().slice(-3000)).toEqual({ code: 0, signal: null });
    expect(g.output(), 'the stop had to force the exit: a handle leaked').not.toMatch(/PKL_SHUTDOWN_FORCED|still open after stop/);
    await Promise.all(drivers.map((d) => d.stop()));
    await Promise.all(drivers.map((d) => d.done));
    const ackedSeqs = drivers.flatMap((d) => d.ackedSeqs);
    expect(ackedSeqs.length).toBeGreaterThan(0);

    // Restarted on the same data directory and broker: every acknowledged seq is there.
    child = await startChildGateway(configFile, dataDir);
    const have = new Set(await allSeqs(child));
    expect(ackedSeqs.filter((s) => !have.has(s))).toEqual([]);
    child.proc.kill('SIGTERM');
    expect(await child.exited).toEqual({ code: 0, signal: null });
    child = null;
  }, 240_000);
});
