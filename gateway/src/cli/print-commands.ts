/**
 * `packline supervisor add|list|remove` and `packline print exceptions`: the supervisors whose
 * password guards a reprint (only its scrypt hash is stored), and the labels that failed.
 * Both work while the gateway runs (the CLI's own database connection; the gateway reads the
 * supervisors at each reprint).
 */
import { resolve } from 'node:path';
import { createInterface } from 'node:readline';
import type { Command } from 'commander';
import { PacklineError } from '../../../contracts/errors.js';
import { hashSecret } from '../broker/secrets.js';
import { configFromOptions, type GlobalOptions } from './options.js';
import { type AdminDb, openAdminDb } from '../storage/admin-db.js';
import { isSupervisorName, SUPERVISOR_NAME_RULE } from '../storage/op-validation.js';

export const MIN_PASSWORD_LENGTH = 8;
/** Same bound as the HTTP reprint body. */
export const MAX_PASSWORD_LENGTH = 256;

async function withDb<T>(program: Command, fn: (db: AdminDb) => T | Promise<T>): Promise<T> {
  const config = configFromOptions(program.opts<GlobalOptions>());
  const db = openAdminDb(resolve(config.dataDir));
  try {
    return await fn(db);
  } finally {
    db.close();
  }
}

const out = (s: string): void => {
  process.stdout.write(`${s}\n`);
};

export interface PasswordInput extends NodeJS.ReadableStream {
  isTTY?: boolean;
  setRawMode?: (mode: boolean) => unknown;
}

/**
 * Reads a password: on a terminal without echo (raw mode, the prompt on `prompts`), otherwise
 * the first line of the input (a pipe: `printf '%s\n' "$PW" | packline supervisor add li`).
 */
export async function readPassword(input: PasswordInput, prompts: NodeJS.WritableStream, prompt: string): Promise<string> {
  if (input.isTTY === true && typeof input.setRawMode === 'function') return readHidden(input, prompts, prompt);
  const rl = createInterface({ input, terminal: false, crlfDelay: Number.POSITIVE_INFINITY });
  try {
    for await (const line of rl) return line;
  } finally {
    rl.close();
  }
  throw new PacklineError('PKL_PAYLOAD_INVALID', { reason: 'no password on standard input' });
}

function readHidden(input: PasswordInput, prompts: NodeJS.WritableStream, prompt: string): Promise<string> {
  return new Promise((resolvePw, reject) => {
    prompts.write(prompt);
    input.setRawMode?.(true);
    input.resume();
    let typed = '';
    const finish = (err: Error | null): void => {
      input.off('data', onData);
      input.setRawMode?.(false);
      input.pause();
      prompts.write('\n');
      if (err === null) resolvePw(typed);
      else reject(err);
    };
    const onData = (chunk: Buffer | string): void => {
      for (const ch of chunk.toString()) {
        if (ch === '\r' || ch === '\n' || ch === '\u0004') return finish(null);
        if (ch === '\u0003') return finish(new PacklineError('PKL_PAYLOAD_INVALID', { reason: 'cancelled' }));
        if (ch === '\u007f' || ch === '\b') typed = Array.from(typed).slice(0, -1).join('');
        else if (ch >= ' ') typed += ch;
      }
    };
    input.on('data', onData);
  });
}

/** Refuses a password too short to resist guessing, or longer than the API accepts. */
export function checkPassword(password: string): void {
  const n = Array.from(password).length;
  if (n < MIN_PASSWORD_LENGTH) {
    throw new PacklineError('PKL_PAYLOAD_INVALID', { reason: `the password must have at least ${MIN_PASSWORD_LENGTH} characters` });
  }
  if (password.length > MAX_PASSWORD_LENGTH) {
    throw new PacklineError('PKL_PAYLOAD_INVALID', { reason: `the password must have at most ${MAX_PASSWORD_LENGTH} characters` });
  }
}

async function askPassword(): Promise<string> {
  const stdin = process.stdin as PasswordInput;
  const password = await readPassword(stdin, process.stderr, 'Password: ');
  checkPassword(password);
  if (stdin.isTTY === true) {
    const again = await readPassword(stdin, process.stderr, 'Repeat password: ');
    if (again !== password) throw new PacklineError('PKL_PAYLOAD_INVALID', { reason: 'the two passwords differ' });
  }
  return password;
}

const iso = (ms: number) => new Date(ms).toISOString();

function table(header: string[], rows: string[][]): void {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  for (const r of [header, ...rows])
    out(
      r
        .map((c, i) => c.padEnd(widths[i] ?? 0))
        .join('  ')
        .trimEnd(),
    );
}

export function registerPrintCommands(program: Command): void {
  const supervisor = program.command('supervisor').description('supervisors whose password authorises a reprint');

  supervisor
    .command('add <name>')
    .description(
      `add a supervisor, or change their password; the password is read from the terminal (not echoed) ` +
        `or as one line from standard input, at least ${MIN_PASSWORD_LENGTH} characters`,
    )
    .action(async (name: string) => {
      if (!isSupervisorName(name)) throw new PacklineError('PKL_PAYLOAD_INVALID', { reason: `supervisor name ${SUPERVISOR_NAME_RULE}` });
      const password = await askPassword();
      const secretHash = await hashSecret(password);
      const changed = await withDb(program, (db) => {
        const now = Date.now();
        const existing = db.getSupervisor(name);
        db.putSupervisor({ name, secretHash, createdAt: existing?.createdAt ?? now, rotatedAt: now });
        return existing !== null;
      });
      out(changed ? `password of supervisor ${name} changed` : `supervisor ${name} added`);
    });

  supervisor
    .command('list')
    .description('list supervisors (never their passwords)')
    .option('--json', 'print JSON')
    .action(async (opts: { json?: boolean }) => {
      const list = await withDb(program, (db) => db.listSupervisors());
      if (opts.json) return out(JSON.stringify(list, null, 2));
      if (list.length === 0) return out('no supervisors (packline supervisor add <name>)');
      table(
        ['SUPERVISOR', 'ADDED', 'PASSWORD SET'],
        list.map((s) => [s.name, iso(s.createdAt), iso(s.rotatedAt)]),
      );
    });

  supervisor
    .command('remove <name>')
    .description('remove a supervisor; their password stops working at once')
    .action(async (name: string) => {
      await withDb(program, (db) => db.removeSupervisor(name));
      out(`removed supervisor ${name}`);
    });

  const print = program.command('print').description('printing: labels that failed');

  print
    .command('exceptions')
    .description('shipments whose label failed and has not been printed since, with printer and cause')
    .option('--json', 'print JSON')
    .option('-n, --limit <n>', 'at most this many', '100')
    .action(async (opts: { json?: boolean; limit: string }) => {
      const limit = Number(opts.limit);
      if (!Number.isSafeInteger(limit) || limit < 1) throw new PacklineError('PKL_PAYLOAD_INVALID', { reason: `--limit: not a count: ${opts.limit}` });
      const list = await withDb(program, (db) => db.reader.printExceptions({ limit }));
      if (opts.json) {
        // The label itself stays out (it is large and says nothing a person needs here).
        const rows = list.map((e) => ({ shipment: e.shipment, job: e.job === null ? null : { ...e.job, data: undefined } }));
        return out(JSON.stringify(rows, null, 2));
      }
      if (list.length === 0) return out('no print exceptions');
      table(
        ['SHIPMENT', 'STATE', 'ORDER', 'WAYBILL', 'PRINTER', 'JOB', 'CAUSE', 'FAILED AT'],
        list.map((e) => [
          e.shipment.shipmentId,
          e.shipment.state,
          e.shipment.orderId,
          e.shipment.waybill ?? '-',
          e.job?.printerId ?? '-',
          e.job?.jobId ?? '-',
          e.job?.reason ?? e.shipment.reasonCode ?? '-',
          iso(e.job?.updatedAt ?? e.shipment.updatedAt),
        ]),
      );
      out('reprint: POST /api/v1/shipments/{shipment}/reprint with a supervisor password (docs/http.md "Printing")');
    });
}
