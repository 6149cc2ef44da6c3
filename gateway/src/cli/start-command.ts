/**
 * `packline start`: run the gateway until SIGINT/SIGTERM. With `--sim`, also generate the
 * simulated floor's devices and run the floor simulator (stations, DWS line, local cloud) as
 * a separate process that connects over real MQTT with the provisioned credentials.
 *
 * The simulated floor also gets one station of wire-protocol devices driven by the gateway
 * (sim-config.ts): its serial scale sits on an in-process pseudo-terminal pair and its ZPL printer on
 * a local TCP port. Both are chosen here, before the gateway starts, because the gateway's
 * driver config names them; the floor process then opens the far ends, and the drivers, which
 * retry with backoff, connect a moment later, like devices powered on after the gateway.
 */
import { localRequest } from '../tls/local-request.js';
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Command } from 'commander';
import { configFromOptions, type GlobalOptions } from './options.js';
import { parseConfig } from '../config/load.js';
import type { Config } from '../config/schema.js';
import { Gateway, type GatewayInfo } from '../gateway.js';
import { createLogger } from '../lib/logger.js';
import { removeRunningFile, writeRunningFile } from './running-file.js';
import { ConsoleLines, consoleDestination, type FloorFigures, floorSummary } from './console.js';
import type { Logger } from '../lib/logger.js';
import { DEFAULT_SIM_WIRE_SCALE, SIM_WIRE_STATION_ID, type SimWireStation, simFloorScenario, withSimulatedFloor } from '../sim/sim-config.js';
import { openHandles } from '../lib/open-handles.js';

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
  simWireScale?: string;
}

/** A free TCP port on 127.0.0.1 for the simulated printer (free now; the floor binds it a second later). */
async function freeLocalPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const port = (server.address() as net.AddressInfo).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/**
 * Plans the wire-protocol station, or returns null when it is switched off. Its serial line is a
 * pseudo-terminal pair made in-process (simulators/src/scale/pty-pair.ts), so no system program
 * is needed.
 */
async function planWireStation(scaleDefinition: string, _logger: Logger): Promise<{ wire: SimWireStation; dir: string } | null> {
  if (scaleDefinition === 'none') return null;
  const dir = mkdtempSync(join(tmpdir(), 'packline-sim-'));
  const wire: SimWireStation = {
    scaleDefinition,
    scalePath: join(dir, `${SIM_WIRE_STATION_ID}-scale.driver`),
    indicatorPath: join(dir, `${SIM_WIRE_STATION_ID}-scale.indicator`),
    printerPort: await freeLocalPort(),
  };
  return { wire, dir };
}

function banner(info: GatewayInfo, config: Readonly<Config>, labelsDir: string, wire: SimWireStation | null): string {
  const sim = config.sim.enabled;
  // The local demo's screens open with their token in the URL fragment (it never leaves the
  // browser); a real site hands tokens out from the tokens file instead of printing them.
  const withToken = (url: string, token: string) => (sim ? `${url}#token=${token}` : url);
  const lines = [
    '',
    `Packline gateway ${info.gatewayId} is running.`,
    `  Dashboard       ${withToken(`${info.httpUrl}/ui/dashboard`, info.tokens.admin)}`,
    ...config.stations.map(
      (s, i) =>
        `${i === 0 ? '  Station screens' : '                 '} ${withToken(`${info.httpUrl}/ui/station/${encodeURIComponent(s.id)}`, info.tokens.station)}`,
    ),
    `  Preflight       ${withToken(`${info.httpUrl}/ui/preflight`, info.tokens.admin)}`,
    sim ? '' : `  (screens ask for a token: see ${info.apiTokensFile})`,
    `  HTTP API        ${info.httpUrl}   (OpenAPI: ${info.httpUrl}/docs, metrics: ${info.httpUrl}/metrics)`,
    `  MQTT            ${info.mqttUrl ?? (config.mqtt.external ? '(external broker)' : '(plaintext off: mqtt.plaintext)')}`,
    `  MQTT/WebSocket  ${info.wsUrl}`,
    info.mqttTlsUrl === null ? '' : `  MQTT/TLS        ${info.mqttTlsUrl}`,
    info.caFile === null ? '' : `  Local CA        ${info.caFile}   (devices and station PCs trust this; docs/ui.md, docs/mqtt.md §1)`,
    `  Data            ${info.dataDir}`,
    `  Device secrets  ${info.provisioningFile}   API tokens: ${info.apiTokensFile}`,
    sim ? `  Labels (ZPL)    ${labelsDir}` : '',
    sim ? '  Simulated floor: packing stations, a DWS line and a local cloud are running; a summary line follows every 10 s.' : '',
    wire
      ? `  Wire station    ${SIM_WIRE_STATION_ID}: ${wire.scaleDefinition} scale on ${wire.scalePath}, ZPL printer on 127.0.0.1:${wire.printerPort} (labels in ${join(labelsDir, SIM_WIRE_STATION_ID)})`
      : '',
    '  Stop with Ctrl-C.',
    '',
  ];
  return lines.filter((l) => l !== '').join('\n');
}

function startFloor(info: GatewayInfo, config: Readonly<Config>, labelsDir: string, wire: SimWireStation | null): ChildProcess {
  // The floor's stations and line are the ones the gateway was configured with (sim-config).
  const scenario = simFloorScenario(config, wire);
  const args = [
    '--import',
    'tsx',
    join(repoRoot, 'simulators/src/floor/main.ts'),
    '--mqtt',
    // The simulated devices use MQTT over TLS with the local CA when it listens, as a real
    // device should; NODE_EXTRA_CA_CERTS (below) makes the floor's TLS and HTTPS trust it.
    info.mqttTlsUrl !== null && info.caFile !== null ? info.mqttTlsUrl : (info.mqttUrl ?? info.wsUrl),
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
  // On a terminal its log records are formatted like the gateway's (cli/console.ts).
  const pretty = process.stderr.isTTY === true;
  const proc = spawn(process.execPath, args, {
    stdio: ['ignore', 'inherit', pretty ? 'pipe' : 'inherit'],
    env: { ...process.env, PACKLINE_ADMIN_TOKEN: info.tokens.admin, ...(info.caFile !== null ? { NODE_EXTRA_CA_CERTS: info.caFile } : {}) },
  });
  if (pretty) {
    const lines = new ConsoleLines(process.stderr);
    proc.stderr?.on('data', (b: Buffer) => lines.write(b));
  }
  return proc;
}

/**
 * The simulated floor's cloud order system: the reference cloud (simulators/src/cloud/reference)
 * in its own process, with its database in the data directory and this gateway's key (made
 * once, 0600, in `<dataDir>/sync.key`), so the outbox has somewhere to drain to. The key goes
 * by environment, not argv, so it does not show in `ps`.
 */
async function startSimCloud(config: Readonly<Config>, logger: Logger): Promise<{ proc: ChildProcess; url: string; keyFile: string }> {
  const dataDir = resolve(config.dataDir);
  mkdirSync(dataDir, { recursive: true });
  const keyFile = join(dataDir, 'sync.key');
  if (!existsSync(keyFile)) writeFileSync(keyFile, `${randomBytes(32).toString('base64url')}\n`, { mode: 0o600 });
  const key = readFileSync(keyFile, 'utf8').trim();
  const proc = spawn(
    process.execPath,
    ['--import', 'tsx', join(repoRoot, 'simulators/src/cloud/reference/main.ts'), '--port', '0', '--db', join(dataDir, 'sim-cloud.db'), '--log-level', 'warn'],
    { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, REFCLOUD_GATEWAYS: `${config.gatewayId}:${key}` } },
  );
  const url = await new Promise<string>((resolveUrl, reject) => {
    let out = '';
    // A cloud that never says it is ready is killed, or `packline start` would print the error
    // and then wait for ever on a child that holds its stdout open.
    const timer = setTimeout(() => {
      proc.kill('SIGKILL');
      reject(new Error('the simulated cloud did not start within 60 s'));
    }, 60_000);
    proc.stdout?.on('data', (b: Buffer) => {
      out += b.toString();
      const m = /"url":"([^"]+)"/.exec(out);
      if (m?.[1]) {
        clearTimeout(timer);
        resolveUrl(m[1]);
      }
    });
    proc.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`the simulated cloud exited (${code}) before it was ready`));
    });
  });
  logger.info({ url }, 'simulated cloud order system (reference cloud) is up; cloud sync drains to it');
  return { proc, url, keyFile };
}

/** Seconds between the floor summary lines. */
const SUMMARY_EVERY_S = 10;

/**
 * One line every {@link SUMMARY_EVERY_S} s while the simulated floor runs: parcels shipped,
 * intercepted, held, the sync backlog (GET /api/v1/dashboard, as the wall dashboard reads it).
 */
function startFloorSummary(info: GatewayInfo, logger: Logger): NodeJS.Timeout {
  let before: FloorFigures | null = null;
  const ca = info.caFile === null ? undefined : readFileSync(info.caFile);
  let failing = false;
  const tick = async () => {
    try {
      const res = await localRequest(`${info.httpUrl}/api/v1/dashboard`, {
        headers: { authorization: `Bearer ${info.tokens.admin}` },
        timeoutMs: 5_000,
        ...(ca !== undefined ? { ca } : {}),
      });
      if (!res.ok) throw new Error(`HTTP ${res.status}`);
      const now = res.json<FloorFigures>();
      logger.info(
        {
          shipped: now.throughput.last_hour,
          intercepted: now.throughput.intercepts_last_hour,
          held: now.exceptions.counts['hold'] ?? 0,
          backlog: now.sync.backlog,
        },
        floorSummary(now, before, SUMMARY_EVERY_S),
      );
      before = now;
      failing = false;
    } catch (err) {
      if (!failing) logger.warn({ err: (err as Error).message }, 'floor summary unavailable (dashboard not answering)');
      failing = true;
    }
  };
  const timer = setInterval(() => void tick(), SUMMARY_EVERY_S * 1000);
  timer.unref();
  return timer;
}

/** SIGTERM to the floor process; SIGKILL if it has not exited after `graceMs`. */
async function stopFloor(floor: ChildProcess | null, logger: Logger, graceMs = 20_000): Promise<void> {
  if (floor === null || floor.exitCode !== null || floor.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => floor.once('exit', () => resolve()));
  floor.kill('SIGTERM');
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<'late'>((resolve) => {
    timer = setTimeout(() => resolve('late'), graceMs);
  });
  if ((await Promise.race([exited, late])) === 'late') {
    logger.warn({ graceMs }, 'simulated floor did not stop in time: killing it');
    floor.kill('SIGKILL');
    await exited;
  }
  clearTimeout(timer);
}

/** systemd sends SIGKILL after TimeoutStopSec=30 (docs/packline.service); a stop gets 25 s. */
const STOP_DEADLINE_MS = 25_000;
/** After a clean stop the process should end at once; this long means a handle leaked. */
const EXIT_GRACE_MS = 3_000;

export function registerStartCommand(program: Command): void {
  program
    .command('start')
    .description('run the gateway until Ctrl-C / SIGTERM (graceful: in-flight work is finished)')
    .option('--sim', 'also run the simulated floor: stations, a DWS line and a local cloud')
    .option('--sim-stations <n>', 'number of simulated packing stations (default 2)')
    .option('--sim-every <seconds>', 'seconds between parcels per simulated station (default 4)')
    .option(
      '--sim-wire-scale <model>',
      `scale model of the simulated wire-protocol station (serial scale + ZPL printer driven by the gateway), or "none" (default ${DEFAULT_SIM_WIRE_SCALE})`,
    )
    .action(async (opts: StartOptions) => {
      const extra: Record<string, unknown> = {};
      if (opts.sim) extra['sim.enabled'] = true;
      if (opts.simStations !== undefined) extra['sim.stations'] = Number(opts.simStations);
      if (opts.simEvery !== undefined) extra['sim.parcelEverySeconds'] = Number(opts.simEvery);
      const base = configFromOptions(program.opts<GlobalOptions>(), extra);
      const logger = createLogger(base.log.level, consoleDestination());
      // Only a generated floor gets the wire station (a config with its own stations is left alone).
      const generated = base.sim.enabled && base.stations.length === 0 && base.lines.length === 0;
      const planned = generated ? await planWireStation(opts.simWireScale ?? DEFAULT_SIM_WIRE_SCALE, logger) : null;
      const wire = planned?.wire ?? null;
      const removeWireDir = () => {
        if (planned) rmSync(planned.dir, { recursive: true, force: true });
      };
      // The simulated floor brings its own cloud unless the config names a real one.
      const simCloud = base.sim.enabled && base.sync.url === undefined ? await startSimCloud(base, logger) : null;
      let config: Config;
      try {
        const floorConfig = withSimulatedFloor(base, { wireStation: wire });
        if (simCloud !== null) floorConfig.sync = { ...floorConfig.sync, url: simCloud.url, keyFile: simCloud.keyFile };
        config = parseConfig(floorConfig);
      } catch (err) {
        removeWireDir();
        simCloud?.proc.kill('SIGTERM');
        throw err;
      }
      if (config.mqtt.allowAnonymous) {
        logger.warn('mqtt.allowAnonymous is ON: any client can connect WITHOUT credentials and with FULL access. Lab use only.');
      }
      // Everything the gateway and its children create (database, WAL, label files, keys) is
      // private to its user unless made otherwise on purpose (storage/file-modes.ts).
      process.umask(0o077);
      const gateway = new Gateway(config, logger);
      try {
        await gateway.start();
      } catch (err) {
        removeWireDir();
        simCloud?.proc.kill('SIGTERM');
        throw err;
      }
      const info = gateway.info();
      const labelsDir = join(info.dataDir, 'labels');
      let floor: ChildProcess | null = null;
      if (config.sim.enabled) {
        mkdirSync(labelsDir, { recursive: true, mode: 0o700 });
        floor = startFloor(info, config, labelsDir, wire);
        floor.on('exit', (code, signal) => {
          if (!stopping) logger.error({ code, signal }, 'simulated floor exited');
        });
      }
      process.stdout.write(`${banner(info, config, labelsDir, wire)}\n`);
      if (simCloud !== null) process.stdout.write(`  Cloud (sim)     ${simCloud.url}  (cloud sync: ${info.httpUrl}/api/v1/sync)\n`);

      writeRunningFile(info.dataDir, {
        pid: process.pid,
        started_at: new Date().toISOString(),
        http_url: info.httpUrl,
        sync_url: config.sync.url ?? null,
        sync_source: config.sync.url === undefined ? null : simCloud !== null ? 'simulated' : 'config',
      });
      const summary = config.sim.enabled ? startFloorSummary(info, logger.child({ component: 'floor' })) : null;

      let stopping = false;
      await new Promise<void>((resolveStop) => {
        const onSignal = (signal: NodeJS.Signals) => {
          if (stopping) {
            logger.warn({ signal }, 'second signal: exiting without waiting');
            process.exit(1);
          }
          stopping = true;
          if (summary !== null) clearInterval(summary);
          logger.info({ signal }, 'stopping');
          // The floor first, while the broker still answers: its devices finish the parcel in
          // hand and disconnect cleanly (the gateway's stop waits for connected clients, and a
          // floor whose broker vanished mid-stop never finished), and the wire station's
          // pty pair and printer go away before the drivers that use them.
          stopFloor(floor, logger)
            .then(() => gateway.stop())
            .then(() => stopFloor(simCloud?.proc ?? null, logger, 5_000))
            .catch((err: unknown) => logger.error({ err }, 'stop failed'))
            .finally(() => {
              clearTimeout(deadline);
              removeRunningFile(info.dataDir);
              removeWireDir();
              resolveStop();
            });
          // Bounded in every mode: well inside systemd's TimeoutStopSec (docs/packline.service),
          // a stop that hangs is named and ended rather than waited on.
          const deadline = setTimeout(() => {
            logger.error({ stopping: gateway.stoppingComponent(), handles: openHandles() }, `stop did not finish within ${STOP_DEADLINE_MS} ms; exiting`);
            process.exit(1);
          }, STOP_DEADLINE_MS);
          deadline.unref();
        };
        process.once('SIGINT', onSignal);
        process.once('SIGTERM', onSignal);
      });
      // A clean stop leaves nothing behind and the process ends on its own right after this.
      // If a handle leaked (a timer, a socket of a client that was not ended), name it in the
      // log so it can be fixed, and end anyway: the store is closed, nothing is lost.
      setTimeout(() => {
        logger.warn({ handles: openHandles() }, 'handles still open after stop; exiting anyway');
        process.exit(0);
      }, EXIT_GRACE_MS).unref();
    });
}
