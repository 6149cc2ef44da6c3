/**
 * Raw MQTT packets into the embedded broker over real TCP sockets. One input is one
 * connection's byte stream: a CONNECT (valid credentials, fuzzed fields, or none) followed by
 * up to six packets built with mqtt-packet from random fields (PUBLISH with any topic, QoS,
 * retain and dup; SUBSCRIBE/UNSUBSCRIBE with any filters; PUBACK…PUBCOMP with any ids;
 * PINGREQ; DISCONNECT; MQTT 5 properties on a 3.1.1 connection), some mutated at the byte
 * level or replaced by random bytes, the whole stream split at random points.
 *
 * MQTT 3.1.1 gives a broker no error payloads: a refusal is a CONNACK return code
 * (§3.2.2.3), a SUBACK failure 0x80 (§3.9.3) or closing the connection on a protocol
 * violation (§4.8). Those are what a rejection is here. A failure is the broker logging an
 * error, an uncaught exception, the control device (connected all along, sending scans)
 * losing its connection or its answers, or a new device unable to connect afterwards.
 */
import { connect as tcpConnect, type Socket } from 'node:net';
import mqttPacket, { type Packet } from 'mqtt-packet';
import type { MqttClient } from 'mqtt';
import { device } from '../../support/floor.js';
import { startGatewayRig, type GatewayRig } from '../gateway-rig.js';
import { mutate, NASTY_STRINGS, Rng, split } from '../gen.js';
import { describeThrown, type FuzzTarget, type Tally } from '../harness.js';

const CONCURRENCY = 24;
/** How long a session waits for the broker's answer to its final PINGREQ (or its close). */
const SESSION_WAIT_MS = 250;

const DEVICE = 'st-1-scale';

function topicFor(rng: Rng): string {
  return rng.pick([
    `dev/${DEVICE}/evt/weight`,
    `dev/${DEVICE}/state`,
    `dev/${DEVICE}/cmd/+`,
    `dev/${DEVICE}/ack`,
    'dev/+/evt/+',
    '#',
    '+/+/+',
    '$SYS/#',
    'station/st-1/view',
    'gateway/gw-test/state',
    `dev/other/evt/scan`,
    'a/'.repeat(20),
    ...NASTY_STRINGS,
  ]);
}

function randomPacket(rng: Rng): Packet {
  const id = rng.chance(0.1) ? rng.pick([0, 65535, 65536]) : rng.range(1, 100);
  switch (rng.int(9)) {
    case 0:
    case 1:
    case 2: {
      const qos = rng.pick([0, 1, 2, 3]) as 0 | 1 | 2;
      const payload = rng.chance(0.5)
        ? Buffer.from(JSON.stringify({ msg_id: `raw-${rng.int(1e9)}`, grams: rng.int(1000), stable: true }))
        : Buffer.from(rng.bytes(rng.range(0, 40)));
      return { cmd: 'publish', topic: topicFor(rng), payload, qos, retain: rng.chance(0.1), dup: rng.chance(0.1), ...(qos > 0 && { messageId: id }) };
    }
    case 3:
      return {
        cmd: 'subscribe',
        messageId: id,
        subscriptions: Array.from({ length: rng.range(rng.chance(0.05) ? 0 : 1, 3) }, () => ({ topic: topicFor(rng), qos: rng.pick([0, 1, 2]) as 0 | 1 | 2 })),
      };
    case 4:
      return { cmd: 'unsubscribe', messageId: id, unsubscriptions: [topicFor(rng)] };
    case 5:
      return { cmd: rng.pick(['puback', 'pubrec', 'pubrel', 'pubcomp'] as const), messageId: id } as Packet;
    case 6:
      return { cmd: 'pingreq' };
    case 7:
      return {
        cmd: rng.pick(['connack', 'suback', 'unsuback', 'pingresp'] as const),
        returnCode: 0,
        messageId: id,
        granted: [0],
        sessionPresent: false,
      } as Packet;
    default:
      return rng.chance(0.5) ? { cmd: 'disconnect' } : ({ cmd: 'connect', clientId: 'again', protocolVersion: 4, keepalive: 30 } as Packet);
  }
}

function connectPacket(rng: Rng, secret: string, n: number): Packet | null {
  const r = rng.next();
  const clientId = `${DEVICE}:fz${n}`;
  if (r < 0.7)
    return { cmd: 'connect', protocolId: 'MQTT', protocolVersion: 4, clean: true, clientId, keepalive: 30, username: DEVICE, password: Buffer.from(secret) };
  if (r < 0.8) {
    // Fuzzed fields; never an unknown user name with a password guess (each costs an scrypt,
    // the designed price of a wrong secret; the ACL matrix test covers wrong credentials).
    return {
      cmd: 'connect',
      protocolId: rng.pick(['MQTT', 'MQIsdp', 'MQTX']) as 'MQTT',
      protocolVersion: rng.pick([3, 4, 5, 6]) as 4,
      clean: rng.chance(0.5),
      clientId: rng.pick([clientId, '', 'st-2-scale', DEVICE, 'x'.repeat(200)]),
      keepalive: rng.pick([0, 1, 30, 65535]),
      ...(rng.chance(0.9) && { username: DEVICE, password: Buffer.from(secret) }),
      ...(rng.chance(0.3) && {
        will: { topic: topicFor(rng), payload: Buffer.from('{"state":"offline"}'), qos: rng.pick([0, 1, 2]) as 0, retain: rng.chance(0.5) },
      }),
    };
  }
  if (r < 0.9) return { cmd: 'connect', protocolId: 'MQTT', protocolVersion: 4, clean: true, clientId: `anon-${n}`, keepalive: 30 }; // anonymous
  return null; // no CONNECT: garbage or another packet first
}

function encode(p: Packet): Buffer | null {
  try {
    return mqttPacket.generate(p);
  } catch {
    return null; // a field mqtt-packet itself refuses to encode
  }
}

interface SessionResult {
  outcome: string;
  accepted: boolean;
}

/** Runs one connection; resolves with how the broker answered. */
function session(port: number, chunks: Buffer[]): Promise<SessionResult> {
  return new Promise((resolve) => {
    const parser = mqttPacket.parser({ protocolVersion: 4 });
    let connack: number | null = null;
    let subackDenied = false;
    let pong = false;
    let done = false;
    let sock: Socket;
    const finish = (closedByBroker: boolean) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      // RST instead of FIN: a million sessions must not leave a million TIME_WAIT sockets.
      if (!sock.destroyed) sock.resetAndDestroy();
      if (connack !== null && connack !== 0) resolve({ outcome: `CONNACK ${connack}`, accepted: false });
      else if (subackDenied) resolve({ outcome: 'SUBACK 0x80', accepted: false });
      else if (closedByBroker) resolve({ outcome: connack === 0 ? 'closed after CONNACK (protocol violation)' : 'closed before CONNACK', accepted: false });
      else resolve({ outcome: pong ? 'open' : 'open (no answer yet)', accepted: true });
    };
    const timer = setTimeout(() => finish(false), SESSION_WAIT_MS);
    parser.on('packet', (p: Packet) => {
      if (p.cmd === 'connack') connack = (p as { returnCode?: number }).returnCode ?? 0;
      if (p.cmd === 'suback' && (p as { granted: number[] }).granted.some((g) => g === 0x80 || g === 128)) subackDenied = true;
      if (p.cmd === 'pingresp') {
        pong = true;
        finish(false);
      }
    });
    parser.on('error', () => undefined);
    sock = tcpConnect({ port, host: '127.0.0.1' }, () => {
      for (const c of chunks) sock.write(c);
    });
    sock.setNoDelay(true);
    sock.on('data', (d) => parser.parse(d));
    sock.on('error', () => finish(true));
    sock.on('close', () => finish(true));
  });
}

export const mqttPacketsTarget: FuzzTarget = {
  name: 'mqtt-packets',
  description: 'raw MQTT packets (mqtt-packet generate + byte mutation + garbage) into the embedded broker over TCP; broker stays up, other clients unaffected',
  batchSize: 480,
  async open() {
    const rig: GatewayRig = await startGatewayRig();
    const port = rig.broker.ports().tcp as number;
    const secret = rig.secrets[DEVICE] as string;
    // The control device: connected throughout; it must never be dropped and always be answered.
    const control: MqttClient = await device(rig.info.mqttUrl as string, 'st-2-scanner', rig.secrets['st-2-scanner'] as string);
    let controlDrops = 0;
    const answers: string[] = [];
    control.on('close', () => controlDrops++);
    control.on('message', (topic, payload) => answers.push(`${topic} ${payload.toString()}`));
    await control.subscribeAsync(['dev/st-2-scanner/ack', 'dev/st-2-scanner/err'], { qos: 1 });
    let n = 0;
    return {
      async batch(seed: number, count: number, tally: Tally) {
        const rng = new Rng(seed);
        const inputs: Buffer[][] = [];
        for (let i = 0; i < count; i++) {
          const parts: Buffer[] = [];
          const c = connectPacket(rng, secret, n++);
          const first = c === null ? null : encode(c);
          if (first) parts.push(first);
          else parts.push(Buffer.from(rng.bytes(rng.range(1, 24))));
          const more = rng.range(0, 6);
          for (let k = 0; k < more; k++) {
            const bytes = encode(randomPacket(rng)) ?? Buffer.from(rng.bytes(4));
            const r = rng.next();
            parts.push(r < 0.8 ? bytes : r < 0.95 ? Buffer.from(mutate(rng, bytes)) : Buffer.from(rng.bytes(rng.range(1, 32))));
          }
          parts.push(encode({ cmd: 'pingreq' }) as Buffer);
          const all = Buffer.concat(parts);
          inputs.push(split(rng, all, 40).map((u) => Buffer.from(u)));
        }
        let next = 0;
        const worker = async () => {
          while (next < inputs.length) {
            const i = next++;
            try {
              const r = await session(port, inputs[i] as Buffer[]);
              if (r.accepted) tally.accept();
              else tally.reject(r.outcome);
            } catch (err) {
              tally.fail(seed, i, inputs[i], `session threw ${describeThrown(err)}`);
            }
          }
        };
        await Promise.all(Array.from({ length: CONCURRENCY }, worker));
        // Other clients unaffected: the control device is still connected and answered.
        const before = answers.length;
        await control.publishAsync('dev/st-2-scanner/evt/scan', JSON.stringify({ msg_id: `ctl-${seed}`, code: 'PS-O-1001' }), { qos: 1 });
        const t0 = Date.now();
        while (answers.length === before && Date.now() - t0 < 30_000) await new Promise((r) => setTimeout(r, 5));
        if (answers.length === before) tally.fail(seed, -1, 'control scan', 'control device got no answer after the batch', true);
        if (controlDrops > 0 || !control.connected) tally.fail(seed, -1, 'control device', `control device lost its connection (${controlDrops})`, true);
        controlDrops = 0;
        for (const e of rig.takeErrors().slice(0, 5)) tally.fail(seed, -1, `batch of ${count}`, `gateway logged an error: ${e.slice(0, 400)}`, true);
      },
      async close() {
        // A new device can still connect after everything.
        try {
          const c = await device(rig.info.mqttUrl as string, 'st-1-scanner', rig.secrets['st-1-scanner'] as string);
          await c.endAsync(true);
        } finally {
          await control.endAsync(true).catch(() => undefined);
          await rig.close();
        }
      },
    };
  },
};
