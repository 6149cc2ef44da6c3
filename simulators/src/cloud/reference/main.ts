/**
 * Runs the reference cloud on its own:
 *
 *   tsx simulators/src/cloud/reference/main.ts --port 8700 --db data/cloud.db \
 *     --gateway gw-01:KEY [--gateway gw-02:KEY2] [--host 127.0.0.1] [--seed 1] \
 *     [--faults '{"lostAckShare":0.2}'] [--log-level info]
 *
 * Prints `{"url": "..."}` on stdout once listening (logs go to stderr); stops on SIGTERM or
 * SIGINT. Gateways may also come from REFCLOUD_GATEWAYS ("gw-01:KEY,gw-02:KEY2"), which keeps
 * keys out of `ps`. (Not PACKLINE_*: that prefix is the gateway's config overrides.)
 */
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { parseArgs } from 'node:util';
import { TypeCompiler } from '@sinclair/typebox/compiler';
import { PacklineError } from '../../../../contracts/errors.js';
import { fail, jsonArg, pick, required, stderrLogger } from '../../lib/cli.js';
import { FaultPatch } from './fault-modes.js';
import { ReferenceCloud } from './reference-cloud.js';

const checkFaults = TypeCompiler.Compile(FaultPatch);

/** `id:key` pairs; the key may itself contain ':'. */
function parseGateways(specs: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const spec of specs) {
    const i = spec.indexOf(':');
    if (i <= 0 || i === spec.length - 1) {
      throw new PacklineError('PKL_CONFIG_INVALID', { reason: `--gateway must be <id>:<key>, got "${spec.slice(0, 40)}"` });
    }
    out[spec.slice(0, i)] = spec.slice(i + 1);
  }
  return out;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      port: { type: 'string' },
      host: { type: 'string' },
      db: { type: 'string' },
      gateway: { type: 'string', multiple: true },
      seed: { type: 'string' },
      faults: { type: 'string' },
      'log-level': { type: 'string' },
    },
    strict: true,
  });
  const port = Number(pick(values.port, 'REFCLOUD_PORT', '8700'));
  if (!Number.isInteger(port) || port < 0 || port > 65_535) {
    throw new PacklineError('PKL_CONFIG_INVALID', { reason: `--port must be 0..65535, got "${values.port}"` });
  }
  const dbPath = required(pick(values.db, 'REFCLOUD_DB', 'data/cloud.db'), '--db');
  const specs = values.gateway ?? (process.env.REFCLOUD_GATEWAYS ?? '').split(',').filter((s) => s !== '');
  if (specs.length === 0) throw new PacklineError('PKL_CONFIG_INVALID', { reason: 'at least one --gateway <id>:<key> is required' });
  const faults = values.faults === undefined ? undefined : jsonArg(values.faults, '--faults');
  if (faults !== undefined && !checkFaults.Check(faults)) {
    throw new PacklineError('PKL_CONFIG_INVALID', { reason: '--faults does not match the fault settings (fault-modes.ts)' });
  }
  mkdirSync(dirname(dbPath), { recursive: true });
  const cloud = new ReferenceCloud({
    port,
    host: values.host ?? '127.0.0.1',
    dbPath,
    gateways: parseGateways(specs),
    seed: values.seed === undefined ? 1 : Number(values.seed),
    logger: stderrLogger(values['log-level'] ?? 'info', 'reference-cloud'),
  });
  await cloud.start();
  if (faults !== undefined) await cloud.setFaults(faults);
  process.stdout.write(`${JSON.stringify({ url: cloud.url })}\n`);
  let stopping = false;
  const stop = () => {
    if (stopping) return;
    stopping = true;
    cloud.stop().then(
      () => process.exit(0),
      (err: unknown) => fail(err),
    );
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}

main().catch(fail);
