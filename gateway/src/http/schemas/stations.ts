/** Stations on the HTTP wire. The view itself is the MQTT contract's StationView. */
import { Type } from '@sinclair/typebox';
import { StationView } from '../../../../contracts/payloads.js';
import type { StationDeviceStatus, StationSummary } from '../deps.js';
import { Barcode, Id, Nullable } from './common.js';

const DeviceStatusWire = Type.Object({ device_id: Type.String(), online: Type.Boolean() });

export const StationSummaryWire = Type.Object({
  station_id: Type.String(),
  state: Type.String(),
  shipment_id: Nullable(Type.String()),
  devices: Type.Object({
    scanner: DeviceStatusWire,
    scale: DeviceStatusWire,
    printer: DeviceStatusWire,
    display: Type.Optional(DeviceStatusWire),
  }),
});

export const StationListReply = Type.Object({ stations: Type.Array(StationSummaryWire) });

export const StationParams = Type.Object({ stationId: Id });

export const ManualScanBody = Type.Object(
  {
    code: Barcode,
    operator: Type.Optional(Type.String({ minLength: 1, maxLength: 64, description: 'who typed or scanned it' })),
  },
  { additionalProperties: false },
);

export const ManualScanReply = Type.Object({ view: StationView });

export const OverrideBody = Type.Object(
  {
    supervisor: Type.String({ minLength: 1, maxLength: 64, description: 'who releases the hold (audited)' }),
    note: Type.Optional(Type.String({ maxLength: 200, description: 'why, for the audit trail' })),
  },
  { additionalProperties: false },
);

export const ReleaseBody = Type.Object(
  {
    supervisor: Type.String({ minLength: 1, maxLength: 64, description: 'who releases the hold (audited)' }),
    password: Type.String({ minLength: 1, maxLength: 256, description: "the supervisor's password (never logged)" }),
    note: Type.Optional(Type.String({ maxLength: 200, description: 'why, for the audit trail' })),
  },
  { additionalProperties: false },
);

export { StationView };

const device = (d: StationDeviceStatus) => ({ device_id: d.deviceId, online: d.online });

export function stationSummaryToWire(s: StationSummary) {
  return {
    station_id: s.stationId,
    state: s.state,
    shipment_id: s.shipmentId,
    devices: {
      scanner: device(s.devices.scanner),
      scale: device(s.devices.scale),
      printer: device(s.devices.printer),
      ...(s.devices.display !== undefined && { display: device(s.devices.display) }),
    },
  };
}
