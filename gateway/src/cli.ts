/**
 * The `packline` command line. Every command and sub-command has `--help`.
 * Exit codes: 0 ok, 1 failure (a coded error is printed), 2 usage error; `packline preflight`
 * has its own (0 pass, 1 warn, 2 fail, 3 no report: cli/preflight-command.ts).
 */
import { Command, CommanderError } from 'commander';
import { PacklineError } from '../../contracts/errors.js';
import { configFromOptions, type GlobalOptions, resetCommandExitCode, commandExitCode, setCommandExitCode } from './cli/options.js';
import { registerDeviceCommands } from './cli/device-commands.js';
import { registerStationCommands } from './cli/station-commands.js';
import { registerTlsCommands } from './cli/tls-commands.js';
import { registerTokenCommands } from './cli/token-commands.js';
import { registerPrintCommands } from './cli/print-commands.js';
import { registerSyncCommands } from './cli/sync-commands.js';
import { registerStartCommand } from './cli/start-command.js';
import { registerPreflightCommand } from './cli/preflight-command.js';
import { registerStoreCommands } from './cli/store-commands.js';
import { registerHandoverCommands } from './cli/handover-commands.js';
import { redactConfig } from './config/redact.js';
import { LabelTemplates, templateFix } from './printing/label-templates.js';

function buildProgram(): Command {
  const program = new Command('packline')
    .description('Packline edge gateway for warehouse packing stations, scales, scanners, printers and DWS lines')
    .option('-c, --config <file>', 'JSON config file (default: embedded defaults; env PACKLINE_CONFIG)')
    .option('-d, --data-dir <dir>', 'data directory (overrides config dataDir)')
    .showHelpAfterError()
    .exitOverride();

  registerStartCommand(program);

  const config = program.command('config').description('inspect and validate the configuration');
  config
    .command('check')
    .description('validate the configuration and draw every label template in use; exits 1 naming every bad field or template')
    .action(() => {
      const c = configFromOptions(program.opts<GlobalOptions>());
      const problems = new LabelTemplates(c.printing.templates).problems();
      if (problems.length > 0) {
        for (const e of problems) process.stderr.write(`error ${e.code}: ${e.message}\n  fix: ${templateFix(e)}\n`);
        setCommandExitCode(1);
        return;
      }
      process.stdout.write(`config ok: ${c.devices.length} devices, ${c.stations.length} stations, ${c.lines.length} lines, data in ${c.dataDir}\n`);
    });
  config
    .command('show')
    .description('print the effective configuration (defaults and overrides applied, secrets redacted)')
    .action(() => {
      const c = configFromOptions(program.opts<GlobalOptions>());
      process.stdout.write(`${JSON.stringify(redactConfig(c), null, 2)}\n`);
    });

  registerDeviceCommands(program);
  registerStationCommands(program);
  registerTlsCommands(program);
  registerSyncCommands(program);
  registerPrintCommands(program);
  registerPreflightCommand(program);
  registerStoreCommands(program);
  registerTokenCommands(program);
  registerHandoverCommands(program);
  return program;
}

export async function main(argv: string[]): Promise<number> {
  const program = buildProgram();
  resetCommandExitCode();
  try {
    await program.parseAsync(argv);
    return commandExitCode();
  } catch (err) {
    if (err instanceof CommanderError) {
      // --help and --version end through here with exit code 0.
      return err.exitCode === 0 ? 0 : 2;
    }
    if (err instanceof PacklineError) {
      process.stderr.write(`error ${err.code}: ${err.message}\n`);
      return 1;
    }
    // Anything else is still a coded line, never a stack trace: the operator gets what failed;
    // a developer sets PACKLINE_DEBUG_STACK=1 for the stack.
    const message = err instanceof Error ? err.message : String(err);
    process.stderr.write(`error PKL_INTERNAL: ${message}\n`);
    if (process.env['PACKLINE_DEBUG_STACK'] === '1' && err instanceof Error) process.stderr.write(`${err.stack}\n`);
    return 1;
  }
}
