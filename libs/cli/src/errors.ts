/**
 * Exit codes of the `airlock` command, documented in docs/cli.md. Scripts rely on them: never
 * renumber one.
 */
export const ExitCode = {
  Ok: 0,
  /** The command ran and the answer is no: a failure, a denial, a broken chain, an invalid policy. */
  Failure: 1,
  /** The command line is wrong: unknown command or option, missing argument. */
  Usage: 2,
  /** No token, a token the service refused (401), or a role the token lacks (403). */
  Auth: 3,
  /** What was named does not exist (404). */
  NotFound: 4,
} as const;
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

/** An expected failure: its message is printed as it is, without a stack trace. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: ExitCode = ExitCode.Failure,
  ) {
    super(message);
    this.name = 'CliError';
  }
}

export class UsageError extends CliError {
  constructor(message: string) {
    super(message, ExitCode.Usage);
  }
}
