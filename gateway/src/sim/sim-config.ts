/**
 * The simulated floor's devices, stations and line, generated from `sim.*` when the config
 * names none of its own (the zero-config `npm start`). Device ids follow the floor
 * simulator's convention: `st-1-scanner`, `st-1-scale`, `st-1-printer`, `st-1-display`,
 * `line-1-dws`.
 *
 * Optionally one more station, `st-wire-1`, whose scale and printer are wire-protocol devices
 * the gateway drives itself, configured through `devices[].driver` exactly as on a real site:
 * a serial scale on a pseudo-terminal and a ZPL printer on raw TCP. The floor simulator
 * plays the devices on the far end of those wires ({@link simFloorScenario}).
 */
import { PacklineError } from '../../../contracts/errors.js';
import { findScaleDefinition } from '../../../device-drivers/src/scale/index.js';
import type { Config } from '../config/schema.js';

/** Carriers the simulated cloud assigns waybills from, and the chute each line sorts them to. */
export const SIM_CARRIER_CHUTES: Readonly<Record<string, string>> = {
  ZTO: 'C01',
  YTO: 'C02',
  STO: 'C03',
  YUNDA: 'C04',
  SF: 'C05',
  JD: 'C06',
  EMS: 'C07',
};

/** Scale model of the wire-protocol station unless another is chosen (`packline start --sim-wire-scale`). */
export const DEFAULT_SIM_WIRE_SCALE = 'mettler-toledo-8217';
export const SIM_WIRE_STATION_ID = 'st-wire-1';
/**
 * The simulated picker's PDA (docs/picking.md): it picks waves of one shop's orders, and the
 * last MQTT packing station packs what it picked. Added when the floor has at least two MQTT
 * stations (the first one works post-print batches).
 */
export const SIM_PICKER_ID = 'pda-1';
/** The wire station's printer model: the floor's ZPL printer simulator answers like a Zebra. */
const SIM_WIRE_PRINTER = 'zebra-zd420';

/** Where the wire-protocol station's devices are: both ends must be known before the gateway starts. */
export interface SimWireStation {
  /** Serial scale model (device-drivers/src/scale/models/), e.g. mettler-toledo-8217. */
  readonly scaleDefinition: string;
  /** The pty link the gateway's scale driver opens. */
  readonly scalePath: string;
  /** The other end of the pty pair, where the floor's simulated indicator sits. */
  readonly indicatorPath: string;
  /** 127.0.0.1 port of the floor's ZPL printer simulator. */
  readonly printerPort: number;
}

export interface SimFloorOptions {
  /** Add the wire-protocol station (null/absent: only MQTT-native stations). */
  readonly wireStation?: SimWireStation | null;
}

function wireScaleDefinition(id: string) {
  const definition = findScaleDefinition(id);
  if (definition === undefined || definition.transport !== 'serial' || definition.serial === undefined) {
    throw new PacklineError('PKL_CONFIG_INVALID', { reason: `simulated wire station: "${id}" is not a serial scale model (see docs/devices/scales.md)` });
  }
  return definition;
}

export function withSimulatedFloor(c: Readonly<Config>, options: SimFloorOptions = {}): Config {
  const out = structuredClone(c) as Config;
  if (!out.sim.enabled || out.stations.length > 0 || out.lines.length > 0) return out;
  for (let i = 1; i <= out.sim.stations; i++) {
    const st = `st-${i}`;
    out.devices.push(
      { id: `${st}-scanner`, role: 'scanner', station: st, model: 'sim-mqtt-scanner' },
      { id: `${st}-scale`, role: 'scale', station: st, model: 'sim-mqtt-scale' },
      { id: `${st}-printer`, role: 'printer', station: st, model: 'sim-zpl-printer' },
      { id: `${st}-display`, role: 'display', station: st, model: 'sim-display' },
    );
    out.stations.push({
      id: st,
      scanner: `${st}-scanner`,
      scale: `${st}-scale`,
      printer: `${st}-printer`,
      display: `${st}-display`,
      channel: 1,
      verifyItems: 'always',
    });
  }
  if (out.sim.stations >= 2) out.devices.push({ id: SIM_PICKER_ID, role: 'pda', model: 'sim-pda' });
  for (let j = 1; j <= out.sim.lines; j++) {
    const line = `line-${j}`;
    out.devices.push({ id: `${line}-dws`, role: 'conveyor', station: line, model: 'sim-dws' });
    out.lines.push({
      id: line,
      device: `${line}-dws`,
      chutes: { ...SIM_CARRIER_CHUTES },
      exceptionChute: 'EXC',
      defaultChute: 'DEFAULT',
      checkWeight: true,
    });
  }
  const wire = options.wireStation;
  if (wire) {
    const definition = wireScaleDefinition(wire.scaleDefinition);
    const st = SIM_WIRE_STATION_ID;
    out.devices.push(
      { id: `${st}-scanner`, role: 'scanner', station: st, model: 'sim-mqtt-scanner' },
      {
        id: `${st}-scale`,
        role: 'scale',
        station: st,
        model: definition.id,
        driver: { kind: 'scale', definition: definition.id, link: { type: 'serial', path: wire.scalePath } },
      },
      {
        id: `${st}-printer`,
        role: 'printer',
        station: st,
        model: SIM_WIRE_PRINTER,
        driver: { kind: 'printer', definition: SIM_WIRE_PRINTER, host: '127.0.0.1', port: wire.printerPort },
      },
      { id: `${st}-display`, role: 'display', station: st, model: 'sim-display' },
    );
    out.stations.push({
      id: st,
      scanner: `${st}-scanner`,
      scale: `${st}-scale`,
      printer: `${st}-printer`,
      display: `${st}-display`,
      channel: 1,
      verifyItems: 'always',
    });
  }
  return out;
}

/**
 * The floor simulator's scenario for a config made by {@link withSimulatedFloor}: its MQTT
 * stations and lines, and the wire station with the far ends of the wires its drivers use
 * (the indicator speaks the protocol of the configured scale definition).
 */
export function simFloorScenario(config: Readonly<Config>, wire?: SimWireStation | null): Record<string, unknown> {
  const wireStation = wire ? config.stations.find((s) => s.id === SIM_WIRE_STATION_ID) : undefined;
  const every = config.sim.parcelEverySeconds;
  const scenario: Record<string, unknown> = {
    // The first station works post-print batches (docs/packing-modes.md); the others order by order.
    stations: config.stations
      .filter((s) => s !== wireStation)
      .map((s, i) => ({ id: s.id, verifyItems: s.verifyItems, parcelEverySeconds: every, ...(i === 0 ? { postprint: true } : {}) })),
    lines: config.lines.map((l) => ({ id: l.id })),
    // A third of the orders are one unit of a promoted best seller, so the post-print station
    // has same-SKU batches to work, as at a Double-11 peak.
    cloud: { hotSkuShare: 0.35 },
  };
  // The picker packs at the last order-by-order MQTT station (not the post-print one).
  const mqttStations = config.stations.filter((s) => s !== wireStation);
  const packAt = mqttStations.length >= 2 ? mqttStations[mqttStations.length - 1] : undefined;
  if (packAt !== undefined && config.devices.some((d) => d.id === SIM_PICKER_ID && d.role === 'pda')) {
    scenario['pickers'] = [{ id: SIM_PICKER_ID, packAt: packAt.id, waveEverySeconds: Math.max(1, every) }];
  }
  if (wire && wireStation) {
    const definition = wireScaleDefinition(wire.scaleDefinition);
    scenario['wireStations'] = [
      {
        id: wireStation.id,
        verifyItems: wireStation.verifyItems,
        parcelEverySeconds: every,
        scale: {
          protocol: definition.protocol,
          ...(definition.options === undefined ? {} : { options: definition.options }),
          ...(definition.serial === undefined ? {} : { line: definition.serial }),
          driverPath: wire.scalePath,
          devicePath: wire.indicatorPath,
        },
        printer: { port: wire.printerPort },
      },
    ];
  }
  return scenario;
}
