/**
 * The MQTT topic contract (documented in docs/mqtt.md).
 *
 *   dev/{deviceId}/evt/{kind}   device  → gateway   scan, weight, parcel, print_result, pda_*
 *   dev/{deviceId}/cmd/{kind}   gateway → device    print, divert, display, task
 *   dev/{deviceId}/state        device  → all       retained; the device's last will is `offline`
 *   dev/{deviceId}/ack          gateway → device    an event was durably recorded
 *   dev/{deviceId}/err          gateway → device    an event was refused, with a coded error
 *   station/{stationId}/view    gateway → screens   retained snapshot of the station
 *   gateway/{gatewayId}/state   gateway → all       retained; `online` / `offline` (last will)
 *   gateway/{gatewayId}/link    gateway → all       retained; cloud link state (cloud sync)
 *
 * Topic levels are separated by `/` and may not contain the MQTT wildcards `+` and `#`
 * (MQTT 3.1.1 §4.7.1). Device and station ids are restricted to `[A-Za-z0-9_.-]{1,64}` so
 * they can never smuggle a level separator or wildcard into a topic.
 */

export const ID_PATTERN = '^[A-Za-z0-9_.-]{1,64}$';
const ID_RE = new RegExp(ID_PATTERN);

export function isValidId(id: string): boolean {
  return ID_RE.test(id);
}

/** Events a device sends; the payload schema for each lives in payloads.ts. */
export const EVENT_KINDS = [
  'scan',
  'weight',
  'parcel',
  'print_result',
  'pda_login',
  'pda_confirm',
  // Picking on PDAs (docs/mqtt.md §8): ask for work, accept, confirm a line, report short, sort, replenish.
  'pick_request',
  'pick_accept',
  'pick_line',
  'pick_short',
  'pick_sort',
  'replenish_confirm',
  // Courier handover (docs/mqtt.md §9): a parcel scanned onto a manifest.
  'handover_scan',
  // The recall list (docs/mqtt.md §10): a PDA scans a label it pulled.
  'recall_scan',
] as const;

/** The picking kinds: they go to the picking runtime, whatever station (if any) the PDA serves. */
export const PICK_EVENT_KINDS: readonly EventKind[] = ['pick_request', 'pick_accept', 'pick_line', 'pick_short', 'pick_sort', 'replenish_confirm'];
export type EventKind = (typeof EVENT_KINDS)[number];

/** Commands the gateway sends to a device. */
export const COMMAND_KINDS = ['print', 'divert', 'display', 'task', 'zero', 'tare'] as const;
export type CommandKind = (typeof COMMAND_KINDS)[number];

export const topics = {
  event: (deviceId: string, kind: EventKind) => `dev/${deviceId}/evt/${kind}`,
  command: (deviceId: string, kind: CommandKind) => `dev/${deviceId}/cmd/${kind}`,
  deviceState: (deviceId: string) => `dev/${deviceId}/state`,
  ack: (deviceId: string) => `dev/${deviceId}/ack`,
  error: (deviceId: string) => `dev/${deviceId}/err`,
  stationView: (stationId: string) => `station/${stationId}/view`,
  gatewayState: (gatewayId: string) => `gateway/${gatewayId}/state`,
  gatewayLink: (gatewayId: string) => `gateway/${gatewayId}/link`,
  /** What the gateway subscribes to in order to receive every device event. */
  allEvents: 'dev/+/evt/+',
  allDeviceStates: 'dev/+/state',
} as const;

export type ParsedTopic =
  | { type: 'event'; deviceId: string; kind: EventKind }
  | { type: 'command'; deviceId: string; kind: CommandKind }
  | { type: 'state'; deviceId: string }
  | { type: 'ack'; deviceId: string }
  | { type: 'error'; deviceId: string }
  | { type: 'stationView'; stationId: string }
  | { type: 'gatewayState'; gatewayId: string }
  | { type: 'gatewayLink'; gatewayId: string };

function isEventKind(s: string): s is EventKind {
  return (EVENT_KINDS as readonly string[]).includes(s);
}
function isCommandKind(s: string): s is CommandKind {
  return (COMMAND_KINDS as readonly string[]).includes(s);
}

/** Parses a concrete (wildcard-free) topic; `null` for anything outside the contract. */
export function parseTopic(topic: string): ParsedTopic | null {
  const p = topic.split('/');
  const [root, id, a, b] = p;
  if (root === undefined || id === undefined || !isValidId(id)) return null;
  if (root === 'dev') {
    if (p.length === 4 && a === 'evt' && b !== undefined && isEventKind(b)) {
      return { type: 'event', deviceId: id, kind: b };
    }
    if (p.length === 4 && a === 'cmd' && b !== undefined && isCommandKind(b)) {
      return { type: 'command', deviceId: id, kind: b };
    }
    if (p.length === 3 && a === 'state') return { type: 'state', deviceId: id };
    if (p.length === 3 && a === 'ack') return { type: 'ack', deviceId: id };
    if (p.length === 3 && a === 'err') return { type: 'error', deviceId: id };
    return null;
  }
  if (root === 'station' && p.length === 3 && a === 'view') return { type: 'stationView', stationId: id };
  if (root === 'gateway' && p.length === 3 && a === 'state') return { type: 'gatewayState', gatewayId: id };
  if (root === 'gateway' && p.length === 3 && a === 'link') return { type: 'gatewayLink', gatewayId: id };
  return null;
}

/**
 * Topics whose messages the broker keeps retained: a device's state, a station's screen, the
 * gateway's state and link. A retained PUBLISH anywhere else is refused by the broker, so a
 * command can never be replayed to every new subscriber (MQTT 3.1.1 §3.3.1.3).
 */
export function isRetainedTopic(topic: string): boolean {
  const t = parseTopic(topic)?.type;
  return t === 'state' || t === 'stationView' || t === 'gatewayState' || t === 'gatewayLink';
}

/** Device roles; a device's role decides which topics it may use (docs/mqtt.md, ACL). */
export const ROLES = ['scanner', 'scale', 'printer', 'pda', 'conveyor', 'display', 'service'] as const;
export type Role = (typeof ROLES)[number];

/** Which event kinds each role may send on `dev/{self}/evt/{kind}`. */
export const ROLE_EVENTS: Readonly<Record<Role, readonly EventKind[]>> = {
  scanner: ['scan', 'handover_scan'],
  scale: ['weight'],
  printer: ['print_result'],
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
  conveyor: ['parcel'],
  display: [],
  service: EVENT_KINDS,
};

/** Which command kinds each role receives on `dev/{self}/cmd/{kind}`. */
export const ROLE_COMMANDS: Readonly<Record<Role, readonly CommandKind[]>> = {
  scanner: ['display'],
  scale: ['zero', 'tare'],
  printer: ['print'],
  pda: ['task', 'display'],
  conveyor: ['divert'],
  display: ['display'],
  service: COMMAND_KINDS,
};
