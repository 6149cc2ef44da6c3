/**
 * `packline preflight`: the pre-peak readiness report of the RUNNING gateway, asked over its
 * HTTP API (GET /api/v1/preflight; POST with --test-print). It never opens the database
 * itself: the gateway holds it, and the checks need its live state (who is connected, the
 * last weight, the link). Text is a PASS / WARN / FAIL checklist; --json prints the report.
 *
 * Exit codes: 0 pass, 1 warn, 2 fail; 3 no report (gateway not running, refused token).
 * (Commander's own usage errors also exit 2, before any check runs.)
 */
import { type LocalAnswer, localCaOf, localRequest } from '../tls/local-request.js';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import { PacklineError } from '../../../contracts/errors.js';
import { configFromOptions, type GlobalOptions, setCommandExitCode } from './options.js';
import { Progress } from '../lib/progress.js';
import { exitCodeOf, formatReport, type PreflightReport } from '../preflight/report.js';

/** Exit code when no report could be had. */
export const EXIT_NO_REPORT = 3;

interface PreflightCliOptions {
  json?: boolean;
  testPrint?: boolean;
  url?: string;
  token?: string;
  timeout: string;
}

/** The gateway's own URL from its config (the address it listens on, loopback for a wildcard). */
export function localGatewayUrl(http: { host: string; port: number; tls: { certFile?: string | undefined } }, tlsMode: 'auto' | 'off' = 'off'): string {
  const host = http.host === '0.0.0.0' || http.host === '::' ? '127.0.0.1' : http.host.includes(':') ? `[${http.host}]` : http.host;
  // tls.mode auto: the gateway serves HTTPS with its local certificate (tls/auto-tls.ts).
  return `${http.tls.certFile !== undefined || tlsMode === 'auto' ? 'https' : 'http'}://${host}:${http.port}`;
}

/** --token, else PACKLINE_API_TOKEN, else the admin token in the data directory (readable by its owner only). */
function findToken(opts: PreflightCliOptions, dataDir: string): string {
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

export async function fetchPreflight(url: string, token: string, testPrint: boolean, timeoutMs: number, ca?: Buffer): Promise<PreflightReport> {
  const endpoint = `${url.replace(/\/$/, '')}/api/v1/preflight`;
  const init: { method: string; headers: Record<string, string>; body?: string } = testPrint
    ? { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify({ test_print: true }) }
    : { method: 'GET', headers: { authorization: `Bearer ${token}` } };
  let res: LocalAnswer;
  try {
    // Trusts the gateway's local CA besides the system's (tls/local-request.ts).
    res = await localRequest(endpoint, { ...init, timeoutMs, ...(ca !== undefined ? { ca } : {}) });
  } catch (err) {
    const cause = (err as { code?: string }).code ?? (err as Error).message;
    throw new PacklineError('PKL_PREFLIGHT_UNAVAILABLE', { url: endpoint, reason: `is the gateway running? ${cause}` });
  }
  let body: (PreflightReport & { error?: { code: string; message: string } }) | null;
  try {
    body = res.json();
  } catch {
    body = null;
  }
  if (!res.ok || body === null || !Array.isArray(body.checks)) {
    throw new PacklineError('PKL_PREFLIGHT_UNAVAILABLE', {
      url: endpoint,
      reason: `HTTP ${res.status}${body?.error ? ` ${body.error.code}: ${body.error.message}` : ''}`,
    });
  }
  return body;
}

export function registerPreflightCommand(program: Command): void {
  program
    .command('preflight')
    .description('pre-peak readiness checklist of the running gateway (PASS/WARN/FAIL); exit 0 pass, 1 warn, 2 fail, 3 no report')
    .option('--json', 'print the report as JSON')
    .option('--test-print', 'also send a test page to every printer (needs the admin token)')
    .option('--url <url>', 'the gateway to ask (default: this host, from the config http.host/http.port)')
    .option('--token <token>', 'API token (default: PACKLINE_API_TOKEN, else the admin token in <dataDir>/api-tokens.json)')
    .option('--timeout <seconds>', 'give up after this long', '60')
    .action(async (opts: PreflightCliOptions) => {
      const config = configFromOptions(program.opts<GlobalOptions>());
      const url = opts.url ?? localGatewayUrl(config.http, config.tls.mode);
      const timeoutMs = Number(opts.timeout) * 1000;
      if (!Number.isFinite(timeoutMs) || timeoutMs <= 0)
        throw new PacklineError('PKL_PAYLOAD_INVALID', { reason: `--timeout: not a number of seconds: ${opts.timeout}` });
      // The checks take a few seconds (the cloud ping, timedatectl, test pages): say so on a terminal.
      const progress = new Progress(process.stderr, `preflight: asking ${url}`);
      let report: PreflightReport;
      try {
        const token = findToken(opts, resolve(config.dataDir));
        report = await fetchPreflight(url, token, opts.testPrint === true, timeoutMs, localCaOf(resolve(config.dataDir)));
      } catch (err) {
        progress.done();
        if (err instanceof PacklineError) {
          process.stderr.write(`error ${err.code}: ${err.message}\n`);
          setCommandExitCode(EXIT_NO_REPORT);
          return;
        }
        throw err;
      }
      progress.done();
      process.stdout.write(opts.json ? `${JSON.stringify(report, null, 2)}\n` : formatReport(report));
      setCommandExitCode(exitCodeOf(report.status));
    });
}
