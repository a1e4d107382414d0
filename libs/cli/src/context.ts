import type { Command } from 'commander';
import { AdminClient } from './client';
import { resolveSettings, type CliSettings, type GlobalFlags } from './config';

/** What a command may touch: its output streams, standard input and the environment. */
export interface CliIo {
  out(text: string): void;
  err(text: string): void;
  /** All of standard input, as text. */
  readStdin(): Promise<string>;
  /** Whether standard input is a terminal (nothing piped in). */
  stdinIsTty: boolean;
  env: NodeJS.ProcessEnv;
  /** The exit code when the command ends without an error (a "no" answer is 1). */
  setExit(code: number): void;
}

/** One command's run: its settings (resolved from flags, environment and config file) and a client. */
export class Run {
  readonly settings: CliSettings;
  readonly client: AdminClient;

  constructor(
    readonly io: CliIo,
    cmd: Command,
  ) {
    this.settings = resolveSettings(cmd.optsWithGlobals<GlobalFlags>(), io.env);
    this.client = new AdminClient(this.settings);
  }

  get json(): boolean {
    return this.settings.json;
  }

  /** Prints `value` as JSON with --json, else what `human` renders. */
  print<T>(value: T, human: (v: T) => string): void {
    this.io.out(this.json ? `${JSON.stringify(value, null, 2)}\n` : human(value));
  }
}
