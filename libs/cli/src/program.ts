import { Command, CommanderError, Option } from 'commander';
import { registerApprovals } from './commands/approvals';
import { registerAudit } from './commands/audit';
import { registerConnections } from './commands/connections';
import { registerLogin } from './commands/login';
import { registerPolicy } from './commands/policy';
import { registerSessions } from './commands/sessions';
import type { CliIo } from './context';
import { CliError, ExitCode } from './errors';

export const VERSION = '0.1.0';

/** The `airlock` command tree, writing through `io`. */
export function buildProgram(io: CliIo): Command {
  const program = new Command('airlock')
    .description("Airlock's administration command: connections, policy, approvals, audit")
    .version(VERSION)
    .option('--json', 'print JSON for scripts instead of tables')
    .addOption(new Option('--policy-url <url>', 'policy service (env AIRLOCK_POLICY_URL)'))
    .addOption(new Option('--approval-url <url>', 'approval service (env AIRLOCK_APPROVAL_URL)'))
    .addOption(new Option('--recorder-url <url>', 'recorder (env AIRLOCK_RECORDER_URL)'))
    .addOption(new Option('--vault-url <url>', 'credential vault (env AIRLOCK_VAULT_URL)'))
    .showHelpAfterError('(run with --help for usage)')
    .addHelpText(
      'after',
      '\nExit codes: 0 ok, 1 failure or denied, 2 usage error, 3 not logged in / refused (401, 403), 4 not found.\n' +
        'Settings: flags, then AIRLOCK_*_URL and AIRLOCK_TOKEN, then ~/.config/airlock/config.json. See docs/cli.md.',
    );
  registerLogin(program, io);
  registerConnections(program, io);
  registerPolicy(program, io);
  registerApprovals(program, io);
  registerAudit(program, io);
  registerSessions(program, io);
  const configure = (cmd: Command): void => {
    cmd.exitOverride();
    cmd.configureOutput({ writeOut: (s) => io.out(s), writeErr: (s) => io.err(s) });
    for (const sub of cmd.commands) configure(sub);
  };
  configure(program);
  return program;
}

/** Runs one command line (without `node` and the script); resolves to the exit code. */
export async function run(argv: string[], io: CliIo): Promise<number> {
  let code: number = ExitCode.Ok;
  const withExit: CliIo = { ...io, setExit: (c) => (code = c) };
  const program = buildProgram(withExit);
  if (argv.length === 0) {
    io.err(program.helpInformation());
    return ExitCode.Usage;
  }
  try {
    await program.parseAsync(argv, { from: 'user' });
    return code;
  } catch (err) {
    if (err instanceof CommanderError) {
      // --help and --version end with 0; every complaint of the parser (already printed) is a usage error.
      return err.exitCode === 0 ? ExitCode.Ok : ExitCode.Usage;
    }
    if (err instanceof CliError) {
      io.err(`airlock: ${err.message}\n`);
      return err.exitCode;
    }
    io.err(`airlock: unexpected error: ${(err as Error).message ?? String(err)}\n`);
    return ExitCode.Failure;
  }
}
