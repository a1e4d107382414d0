import type { Command } from 'commander';
import { decodeJwt } from 'jose';
import { checkTokenShape, configDir, loadToken, removeToken, resolveSettings, storeToken } from '../config';
import type { CliIo } from '../context';
import { CliError, ExitCode } from '../errors';
import { fields, json } from '../render';

/** Who a token names and until when, read from its claims (the services verify it, not the CLI). */
function claimsOf(token: string): { subject: string | null; issuer: string | null; expiresAt: string | null } {
  try {
    const c = decodeJwt(token);
    return {
      subject: typeof c.sub === 'string' ? c.sub : null,
      issuer: typeof c.iss === 'string' ? c.iss : null,
      expiresAt: typeof c.exp === 'number' ? new Date(c.exp * 1000).toISOString() : null,
    };
  } catch {
    throw new CliError('that is not a token: its claims cannot be read', ExitCode.Usage);
  }
}

export function registerLogin(program: Command, io: CliIo): void {
  program
    .command('login')
    .description('store your token (an OIDC JWT) for the next commands, readable by you only')
    .option('--token <jwt>', 'the token; read from standard input when absent (safer: argv is visible to others)')
    .action(async (opts: { token?: string }, cmd: Command) => {
      let raw = opts.token;
      if (raw === undefined) {
        if (io.stdinIsTty) io.err('Paste your token, then press Ctrl-D:\n');
        raw = await io.readStdin();
      }
      const token = checkTokenShape(raw);
      const who = claimsOf(token);
      if (who.expiresAt !== null && Date.parse(who.expiresAt) <= Date.now()) {
        throw new CliError(`this token expired at ${who.expiresAt}: get a new one`, ExitCode.Auth);
      }
      const file = storeToken(configDir(io.env), token);
      const result = { file, ...who };
      io.out(
        cmd.optsWithGlobals<{ json?: boolean }>().json
          ? json(result)
          : `Logged in as ${who.subject ?? '(no subject)'} of ${who.issuer ?? '(no issuer)'}` +
              `${who.expiresAt ? `; the token expires at ${who.expiresAt}` : ''}.\nStored in ${file} (mode 0600).\n`,
      );
    });

  program
    .command('logout')
    .description('forget the stored token')
    .action((_opts: unknown, cmd: Command) => {
      const removed = removeToken(configDir(io.env));
      io.out(
        cmd.optsWithGlobals<{ json?: boolean }>().json
          ? json({ removed })
          : removed
            ? 'Logged out.\n'
            : 'No token was stored.\n',
      );
    });

  program
    .command('whoami')
    .description('show whom the stored token names (its claims, not verified here)')
    .action((_opts: unknown, cmd: Command) => {
      const settings = resolveSettings(cmd.optsWithGlobals(), io.env);
      const who = claimsOf(loadToken(settings));
      io.out(
        settings.json
          ? json(who)
          : fields([
              ['subject', who.subject],
              ['issuer', who.issuer],
              ['expires', who.expiresAt],
            ]),
      );
    });
}
