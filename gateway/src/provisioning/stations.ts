/**
 * Stations provisioned at run time (`packline station add`, `POST /api/v1/stations`) next to
 * the config's `stations[]`, and the device bindings that follow from both (pure; no I/O).
 *
 * A run-time station names its devices explicitly or not at all: a scanner, scale, printer or
 * display it does not name is the device of that role registered with `--station {id}` (the
 * first by id). It runs once it has a scanner, a scale and a printer; until then it is listed
 * as incomplete with what is missing. Devices registered with `--station` for any station or
 * line (PDAs, extra scanners, conveyors) belong to it (docs/mqtt.md §3).
 */
import { isValidId } from '../../../contracts/topics.js';
import { isRole } from '../broker/acl.js';
import type { Config, StationConfig } from '../config/schema.js';
import { buildBindings, type DeviceBinding } from '../runtime/bindings.js';
import type { DeviceRecord, StationRecord, StationSettings } from '../storage/types.js';

const STATION_DEVICE_ROLES = ['scanner', 'scale', 'printer', 'display'] as const;
const REQUIRED_ROLES = ['scanner', 'scale', 'printer'] as const;

export interface ProvisionedStation {
  stationId: string;
  settings: StationSettings;
  createdAt: number;
  /** The station as it runs, or null while a required device is missing. */
  resolved: StationConfig | null;
  /** Roles still without a device (`scanner`, `scale`, `printer`). */
  missing: string[];
}

export interface Resolution {
  /** Every running station: the config's, then the complete run-time ones. */
  stations: StationConfig[];
  provisioned: ProvisionedStation[];
  bindings: Map<string, DeviceBinding>;
}

/** Why a run-time station cannot be added or removed (the CLI and the API answer with it). */
export function stationSettingsProblem(stationId: string, settings: StationSettings, config: Readonly<Config>): string | null {
  if (!isValidId(stationId)) return `station id ${JSON.stringify(stationId)} must match [A-Za-z0-9_.-]{1,64}`;
  if (config.stations.some((s) => s.id === stationId)) return `station ${stationId} is defined in the config file; change it there`;
  if (config.lines.some((l) => l.id === stationId)) return `${stationId} is a line in the config file`;
  for (const role of STATION_DEVICE_ROLES) {
    const id = settings[role];
    if (id !== undefined && !isValidId(id)) return `${role} ${JSON.stringify(id)} is not a valid device id`;
  }
  if (settings.channel !== undefined && (!Number.isInteger(settings.channel) || settings.channel < 1 || settings.channel > 999)) {
    return 'channel must be an integer 1–999';
  }
  return null;
}

export function resolveStations(config: Readonly<Config>, records: readonly StationRecord[], devices: readonly DeviceRecord[]): Resolution {
  const configIds = new Set(config.stations.map((s) => s.id));
  const byStation = new Map<string, DeviceRecord[]>();
  for (const d of devices) {
    if (d.station === null) continue;
    const list = byStation.get(d.station) ?? [];
    list.push(d);
    byStation.set(d.station, list);
  }
  const provisioned: ProvisionedStation[] = [];
  for (const r of records) {
    if (configIds.has(r.stationId)) continue; // the config file wins
    const own = (byStation.get(r.stationId) ?? []).slice().sort((a, b) => a.deviceId.localeCompare(b.deviceId));
    const pick = (role: (typeof STATION_DEVICE_ROLES)[number]) => r.settings[role] ?? own.find((d) => d.role === role)?.deviceId;
    const missing = REQUIRED_ROLES.filter((role) => pick(role) === undefined);
    let resolved: StationConfig | null = null;
    if (missing.length === 0) {
      const display = pick('display');
      resolved = {
        id: r.stationId,
        scanner: pick('scanner') as string,
        scale: pick('scale') as string,
        printer: pick('printer') as string,
        ...(display === undefined ? {} : { display }),
        channel: r.settings.channel ?? 1,
        verifyItems: r.settings.verifyItems ?? 'always',
        ...(r.settings.labelFormat === undefined ? {} : { labelFormat: r.settings.labelFormat }),
      };
    }
    provisioned.push({ stationId: r.stationId, settings: r.settings, createdAt: r.createdAt, resolved, missing: [...missing] });
  }
  const running = provisioned.flatMap((p) => (p.resolved === null ? [] : [p.resolved]));
  return { stations: [...config.stations, ...running], provisioned, bindings: bindAll(config, running, devices) };
}

/** Bindings of the config (runtime/bindings.ts), extended by registered devices and run-time stations. */
function bindAll(config: Readonly<Config>, running: readonly StationConfig[], devices: readonly DeviceRecord[]): Map<string, DeviceBinding> {
  const out = buildBindings(config);
  for (const d of devices) {
    if (!out.has(d.deviceId) && isRole(d.role)) out.set(d.deviceId, { deviceId: d.deviceId, role: d.role, owner: null });
  }
  for (const s of running) {
    for (const id of [s.scanner, s.scale, s.printer, s.display]) {
      const b = id === undefined ? undefined : out.get(id);
      if (b && b.owner === null) b.owner = { type: 'station', id: s.id };
    }
  }
  const stationIds = new Set([...config.stations.map((s) => s.id), ...running.map((s) => s.id)]);
  const lineIds = new Set(config.lines.map((l) => l.id));
  for (const d of devices) {
    const b = out.get(d.deviceId);
    if (!b || b.owner !== null || d.station === null) continue;
    if (stationIds.has(d.station)) b.owner = { type: 'station', id: d.station };
    else if (lineIds.has(d.station) && d.role === 'conveyor') b.owner = { type: 'line', id: d.station };
  }
  return out;
}

/** Devices that show a station's alerts on `dev/{id}/cmd/display` (docs/mqtt.md §2): its display, its scanner, its PDAs. */
export function displayTargets(station: StationConfig, bindings: ReadonlyMap<string, DeviceBinding>): string[] {
  const out = new Set<string>();
  if (station.display !== undefined) out.add(station.display);
  out.add(station.scanner);
  for (const b of bindings.values()) {
    if (b.owner?.type === 'station' && b.owner.id === station.id && (b.role === 'pda' || b.role === 'display' || b.role === 'scanner')) {
      out.add(b.deviceId);
    }
  }
  return [...out];
}
