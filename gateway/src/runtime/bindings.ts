/**
 * Which station or line each device serves, derived from the config (the source of truth
 * for bindings; the device table only holds credentials).
 */
import type { Config } from '../config/schema.js';

export type { DeviceBinding } from '../station/ports.js';
import type { DeviceBinding } from '../station/ports.js';

/** Owner id of a channel printer bound to no station: its results find their station by job id. */
export const ANY_STATION = '*';

export function buildBindings(c: Readonly<Config>): Map<string, DeviceBinding> {
  const out = new Map<string, DeviceBinding>();
  for (const d of c.devices) out.set(d.id, { deviceId: d.id, role: d.role, owner: null });
  for (const s of c.stations) {
    for (const id of [s.scanner, s.scale, s.printer, s.display]) {
      const b = id === undefined ? undefined : out.get(id);
      if (b) b.owner = { type: 'station', id: s.id };
    }
  }
  for (const l of c.lines) {
    const b = out.get(l.device);
    if (b) b.owner = { type: 'line', id: l.id };
  }
  // Printers of a print channel take labels from any station of the channel; their print
  // results go to whichever station holds the job (StationRuntime.submit looks it up).
  for (const ch of c.printing.channels) {
    for (const id of ch.printers) {
      const b = out.get(id);
      if (b && b.owner === null) b.owner = { type: 'station', id: ANY_STATION };
    }
  }
  // PDAs (and extra scanners) name their station in the device entry.
  for (const d of c.devices) {
    const b = out.get(d.id);
    if (b && b.owner === null && d.station !== undefined && c.stations.some((s) => s.id === d.station)) {
      b.owner = { type: 'station', id: d.station };
    }
  }
  return out;
}
