/**
 * A small synchronous opener for the CLI (`packline device add|list|remove`): its own
 * connection to the same database, usable while the gateway runs. SQLite serialises the two
 * writers (busy_timeout); the CLI's changes go through the same UnitApplier as the gateway's,
 * so they get gap-free seqs and HLC stamps in the same event log, and the running gateway sees
 * them at its next read.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { PacklineError } from '../../../contracts/errors.js';
import { configureWriterConnection, migrate } from './schema.js';
import { toStoreError } from './sqlite-errors.js';
import { DB_FILE } from './sqlite-store.js';
import { StoreReader } from './store-reader.js';
import type { DeviceRecord, StationRecord, SupervisorRecord, SupervisorSummary, WriteOp, WriteResult } from './types.js';
import { META_BOOT, UnitApplier } from './unit-applier.js';

export interface AdminDb {
  getDevice(deviceId: string): DeviceRecord | null;
  listDevices(): DeviceRecord[];
  /** Adds or replaces a device and logs `device.registered` (without the secret hash). */
  putDevice(device: DeviceRecord): WriteResult;
  /** Removes a device and logs `device.removed`; PKL_DEVICE_UNKNOWN if there is none. */
  removeDevice(deviceId: string): WriteResult;
  listStations(): StationRecord[];
  /** Adds or replaces a run-time station and logs `station.provisioned`. */
  putStation(station: StationRecord): WriteResult;
  /** Removes a run-time station and logs `station.removed`; PKL_STATION_UNKNOWN if there is none. */
  removeStation(stationId: string): WriteResult;
  getSupervisor(name: string): SupervisorRecord | null;
  listSupervisors(): SupervisorSummary[];
  /**
   * Adds a supervisor or changes their password; logs `supervisor.added` or
   * `supervisor.password_changed` (never the hash).
   */
  putSupervisor(supervisor: SupervisorRecord): WriteResult;
  /** Removes a supervisor and logs `supervisor.removed`; PKL_NOT_FOUND if there is none. */
  removeSupervisor(name: string): WriteResult;
  /** Applies any unit atomically and durably (same rules as Store.write), synchronously. */
  write(ops: WriteOp[]): WriteResult;
  getMeta(key: string): string | null;
  /** Read side for the CLI (`packline sync …`, `packline print exceptions`). */
  readonly reader: Pick<StoreReader, 'syncFailures' | 'getSyncFailure' | 'openSyncFailureCount' | 'lastSeq' | 'waybillCoverage' | 'printExceptions'>;
  close(): void;
}

export function openAdminDb(dataDir: string): AdminDb {
  mkdirSync(dataDir, { recursive: true });
  const db = new Database(join(dataDir, DB_FILE));
  try {
    configureWriterConnection(db);
    migrate(db);
  } catch (err) {
    db.close();
    throw toStoreError(err, { dataDir });
  }
  const reader = new StoreReader(db);
  const applier = new UnitApplier(db, dataDir);

  const write = (ops: WriteOp[]): WriteResult => {
    try {
      return db
        .transaction(() => {
          applier.syncClock();
          // Stamped with the gateway's current boot: the CLI is not a boot of its own.
          const boot = Number(applier.readMeta(META_BOOT) ?? '0');
          const { events, folded: _folded, ...result } = applier.apply(ops, { boot, clockUnsynced: false });
          if (events > 0) applier.persistClock();
          return result;
        })
        .immediate();
    } catch (err) {
      throw err instanceof PacklineError ? err : toStoreError(err, { dataDir });
    }
  };

  return {
    getDevice: (id) => reader.getDevice(id),
    listDevices: () => reader.listDevices(),
    putDevice: (device) =>
      write([
        { op: 'device.put', device },
        {
          op: 'event',
          type: 'device.registered',
          subject: `device:${device.deviceId}`,
          data: { role: device.role, station: device.station, model: device.model, rotatedAt: device.rotatedAt },
        },
      ]),
    removeDevice: (deviceId) =>
      write([
        { op: 'device.delete', deviceId },
        { op: 'event', type: 'device.removed', subject: `device:${deviceId}`, data: {} },
      ]),
    listStations: () => reader.listStations(),
    putStation: (station) => write(stationPutOps(station)),
    removeStation: (stationId) => write(stationDeleteOps(stationId)),
    getSupervisor: (name) => reader.getSupervisor(name),
    listSupervisors: () => reader.listSupervisors(),
    putSupervisor: (supervisor) => {
      const changed = reader.getSupervisor(supervisor.name) !== null;
      return write([
        { op: 'supervisor.put', supervisor },
        {
          op: 'event',
          type: changed ? 'supervisor.password_changed' : 'supervisor.added',
          subject: `supervisor:${supervisor.name}`,
          data: { rotated_at: supervisor.rotatedAt },
        },
      ]);
    },
    removeSupervisor: (name) =>
      write([
        { op: 'supervisor.delete', name },
        { op: 'event', type: 'supervisor.removed', subject: `supervisor:${name}`, data: {} },
      ]),
    write,
    getMeta: (key) => reader.getMeta(key),
    reader,
    close: () => db.close(),
  };
}

/** The unit that adds or changes a run-time station (CLI and HTTP API alike). */
export function stationPutOps(station: StationRecord): WriteOp[] {
  return [
    { op: 'station.put', station },
    { op: 'event', type: 'station.provisioned', subject: `station:${station.stationId}`, data: { ...station.settings } },
  ];
}

/** The unit that removes a run-time station. */
export function stationDeleteOps(stationId: string): WriteOp[] {
  return [
    { op: 'station.delete', stationId },
    { op: 'event', type: 'station.removed', subject: `station:${stationId}`, data: {} },
  ];
}
