import { chmodSync, existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { CliError, ExitCode } from './errors';

export type Service = 'approval' | 'vault' | 'policy' | 'recorder';

export const SERVICES: readonly Service[] = ['approval', 'vault', 'policy', 'recorder'];

/** The local defaults (scripts/up.sh, docker-compose.yml). */
export const DEFAULT_URLS: Record<Service, string> = {
  policy: 'http://127.0.0.1:8081',
  approval: 'http://127.0.0.1:8082',
  recorder: 'http://127.0.0.1:8083',
  vault: 'http://127.0.0.1:8084',
};

const ENV_NAMES: Record<Service, string> = {
  policy: 'AIRLOCK_POLICY_URL',
  approval: 'AIRLOCK_APPROVAL_URL',
  recorder: 'AIRLOCK_RECORDER_URL',
  vault: 'AIRLOCK_VAULT_URL',
};

/** What the command line gives: service URLs, and whether to answer in JSON. */
export interface GlobalFlags {
  json?: boolean;
  policyUrl?: string;
  approvalUrl?: string;
  recorderUrl?: string;
  vaultUrl?: string;
}

/** Where the CLI keeps its files: `$XDG_CONFIG_HOME/airlock`, else `~/.config/airlock`. */
export function configDir(env: NodeJS.ProcessEnv): string {
  const base =
    env.XDG_CONFIG_HOME && env.XDG_CONFIG_HOME !== '' ? env.XDG_CONFIG_HOME : join(env.HOME ?? homedir(), '.config');
  return join(base, 'airlock');
}

/** The CLI's settings, resolved once: flag, then environment, then config file, then the local default. */
export interface CliSettings {
  urls: Record<Service, string>;
  json: boolean;
  dir: string;
  /** AIRLOCK_TOKEN, when set: used instead of the stored token. */
  envToken?: string;
}

interface ConfigFile {
  urls?: Partial<Record<Service, string>>;
}

function readConfigFile(dir: string): ConfigFile {
  const file = join(dir, 'config.json');
  if (!existsSync(file)) return {};
  try {
    const parsed = JSON.parse(readFileSync(file, 'utf8')) as unknown;
    if (parsed === null || typeof parsed !== 'object') throw new Error('not an object');
    return parsed as ConfigFile;
  } catch (err) {
    throw new CliError(`${file} is not valid JSON: ${(err as Error).message}`, ExitCode.Usage);
  }
}

function checkUrl(url: string, where: string): string {
  try {
    const u = new URL(url);
    if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new Error('not http(s)');
  } catch {
    throw new CliError(`${where} is not an http(s) URL`, ExitCode.Usage);
  }
  return url.replace(/\/+$/, '');
}

export function resolveSettings(flags: GlobalFlags, env: NodeJS.ProcessEnv): CliSettings {
  const dir = configDir(env);
  const file = readConfigFile(dir);
  const fromFlags: Record<Service, string | undefined> = {
    policy: flags.policyUrl,
    approval: flags.approvalUrl,
    recorder: flags.recorderUrl,
    vault: flags.vaultUrl,
  };
  const urls = {} as Record<Service, string>;
  for (const s of SERVICES) {
    if (fromFlags[s]) urls[s] = checkUrl(fromFlags[s], `--${s}-url`);
    else if (env[ENV_NAMES[s]]) urls[s] = checkUrl(env[ENV_NAMES[s]]!, ENV_NAMES[s]);
    else if (file.urls?.[s]) urls[s] = checkUrl(file.urls[s], `urls.${s} in ${join(dir, 'config.json')}`);
    else urls[s] = DEFAULT_URLS[s];
  }
  const envToken = env.AIRLOCK_TOKEN && env.AIRLOCK_TOKEN.trim() !== '' ? env.AIRLOCK_TOKEN.trim() : undefined;
  return { urls, json: flags.json === true, dir, envToken };
}

const TOKEN_FILE = 'token';

/** A JWT: three base64url parts. Nothing else is stored. */
const JWT = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/;

export function checkTokenShape(token: string): string {
  const t = token.trim();
  if (!JWT.test(t))
    throw new CliError('that is not a token (a JWT: three base64url parts separated by dots)', ExitCode.Usage);
  return t;
}

/** Stores the token readable by its owner only: the directory 0700, the file 0600. */
export function storeToken(dir: string, token: string): string {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const file = join(dir, TOKEN_FILE);
  // Replace rather than rewrite in place, so an old file with wider rights does not keep them.
  rmSync(file, { force: true });
  writeFileSync(file, `${token}\n`, { mode: 0o600, flag: 'wx' });
  chmodSync(file, 0o600);
  return file;
}

export function removeToken(dir: string): boolean {
  const file = join(dir, TOKEN_FILE);
  if (!existsSync(file)) return false;
  rmSync(file);
  return true;
}

/** The token to send: AIRLOCK_TOKEN, else the stored one; exit 3 when there is none. */
export function loadToken(settings: CliSettings): string {
  if (settings.envToken) return settings.envToken;
  const file = join(settings.dir, TOKEN_FILE);
  if (!existsSync(file)) throw new CliError('not logged in: run `airlock login` (or set AIRLOCK_TOKEN)', ExitCode.Auth);
  const mode = statSync(file).mode & 0o077;
  if (mode !== 0) {
    throw new CliError(
      `${file} is readable by others: run \`airlock login\` again (it is written 0600)`,
      ExitCode.Auth,
    );
  }
  return readFileSync(file, 'utf8').trim();
}
