/**
 * Config sane: the schema and cross-field rules again (the running config passed them at
 * start; a check here keeps the report honest if it is ever built another way), then the
 * things that are legal but wrong before a peak: a configured device no station, line or
 * print channel uses, no alert channel, anonymous MQTT, no cloud.
 */
import { PacklineError } from '../../../../contracts/errors.js';
import { parseConfig } from '../../config/load.js';
import type { Config } from '../../config/schema.js';
import type { CheckResult } from '../report.js';

export function checkConfig(config: Readonly<Config>): CheckResult {
  const title = 'Configuration sane';
  try {
    parseConfig(config);
  } catch (err) {
    const reason = err instanceof PacklineError ? String(err.details?.['reason'] ?? err.message) : (err as Error).message;
    return { id: 'config', title, status: 'fail', detail: reason, data: {} };
  }
  const used = new Set<string>();
  for (const s of config.stations) for (const id of [s.scanner, s.scale, s.printer, s.display]) if (id !== undefined) used.add(id);
  for (const l of config.lines) used.add(l.device);
  for (const ch of config.printing.channels) for (const p of ch.printers) used.add(p);
  const unbound = config.devices.filter(
    (d) => !used.has(d.id) && (d.role === 'scanner' || d.role === 'scale' || d.role === 'printer' || d.role === 'conveyor'),
  );
  const warnings: string[] = [];
  if (unbound.length > 0) warnings.push(`devices no station, line or print channel uses: ${unbound.map((d) => `${d.id} (${d.role})`).join(', ')}`);
  if (config.stations.length === 0 && config.lines.length === 0) warnings.push('no stations and no lines configured');
  if (config.notify.channels.length === 0) warnings.push('no alert channels (notify.channels): outages and faults alert nobody');
  if (config.sync.url === undefined) warnings.push('no cloud (sync.url)');
  if (config.mqtt.allowAnonymous) warnings.push('mqtt.allowAnonymous is on: any client has full access');
  const data = { devices: config.devices.length, stations: config.stations.length, lines: config.lines.length, warnings };
  const summary = `${config.devices.length} devices, ${config.stations.length} stations, ${config.lines.length} lines; every station has its scanner, scale and printer`;
  if (warnings.length === 0) return { id: 'config', title, status: 'pass', detail: summary, data };
  return { id: 'config', title, status: 'warn', detail: `${summary}\n${warnings.join('\n')}`, data };
}
