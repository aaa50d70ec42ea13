import { Command, CommanderError } from 'commander';
import { registerBenchCommand } from './commands/bench.command.ts';
import { registerCheckCommands } from './commands/checks.command.ts';
import { registerConnectorCommands } from './commands/connector.command.ts';
import { registerControlCommands } from './commands/controls.command.ts';
import { registerDemoCommand } from './commands/demo.command.ts';
import { registerEvidenceCommands } from './commands/evidence.command.ts';
import { registerExportCommand } from './commands/export.command.ts';
import { registerFindingCommands } from './commands/findings.command.ts';
import { registerGovernanceCommands } from './commands/governance.command.ts';
import { registerImportCommand } from './commands/import.command.ts';
import { registerMemberCommands } from './commands/member.command.ts';
import { registerMspCommands } from './commands/msp.command.ts';
import { registerNotificationCommands } from './commands/notifications.command.ts';
import { registerPeriodCommands } from './commands/periods.command.ts';
import { registerReadinessCommand } from './commands/readiness.command.ts';
import { registerRegisterCommands } from './commands/registers.command.ts';
import { registerRequestCommands } from './commands/requests.command.ts';
import { registerScimCommands } from './commands/scim.command.ts';
import { registerScopeCommands } from './commands/scope.command.ts';
import { registerServeCommand } from './commands/serve.command.ts';
import { registerTenantCommands } from './commands/tenant.command.ts';
import { registerTokenCommands } from './commands/token.command.ts';
import { registerUserCommands } from './commands/user.command.ts';
import { registerVerifyCommand } from './commands/verify.command.ts';
import { registerWebhookCommands } from './commands/webhook.command.ts';
import { type CommandIO, type GlobalOptions, reportError } from './runtime.ts';

const defaultIO: CommandIO = {
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
};

export function buildProgram(io: CommandIO): Command {
  const program = new Command('assay')
    .description('Assay — continuous SOC 2 compliance')
    .version('0.1.0')
    .option('--data <dir>', 'embedded database directory (default ./.assay, or ASSAY_DATA_DIR)')
    .option('--database-url <url>', 'use a PostgreSQL server (or DATABASE_URL)')
    .option('--json', 'print one JSON document on stdout')
    .showHelpAfterError()
    .exitOverride()
    .configureOutput({ writeOut: io.stdout, writeErr: io.stderr });
  registerServeCommand(program, io);
  registerTenantCommands(program, io);
  registerScopeCommands(program, io);
  registerControlCommands(program, io);
  registerUserCommands(program, io);
  registerMemberCommands(program, io);
  registerTokenCommands(program, io);
  registerEvidenceCommands(program, io);
  registerImportCommand(program, io);
  registerScimCommands(program, io);
  registerWebhookCommands(program, io);
  registerConnectorCommands(program, io);
  registerCheckCommands(program, io);
  registerPeriodCommands(program, io);
  registerReadinessCommand(program, io);
  registerExportCommand(program, io);
  registerVerifyCommand(program, io);
  registerRequestCommands(program, io);
  registerRegisterCommands(program, io);
  registerDemoCommand(program, io);
  registerFindingCommands(program, io);
  registerGovernanceCommands(program, io);
  registerNotificationCommands(program, io);
  registerBenchCommand(program, io);
  registerMspCommands(program, io);
  for (const command of program.commands) applyToTree(command);
  return program;
}

function applyToTree(command: Command) {
  command.exitOverride().showHelpAfterError();
  for (const sub of command.commands) applyToTree(sub);
}

/** Runs the CLI and returns its exit code: 0 ok, 1 failure, 2 bad usage or bad input. */
export async function main(argv: string[], io: CommandIO = defaultIO): Promise<number> {
  const program = buildProgram(io);
  try {
    await program.parseAsync(argv);
    return 0;
  } catch (error) {
    if (error instanceof CommanderError) {
      if (
        error.code === 'commander.helpDisplayed' ||
        error.code === 'commander.version' ||
        error.code === 'commander.help'
      ) {
        return 0;
      }
      if (argv.includes('--json')) {
        io.stdout(
          `${JSON.stringify({ error: { code: 'bad_usage', message: error.message.replace(/^error: /, '') } })}\n`,
        );
      }
      return 2;
    }
    return reportError(io, program.opts<GlobalOptions>(), error);
  }
}
