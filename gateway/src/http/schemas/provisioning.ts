/** Stations provisioned at run time on the HTTP wire (routes/provisioning.ts). */
import { Type } from '@sinclair/typebox';
import type { ProvisionedStation } from '../../provisioning/stations.js';
import { Id, Nullable } from './common.js';

export const StationPutBody = Type.Object(
  {
    scanner: Type.Optional({ ...Id, description: 'default: the scanner registered with --station for it' }),
    scale: Type.Optional({ ...Id, description: 'default: the scale registered with --station for it' }),
    printer: Type.Optional({ ...Id, description: 'default: the printer registered with --station for it' }),
    display: Type.Optional({ ...Id, description: 'default: the display registered with --station for it, if any' }),
    channel: Type.Optional(Type.Integer({ minimum: 1, maximum: 999, description: 'print channel (default 1)' })),
    verify_items: Type.Optional(Type.Union([Type.Literal('always'), Type.Literal('multi_item'), Type.Literal('never')])),
    label_format: Type.Optional(Type.Union([Type.Literal('zpl'), Type.Literal('tspl')])),
  },
  { additionalProperties: false },
);

export const ProvisionedStationWire = Type.Object({
  station_id: Type.String(),
  running: Type.Boolean({ description: 'true once it has a scanner, a scale and a printer' }),
  missing: Type.Array(Type.String(), { description: 'roles still without a device' }),
  scanner: Nullable(Type.String()),
  scale: Nullable(Type.String()),
  printer: Nullable(Type.String()),
  display: Nullable(Type.String()),
  created_at: Type.Integer(),
});

export const StationRemovedReply = Type.Object({ station_id: Type.String(), removed: Type.Literal(true) });

export const ProvisionedListReply = Type.Object({ stations: Type.Array(ProvisionedStationWire) });

export function provisionedToWire(p: ProvisionedStation) {
  const r = p.resolved;
  return {
    station_id: p.stationId,
    running: r !== null,
    missing: p.missing,
    scanner: r?.scanner ?? p.settings.scanner ?? null,
    scale: r?.scale ?? p.settings.scale ?? null,
    printer: r?.printer ?? p.settings.printer ?? null,
    display: r?.display ?? p.settings.display ?? null,
    created_at: p.createdAt,
  };
}
