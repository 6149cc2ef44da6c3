/**
 * Run-time stations over the HTTP API (`POST /api/v1/stations`, `DELETE …/{id}`): the same
 * units the CLI writes (storage/admin-db.ts), through the gateway's store, followed by an
 * immediate refresh so the station runs before the answer goes out.
 */
import { PacklineError } from '../../../contracts/errors.js';
import type { Config } from '../config/schema.js';
import { stationDeleteOps, stationPutOps } from '../storage/admin-db.js';
import type { StationSettings, Store } from '../storage/types.js';
import { type ProvisionedStation, stationSettingsProblem } from './stations.js';

export interface StationProvisioningService {
  list(): ProvisionedStation[];
  /** Adds or replaces a run-time station; PKL_PAYLOAD_INVALID for a bad id or setting. */
  put(stationId: string, settings: StationSettings): Promise<ProvisionedStation>;
  /** PKL_STATION_UNKNOWN when no run-time station has this id. */
  remove(stationId: string): Promise<void>;
}

export function provisioningService(deps: {
  config: Readonly<Config>;
  store: Pick<Store, 'write' | 'listStations'>;
  refresh: () => Promise<void>;
  list: () => ProvisionedStation[];
}): StationProvisioningService {
  return {
    list: deps.list,
    async put(stationId, settings) {
      const problem = stationSettingsProblem(stationId, settings, deps.config);
      if (problem !== null) throw new PacklineError('PKL_PAYLOAD_INVALID', { reason: problem });
      const existing = deps.store.listStations().find((s) => s.stationId === stationId);
      await deps.store.write(stationPutOps({ stationId, settings, createdAt: existing?.createdAt ?? Date.now() }));
      await deps.refresh();
      const entry = deps.list().find((s) => s.stationId === stationId);
      if (entry === undefined) throw new PacklineError('PKL_STATION_UNKNOWN', { stationId });
      return entry;
    },
    async remove(stationId) {
      await deps.store.write(stationDeleteOps(stationId));
      await deps.refresh();
    },
  };
}
