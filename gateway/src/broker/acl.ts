/**
 * Who may publish and subscribe to what (pure; no I/O). docs/mqtt.md §ACL is the prose form
 * of these rules and mosquitto-config.ts renders the same rules for an external broker.
 *
 * Devices are confined to their own topic subtree:
 *   publish    dev/{self}/evt/{kind}  for the kinds their role sends (ROLE_EVENTS)
 *              dev/{self}/state
 *   subscribe  dev/{self}/cmd/+  or  dev/{self}/cmd/{kind}
 *              dev/{self}/ack, dev/{self}/err
 *              station/{ownStation}/view           (display and pda only)
 * The `service` role (the gateway's own clients, tools) may do anything except publish to the
 * broker-reserved `$` topics (MQTT 3.1.1 §4.7.2). Only service publishes commands, acks, errors,
 * station views and gateway topics.
 *
 * A wildcard filter is granted only when every topic it could match is granted, which for the
 * rules above means a device may use `+` only as the command kind and never `#`.
 */
import { COMMAND_KINDS, isValidId, parseTopic, ROLE_EVENTS, ROLES, type Role } from '../../../contracts/topics.js';

export interface Identity {
  deviceId: string;
  role: Role;
  /** Station or line the device belongs to (displays and PDAs see this station's view). */
  station?: string | null | undefined;
}

export function isRole(value: unknown): value is Role {
  return typeof value === 'string' && (ROLES as readonly string[]).includes(value);
}

/** MQTT 3.1.1 §1.5.3: topic names and filters are UTF-8 strings of at most 65535 bytes. */
const MAX_TOPIC_BYTES = 65535;

function wellFormedString(s: unknown): s is string {
  return (
    typeof s === 'string' &&
    s.length > 0 && // [MQTT-4.7.3-1] at least one character
    !s.includes('\u0000') && // [MQTT-4.7.3-2] no NUL
    Buffer.byteLength(s, 'utf8') <= MAX_TOPIC_BYTES
  );
}

/** A topic name usable in PUBLISH: no wildcards ([MQTT-3.3.2-2]), no NUL, not empty. */
export function isValidTopicName(topic: string): boolean {
  return wellFormedString(topic) && !topic.includes('+') && !topic.includes('#');
}

/**
 * A topic filter usable in SUBSCRIBE: `#` only alone as the last level ([MQTT-4.7.1-2]),
 * `+` only as a whole level ([MQTT-4.7.1-3]).
 */
export function isValidTopicFilter(filter: string): boolean {
  if (!wellFormedString(filter)) return false;
  const levels = filter.split('/');
  for (let i = 0; i < levels.length; i++) {
    const l = levels[i] as string;
    if (l.includes('#') && (l !== '#' || i !== levels.length - 1)) return false;
    if (l.includes('+') && l !== '+') return false;
  }
  return true;
}

/** Devices get no use of empty levels (`dev//x`, leading or trailing `/`): none is in the contract. */
function hasEmptyLevel(topic: string): boolean {
  return topic.split('/').some((l) => l.length === 0);
}

/** Does `topic` match `filter` (MQTT 3.1.1 §4.7)? `$` topics never match a leading wildcard (§4.7.2). */
export function topicMatches(filter: string, topic: string): boolean {
  if (topic.startsWith('$') && (filter.startsWith('+') || filter.startsWith('#'))) return false;
  const f = filter.split('/');
  const t = topic.split('/');
  for (let i = 0; i < f.length; i++) {
    const fl = f[i];
    if (fl === '#') return true; // also matches the parent level ([MQTT-4.7.1-2] non-normative)
    if (i >= t.length) return false;
    if (fl !== '+' && fl !== t[i]) return false;
  }
  return f.length === t.length;
}

export function canPublish(identity: Identity, topic: string): boolean {
  if (!isValidTopicName(topic)) return false;
  if (topic.startsWith('$')) return false; // broker-reserved, e.g. $SYS (MQTT 3.1.1 §4.7.2)
  if (identity.role === 'service') return true;
  if (!isValidId(identity.deviceId) || hasEmptyLevel(topic)) return false;
  const parsed = parseTopic(topic);
  if (!parsed) return false;
  switch (parsed.type) {
    case 'event':
      return parsed.deviceId === identity.deviceId && ROLE_EVENTS[identity.role].includes(parsed.kind);
    case 'state':
      return parsed.deviceId === identity.deviceId;
    default:
      return false; // cmd, ack, err, station view, gateway topics: service only
  }
}

const STATION_VIEWERS: readonly Role[] = ['display', 'pda'];

export function canSubscribe(identity: Identity, filter: string): boolean {
  if (!isValidTopicFilter(filter)) return false;
  if (identity.role === 'service') return true;
  const self = identity.deviceId;
  if (!isValidId(self) || hasEmptyLevel(filter) || filter.includes('#')) return false;
  const l = filter.split('/');
  if (l[0] === 'dev' && l[1] === self) {
    if (l.length === 4 && l[2] === 'cmd') {
      const kind = l[3] as string;
      return kind === '+' || (COMMAND_KINDS as readonly string[]).includes(kind);
    }
    return l.length === 3 && (l[2] === 'ack' || l[2] === 'err');
  }
  if (l.length === 3 && l[0] === 'station' && l[2] === 'view') {
    const station = identity.station;
    return STATION_VIEWERS.includes(identity.role) && typeof station === 'string' && isValidId(station) && l[1] === station;
  }
  return false;
}

/**
 * Could some topic match both filters (MQTT 3.1.1 §4.7)? Used for the lab sandbox: a lab
 * client's filter is granted when it overlaps the sandbox, and deliveries outside the sandbox
 * are filtered per message, as Mosquitto's read ACL does.
 */
export function filtersOverlap(a: string, b: string): boolean {
  // A `$` level is matched only by itself, never by a leading wildcard (§4.7.2).
  if ((a.startsWith('$') || b.startsWith('$')) && a.split('/')[0] !== b.split('/')[0]) return false;
  const l = a.split('/');
  const r = b.split('/');
  for (let i = 0; ; i++) {
    const x = l[i];
    const y = r[i];
    if (x === '#' || y === '#') return true;
    if (x === undefined || y === undefined) return x === undefined && y === undefined;
    if (x !== '+' && y !== '+' && x !== y) return false;
  }
}
