/**
 * Runs the simulated floor as its own process (for `npm start --sim` and the benchmarks):
 *
 *   node --import tsx simulators/src/floor/main.ts \
 *     --mqtt mqtt://127.0.0.1:1883 --http http://127.0.0.1:8080 --token <admin token> \
 *     --provisioning data/provisioning.json --labels-dir data/labels [--scenario file.json|'{...}'] \
 *     [--duration 60] [--stats-every 10] [--log-level info]
 *
 * Every option has an environment fallback (PACKLINE_MQTT_URL, PACKLINE_HTTP_URL,
 * PACKLINE_ADMIN_TOKEN / PACKLINE_ADMIN_TOKEN_FILE, PACKLINE_PROVISIONING,
 * PACKLINE_LABELS_DIR, PACKLINE_SCENARIO). Runs until SIGINT/SIGTERM or `--duration`
 * seconds, then prints the floor stats as one JSON line on stdout. Logs go to stderr.
 */
import { Command } from 'commander';
import { adminToken, fail, jsonArg, pick, positiveNumber, required, stderrLogger } from '../lib/cli.js';
import { sleep } from '../lib/time.js';
import { startFloor } from './floor.js';

async function main(): Promise<void> {
  const program = new Command('packline-floor-sim')
    .description('Simulated warehouse floor: cloud orders, packing stations and DWS lines on real MQTT')
    .option('--mqtt <url>', 'broker URL (mqtt:// or ws://…/mqtt)')
    .option('--http <url>', 'gateway HTTP base URL')
    .option('--token <token>', 'gateway admin API token')
    .option('--token-file <path>', 'file holding the admin token')
    .option('--provisioning <path>', 'provisioning.json with device secrets')
    .option('--labels-dir <dir>', 'where printers write <job_id>.zpl')
    .option('--scenario <file|json>', 'scenario JSON (file path or inline)')
    .option('--duration <seconds>', 'stop after this long')
    .option('--stats-every <seconds>', 'log stats to stderr this often')
    .option('--log-level <level>', 'pino level', 'info')
    .parse();
  const o = program.opts<Record<string, string | undefined>>();
  const logger = stderrLogger(o['logLevel'] ?? 'info', 'floor-sim');
  const scenarioArg = pick(o['scenario'], 'PACKLINE_SCENARIO');
  const floor = await startFloor({
    mqttUrl: pick(o['mqtt'], 'PACKLINE_MQTT_URL', 'mqtt://127.0.0.1:1883') as string,
    httpUrl: pick(o['http'], 'PACKLINE_HTTP_URL', 'http://127.0.0.1:8080') as string,
    adminToken: adminToken(o['token'], o['tokenFile']),
    credentials: required(pick(o['provisioning'], 'PACKLINE_PROVISIONING', 'data/provisioning.json'), 'provisioning file'),
    labelsDir: pick(o['labelsDir'], 'PACKLINE_LABELS_DIR', 'data/labels') as string,
    scenario: scenarioArg ? jsonArg(scenarioArg, 'scenario') : {},
    logger,
  });
  const duration = positiveNumber(o['duration'], '--duration');
  const statsEvery = positiveNumber(o['statsEvery'], '--stats-every');
  const ticker = statsEvery ? setInterval(() => logger.info({ stats: floor.stats().totals }, 'floor stats'), statsEvery * 1000) : null;

  const done = new AbortController();
  process.once('SIGINT', () => done.abort());
  process.once('SIGTERM', () => done.abort());
  const until = duration !== undefined ? Date.now() + duration * 1000 : Infinity;
  // One long timer would overflow setTimeout's 2^31-1 ms; wake up hourly instead.
  while (!done.signal.aborted && Date.now() < until) await sleep(Math.min(until - Date.now(), 3_600_000), done.signal);
  if (ticker) clearInterval(ticker);
  await floor.stop();
  process.stdout.write(`${JSON.stringify(floor.stats())}\n`);
  process.exit(0);
}

main().catch(fail);
