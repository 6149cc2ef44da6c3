/**
 * Cloud sync over the MQTT bridge (fleets behind one cloud broker): gateway → Debian's
 * mosquitto → a bridge next to the cloud (simulators/src/cloud/mqtt-bridge-server.ts) → the
 * reference cloud over HTTP. The same signed requests, end to end; the checker must pass,
 * also after the broker went away and came back.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { skipWithout } from '../../../test-peers/peers.js';
import { MqttBridgeServer } from '../../../simulators/src/cloud/mqtt-bridge-server.js';
import { parsePlaintextConfig } from '../support/plaintext.js';
import { Gateway, type GatewayInfo } from '../../src/gateway.js';
import { createLogger } from '../../src/lib/logger.js';
import { type Mosquitto, mosquitto } from '../support/mosquitto.js';
import { startStationDriver } from '../support/station-driver.js';
import { drained, fastSync, type Rig, shippable, startRig, syncStatus, until } from '../support/sync-rig.js';

let rig: Rig;
let broker: Mosquitto;
let bridge: MqttBridgeServer;
let gateway: Gateway;
let info: GatewayInfo;
let secrets: Record<string, string>;

const noMosquitto = skipWithout(import.meta.url, 'mosquitto');

beforeAll(async () => {
  if (noMosquitto) return;
  rig = await startRig();
  broker = await mosquitto(rig.dir);
  await broker.start();
  // The bridge turns each MQTT request into the HTTP call the cloud order system serves.
  bridge = new MqttBridgeServer({
    url: broker.url,
    gatewayIds: '+',
    reconnectPeriodMs: 100,
    handle: async (req) => {
      const res = await fetch(`${rig.cloud.url}${req.path}`, {
        method: req.method,
        headers: req.headers,
        ...(req.body === null ? {} : { body: req.body }),
      });
      return { status: res.status, body: Buffer.from(await res.arrayBuffer()) };
    },
  });
  await bridge.start();
  const raw = rig.config(1, { sync: fastSync(broker.url, rig.keyFile) });
  gateway = new Gateway(parsePlaintextConfig(raw), createLogger('silent'));
  await gateway.start();
  info = gateway.info();
  secrets = Object.fromEntries(info.issued.map((i) => [i.deviceId, i.secret]));
});

afterAll(async () => {
  await gateway?.stop();
  await bridge?.stop();
  await broker?.stop();
  await rig?.close();
});

async function ship(ids: string[]): Promise<void> {
  const queue = ids.map(shippable);
  const driver = await startStationDriver({ mqttUrl: info.mqttUrl!, secrets, station: 1, runTag: ids[0]!, nextOrder: () => queue.shift() ?? null });
  await driver.done;
  await driver.stop();
  expect(driver.acked).toHaveLength(ids.length);
}

it.skipIf(noMosquitto)('pulls orders and delivers events through the cloud broker, exactly once', async () => {
  await rig.addOrders(['M-1', 'M-2', 'M-3']);
  await until(
    'orders pulled over MQTT',
    async () => (await fetch(`${info.httpUrl}/api/v1/orders/M-3`, { headers: { authorization: `Bearer ${info.tokens.admin}` } })).status === 200,
  );
  await ship(['M-1', 'M-2', 'M-3']);
  const s = await drained(info.httpUrl, info.tokens.admin);
  expect(s.link).toMatchObject({ state: 'online', transport: 'mqtt' });
  const r = rig.check();
  expect(r.problems).toEqual([]);
  expect(r.stats.cloudEvents).toBeGreaterThan(10);
});

it.skipIf(noMosquitto)('keeps shipping while the cloud broker is gone, then catches up', async () => {
  await rig.addOrders(['M-4', 'M-5']);
  await until(
    'orders pulled',
    async () => (await fetch(`${info.httpUrl}/api/v1/orders/M-5`, { headers: { authorization: `Bearer ${info.tokens.admin}` } })).status === 200,
  );
  await broker.stop();
  await ship(['M-4', 'M-5']);
  const down = await until('the link to go offline', async () => {
    const st = await syncStatus(info.httpUrl, info.tokens.admin);
    return st.link.state === 'offline' ? st : null;
  });
  expect(down.link.backlog).toBeGreaterThan(0);
  await broker.start();
  await drained(info.httpUrl, info.tokens.admin);
  expect(rig.check().problems).toEqual([]);
});
