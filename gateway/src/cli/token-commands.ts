/**
 * `packline token add|list|revoke`: API tokens (runtime/api-tokens.ts). Works while the
 * gateway runs: the gateway re-reads the tokens file at the next request. A new token is
 * printed once; only its sha256 is kept.
 */
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { PacklineError } from '../../../contracts/errors.js';
import { addToken, listTokens, revokeToken } from '../runtime/api-tokens.js';
import { configFromOptions, type GlobalOptions } from './options.js';

function dataDirOf(program: Command): string {
  return resolve(configFromOptions(program.opts<GlobalOptions>()).dataDir);
}

export function registerTokenCommands(program: Command): void {
  const token = program.command('token').description('manage API tokens (station tokens limited to one station, admin tokens)');

  token
    .command('add')
    .description('issue a token and print it once (id, then the token); only its hash is stored')
    .option('-s, --station <id>', 'a station token limited to this station: its scans, screen, live view, supervisor actions and orders')
    .option('--admin', 'an admin token (everything, like the bootstrap admin token)')
    .option('-n, --note <text>', 'what the token is for (shown by token list)')
    .action((opts: { station?: string; admin?: boolean; note?: string }) => {
      if ((opts.station === undefined) === (opts.admin !== true)) {
        throw new PacklineError('PKL_CONFIG_INVALID', { reason: 'say either --station <id> or --admin' });
      }
      const role = opts.admin === true ? 'admin' : 'station';
      const { id, token: value } = addToken(dataDirOf(program), { role, station: opts.station ?? null, note: opts.note });
      process.stdout.write(`${id}\t${value}\n`);
    });

  token
    .command('list')
    .description('list tokens: id, role, station (* = every station), never a token')
    .option('--json', 'print JSON instead of a table')
    .action((opts: { json?: boolean }) => {
      const rows = listTokens(dataDirOf(program));
      if (opts.json) {
        process.stdout.write(`${JSON.stringify(rows, null, 2)}\n`);
        return;
      }
      const iso = (t: number | null) => (t === null ? '-' : new Date(t).toISOString());
      const table = rows.map((r) => [r.id, r.role, r.station, r.kind, iso(r.created_at), iso(r.revoked_at), r.note ?? '']);
      const header = ['ID', 'ROLE', 'STATION', 'KIND', 'CREATED', 'REVOKED', 'NOTE'];
      const widths = header.map((h, i) => Math.max(h.length, ...table.map((r) => (r[i] ?? '').length)));
      for (const r of [header, ...table])
        process.stdout.write(
          `${r
            .map((c, i) => c.padEnd(widths[i] ?? 0))
            .join('  ')
            .trimEnd()}\n`,
        );
    });

  token
    .command('revoke <id>')
    .description('revoke a token by its id (`station` = the bootstrap all-stations token); effective at the next request')
    .action((id: string) => {
      revokeToken(dataDirOf(program), id);
      process.stdout.write(`revoked ${id}\n`);
    });
}
