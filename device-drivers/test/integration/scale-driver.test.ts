/**
 * The real ScaleDriver against the scale simulator over real transports (a pty pair
 * with the serialport binding, and TCP on 127.0.0.1) and a throwaway aedes broker.
 */
import net from 'node:net';
import { Aedes } from 'aedes';
import mqtt, { type MqttClient } from 'mqtt';
import { afterEach, describe, expect, it } from 'vitest';
import { ScaleSimulator, type ScaleSimulatorOptions } from '../../../simulators/src/scale/scale-simulator.js';
import { PtyPair } from '../../../simulators/src/scale/pty-pair.js';
import { findScaleDefinition } from '../../src/scale/index.js';
import { ScaleDriver, type ScaleDriverOptions } from '../../src/scale/driver.js';
import type { ScaleDefinition } from '../../src/scale/types.js';
import { SerialTransport } from '../../src/transports/serial.js';
import { TcpTransport } from '../../src/transports/tcp.js';

interface Msg {
  topic: string;
  body: Record<string, unknown>;
  retain: boolean;
}

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.reverse()) await c().catch(() => undefined);
  cleanups.length = 0;
});

async function startBroker(): Promise<string> {
  const broker = await Aedes.createBroker();
  const server = net.createServer(broker.handle);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  cleanups.push(async () => {
    await new Promise<void>((r) => server.close(() => r()));
    await new Promise<void>((r) => broker.close(() => r()));
  });
  return `mqtt://127.0.0.1:${(server.address() as net.AddressInfo).port}`;
}

/** A service-like observer: records everything under dev/{id}/ and can send commands. */
async function watch(url: string, deviceId: string): Promise<{ client: MqttClient; msgs: Msg[] }> {
  const client = await mqtt.connectAsync(url, { clientId: `watcher-${deviceId}`, protocolVersion: 4 });
  const msgs: Msg[] = [];
  client.on('message', (topic, payload, packet) => {
    let body: Record<string, unknown>;
    try {
      body = JSON.parse(payload.toString()) as Record<string, unknown>;
    } catch {
      body = { unparsed: payload.toString() }; // our own bad command, echoed back to the watcher
    }
    msgs.push({ topic, body, retain: packet.retain });
  });
  await client.subscribeAsync(`dev/${deviceId}/#`, { qos: 1 });
  cleanups.push(() => client.endAsync());
  return { client, msgs };
}

/** The retained state a newcomer sees. */
async function retainedState(url: string, deviceId: string): Promise<Record<string, unknown>> {
  const c = await mqtt.connectAsync(url, { clientId: `probe-${deviceId}-${Math.random()}`, protocolVersion: 4 });
  try {
    const got = new Promise<Record<string, unknown>>((r) => c.on('message', (_t, p) => r(JSON.parse(p.toString()) as Record<string, unknown>)));
    await c.subscribeAsync(`dev/${deviceId}/state`, { qos: 1 });
    return await got;
  } finally {
    await c.endAsync();
  }
}

const weights = (msgs: Msg[], id: string) => msgs.filter((m) => m.topic === `dev/${id}/evt/weight`).map((m) => m.body as { grams: number; stable: boolean });
const states = (msgs: Msg[], id: string) => msgs.filter((m) => m.topic === `dev/${id}/state`).map((m) => m.body as { state: string; reason?: string });
const lastState = (msgs: Msg[], id: string) => states(msgs, id).at(-1);
const poll = { timeout: 10_000, interval: 20 };

function def(id: string): ScaleDefinition {
  const d = findScaleDefinition(id);
  if (!d) throw new Error(`no definition ${id}`);
  return d;
}

async function startSim(o: ScaleSimulatorOptions): Promise<ScaleSimulator> {
  const sim = new ScaleSimulator({ streamIntervalMs: 40, ...o });
  await sim.start();
  cleanups.push(() => sim.stop());
  return sim;
}

async function startDriver(
  o: Omit<ScaleDriverOptions, 'mqtt' | 'backoff' | 'silenceMs'> & { url: string; deviceId: string; silenceMs?: number },
): Promise<ScaleDriver> {
  const driver = new ScaleDriver({
    silenceMs: 1_000,
    // Shorter than silenceMs: an answer cut off by the simulator (no CR LF) is asked again before
    // the silence check can fire (equal values made the MT-SICS case a race, ~1 run in 2 failed).
    replyTimeoutMs: 300,
    pollIntervalMs: 40,
    backoff: { initialMs: 50, maxMs: 400 },
    weightGate: { heartbeatMs: 1_000, minIntervalMs: 100 },
    ...o,
    mqtt: { url: o.url, deviceId: o.deviceId, secret: 'unused-by-the-test-broker' },
  });
  await driver.start();
  cleanups.push(() => driver.stop());
  return driver;
}

async function ptyPair(): Promise<PtyPair> {
  const pair = new PtyPair();
  await pair.start();
  cleanups.push(() => pair.dispose());
  return pair;
}

const serial = (pair: PtyPair, d: ScaleDefinition) => () => new SerialTransport({ path: pair.driverPath, line: d.serial! });

describe('ScaleDriver over a pty pair', () => {
  it('MT-SICS (polled): stable grams, rate-limited, survives garbage, zero reaches the scale, unplug/replug', async () => {
    const url = await startBroker();
    const id = 'scale-sics';
    const d = def('mettler-toledo-mt-sics');
    const pair = await ptyPair();
    const sim = await startSim({ protocol: 'mt-sics', link: { kind: 'serial', path: pair.devicePath, line: d.serial! }, loadGrams: 1234 });
    const { client, msgs } = await watch(url, id);
    // Heartbeat far away so the rate-limit check below does not depend on the machine's speed;
    // silence limit 3 s, not 1 s: the pty pair is joined on this process's event loop, shared
    // with the driver and the simulator, and a loaded 2-core machine can hold all three for 1 s.
    const driver = await startDriver({
      url,
      deviceId: id,
      definition: d,
      transport: serial(pair, d),
      weightGate: { heartbeatMs: 60_000, minIntervalMs: 100 },
      silenceMs: 3_000,
    });

    await expect.poll(() => weights(msgs, id).some((w) => w.grams === 1234 && w.stable), poll).toBe(true);
    expect(lastState(msgs, id)).toMatchObject({ state: 'online' });
    expect(sim.requests.some((r) => 'command' in r && r.command === 'weighNow')).toBe(true);

    // Rate limit: a steady load is polled many times but published only on change + heartbeat.
    const framesBefore = driver.stats().framesDecoded;
    const eventsBefore = weights(msgs, id).length;
    await expect.poll(() => driver.stats().framesDecoded - framesBefore, poll).toBeGreaterThanOrEqual(20);
    expect(weights(msgs, id).length - eventsBefore).toBeLessThanOrEqual(1);

    // Garbage and cut-off answers are dropped with coded errors; the next good one is published.
    sim.setFaults({ garbageEvery: 3, truncateEvery: 4 });
    sim.setLoad(2500);
    await expect.poll(() => weights(msgs, id).some((w) => w.grams === 2500 && w.stable), poll).toBe(true);
    await expect.poll(() => driver.stats().frameErrors['PKL_FRAME_INVALID'] ?? 0, poll).toBeGreaterThan(0);
    sim.setFaults({});
    expect(lastState(msgs, id)).toMatchObject({ state: 'online' });

    // Zero: the command reaches the scale as MT-SICS `Z`, and the reading drops to 0.
    await client.publishAsync(`dev/${id}/cmd/zero`, '{}', { qos: 1 });
    await expect.poll(() => sim.requests.some((r) => 'command' in r && r.command === 'zero'), poll).toBe(true);
    await expect.poll(() => weights(msgs, id).at(-1), poll).toEqual(expect.objectContaining({ grams: 0, stable: true }));

    // A bad command payload is refused with a code and changes nothing.
    const tares = () => sim.requests.filter((r) => 'command' in r && r.command === 'tare').length;
    await client.publishAsync(`dev/${id}/cmd/tare`, 'not json', { qos: 1 });
    await expect.poll(() => states(msgs, id).some((s) => s.reason?.startsWith('PKL_PAYLOAD_NOT_JSON')), poll).toBe(true);
    expect(tares()).toBe(0);

    // Unplug: pty pair closed → retained offline; replug → online and weighing again.
    await pair.stop();
    await expect.poll(() => lastState(msgs, id)?.state, poll).toBe('offline');
    expect(await retainedState(url, id)).toMatchObject({ state: 'offline' });
    sim.setLoad(2500 + 1000); // the scale was zeroed at 2500 g
    await pair.start();
    await expect.poll(() => lastState(msgs, id)?.state, poll).toBe('online');
    await expect.poll(() => weights(msgs, id).some((w) => w.grams === 1000 && w.stable), poll).toBe(true);
    expect(await retainedState(url, id)).toMatchObject({ state: 'online' });
    expect(driver.stats().portOpens).toBeGreaterThanOrEqual(2);
  });

  it('Toledo continuous (streaming): stable grams, motion flag, no zero command, silence → error', async () => {
    const url = await startBroker();
    const id = 'scale-toledo';
    const d = def('mettler-toledo-continuous');
    const pair = await ptyPair();
    const sim = await startSim({
      protocol: 'toledo-continuous',
      options: d.options,
      link: { kind: 'serial', path: pair.devicePath, line: d.serial! },
      loadGrams: 15_250,
    });
    const { client, msgs } = await watch(url, id);
    const driver = await startDriver({ url, deviceId: id, definition: d, transport: serial(pair, d) });
    expect(driver.polled).toBe(false);

    await expect.poll(() => weights(msgs, id).some((w) => w.grams === 15_250 && w.stable), poll).toBe(true);

    // In motion: readings go out unstable; then it settles on the new load.
    sim.setFaults({ unstable: true });
    const n = weights(msgs, id).length;
    await expect
      .poll(
        () =>
          weights(msgs, id)
            .slice(n)
            .filter((w) => !w.stable).length,
        poll,
      )
      .toBeGreaterThanOrEqual(2);
    sim.setFaults({ garbageEvery: 2, truncateEvery: 3 });
    sim.setLoad(900);
    await expect.poll(() => weights(msgs, id).some((w) => w.grams === 900 && w.stable), poll).toBe(true);
    await expect.poll(() => driver.stats().frameErrors['PKL_FRAME_INVALID'] ?? 0, poll).toBeGreaterThan(0);
    sim.setFaults({});

    // Streaming protocol has no zero: coded refusal, nothing sent to the scale.
    await client.publishAsync(`dev/${id}/cmd/zero`, '{}', { qos: 1 });
    await expect.poll(() => states(msgs, id).some((s) => s.reason?.startsWith('PKL_SCALE_COMMAND_UNSUPPORTED')), poll).toBe(true);
    expect(sim.requests).toEqual([]);

    // Indicator goes quiet with the port still open → error with the reason; frames again → online.
    sim.setFaults({ silent: true });
    await expect.poll(() => lastState(msgs, id), poll).toEqual(expect.objectContaining({ state: 'error', reason: 'no frames for 1 s' }));
    sim.setFaults({});
    await expect.poll(() => lastState(msgs, id)?.state, poll).toBe('online');
  });

  it('Yaohua A9 (no stable flag): stability inferred from equal readings, drift stays unstable', async () => {
    const url = await startBroker();
    const id = 'scale-yaohua';
    const d = def('yaohua-xk3190-a9');
    const pair = await ptyPair();
    const sim = await startSim({
      protocol: 'yaohua-a9',
      options: d.options,
      link: { kind: 'serial', path: pair.devicePath, line: d.serial! },
      loadGrams: 8_000,
    });
    const { msgs } = await watch(url, id);
    await startDriver({ url, deviceId: id, definition: d, transport: serial(pair, d) });

    // The first reading cannot be stable yet (needs 5 equal readings), then it is.
    await expect.poll(() => weights(msgs, id).some((w) => w.grams === 8_000 && w.stable), poll).toBe(true);
    expect(weights(msgs, id)[0]).toEqual(expect.objectContaining({ grams: 8_000, stable: false }));

    sim.setFaults({ driftGramsPerSecond: 200 });
    const n = weights(msgs, id).length;
    await expect
      .poll(
        () =>
          weights(msgs, id)
            .slice(n)
            .filter((w) => !w.stable).length,
        poll,
      )
      .toBeGreaterThanOrEqual(3);
    expect(
      weights(msgs, id)
        .slice(n)
        .every((w) => !w.stable),
    ).toBe(true);
  });
});

describe('ScaleDriver over TCP (serial device server)', () => {
  it('MT-SICS over TCP: stable grams; the server drops the connection → offline, then online again', async () => {
    const url = await startBroker();
    const id = 'scale-tcp';
    const d = def('mettler-toledo-mt-sics');
    const sim = await startSim({ protocol: 'mt-sics', link: { kind: 'tcp' }, loadGrams: 777 });
    const { msgs } = await watch(url, id);
    await startDriver({ url, deviceId: id, definition: d, transport: () => new TcpTransport({ host: '127.0.0.1', port: sim.port }) });

    await expect.poll(() => weights(msgs, id).some((w) => w.grams === 777 && w.stable), poll).toBe(true);
    sim.setFaults({ slowReplyMs: 150 });
    sim.setLoad(778);
    await expect.poll(() => weights(msgs, id).some((w) => w.grams === 778 && w.stable), poll).toBe(true);
    sim.setFaults({});

    await sim.disconnect();
    // FIN (closed by peer) or RST when a poll was still unread (connection lost (read ECONNRESET)).
    await expect
      .poll(
        () =>
          states(msgs, id)
            .filter((s) => s.state === 'offline')
            .map((s) => s.reason),
        poll,
      )
      .toContainEqual(expect.stringMatching(/^tcp:\/\/127\.0\.0\.1:\d+: connection (closed by peer|lost \()/));
    await expect.poll(() => lastState(msgs, id)?.state, poll).toBe('online');
  });
});
