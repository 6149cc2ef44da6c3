/**
 * The simulated floor's devices, stations and line, generated from `sim.*` when the config
 * names none of its own (the zero-config `npm start`). Device ids follow the floor
 * simulator's convention: `st-1-scanner`, `st-1-scale`, `st-1-printer`, `st-1-display`,
 * `line-1-dws`.
 */
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

export function withSimulatedFloor(c: Readonly<Config>): Config {
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
  return out;
}
