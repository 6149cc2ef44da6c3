import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { COMMAND_KINDS, EVENT_KINDS, ROLES, type Role } from '../../../contracts/topics.js';
import { canPublish, canSubscribe, type Identity, isValidTopicFilter, isValidTopicName, topicMatches } from './acl.js';

/** The role table from the issue (§2), written out here so a drift in contracts/ is caught. */
const SPEC_EVENTS: Record<Exclude<Role, 'service'>, string[]> = {
  scanner: ['scan', 'handover_scan'],
  scale: ['weight'],
  printer: ['print_result'],
  conveyor: ['parcel'],
  pda: [
    'scan',
    'pda_login',
    'pda_confirm',
    'pick_request',
    'pick_accept',
    'pick_line',
    'pick_short',
    'pick_sort',
    'replenish_confirm',
    'handover_scan',
    'recall_scan',
  ],
  display: [],
};
const VIEWERS = new Set<Role>(['display', 'pda']);

const SELF = 'self-1';
const OTHER = 'other-1';
const STATION = 'st-1';

function publishUniverse(): string[] {
  const t: string[] = [];
  for (const id of [SELF, OTHER]) {
    for (const k of EVENT_KINDS) t.push(`dev/${id}/evt/${k}`);
    for (const k of COMMAND_KINDS) t.push(`dev/${id}/cmd/${k}`);
    t.push(`dev/${id}/evt/unknown`, `dev/${id}/cmd/unknown`, `dev/${id}/ack`, `dev/${id}/err`, `dev/${id}/state`);
    t.push(`dev/${id}/state/extra`, `dev/${id}`, `dev/${id}/evt`);
  }
  t.push(`station/${STATION}/view`, 'station/st-2/view', 'gateway/gw-01/state', 'gateway/gw-01/link');
  t.push('foo/bar', 'dev', `/dev/${SELF}/state`, `dev/${SELF}/state/`, `dev//evt/scan`);
  return t;
}

const INVALID_TOPICS = ['', 'dev/+/state', `dev/${SELF}/#`, '#', '+', `dev/${SELF}/st\u0000ate`, `dev/${SELF}/evt/sc+an`];
const RESERVED_TOPICS = ['$SYS/broker/heartbeat', '$SYS', '$share/x'];

function subscribeUniverse(): string[] {
  const f: string[] = [];
  for (const id of [SELF, OTHER]) {
    f.push(`dev/${id}/cmd/+`, `dev/${id}/cmd/#`, `dev/${id}/ack`, `dev/${id}/err`, `dev/${id}/state`);
    for (const k of COMMAND_KINDS) f.push(`dev/${id}/cmd/${k}`);
    f.push(`dev/${id}/cmd/unknown`, `dev/${id}/evt/+`, `dev/${id}/#`, `dev/${id}/+`, `dev/${id}/+/+`, `dev/${id}/cmd`);
    for (const k of EVENT_KINDS) f.push(`dev/${id}/evt/${k}`);
  }
  f.push('dev/+/cmd/+', 'dev/+/ack', 'dev/+/err', 'dev/+/evt/+', 'dev/+/state', 'dev/#', '#', '+', '+/+/+', '+/+/+/+');
  f.push('$SYS/#', '$SYS/+/heartbeat');
  f.push(`station/${STATION}/view`, 'station/st-2/view', 'station/+/view', 'station/#', `station/${STATION}/+`);
  f.push('gateway/gw-01/state', 'gateway/+/state', 'gateway/#', `dev//ack`, `/dev/${SELF}/ack`);
  return f;
}

const INVALID_FILTERS = ['', 'dev/a#', 'dev/#/x', 'dev/a+/x', '#/x', `dev/${SELF}/a\u0000`, '++', 'dev/##'];

function expectedPublish(role: Role, topic: string): boolean {
  if (role === 'service') return !topic.startsWith('$');
  if (topic === `dev/${SELF}/state`) return true;
  return SPEC_EVENTS[role].some((k) => topic === `dev/${SELF}/evt/${k}`);
}

function expectedSubscribe(role: Role, filter: string, station: string | undefined): boolean {
  if (role === 'service') return true;
  const allowed = new Set([`dev/${SELF}/cmd/+`, `dev/${SELF}/ack`, `dev/${SELF}/err`]);
  for (const k of COMMAND_KINDS) allowed.add(`dev/${SELF}/cmd/${k}`);
  if (VIEWERS.has(role) && station) allowed.add(`station/${station}/view`);
  return allowed.has(filter);
}

describe('ACL matrix: every role × every topic', () => {
  for (const role of ROLES) {
    for (const station of [STATION, undefined]) {
      const who: Identity = { deviceId: SELF, role, station };
      it(`${role}${station ? '' : ' (no station)'}: publish and subscribe grant exactly the allowed set`, () => {
        const wrongPub = publishUniverse().filter((t) => canPublish(who, t) !== expectedPublish(role, t));
        const wrongSub = subscribeUniverse().filter((f) => canSubscribe(who, f) !== expectedSubscribe(role, f, station));
        expect(wrongPub).toEqual([]);
        expect(wrongSub).toEqual([]);
        for (const t of [...INVALID_TOPICS, ...RESERVED_TOPICS]) expect(canPublish(who, t), t).toBe(false);
        for (const f of INVALID_FILTERS) expect(canSubscribe(who, f), f).toBe(false);
      });
    }
  }

  it('counts: a scanner may publish 3 of the topics and subscribe to 3 + command kinds', () => {
    const who: Identity = { deviceId: SELF, role: 'scanner', station: STATION };
    expect(publishUniverse().filter((t) => canPublish(who, t))).toEqual([`dev/${SELF}/evt/scan`, `dev/${SELF}/evt/handover_scan`, `dev/${SELF}/state`]);
    expect(subscribeUniverse().filter((f) => canSubscribe(who, f)).length).toBe(3 + COMMAND_KINDS.length);
  });

  it('$SYS is readable by service only and writable by nobody', () => {
    for (const role of ROLES) {
      const who: Identity = { deviceId: SELF, role };
      expect(canSubscribe(who, '$SYS/#')).toBe(role === 'service');
      expect(canPublish(who, '$SYS/x/heartbeat')).toBe(false);
    }
  });

  it('a device id that is not a valid id gets nothing', () => {
    const who: Identity = { deviceId: 'a/b', role: 'scanner' };
    expect(canPublish(who, 'dev/a/b/evt/scan')).toBe(false);
    expect(canSubscribe(who, 'dev/a/b/ack')).toBe(false);
  });
});

describe('ACL properties', () => {
  const level = fc.constantFrom('dev', SELF, OTHER, 'evt', 'cmd', 'ack', 'err', 'state', 'station', STATION, 'view', 'scan', 'print', '', 'x');
  const topicArb = fc.array(level, { minLength: 1, maxLength: 5 }).map((l) => l.join('/'));
  const filterArb = fc
    .array(fc.oneof(level, fc.constant('+')), { minLength: 1, maxLength: 5 })
    .chain((l) => fc.boolean().map((hash) => (hash ? [...l, '#'] : l).join('/')));
  const ownSpace = (t: string) => t.startsWith(`dev/${SELF}/`) || t === `station/${STATION}/view`;

  it('a device never gets a topic outside its own subtree', () => {
    fc.assert(
      fc.property(fc.constantFrom(...ROLES.filter((r) => r !== 'service')), topicArb, (role, t) => {
        if (canPublish({ deviceId: SELF, role, station: STATION }, t)) expect(t.startsWith(`dev/${SELF}/`)).toBe(true);
      }),
    );
  });

  it('a granted filter matches only topics in the device own space', () => {
    fc.assert(
      fc.property(fc.constantFrom(...ROLES.filter((r) => r !== 'service')), filterArb, topicArb, (role, f, t) => {
        if (canSubscribe({ deviceId: SELF, role, station: STATION }, f) && topicMatches(f, t)) {
          expect(ownSpace(t)).toBe(true);
        }
      }),
    );
  });
});

describe('topic syntax', () => {
  it('validates names and filters (MQTT 3.1.1 §4.7)', () => {
    expect(isValidTopicName('a/b')).toBe(true);
    expect(isValidTopicName('a/+')).toBe(false);
    expect(isValidTopicFilter('a/+/#')).toBe(true);
    expect(isValidTopicFilter('a/#/b')).toBe(false);
    expect(isValidTopicFilter('a/b+')).toBe(false);
    expect(isValidTopicName('x'.repeat(70_000))).toBe(false);
  });

  it('matches wildcards, including # matching the parent and $ topics excluded', () => {
    expect(topicMatches('dev/+/evt/+', 'dev/a/evt/scan')).toBe(true);
    expect(topicMatches('dev/+/evt/+', 'dev/a/evt')).toBe(false);
    expect(topicMatches('dev/#', 'dev')).toBe(true);
    expect(topicMatches('#', '$SYS/x')).toBe(false);
    expect(topicMatches('$SYS/#', '$SYS/x')).toBe(true);
    expect(topicMatches('a/b', 'a/b/c')).toBe(false);
  });
});
