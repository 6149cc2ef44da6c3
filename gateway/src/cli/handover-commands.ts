/**
 * `packline ups <event>` (the NUT upsmon NOTIFYCMD), `packline roll-changed <printer>` and
 * `packline handover status`: they ask the RUNNING gateway over its HTTP API
 * (docs/handover.md), like `packline preflight`, with the admin token from the data directory.
 *
 * upsmon(8) runs NOTIFYCMD with the notification's text as its argument and the event type in
 * the environment variable NOTIFYTYPE (ONLINE, ONBATT, LOWBATT, FSD, …); `packline ups` reads
 * NOTIFYTYPE first, so `NOTIFYCMD "/usr/bin/packline ups"` in upsmon.conf (with
 * `NOTIFYFLAG ONBATT EXEC`, `NOTIFYFLAG LOWBATT EXEC`, `NOTIFYFLAG ONLINE EXEC`) is the whole
 * integration. Types other than the ones the gateway acts on exit 0 and change nothing.
 */
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import { PacklineError } from '../../../contracts/errors.js';
import { parseUpsEvent } from '../handover/power.js';
import { configFromOptions, type GlobalOptions } from './options.js';
import { localGatewayUrl } from './preflight-command.js';

interface ApiOptions {
  url?: string;
  token?: string;
}

function adminToken(opts: ApiOptions, dataDir: string): string {
  if (opts.token !== undefined) return opts.token;
  const env = process.env['PACKLINE_API_TOKEN'];
  if (env !== undefined && env !== '') return env;
  const file = join(dataDir, 'api-tokens.json');
  try {
    return (JSON.parse(readFileSync(file, 'utf8')) as { admin: string }).admin;
  } catch (err) {
    throw new PacklineError('PKL_PREFLIGHT_NO_TOKEN', {
      reason: `no --token, no PACKLINE_API_TOKEN, and ${file} is not readable (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`,
    });
  }
}

async function call(program: Command, opts: ApiOptions, method: string, path: string, body?: unknown): Promise<unknown> {
  const config = configFromOptions(program.opts<GlobalOptions>());
  const url = `${(opts.url ?? localGatewayUrl(config.http)).replace(/\/$/, '')}${path}`;
  const token = adminToken(opts, resolve(config.dataDir));
  let res: Response;
  try {
    res = await fetch(url, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      signal: AbortSignal.timeout(15_000),
    });
  } catch (err) {
    const cause = (err as { cause?: { code?: string } }).cause?.code ?? (err as Error).message;
    throw new PacklineError('PKL_PREFLIGHT_UNAVAILABLE', { url, reason: `is the gateway running? ${cause}` });
  }
  const answer = (await res.json().catch(() => null)) as { error?: { code: string; message: string } } | null;
  if (!res.ok)
    throw new PacklineError('PKL_PREFLIGHT_UNAVAILABLE', {
      url,
      reason: `HTTP ${res.status}${answer?.error ? ` ${answer.error.code}: ${answer.error.message}` : ''}`,
    });
  return answer;
}

const apiOptions = (c: Command) =>
  c
    .option('--url <url>', 'the gateway to ask (default: this host, from the config)')
    .option('--token <token>', 'API token (default: PACKLINE_API_TOKEN, else the admin token in <dataDir>/api-tokens.json)');

export function registerHandoverCommands(program: Command): void {
  apiOptions(
    program
      .command('ups')
      .argument('[event]', 'onbatt, lowbatt, online or fsd (default: $NOTIFYTYPE, as upsmon NOTIFYCMD sets it)')
      .description('tell the running gateway about a UPS event; the configured one (handover.shutdownOn) starts the graceful shutdown'),
  ).action(async (event: string | undefined, opts: ApiOptions) => {
    const raw = process.env['NOTIFYTYPE'] ?? event ?? '';
    const ev = parseUpsEvent(raw);
    if (ev === null) {
      process.stdout.write(`ups: "${raw}" is not an event the gateway acts on; nothing sent\n`);
      return;
    }
    const r = (await call(program, opts, 'POST', '/api/v1/power', { event: ev, source: process.env['NOTIFYTYPE'] !== undefined ? 'upsmon' : 'cli' })) as {
      state: string;
    };
    process.stdout.write(`ups ${ev}: gateway ${r.state}\n`);
  });

  apiOptions(
    program
      .command('roll-changed')
      .argument('<printer>', 'printer device id')
      .description('a new label roll is in the printer: its label count starts again (consumables)'),
  ).action(async (printer: string, opts: ApiOptions) => {
    const r = (await call(program, opts, 'POST', `/api/v1/printers/${encodeURIComponent(printer)}/roll-changed`, { operator: 'cli' })) as {
      left: number | null;
      roll_labels: number | null;
    };
    process.stdout.write(
      `${printer}: roll changed${r.roll_labels === null ? ' (no roll size configured: handover.rollLabels)' : `, ${r.left} of ${r.roll_labels} labels`}\n`,
    );
  });

  const handover = program.command('handover').description('courier handover (docs/handover.md)');
  apiOptions(
    handover.command('status').description('parcels still to hand over per carrier, and those past their cut-off').option('--json', 'print JSON'),
  ).action(async (opts: ApiOptions & { json?: boolean }) => {
    const r = (await call(program, opts, 'GET', '/api/v1/handover')) as {
      carriers: Array<{ carrier: string; pending: number; overdue: number; cutoff: string }>;
      pending: number;
      overdue: number;
      open_manifests: number;
    };
    if (opts.json) {
      process.stdout.write(`${JSON.stringify(r, null, 2)}\n`);
      return;
    }
    for (const c of r.carriers)
      process.stdout.write(
        `${c.carrier.padEnd(10)} ${String(c.pending).padStart(6)} to hand over  ${c.overdue > 0 ? `${c.overdue} past ${c.cutoff}` : `cut-off ${c.cutoff}`}\n`,
      );
    process.stdout.write(`${r.pending} to hand over, ${r.overdue} past their cut-off, ${r.open_manifests} manifest(s) open\n`);
  });
}
