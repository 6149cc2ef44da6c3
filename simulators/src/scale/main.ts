/**
 * Runs one simulated wire-protocol scale (for trying a ScaleDriver by hand):
 *
 *   node --import tsx simulators/src/scale/main.ts --protocol mt-sics --pty /tmp/scale [--load 1234]
 *     → creates /tmp/scale/ttyDRIVER (open this from the driver) and /tmp/scale/ttyDEVICE (the sim)
 *   node --import tsx simulators/src/scale/main.ts --protocol toledo-continuous --tcp 4001
 *     → listens on 127.0.0.1:4001 like a serial device server
 *
 * `--faults '{"unstable":true}'` injects faults (see ScaleFaults). Type a number + Enter on
 * stdin to change the load (grams). Runs until SIGINT/SIGTERM.
 */
import { createInterface } from 'node:readline';
import { Command } from 'commander';
import { PacklineError } from '../../../contracts/errors.js';
import { fail, jsonArg } from '../lib/cli.js';
import { SIMULATED_PROTOCOLS, type SimulatedProtocol } from './device-side.js';
import { PtyPair } from './pty-pair.js';
import { type ScaleFaults, ScaleSimulator } from './scale-simulator.js';

async function main(): Promise<void> {
  const o = new Command('packline-scale-sim')
    .requiredOption('--protocol <id>', `one of ${SIMULATED_PROTOCOLS.join(', ')}`)
    .option('--pty <dir>', 'create a pty pair in this directory')
    .option('--tcp <port>', 'listen on 127.0.0.1:<port> instead')
    .option('--load <grams>', 'initial load', '0')
    .option('--options <json>', 'protocol options, as in the definition (e.g. {"mode":"passive"})')
    .option('--faults <json>', 'fault injection (ScaleFaults)')
    .parse()
    .opts<Record<string, string | undefined>>();
  const protocol = o['protocol'] as SimulatedProtocol;
  if (!SIMULATED_PROTOCOLS.includes(protocol))
    throw new PacklineError('PKL_CONFIG_INVALID', { reason: `--protocol must be one of ${SIMULATED_PROTOCOLS.join(', ')}` });
  if ((o['pty'] === undefined) === (o['tcp'] === undefined)) throw new PacklineError('PKL_CONFIG_INVALID', { reason: 'give exactly one of --pty or --tcp' });
  const pair = o['pty'] !== undefined ? new PtyPair({ dir: o['pty'] }) : null;
  await pair?.start();
  const sim = new ScaleSimulator({
    protocol,
    link: pair ? { kind: 'serial', path: pair.devicePath } : { kind: 'tcp', port: Number(o['tcp']) },
    loadGrams: Number(o['load']),
    ...(o['options'] ? { options: jsonArg(o['options'], '--options') as Record<string, unknown> } : {}),
    ...(o['faults'] ? { faults: jsonArg(o['faults'], '--faults') as ScaleFaults } : {}),
  });
  sim.on('request', (req) => process.stderr.write(`host request: ${JSON.stringify(req)}\n`));
  await sim.start();
  process.stderr.write(pair ? `driver side: ${pair.driverPath}\n` : `listening on 127.0.0.1:${sim.port}\n`);
  createInterface({ input: process.stdin }).on('line', (l) => {
    const g = Number(l.trim());
    if (Number.isFinite(g)) sim.setLoad(g);
  });
  const stop = async () => {
    await sim.stop();
    await pair?.stop();
    process.exit(0);
  };
  process.once('SIGINT', () => void stop());
  process.once('SIGTERM', () => void stop());
}

main().catch(fail);
