/**
 * `packline sync status|failures|retry`: the cloud sync seen from the shell, through the CLI's
 * own database connection, so it works whether the gateway runs or not. A retry marks events;
 * the running gateway's outbox resubmits them before its next batch.
 */
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { PacklineError } from '../../../contracts/errors.js';
import { formatFindings, runConformance } from '../../../cloud-sync/src/conformance/conformance.js';
import { HttpSyncTransport } from '../../../cloud-sync/src/transports/http-transport.js';
import { configFromOptions, type GlobalOptions, setCommandExitCode } from './options.js';
import { loadSyncKey } from '../sync/sync-service.js';
import { type AdminDb, openAdminDb } from '../storage/admin-db.js';
import { retryOps } from '../sync/retry-request.js';
import { META_ACKED_SEQ, META_INBOUND_CURSOR } from '../sync/sync-store-adapter.js';
import { readRunningFile } from './running-file.js';

/** Where the outbox drains to: the running gateway's cloud when one runs here (`--sim` starts its own), else the config's. */
interface CloudTarget {
  url: string | null;
  /** How the url is known, for the status line. */
  note: string;
}

function cloudTarget(configUrl: string | undefined, dataDir: string): CloudTarget {
  const running = readRunningFile(dataDir);
  if (running !== null && running.sync_url !== null) {
    const what = running.sync_source === 'simulated' ? "the simulated floor's cloud" : 'sync.url';
    return { url: running.sync_url, note: `${what}; gateway pid ${running.pid} is syncing to it` };
  }
  if (configUrl !== undefined) return { url: configUrl, note: running === null ? 'sync.url; the gateway is not running' : 'sync.url' };
  return { url: null, note: running === null ? 'not configured: sync.url; the gateway is not running' : 'not configured: sync.url' };
}

function withDb<T>(program: Command, fn: (db: AdminDb, cloud: CloudTarget) => T): T {
  const config = configFromOptions(program.opts<GlobalOptions>());
  const dataDir = resolve(config.dataDir);
  const db = openAdminDb(dataDir);
  try {
    return fn(db, cloudTarget(config.sync.url, dataDir));
  } finally {
    db.close();
  }
}

const out = (s: string): void => {
  process.stdout.write(`${s}\n`);
};

export function registerSyncCommands(program: Command): void {
  const sync = program.command('sync').description('cloud sync: outbox backlog, sync failures, retries');

  sync
    .command('status')
    .description('cloud cursor, backlog, open sync failures, waybill coverage')
    .option('--json', 'print JSON')
    .action((opts: { json?: boolean }) => {
      const s = withDb(program, (db, cloud) => {
        const acked = Number(db.getMeta(META_ACKED_SEQ) ?? 0);
        const last = db.reader.lastSeq();
        return {
          cloud: cloud.url,
          cloud_note: cloud.note,
          last_seq: last,
          acked_seq: acked,
          backlog: Math.max(0, last - acked),
          inbound_cursor: db.getMeta(META_INBOUND_CURSOR) ?? '',
          sync_failed: db.reader.openSyncFailureCount(),
          waybill_coverage: db.reader.waybillCoverage(),
        };
      });
      if (opts.json) return out(JSON.stringify(s, null, 2));
      out(`cloud           ${s.cloud === null ? `(${s.cloud_note})` : `${s.cloud}  (${s.cloud_note})`}`);
      out(`event log       seq ${s.last_seq}, cloud acknowledged ${s.acked_seq}, backlog ${s.backlog}`);
      out(`inbound cursor  ${s.inbound_cursor || '(none yet)'}`);
      out(`sync failed     ${s.sync_failed}${s.sync_failed > 0 ? '  (packline sync failures)' : ''}`);
      out(`waybills        ${s.waybill_coverage.withWaybill} of ${s.waybill_coverage.open} open orders can ship offline`);
    });

  sync
    .command('failures')
    .description('events the cloud rejected ("sync failed"), with its reason')
    .option('--all', 'include resolved ones')
    .option('--json', 'print JSON')
    .action((opts: { all?: boolean; json?: boolean }) => {
      const list = withDb(program, (db) => [
        ...db.reader.syncFailures({ state: 'open', limit: 1000 }),
        ...(opts.all ? db.reader.syncFailures({ state: 'resolved', limit: 1000 }) : []),
      ]);
      if (opts.json) return out(JSON.stringify(list, null, 2));
      if (list.length === 0) return out('no sync failures');
      for (const f of list) out(`${f.seq}\t${f.state}\t${f.code}\t${f.attempts}x\t${f.reason}`);
    });

  sync
    .command('retry [seq...]')
    .description('resubmit failed events after fixing the cause upstream (no seq: all failed)')
    .action((seqs: string[]) => {
      const numbers = seqs.map((s) => {
        const n = Number(s);
        if (!/^\d+$/.test(s) || !Number.isSafeInteger(n) || n < 1)
          throw new PacklineError('PKL_PAYLOAD_INVALID', { reason: `not an event seq (a whole number ≥ 1, see packline sync failures): ${JSON.stringify(s)}` });
        return n;
      });
      const marked = withDb(program, (db) => {
        const { seqs: targets, ops } = retryOps(db.reader, numbers, Date.now());
        if (ops.length > 0) db.write(ops);
        return targets;
      });
      out(marked.length === 0 ? 'nothing to retry' : `marked for retry: ${marked.join(' ')}`);
    });

  sync
    .command('conformance')
    .description("check a cloud's side of the sync contract (docs/sync.md): prints what it does wrong, exit code 1 if anything")
    .requiredOption('--url <url>', 'the cloud base URL, as sync.url (https://…; http:// on a trusted network)')
    .option('--key-file <file>', 'HMAC key of the test gateway (else PACKLINE_SYNC_KEY)')
    .option('--gateway <id>', 'gateway id provisioned in the cloud for testing (never a production one)', 'conformance-1')
    .option('--timeout-ms <ms>', 'per-request timeout', '15000')
    .option('--json', 'print the findings as JSON')
    .action(async (opts: { url: string; keyFile?: string; gateway: string; timeoutMs: string; json?: boolean }) => {
      const key = loadSyncKey(opts.keyFile);
      const transport = new HttpSyncTransport({ baseUrl: opts.url });
      await transport.start();
      try {
        const findings = await runConformance({ transport, gatewayId: opts.gateway, key, timeoutMs: Number(opts.timeoutMs) });
        out(opts.json ? JSON.stringify(findings, null, 2) : formatFindings(findings));
        setCommandExitCode(findings.every((f) => f.ok) ? 0 : 1);
      } finally {
        await transport.stop();
      }
    });
}
