/**
 * docs/mqtt.md re-read against the wire. The test parses the document itself — the topic
 * table (§2), the roles table (§3), the CONNACK return codes and the refusal reasons (§1) —
 * and drives every row over real TCP connections to the embedded broker, with each device's
 * own credentials and the gateway's side through the EmbeddedLink. Any difference between what
 * the document says and what the wire does fails it: a topic, a direction (who may send, who
 * receives), the retain column, a return code or a refusal reason.
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { COMMAND_KINDS, EVENT_KINDS, parseTopic, type Role, ROLES } from '../../../contracts/topics.js';
import { EmbeddedBroker } from '../../src/broker/embedded-broker.js';
import { EmbeddedLink } from '../../src/broker/embedded-link.js';
import type { InboundMessage } from '../../src/broker/link.js';
import { MQTT_REFUSAL_REASONS } from '../../src/broker/refusals.js';
import { parseConfig } from '../../src/config/load.js';
import type { Config } from '../../src/config/schema.js';
import { client, makeDirectory, silentLogger, waitFor } from './broker-helpers.js';
import { connectRaw } from './raw-mqtt.js';

const DOC = readFileSync(join(dirname(fileURLToPath(import.meta.url)), '../../../docs/mqtt.md'), 'utf8');
const GW = 'gw-doc';
const STATION = 'st-1';

/** One device per role, all of station st-1 (the conveyor of line-1). */
const DEVICE: Record<Role, string> = {
  scanner: 'scanner-1',
  scale: 'scale-1',
  printer: 'printer-1',
  pda: 'pda-1',
  conveyor: 'conveyor-1',
  display: 'display-1',
  service: 'svc',
};

// ---- the document, parsed --------------------------------------------------------------

interface TopicRow {
  topics: string[];
  direction: string;
  retain: boolean;
}

function tableRows(heading: string): string[][] {
  const start = DOC.indexOf(heading);
  expect(start, `docs/mqtt.md has "${heading}"`).toBeGreaterThanOrEqual(0);
  const rows: string[][] = [];
  let inTable = false;
  for (const line of DOC.slice(start).split('\n').slice(1)) {
    if (line.startsWith('|')) {
      inTable = true;
      const cells = line
        .split(/(?<!\\)\|/)
        .slice(1, -1)
        .map((c) => c.trim());
      if (cells.every((c) => /^-+$/.test(c))) continue;
      rows.push(cells);
    } else if (inTable) break;
  }
  return rows.slice(1); // without the header row
}

const topicRows: TopicRow[] = tableRows('## 2. Topics').map((c) => ({
  topics: [...(c[0] as string).matchAll(/`([^`]+)`/g)].map((m) => m[1] as string),
  direction: c[1] as string,
  retain: /yes/.test(c[3] as string),
}));

/** §3: role → the event kinds its "May publish" cell lists. */
const rolePublishes = new Map<string, string[]>(
  tableRows('## 3. Roles and ACL').map((c) => [(c[0] as string).replaceAll('`', ''), [...(c[1] as string).matchAll(/evt\/(\w+)/g)].map((m) => m[1] as string)]),
);

/** Who a `gateway → …` row names as receivers. */
function receivers(direction: string): Role[] {
  const to = direction.split('→')[1]?.trim() ?? '';
  if (to === 'device') return ROLES.filter((r) => r !== 'service');
  if (to === 'screens') return ['display', 'pda'];
  if (to.startsWith('service clients')) return ['service'];
  return to.split(/,\s*/).map((r) => r.trim() as Role);
}

function concrete(pattern: string, deviceId: string): string {
  return pattern.replace('{id}', deviceId).replace('{station}', STATION).replace('{gw}', GW);
}

function payloadFor(topic: string): string {
  const p = parseTopic(topic);
  if (p?.type === 'state') return JSON.stringify({ state: 'online', reason: `doc-${Math.random()}` });
  return JSON.stringify({ doc_probe: Math.random() });
}

// ---- the wire ----------------------------------------------------------------------------

describe('docs/mqtt.md, row by row, against the wire', () => {
  let broker: EmbeddedBroker;
  let link: EmbeddedLink;
  let secrets: Record<string, string>;
  let port: number;
  const seenByGateway: InboundMessage[] = [];
  const clients: MqttClient[] = [];

  beforeAll(async () => {
    const dir = await makeDirectory(
      ROLES.map((role) => ({ id: DEVICE[role], role, ...(role === 'service' ? {} : { station: role === 'conveyor' ? 'line-1' : STATION }) })),
    );
    secrets = dir.secrets;
    const rows = dir.directory.rows;
    const directory = {
      getDevice: (id: string) => {
        if (id === 'registry-down') throw new Error('registry unavailable');
        return rows.get(id) ?? null;
      },
    };
    broker = new EmbeddedBroker({
      config: parseConfig({ gatewayId: GW, mqtt: { host: '127.0.0.1', port: 0 } }) as Config,
      directory,
      logger: silentLogger(),
    });
    await broker.start();
    port = broker.ports().tcp as number;
    link = new EmbeddedLink(broker, silentLogger());
    await link.start();
    await link.subscribe('#', (m) => seenByGateway.push(m));
  });

  afterAll(async () => {
    await Promise.all(clients.map((c) => c.endAsync(true).catch(() => undefined)));
    await link?.stop();
    await broker?.stop();
  });

  const as = async (deviceId: string, suffix: string) => {
    const c = await client(`mqtt://127.0.0.1:${port}`, { clientId: `${deviceId}:${suffix}`, username: deviceId, password: secrets[deviceId] });
    clients.push(c);
    return c;
  };

  /** Publishes as `from` and tells whether the gateway (and a service subscriber) received it. */
  async function delivered(from: MqttClient, topic: string, payload: string, retain = false): Promise<boolean> {
    await from.publishAsync(topic, payload, { qos: 1, retain });
    // A marker through an allowed path: once the gateway has it, everything before it was routed.
    const mark = `mark-${Math.random()}`;
    await link.publish('packline/doc-test/mark', mark);
    await waitFor(() => seenByGateway.some((m) => m.payload.toString() === mark), 'marker');
    return seenByGateway.some((m) => m.topic === topic && m.payload.toString() === payload);
  }

  it('the topic table and the contract (contracts/topics.ts) name the same topics', () => {
    const documented = new Set(topicRows.flatMap((r) => r.topics.map((t) => `${parseTopic(concrete(t, 'x'))?.type}:${t.split('/')[3] ?? ''}`)));
    const contract = new Set([
      ...EVENT_KINDS.map((k) => `event:${k}`),
      ...COMMAND_KINDS.map((k) => `command:${k}`),
      'state:',
      'ack:',
      'error:',
      'stationView:',
      'gatewayState:',
      'gatewayLink:',
    ]);
    expect([...documented].sort()).toEqual([...contract].sort());
  });

  it('the roles table lists exactly the events each role sends', () => {
    for (const role of ROLES.filter((r) => r !== 'service')) {
      const kinds = EVENT_KINDS.filter((k) => topicRows.some((r) => r.topics.includes(`dev/{id}/evt/${k}`)));
      const allowed = kinds.filter((k) => rolePublishes.get(role)?.includes(k));
      expect(rolePublishes.has(role), `roles table has ${role}`).toBe(true);
      // Both directions: documented kinds are allowed on the wire (next test) and no others.
      expect(allowed.sort(), role).toEqual([...(rolePublishes.get(role) ?? [])].sort());
    }
  });

  for (const row of topicRows) {
    for (const pattern of row.topics) {
      it(`${pattern} — ${row.direction}, retain ${row.retain ? 'yes' : 'no'}`, async () => {
        const [from, to] = row.direction.split('→').map((s) => s.trim()) as [string, string];
        if (from === 'device') {
          // Who may send it: a device (of the roles §3 lists) on its own topic, nobody else's device.
          const kind = pattern.split('/')[3];
          const senders = kind === undefined ? ROLES.filter((r) => r !== 'service') : ROLES.filter((r) => rolePublishes.get(r)?.includes(kind));
          expect(senders.length, `someone sends ${pattern}`).toBeGreaterThan(0);
          for (const role of ROLES.filter((r) => r !== 'service')) {
            const c = await as(DEVICE[role], `pub-${pattern.replaceAll('/', '_')}`);
            const own = concrete(pattern, DEVICE[role]);
            expect(await delivered(c, own, payloadFor(own)), `${role} publishes ${own}`).toBe(senders.includes(role));
            const foreign = concrete(pattern, DEVICE[role === 'scanner' ? 'pda' : 'scanner']);
            expect(await delivered(c, foreign, payloadFor(foreign)), `${role} publishes ${foreign}`).toBe(false);
            await c.endAsync();
          }
          expect(to).toMatch(/gateway/);
          const retainedTopic = concrete(pattern, DEVICE[senders[0] as Role]);
          const sender = await as(DEVICE[senders[0] as Role], 'retain');
          const body = payloadFor(retainedTopic);
          await sender.publishAsync(retainedTopic, body, { qos: 1, retain: true });
          await expectRetained(retainedTopic, body, row.retain);
        } else {
          expect(from).toBe('gateway');
          // Only the gateway sends it: every device is refused, the service role (the gateway's own clients) is not.
          for (const role of ROLES.filter((r) => r !== 'service')) {
            const c = await as(DEVICE[role], `forge-${pattern.replaceAll('/', '_')}`);
            const t = concrete(pattern, DEVICE[role]);
            expect(await delivered(c, t, payloadFor(t)), `${role} may not publish ${t}`).toBe(false);
            await c.endAsync();
          }
          // Who receives it: each documented receiver subscribes and gets what the gateway sends.
          for (const role of receivers(row.direction)) {
            const t = concrete(pattern, DEVICE[role === 'service' ? 'scanner' : role]);
            const r = await as(DEVICE[role], `sub-${pattern.replaceAll('/', '_')}`);
            const got: string[] = [];
            r.on('message', (topic, p) => topic === t && got.push(p.toString()));
            const granted = await r.subscribeAsync(t, { qos: 1 });
            expect(granted[0]?.qos, `${role} may subscribe ${t}`).not.toBe(128);
            const body = payloadFor(t);
            await link.publish(t, body);
            await waitFor(() => got.includes(body), `${role} receives ${t}`);
            await r.endAsync();
          }
          const t = concrete(pattern, DEVICE[receivers(row.direction)[0] === 'service' ? 'scanner' : (receivers(row.direction)[0] as Role)]);
          const svc = await as('svc', 'retain');
          const body = payloadFor(t);
          await svc.publishAsync(t, body, { qos: 1, retain: true });
          await expectRetained(t, body, row.retain);
        }
      });
    }
  }

  /** A new service subscriber gets the message as retained iff the retain column says yes. */
  async function expectRetained(topic: string, body: string, retained: boolean): Promise<void> {
    const w = await as('svc', `watch-${Math.random().toString(36).slice(2)}`);
    const got: string[] = [];
    w.on('message', (t, p, packet) => t === topic && packet.retain && got.push(p.toString()));
    await w.subscribeAsync(topic, { qos: 1 });
    if (retained) await waitFor(() => got.includes(body), `retained ${topic}`);
    else {
      await new Promise((r) => setTimeout(r, 300));
      expect(got, `${topic} is not retained`).toEqual([]);
    }
    await w.endAsync();
  }

  it('§1 CONNACK return codes: each documented code is what the wire answers', async () => {
    const para = DOC.slice(DOC.indexOf('CONNACK return codes are only'), DOC.indexOf('Every refusal of the broker'));
    const codes = [...para.matchAll(/\*\*(\d)\*\*/g)].map((m) => Number(m[1]));
    expect(codes).toEqual([1, 2, 3, 4, 5]);
    const cases: Record<number, Parameters<typeof connectRaw>[1]> = {
      1: { clientId: 'scanner-1', protocolVersion: 5, username: 'scanner-1', password: secrets['scanner-1'] },
      2: { clientId: 'printer-1', username: 'scanner-1', password: secrets['scanner-1'] },
      3: { clientId: 'registry-down', username: 'registry-down', password: 'x' },
      4: { clientId: 'scanner-1', username: 'scanner-1', password: 'wrong' },
      5: { clientId: 'anon' },
    };
    for (const code of codes) {
      const r = await connectRaw(port, cases[code] as Parameters<typeof connectRaw>[1]);
      expect(r.returnCode, `return code ${code}`).toBe(code);
      r.client.end();
    }
  });

  it('§1 refusal reasons are exactly the labels of packline_mqtt_refused_total', () => {
    const para = DOC.slice(DOC.indexOf('Every refusal of the broker'), DOC.indexOf('ACL refusals are also logged'));
    const documented = [...para.slice(para.indexOf(':')).matchAll(/`(\w+)`/g)].map((m) => m[1]);
    expect(documented).toEqual([...MQTT_REFUSAL_REASONS]);
    expect(Object.keys(broker.stats().refused)).toEqual([...MQTT_REFUSAL_REASONS]);
  });
});
