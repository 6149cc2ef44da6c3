/**
 * Device credentials for the simulated devices: username = device id, password = secret.
 *
 * The gateway writes them to `<dataDir>/provisioning.json`. The reader accepts
 *   { "devices": { "<id>": { "secret": "...", "role": "...", "station": "..." } } }
 *   { "devices": [ { "id": "<id>", "secret": "...", "role": "...", "station": "..." } ] }
 *   { "<id>": "secret" }   and   { "<id>": { "secret": "..." } }
 * (`password` is accepted for `secret`), so the simulators keep working while the
 * provisioning format settles. Anything else is PKL_CONFIG_INVALID.
 */
import { readFileSync } from 'node:fs';
import { PacklineError } from '../../../contracts/errors.js';
import { isValidId } from '../../../contracts/topics.js';

export interface DeviceCredential {
  deviceId: string;
  secret: string;
  role?: string;
  station?: string;
}

export type CredentialBook = ReadonlyMap<string, DeviceCredential>;

/** What callers may hand in: a path to provisioning.json, its parsed JSON, or a ready book. */
export type CredentialsInput = string | CredentialBook | Record<string, unknown> | readonly DeviceCredential[];

function invalid(reason: string): PacklineError {
  return new PacklineError('PKL_CONFIG_INVALID', { reason: `provisioning: ${reason}` });
}

function entryFrom(id: string, value: unknown): DeviceCredential {
  if (!isValidId(id)) throw invalid(`device id "${id}" is not a valid id`);
  if (typeof value === 'string') {
    if (value.length === 0) throw invalid(`device ${id} has an empty secret`);
    return { deviceId: id, secret: value };
  }
  if (value === null || typeof value !== 'object') throw invalid(`device ${id} must be a secret string or an object`);
  const v = value as Record<string, unknown>;
  const secret = v['secret'] ?? v['password'];
  if (typeof secret !== 'string' || secret.length === 0) throw invalid(`device ${id} has no "secret"`);
  const cred: DeviceCredential = { deviceId: id, secret };
  if (typeof v['role'] === 'string') cred.role = v['role'];
  if (typeof v['station'] === 'string') cred.station = v['station'];
  return cred;
}

/** Parses any accepted provisioning shape into a credential book. */
export function parseProvisioning(json: unknown): Map<string, DeviceCredential> {
  const book = new Map<string, DeviceCredential>();
  const add = (c: DeviceCredential) => book.set(c.deviceId, c);
  if (Array.isArray(json)) {
    for (const item of json) {
      const o = item as Record<string, unknown> | null;
      const id = o?.['deviceId'] ?? o?.['id'];
      if (typeof id !== 'string') throw invalid('every list entry needs "id"');
      add(entryFrom(id, o));
    }
    return book;
  }
  if (json === null || typeof json !== 'object') throw invalid('expected a JSON object');
  const root = json as Record<string, unknown>;
  const devices = root['devices'];
  if (devices !== undefined && typeof devices === 'object' && devices !== null) return parseProvisioning(devices);
  for (const [id, value] of Object.entries(root)) add(entryFrom(id, value));
  return book;
}

export function readProvisioningFile(path: string): Map<string, DeviceCredential> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw invalid(`cannot read ${path}: ${(err as Error).message}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw invalid(`${path} is not valid JSON`);
  }
  return parseProvisioning(json);
}

export function toCredentialBook(input: CredentialsInput): CredentialBook {
  if (typeof input === 'string') return readProvisioningFile(input);
  if (input instanceof Map) return input;
  return parseProvisioning(input);
}

export function requireCredential(book: CredentialBook, deviceId: string): DeviceCredential {
  const c = book.get(deviceId);
  if (!c) throw invalid(`no credentials for device ${deviceId}`);
  return c;
}

/** The device of `role` bound to `station`, or undefined (first by id when several match). */
export function findByStationRole(book: CredentialBook, station: string, role: string): DeviceCredential | undefined {
  return [...book.values()].filter((c) => c.station === station && c.role === role).sort((a, b) => a.deviceId.localeCompare(b.deviceId))[0];
}

export interface StationDevices {
  stationId: string;
  scanner: DeviceCredential;
  scale: DeviceCredential;
  printer: DeviceCredential;
  display?: DeviceCredential;
}

/** Every station that has a scanner, a scale and a printer in the book, sorted by id. */
export function stationsFromCredentials(book: CredentialBook): StationDevices[] {
  const ids = new Set([...book.values()].map((c) => c.station).filter((s): s is string => s !== undefined));
  const out: StationDevices[] = [];
  for (const stationId of [...ids].sort()) {
    const scanner = findByStationRole(book, stationId, 'scanner');
    const scale = findByStationRole(book, stationId, 'scale');
    const printer = findByStationRole(book, stationId, 'printer');
    if (!scanner || !scale || !printer) continue;
    const s: StationDevices = { stationId, scanner, scale, printer };
    const display = findByStationRole(book, stationId, 'display');
    if (display) s.display = display;
    out.push(s);
  }
  return out;
}
