/**
 * Stations provisioned at run time: the HTTP twin of `packline station add|list|remove`
 * (docs/http.md). Effective at once, without a restart; admin token only.
 */
import { PacklineError } from '../../../../contracts/errors.js';
import type { StationSettings } from '../../storage/types.js';
import type { HttpDeps } from '../deps.js';
import { bearer, errorResponses } from '../schemas/common.js';
import { ProvisionedListReply, ProvisionedStationWire, provisionedToWire, StationPutBody, StationRemovedReply } from '../schemas/provisioning.js';
import { StationParams } from '../schemas/stations.js';
import type { App } from '../type-provider.js';

export function registerProvisioningRoutes(app: App, deps: HttpDeps): void {
  const service = () => {
    if (deps.provisioning === undefined) throw new PacklineError('PKL_NOT_FOUND', { what: 'station provisioning' });
    return deps.provisioning;
  };

  app.get(
    '/api/v1/provisioned-stations',
    {
      config: { auth: 'admin' },
      schema: {
        tags: ['stations'],
        summary: 'Stations added at run time, with the devices they resolved to or what is missing',
        security: bearer,
        response: { 200: ProvisionedListReply, ...errorResponses },
      },
    },
    async () => ({ stations: service().list().map(provisionedToWire) }),
  );

  app.put(
    '/api/v1/provisioned-stations/:stationId',
    {
      config: { auth: 'admin' },
      schema: {
        tags: ['stations'],
        summary: 'Add (or change) a station without editing the config file',
        description:
          'Devices not named are the ones registered for the station (`packline device add --station`). ' +
          'The station runs, and appears in GET /api/v1/stations, as soon as it has a scanner, a scale ' +
          'and a printer; no restart. A station of the config file cannot be changed here ' +
          '(400 PKL_PAYLOAD_INVALID).',
        security: bearer,
        params: StationParams,
        body: StationPutBody,
        response: { 200: ProvisionedStationWire, ...errorResponses },
      },
    },
    async (request) => {
      const { stationId } = request.params;
      const b = request.body;
      const settings: StationSettings = {
        ...(b.scanner === undefined ? {} : { scanner: b.scanner }),
        ...(b.scale === undefined ? {} : { scale: b.scale }),
        ...(b.printer === undefined ? {} : { printer: b.printer }),
        ...(b.display === undefined ? {} : { display: b.display }),
        ...(b.channel === undefined ? {} : { channel: b.channel }),
        ...(b.verify_items === undefined ? {} : { verifyItems: b.verify_items }),
        ...(b.label_format === undefined ? {} : { labelFormat: b.label_format }),
      };
      const entry = await service().put(stationId, settings);
      request.log.info({ audit: 'station.provisioned', stationId, running: entry.resolved !== null }, 'station provisioned');
      return provisionedToWire(entry);
    },
  );

  app.delete(
    '/api/v1/provisioned-stations/:stationId',
    {
      config: { auth: 'admin' },
      schema: {
        tags: ['stations'],
        summary: 'Remove a station added at run time (its devices stay registered)',
        security: bearer,
        params: StationParams,
        response: { 200: StationRemovedReply, ...errorResponses },
      },
    },
    async (request) => {
      const { stationId } = request.params;
      await service().remove(stationId);
      request.log.info({ audit: 'station.removed', stationId }, 'station removed');
      return { station_id: stationId, removed: true as const };
    },
  );
}
