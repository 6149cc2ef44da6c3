/** Station list, live view and the manual-scan fallback for a station whose scanner failed. */
import { PacklineError } from '../../../../contracts/errors.js';
import type { ReprintGuard } from '../../printing/reprint-guard.js';
import { requireSupervisor } from '../supervisor-check.js';
import type { HttpDeps } from '../deps.js';
import { sendWireError } from '../errors.js';
import { bearer, errorResponses } from '../schemas/common.js';
import {
  ManualScanBody,
  ManualScanReply,
  OverrideBody,
  ReleaseBody,
  StationListReply,
  StationParams,
  StationView,
  stationSummaryToWire,
} from '../schemas/stations.js';
import type { App } from '../type-provider.js';

export function registerStationRoutes(app: App, deps: HttpDeps, guard: ReprintGuard): void {
  app.get(
    '/api/v1/stations',
    {
      config: { auth: 'read', station: 'any' },
      schema: {
        tags: ['stations'],
        summary: 'Every station with its state and devices',
        security: bearer,
        response: { 200: StationListReply, ...errorResponses },
      },
    },
    async () => ({ stations: deps.stations.list().map(stationSummaryToWire) }),
  );

  app.get(
    '/api/v1/stations/:stationId',
    {
      config: { auth: 'read', station: 'param' },
      schema: {
        tags: ['stations'],
        summary: "A station's current view (same snapshot as MQTT station/{id}/view)",
        security: bearer,
        params: StationParams,
        response: { 200: StationView, ...errorResponses },
      },
    },
    async (request) => {
      const { stationId } = request.params;
      const view = deps.stations.view(stationId);
      if (view === null) throw new PacklineError('PKL_STATION_UNKNOWN', { stationId });
      return view;
    },
  );

  app.post(
    '/api/v1/stations/:stationId/scan',
    {
      config: { auth: 'scan', station: 'param' },
      schema: {
        tags: ['stations'],
        summary: 'Feed a code into a station as if its scanner read it (scanner failed)',
        description:
          'A refusal of the scan itself (wrong item, intercepted order, …) answers with that error ' +
          "code and the catalogue's status (mostly 409); the station shows the same alert.",
        security: bearer,
        params: StationParams,
        body: ManualScanBody,
        response: { 200: ManualScanReply, ...errorResponses },
      },
    },
    async (request, reply) => {
      const { stationId } = request.params;
      if (deps.stations.view(stationId) === null) throw new PacklineError('PKL_STATION_UNKNOWN', { stationId });
      const { code, operator } = request.body;
      const result = await deps.stations.manualScan(stationId, code, operator);
      request.log.info({ stationId, operator, ok: result.ok }, 'manual scan');
      if (!result.ok) return sendWireError(reply, result.error);
      return { view: result.view };
    },
  );

  app.post(
    '/api/v1/stations/:stationId/override',
    {
      config: { auth: 'admin' },
      schema: {
        tags: ['stations'],
        summary: "Supervisor release of the station's held shipment (weight outside tolerance)",
        description:
          'Audited: the release event carries the supervisor and the note. Nothing held → 409 ' +
          'PKL_SHIPMENT_STATE. Needs the admin token; at the station itself, use `/release` with the ' +
          "supervisor's password.",
        security: bearer,
        params: StationParams,
        body: OverrideBody,
        response: { 200: ManualScanReply, ...errorResponses },
      },
    },
    async (request, reply) => {
      const { stationId } = request.params;
      if (deps.stations.view(stationId) === null) throw new PacklineError('PKL_STATION_UNKNOWN', { stationId });
      const { supervisor, note } = request.body;
      const result = await deps.stations.override(stationId, supervisor, note);
      request.log.info({ stationId, supervisor, ok: result.ok }, 'supervisor override');
      if (!result.ok) return sendWireError(reply, result.error);
      return { view: result.view };
    },
  );

  app.post(
    '/api/v1/stations/:stationId/release',
    {
      config: { auth: 'scan', station: 'param' },
      schema: {
        tags: ['stations'],
        summary: "Release the station's held shipment at the station, authorised by a supervisor's password",
        description:
          "The station screen's release: the station token plus the supervisor's name and password " +
          '(the same guard and lockout as reprints: 403 PKL_SUPERVISOR_PASSWORD_WRONG, 429 ' +
          'PKL_REPRINT_LOCKED). Audited like `/override`. Nothing held → 409 PKL_SHIPMENT_STATE.',
        security: bearer,
        params: StationParams,
        body: ReleaseBody,
        response: { 200: ManualScanReply, ...errorResponses },
      },
    },
    async (request, reply) => {
      const { stationId } = request.params;
      if (deps.stations.view(stationId) === null) throw new PacklineError('PKL_STATION_UNKNOWN', { stationId });
      const { supervisor, password, note } = request.body;
      await requireSupervisor(guard, request, reply, { supervisor, password }, { action: 'release', stationId }, stationId);
      const result = await deps.stations.override(stationId, supervisor, note);
      request.log.info({ audit: 'release', stationId, supervisor, ok: result.ok }, 'supervisor release at the station');
      if (!result.ok) return sendWireError(reply, result.error);
      return { view: result.view };
    },
  );
}
