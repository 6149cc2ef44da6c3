/**
 * The ACL matrix (docs/reliability.md, security): every role × every topic pattern of the topic map ×
 * publish and subscribe, against a running gateway's embedded broker over TCP, each device
 * with its own real credentials.
 *
 * The expected matrix is written here from the contract (contracts/topics.ts ROLE_EVENTS,
 * COMMAND_KINDS) and the rules of docs/mqtt.md §ACL — not read from acl.ts — and checked
 * against acl.ts first, then proven with real clients:
 *   - subscribe: the SUBACK return code (0x80 = refused, MQTT 3.1.1 §3.9.3);
 *   - publish: a service client subscribed to `#` sees the message only if the broker let it
 *     through (a refused PUBLISH is acknowledged and dropped, [MQTT-3.3.5-2]).
 * Result: 0 unauthorised operations allowed and every authorised one works. Also: wrong,
 * missing and borrowed credentials are refused, and no device can publish as another.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connectAsync, type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { COMMAND_KINDS, EVENT_KINDS, ROLE_EVENTS, ROLES, type Role } from '../../../contracts/topics.js';
import { canPublish, canSubscribe } from '../../src/broker/acl.js';
import { parsePlaintextConfig } from '../support/plaintext.js';
import { Gateway, type GatewayInfo } from '../../src/gateway.js';
import { createLogger } from '../../src/lib/logger.js';
import { floorConfig } from '../support/floor.js';

/** One device per role at station st-1 ("self"), and a second device of the same role ("other", station st-2). */
const SELF: Record<Role, string> = {
  scanner: 'st-1-scanner',
  scale: 'st-1-scale',
  printer: 'st-1-printer',
  display: 'st-1-display',
  pda: 'pda-1',
  conveyor: 'line-1-dws',
  service: 'svc-1',
};
const OTHER: Record<Role, string> = {
  scanner: 'st-2-scanner',
  scale: 'st-2-scale',
  printer: 'st-2-printer',
  display: 'st-2-display',
  pda: 'pda-2',
  conveyor: 'line-2-dws',
  service: 'svc-2',
};
const STATION_OF: Record<Role, string> = { scanner: 'st-1', scale: 'st-1', printer: 'st-1', display: 'st-1', pda: 'st-1', conveyor: 'line-1', service: 'st-1' };
const GW = 'gw-test';

/** Every concrete topic of the topic map, seen from `self`. */
function concreteTopics(self: string, other: string): string[] {
  const out: string[] = [];
  for (const id of [self, other]) {
    for (const k of EVENT_KINDS) out.push(`dev/${id}/evt/${k}`);
    for (const k of COMMAND_KINDS) out.push(`dev/${id}/cmd/${k}`);
    out.push(`dev/${id}/state`, `dev/${id}/ack`, `dev/${id}/err`);
  }
  out.push('station/st-1/view', 'station/st-2/view', 'station/line-1/view', `gateway/${GW}/state`, `gateway/${GW}/link`);
  return out;
}

/** Subscribe filters: every concrete topic plus the wildcard forms of each pattern. */
function filters(self: string, other: string): string[] {
  return [
    ...concreteTopics(self, other),
    `dev/${self}/cmd/+`,
    `dev/${other}/cmd/+`,
    `dev/${self}/#`,
    `dev/${self}/evt/+`,
    `dev/${self}/+`,
    'dev/+/evt/+',
    'dev/+/cmd/+',
    'dev/+/state',
    'dev/+/ack',
    'station/+/view',
    'gateway/+/state',
    '#',
    '+/+/+',
    '$SYS/#',
  ];
}

/** Publish topics: every concrete topic plus the broker-reserved `$` space. */
function publishTopics(self: string, other: string): string[] {
  return [...concreteTopics(self, other), '$SYS/fake', 'other/topic'];
}

// ---- the expected matrix, from docs/mqtt.md §ACL -----------------------------------------

function expectedPublish(role: Role, self: string, topic: string): boolean {
  if (topic.startsWith('$')) return false; // broker-reserved for everyone (MQTT 3.1.1 §4.7.2)
  if (role === 'service') return true;
  const l = topic.split('/');
  if (l[0] !== 'dev' || l[1] !== self) return false; // only its own subtree
  if (l.length === 4 && l[2] === 'evt') return (ROLE_EVENTS[role] as readonly string[]).includes(l[3] as string);
  return l.length === 3 && l[2] === 'state';
}

function expectedSubscribe(role: Role, self: string, station: string, filter: string): boolean {
  if (role === 'service') return true;
  const l = filter.split('/');
  if (filter.includes('#')) return false;
  if (l[0] === 'dev' && l[1] === self) {
    if (l.length === 4 && l[2] === 'cmd') return l[3] === '+' || (COMMAND_KINDS as readonly string[]).includes(l[3] as string);
    return l.length === 3 && (l[2] === 'ack' || l[2] === 'err');
  }
  return (role === 'display' || role === 'pda') && filter === `station/${station}/view`;
}

// ---- the gateway ------------------------------------------------------------------------

let dir: string;
let gateway: Gateway;
let info: GatewayInfo;
let secrets: Record<string, string>;
let observer: MqttClient;
const seen = new Set<string>();
const clients: MqttClient[] = [];

function connect(deviceId: string, secret: string | undefined, clientId = deviceId): Promise<MqttClient> {
  return connectAsync(
    info.mqttUrl as string,
    { clientId, ...(secret !== undefined && { username: deviceId, password: secret }), reconnectPeriod: 0, connectTimeout: 10_000, protocolVersion: 4 },
    false,
  );
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'pkl-acl-'));
  const raw = floorConfig(dir, { stations: 2, lines: 2 });
  (raw.devices as Array<Record<string, string>>).push(
    { id: 'pda-1', role: 'pda', station: 'st-1' },
    { id: 'pda-2', role: 'pda', station: 'st-2' },
    { id: 'svc-1', role: 'service' },
    { id: 'svc-2', role: 'service' },
    { id: 'obs-svc', role: 'service' },
  );
  gateway = new Gateway(parsePlaintextConfig(raw), createLogger('silent'));
  await gateway.start();
  info = gateway.info();
  secrets = Object.fromEntries(info.issued.map((s) => [s.deviceId, s.secret]));
  observer = await connect('obs-svc', secrets['obs-svc']);
  observer.on('message', (_topic, payload) => seen.add(payload.toString()));
  await observer.subscribeAsync('#', { qos: 1 });
  await observer.subscribeAsync('$SYS/fake', { qos: 1 }); // `#` does not match `$` topics (§4.7.2)
});

afterAll(async () => {
  await Promise.all([observer, ...clients].map((c) => c?.endAsync(true).catch(() => undefined)));
  await gateway?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('ACL matrix: every role × every topic pattern × publish and subscribe (real clients, real credentials)', () => {
  it('the expected matrix (from the contract and docs/mqtt.md) is what acl.ts implements', () => {
    const diffs: string[] = [];
    for (const role of ROLES) {
      const identity = { deviceId: SELF[role], role, station: STATION_OF[role] };
      for (const t of publishTopics(SELF[role], OTHER[role])) {
        if (canPublish(identity, t) !== expectedPublish(role, SELF[role], t)) diffs.push(`${role} publish ${t}`);
      }
      for (const f of filters(SELF[role], OTHER[role])) {
        if (canSubscribe(identity, f) !== expectedSubscribe(role, SELF[role], STATION_OF[role], f)) diffs.push(`${role} subscribe ${f}`);
      }
    }
    expect(diffs).toEqual([]);
  });

  const totals = { checked: 0, allowedOk: 0, deniedOk: 0, unauthorisedAllowed: [] as string[], authorisedRefused: [] as string[] };

  for (const role of ROLES) {
    it(`${role}: subscribe and publish on every pattern behave exactly as the matrix says`, async () => {
      const self = SELF[role];
      const c = await connect(self, secrets[self]);
      clients.push(c);
      // Subscribe, one filter per SUBSCRIBE so each SUBACK code is that filter's.
      for (const f of filters(self, OTHER[role])) {
        // mqtt.js rejects a subscribe whose SUBACK says 0x80 (ErrorWithSubackPacket).
        const allowed = await c.subscribeAsync(f, { qos: 1 }).then(
          (granted) => granted[0]?.qos !== 128,
          (err: Error & { packet?: { granted?: number[] } }) => {
            if (err.packet?.granted?.[0] !== 128) throw err;
            return false;
          },
        );
        const expected = expectedSubscribe(role, self, STATION_OF[role], f);
        totals.checked++;
        if (allowed && !expected) totals.unauthorisedAllowed.push(`${role} subscribe ${f}`);
        else if (!allowed && expected) totals.authorisedRefused.push(`${role} subscribe ${f}`);
        else if (allowed) totals.allowedOk++;
        else totals.deniedOk++;
      }
      await c.unsubscribeAsync(filters(self, OTHER[role]));
      // Publish: a marker per topic; the observer (service, on `#`) sees only what got through.
      const marks = new Map<string, string>();
      for (const t of publishTopics(self, OTHER[role])) {
        const mark = `acl-${role}-${t}-${Math.random().toString(36).slice(2)}`;
        marks.set(t, mark);
        // A device state must be a DeviceState (the broker validates it): the marker rides in `reason`.
        const body = /^dev\/[^/]+\/state$/.test(t) ? { state: 'online', reason: mark } : { mark };
        await c.publishAsync(t, JSON.stringify(body), { qos: 1 });
      }
      // A last allowed publish: once the observer has it, everything before it has been routed.
      const done = `done-${role}-${Date.now()}`;
      await c.publishAsync(`dev/${self}/state`, JSON.stringify({ state: 'online', reason: done }), { qos: 1 });
      const t0 = Date.now();
      while (![...seen].some((s) => s.includes(done)) && Date.now() - t0 < 20_000) await new Promise((r) => setTimeout(r, 10));
      await new Promise((r) => setTimeout(r, 100));
      for (const [t, mark] of marks) {
        const through = [...seen].some((s) => s.includes(mark));
        const expected = expectedPublish(role, self, t);
        totals.checked++;
        if (through && !expected) totals.unauthorisedAllowed.push(`${role} publish ${t}`);
        else if (!through && expected) totals.authorisedRefused.push(`${role} publish ${t}`);
        else if (through) totals.allowedOk++;
        else totals.deniedOk++;
      }
      expect(c.connected).toBe(true);
      expect(totals.unauthorisedAllowed).toEqual([]);
      expect(totals.authorisedRefused).toEqual([]);
    });
  }

  it('sums up: 0 unauthorised operations allowed, every authorised one worked', () => {
    console.log(
      `ACL matrix: ${ROLES.length} roles, ${totals.checked} operations checked: ${totals.allowedOk} allowed as expected, ${totals.deniedOk} refused as expected, ${totals.unauthorisedAllowed.length} unauthorised allowed`,
    );
    expect(totals.checked).toBe(ROLES.reduce((n, r) => n + filters(SELF[r], OTHER[r]).length + publishTopics(SELF[r], OTHER[r]).length, 0));
    expect(totals.unauthorisedAllowed).toEqual([]);
    expect(totals.allowedOk).toBeGreaterThan(0);
  });
});

describe('credentials', () => {
  const refused = async (p: Promise<MqttClient>) => {
    const err = (await p.then(
      (c) => (clients.push(c), null),
      (e: unknown) => e,
    )) as { code?: number } | null;
    return err?.code ?? 'connected';
  };

  it("refuses a wrong secret, an unknown device, no credentials, another device's secret and another device's client id", async () => {
    expect(await refused(connect('st-1-scanner', `${secrets['st-1-scanner']}x`))).toBe(4); // bad user name or password
    expect(await refused(connect('st-1-scanner', ''))).toBe(4);
    expect(await refused(connect('nobody', secrets['st-1-scanner']))).toBe(4);
    expect(await refused(connect('st-1-scanner', undefined))).toBe(5); // not authorised: anonymous
    expect(await refused(connect('st-1-scanner', secrets['st-2-scanner']))).toBe(4);
    // Right credentials, but the client id of another device (would take over its session).
    expect(await refused(connect('st-1-scanner', secrets['st-1-scanner'], 'st-2-scanner'))).toBe(2);
    expect(await refused(connect('st-1-scanner', secrets['st-1-scanner'], 'st-1-scanner:tablet'))).toBe('connected');
  });

  it('a device cannot publish as another device: its message never reaches the gateway', async () => {
    const impostor = await connect('st-1-scanner', secrets['st-1-scanner'], 'st-1-scanner:impostor');
    clients.push(impostor);
    const victim = await connect('st-2-scanner', secrets['st-2-scanner']);
    clients.push(victim);
    const answers: string[] = [];
    victim.on('message', (t, p) => answers.push(`${t} ${p.toString()}`));
    await victim.subscribeAsync(['dev/st-2-scanner/ack', 'dev/st-2-scanner/err'], { qos: 1 });
    await impostor.publishAsync('dev/st-2-scanner/evt/scan', JSON.stringify({ msg_id: 'impostor-1', code: 'PS-X' }), { qos: 1 });
    // The victim's own scan after it is answered; the impostor's never is.
    await victim.publishAsync('dev/st-2-scanner/evt/scan', JSON.stringify({ msg_id: 'victim-1', code: 'PS-X' }), { qos: 1 });
    const t0 = Date.now();
    while (!answers.some((a) => a.includes('victim-1')) && Date.now() - t0 < 20_000) await new Promise((r) => setTimeout(r, 10));
    expect(answers.some((a) => a.includes('victim-1'))).toBe(true);
    expect(answers.some((a) => a.includes('impostor-1'))).toBe(false);
    expect([...seen].some((s) => s.includes('impostor-1'))).toBe(false);
  });
});
