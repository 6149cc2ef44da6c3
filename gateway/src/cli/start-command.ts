/**
 * `packline start`: run the gateway until SIGINT/SIGTERM. With `--sim`, also generate the
 * simulated floor's devices and run the floor simulator (stations, DWS line, local cloud) as
 * a separate process that connects over real MQTT with the provisioned credentials.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Command } from 'commander';
import { configFromOptions, type GlobalOptions } from '../cli.js';
import { parseConfig } from '../config/load.js';
import type { Config } from '../config/schema.js';
import { Gateway, type GatewayInfo } from '../gateway.js';
import { createLogger } from '../lib/logger.js';
import { withSimulatedFloor } from '../sim/sim-config.js';

/** The package root, found from here whether this runs from the sources or from dist/. */
function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json'))) {
    const up = dirname(dir);
    if (up === dir) throw new Error('package.json not found above start-command');
    dir = up;
  }
  return dir;
}
const repoRoot = packageRoot();

interface StartOptions {
  sim?: boolean;
  simStations?: string;
  simEvery?: string;
}

function banner(info: GatewayInfo, sim: boolean, labelsDir: string): string {
  const lines = [
    '',
    `Packline gateway ${info.gatewayId} is running.`,
    `  HTTP API        ${info.httpUrl}   (OpenAPI: ${info.httpUrl}/docs, metrics: ${info.httpUrl}/metrics)`,
    `  MQTT            ${info.mqttUrl ?? '(external broker)'}`,
    `  MQTT/WebSocket  ${info.wsUrl}`,
    info.mqttTlsPort === null ? '' : `  MQTT/TLS        port ${info.mqttTlsPort}`,
    `  Data            ${info.dataDir}`,
    `  Device secrets  ${info.provisioningFile}   API tokens: ${info.apiTokensFile}`,
    sim ? `  Labels (ZPL)    ${labelsDir}` : '',
    sim ? '  Simulated floor: packing stations, a DWS line and a local cloud are running.' : '',
    '  Stop with Ctrl-C.',
    '',
  ];
  return lines.filter((l) => l !== '').join('\n');
}

function startFloor(info: GatewayInfo, config: Readonly<Config>, labelsDir: string): ChildProcess {
  // The floor's stations and line are the ones the gateway was configured with (sim-config).
  const scenario = {
    stations: config.stations.map((s) => ({ id: s.id, verifyItems: s.verifyItems, parcelEverySeconds: config.sim.parcelEverySeconds })),
    lines: config.lines.map((l) => ({ id: l.id })),
  };
  const args = [
    '--import',
    'tsx',
    join(repoRoot, 'simulators/src/floor/main.ts'),
    '--mqtt',
    info.mqttUrl ?? info.wsUrl,
    '--http',
    info.httpUrl,
    '--provisioning',
    info.provisioningFile,
    '--labels-dir',
    labelsDir,
    '--scenario',
    JSON.stringify(scenario),
  ];
  // The admin token goes by environment, not argv, so it does not show in `ps`.
  return spawn(process.execPath, args, {
    stdio: ['ignore', 'inherit', 'inherit'],
    env: { ...process.env, PACKLINE_ADMIN_TOKEN: info.tokens.admin },
  });
}

export function registerStartCommand(program: Command): void {
  program
    .command('start')
    .description('run the gateway until Ctrl-C / SIGTERM (graceful: in-flight work is finished)')
    .option('--sim', 'also run the simulated floor: stations, a DWS line and a local cloud')
    .option('--sim-stations <n>', 'number of simulated packing stations (default 2)')
    .option('--sim-every <seconds>', 'seconds between parcels per simulated station (default 4)')
    .action(async (opts: StartOptions) => {
      const extra: Record<string, unknown> = {};
      if (opts.sim) extra['sim.enabled'] = true;
      if (opts.simStations !== undefined) extra['sim.stations'] = Number(opts.simStations);
      if (opts.simEvery !== undefined) extra['sim.parcelEverySeconds'] = Number(opts.simEvery);
      const config = parseConfig(withSimulatedFloor(configFromOptions(program.opts<GlobalOptions>(), extra)));
      const logger = createLogger(config.log.level);
      if (config.mqtt.allowAnonymous) {
        logger.warn('mqtt.allowAnonymous is ON: any client can connect WITHOUT credentials and with FULL access. Lab use only.');
      }
      const gateway = new Gateway(config, logger);
      await gateway.start();
      const info = gateway.info();
      const labelsDir = join(info.dataDir, 'labels');
      let floor: ChildProcess | null = null;
      if (config.sim.enabled) {
        mkdirSync(labelsDir, { recursive: true });
        floor = startFloor(info, config, labelsDir);
        floor.on('exit', (code, signal) => {
          if (!stopping) logger.error({ code, signal }, 'simulated floor exited');
        });
      }
      process.stdout.write(`${banner(info, config.sim.enabled, labelsDir)}\n`);

      let stopping = false;
      await new Promise<void>((resolveStop) => {
        const onSignal = (signal: NodeJS.Signals) => {
          if (stopping) {
            logger.warn({ signal }, 'second signal: exiting without waiting');
            process.exit(1);
          }
          stopping = true;
          logger.info({ signal }, 'stopping');
          floor?.kill('SIGTERM');
          gateway
            .stop()
            .catch((err: unknown) => logger.error({ err }, 'stop failed'))
            .finally(() => resolveStop());
        };
        process.once('SIGINT', onSignal);
        process.once('SIGTERM', onSignal);
      });
    });
}
