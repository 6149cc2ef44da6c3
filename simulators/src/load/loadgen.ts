/**
 * CLI of the core load generator (run as its own process by `npm run bench -- core`):
 *
 *   node --import tsx simulators/src/load/loadgen.ts \
 *     --mqtt mqtt://127.0.0.1:1883 --http http://127.0.0.1:8080 --token <admin token> \
 *     --provisioning data/provisioning.json \
 *     (--rate 50 | --max) (--duration 30 | --count 1000) [--stations 20] \
 *     [--orders-file orders.json] [--import 2000] [--skip-import] \
 *     [--verify always|multi_item|never] [--labels-dir DIR] [--seed 1] \
 *     [--reply-timeout-ms 30000] [--print-timeout-ms 30000] [--log-level warn]
 *
 * Prints one JSON LoadSummary line on stdout (see load-run.ts, which also exports runLoad()
 * for in-process use; this file runs its CLI on import). Logs go to stderr.
 * Environment fallbacks as in floor/main.ts. Exit code 2 on bad arguments.
 */
import { Command } from 'commander';
import { PacklineError } from '../../../contracts/errors.js';
import { adminToken, fail, jsonArg, pick, positiveNumber, required, stderrLogger } from '../lib/cli.js';
import type { WireOrder } from '../orders/wire-order.js';
import { type LoadOptions, runLoad } from './load-run.js';

async function main(): Promise<void> {
  const program = new Command('packline-loadgen')
    .description('Drives shipments through the gateway over real MQTT and reports scan-to-print latency')
    .option('--mqtt <url>', 'broker URL')
    .option('--http <url>', 'gateway HTTP base URL (for the order import)')
    .option('--token <token>', 'admin API token')
    .option('--token-file <path>', 'file holding the admin token')
    .option('--provisioning <path>', 'provisioning.json with device secrets')
    .option('--rate <perSecond>', 'open loop: total shipments per second')
    .option('--max', 'closed loop: as fast as possible')
    .option('--duration <seconds>', 'run length')
    .option('--count <n>', 'number of shipments')
    .option('--stations <n>', 'stations to use (default: all provisioned)')
    .option('--orders-file <path>', 'prepared orders (JSON array of wire orders)')
    .option('--import <n>', 'number of clean orders to generate and import')
    .option('--skip-import', 'orders already exist on the gateway')
    .option('--verify <mode>', 'always | multi_item | never (must match the station config)', 'always')
    .option('--labels-dir <dir>', 'write printed labels here (default: discard)')
    .option('--seed <n>', 'seed for orders and weights', '1')
    .option('--reply-timeout-ms <ms>', 'ack/err wait')
    .option('--print-timeout-ms <ms>', 'print command wait')
    .option('--log-level <level>', 'pino level', 'warn')
    .parse();
  const o = program.opts<Record<string, string | boolean | undefined>>();
  const str = (k: string) => (typeof o[k] === 'string' ? (o[k] as string) : undefined);
  const int = (k: string) => {
    const n = positiveNumber(str(k), `--${k}`);
    if (n !== undefined && !Number.isInteger(n)) throw new PacklineError('PKL_CONFIG_INVALID', { reason: `--${k} must be an integer` });
    return n;
  };
  const rate = positiveNumber(str('rate'), '--rate');
  if ((rate === undefined) === (o['max'] !== true)) {
    throw new PacklineError('PKL_CONFIG_INVALID', { reason: 'give exactly one of --rate <perSecond> or --max' });
  }
  const verify = str('verify');
  if (verify !== 'always' && verify !== 'multi_item' && verify !== 'never') {
    throw new PacklineError('PKL_CONFIG_INVALID', { reason: '--verify must be always, multi_item or never' });
  }
  const seed = Number(str('seed'));
  if (!Number.isInteger(seed)) throw new PacklineError('PKL_CONFIG_INVALID', { reason: '--seed must be an integer' });
  const skipImport = o['skipImport'] === true;
  const opts: LoadOptions = {
    mqttUrl: pick(str('mqtt'), 'PACKLINE_MQTT_URL', 'mqtt://127.0.0.1:1883') as string,
    httpUrl: pick(str('http'), 'PACKLINE_HTTP_URL', 'http://127.0.0.1:8080') as string,
    credentials: required(pick(str('provisioning'), 'PACKLINE_PROVISIONING', 'data/provisioning.json'), 'provisioning file'),
    mode: rate !== undefined ? { kind: 'rate', perSecond: rate } : { kind: 'max' },
    verifyItems: verify,
    seed,
    skipImport,
    logger: stderrLogger(str('logLevel') ?? 'warn', 'loadgen'),
  };
  if (!skipImport) opts.adminToken = adminToken(str('token'), str('tokenFile'));
  const duration = positiveNumber(str('duration'), '--duration');
  if (duration !== undefined) opts.durationSeconds = duration;
  for (const [k, field] of [
    ['count', 'count'],
    ['stations', 'stations'],
    ['import', 'generateOrders'],
    ['replyTimeoutMs', 'replyTimeoutMs'],
    ['printTimeoutMs', 'printTimeoutMs'],
  ] as const) {
    const v = int(k);
    if (v !== undefined) opts[field] = v;
  }
  const labelsDir = str('labelsDir');
  if (labelsDir) opts.labelsDir = labelsDir;
  const file = str('ordersFile');
  if (file) {
    const orders = jsonArg(file, 'orders file');
    if (!Array.isArray(orders)) throw new PacklineError('PKL_CONFIG_INVALID', { reason: 'orders file must hold a JSON array' });
    opts.orders = orders as WireOrder[];
  }
  const summary = await runLoad(opts);
  process.stdout.write(`${JSON.stringify(summary)}\n`);
  process.exit(0);
}

main().catch(fail);
