/**
 * `packline station add|list|remove`: stations provisioned without editing the config file.
 * Like `packline device`, it writes through its own SQLite connection while the gateway runs;
 * the gateway picks the change up within seconds (provisioning/station-provisioning.ts) and
 * opens the station as soon as it has a scanner, a scale and a printer — named here, or the
 * devices registered with `packline device add … --station {id}`.
 */
import { resolve } from 'node:path';
import { type Command, Option } from 'commander';
import { PacklineError } from '../../../contracts/errors.js';
import { configFromOptions, type GlobalOptions } from './options.js';
import type { Config } from '../config/schema.js';
import { resolveStations, stationSettingsProblem } from '../provisioning/stations.js';
import { type AdminDb, openAdminDb } from '../storage/admin-db.js';
import type { StationSettings } from '../storage/types.js';

function withDb<T>(program: Command, fn: (db: AdminDb, config: Readonly<Config>) => T): T {
  const config = configFromOptions(program.opts<GlobalOptions>());
  const db = openAdminDb(resolve(config.dataDir));
  try {
    return fn(db, config);
  } finally {
    db.close();
  }
}

interface AddOptions {
  scanner?: string;
  scale?: string;
  printer?: string;
  display?: string;
  channel?: string;
  verifyItems?: 'always' | 'multi_item' | 'never';
  labelFormat?: 'zpl' | 'tspl';
}

export function registerStationCommands(program: Command): void {
  const station = program.command('station').description('add, list and remove packing stations without editing the config file');

  station
    .command('add <stationId>')
    .description('add (or change) a station; devices not named are those added with `packline device add … --station <stationId>`')
    .option('--scanner <deviceId>', 'its scanner')
    .option('--scale <deviceId>', 'its scale')
    .option('--printer <deviceId>', 'its label printer')
    .option('--display <deviceId>', 'its display, if any')
    .option('--channel <n>', 'print channel (default 1)')
    .addOption(new Option('--verify-items <mode>', 'item verification by scan (default always)').choices(['always', 'multi_item', 'never']))
    .addOption(new Option('--label-format <format>', 'label language').choices(['zpl', 'tspl']))
    .action((stationId: string, opts: AddOptions) => {
      const settings: StationSettings = {
        ...(opts.scanner === undefined ? {} : { scanner: opts.scanner }),
        ...(opts.scale === undefined ? {} : { scale: opts.scale }),
        ...(opts.printer === undefined ? {} : { printer: opts.printer }),
        ...(opts.display === undefined ? {} : { display: opts.display }),
        ...(opts.channel === undefined ? {} : { channel: Number(opts.channel) }),
        ...(opts.verifyItems === undefined ? {} : { verifyItems: opts.verifyItems }),
        ...(opts.labelFormat === undefined ? {} : { labelFormat: opts.labelFormat }),
      };
      const line = withDb(program, (db, config) => {
        const problem = stationSettingsProblem(stationId, settings, config);
        if (problem !== null) throw new PacklineError('PKL_PAYLOAD_INVALID', { reason: problem });
        const existing = db.listStations().find((s) => s.stationId === stationId);
        db.putStation({ stationId, settings, createdAt: existing?.createdAt ?? Date.now() });
        const p = resolveStations(config, db.listStations(), db.listDevices()).provisioned.find((s) => s.stationId === stationId);
        return p?.resolved
          ? `${stationId}\trunning\tscanner=${p.resolved.scanner} scale=${p.resolved.scale} printer=${p.resolved.printer}${p.resolved.display ? ` display=${p.resolved.display}` : ''}`
          : `${stationId}\twaiting for ${p?.missing.join(', ') ?? 'devices'} (packline device add <id> --role <role> --station ${stationId})`;
      });
      process.stdout.write(`${line}\n`);
    });

  station
    .command('list')
    .description('list stations: the config file’s and those added at run time')
    .option('--json', 'print JSON instead of a table')
    .action((opts: { json?: boolean }) => {
      const rows = withDb(program, (db, config) => {
        const r = resolveStations(config, db.listStations(), db.listDevices());
        const fromConfig = config.stations.map((s) => ({
          station: s.id,
          source: 'config',
          state: 'running',
          scanner: s.scanner,
          scale: s.scale,
          printer: s.printer,
          display: s.display ?? null,
        }));
        const runtime = r.provisioned.map((p) => ({
          station: p.stationId,
          source: 'cli/api',
          state: p.resolved ? 'running' : `missing ${p.missing.join(', ')}`,
          scanner: p.resolved?.scanner ?? p.settings.scanner ?? null,
          scale: p.resolved?.scale ?? p.settings.scale ?? null,
          printer: p.resolved?.printer ?? p.settings.printer ?? null,
          display: p.resolved?.display ?? p.settings.display ?? null,
        }));
        return [...fromConfig, ...runtime];
      });
      if (opts.json) {
        process.stdout.write(`${JSON.stringify(rows, null, 2)}\n`);
        return;
      }
      const header = ['STATION', 'SOURCE', 'STATE', 'SCANNER', 'SCALE', 'PRINTER', 'DISPLAY'];
      const cells = rows.map((r) => [r.station, r.source, r.state, r.scanner ?? '-', r.scale ?? '-', r.printer ?? '-', r.display ?? '-']);
      const widths = header.map((h, i) => Math.max(h.length, ...cells.map((c) => (c[i] ?? '').length)));
      for (const c of [header, ...cells]) process.stdout.write(`${c.map((v, i) => v.padEnd(widths[i] ?? 0)).join('  ')}\n`);
    });

  station
    .command('remove <stationId>')
    .description('remove a station added at run time (its devices stay registered)')
    .action((stationId: string) => {
      withDb(program, (db, config) => {
        if (config.stations.some((s) => s.id === stationId)) {
          throw new PacklineError('PKL_PAYLOAD_INVALID', { reason: `station ${stationId} is defined in the config file; remove it there` });
        }
        db.removeStation(stationId);
      });
      process.stdout.write(`removed ${stationId}\n`);
    });
}
