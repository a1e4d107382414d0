import { mkdtempSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseDuration, parseTime } from './commands/audit';
import { parseSecret } from './commands/connections';
import { parseHeader, parseRequestLine } from './commands/policy';
import { DEFAULT_URLS, resolveSettings, storeToken } from './config';
import type { CliIo } from './context';
import { ExitCode } from './errors';
import { run } from './program';

function io(env: NodeJS.ProcessEnv = {}, stdin = ''): CliIo & { stdout: string; stderr: string } {
  const o = {
    stdout: '',
    stderr: '',
    out: (s: string) => void (o.stdout += s),
    err: (s: string) => void (o.stderr += s),
    readStdin: () => Promise.resolve(stdin),
    stdinIsTty: false,
    env,
    setExit: () => undefined,
  };
  return o;
}

const home = () => ({ HOME: mkdtempSync(join(tmpdir(), 'airlock-cli-unit-')) });

describe('the command line', () => {
  it('answers usage errors with 2, in words, and help with 0', async () => {
    const bad = io(home());
    expect(await run(['approvals', 'ls', '--state'], bad)).toBe(ExitCode.Usage);
    expect(bad.stderr).toMatch(/argument missing/);
    expect(await run(['nope'], io(home()))).toBe(ExitCode.Usage);
    expect(await run([], io(home()))).toBe(ExitCode.Usage);
    const help = io(home());
    expect(await run(['sessions', '--help'], help)).toBe(ExitCode.Ok);
    expect(help.stdout).toMatch(/replay/);
    const version = io(home());
    expect(await run(['--version'], version)).toBe(ExitCode.Ok);
  });

  it('needs a token before calling anything: exit 3', async () => {
    const o = io(home());
    expect(await run(['connections', 'ls'], o)).toBe(ExitCode.Auth);
    expect(o.stderr).toBe('airlock: not logged in: run `airlock login` (or set AIRLOCK_TOKEN)\n');
  });

  it('refuses a stored token others can read', async () => {
    const env = home();
    const file = storeToken(join(env.HOME, '.config', 'airlock'), 'a.b.c');
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const { chmodSync } = await import('node:fs');
    chmodSync(file, 0o644);
    const o = io(env);
    expect(await run(['sessions', 'ls'], o)).toBe(ExitCode.Auth);
    expect(o.stderr).toMatch(/readable by others/);
  });

  it('takes service URLs from flags, then the environment, then the local defaults', () => {
    const env = { ...home(), AIRLOCK_RECORDER_URL: 'http://audit.internal:9000/' };
    const s = resolveSettings({ policyUrl: 'https://policy.internal' }, env);
    expect(s.urls).toEqual({
      ...DEFAULT_URLS,
      policy: 'https://policy.internal',
      recorder: 'http://audit.internal:9000',
    });
    expect(() => resolveSettings({ vaultUrl: 'ftp://x' }, env)).toThrow(/--vault-url is not an http\(s\) URL/);
  });

  it('reads request lines, headers, durations and times', () => {
    expect(parseRequestLine('get /items?limit=5&x')).toEqual({ method: 'GET', path: '/items', query: 'limit=5&x' });
    expect(parseRequestLine('DELETE /a/b')).toEqual({ method: 'DELETE', path: '/a/b' });
    expect(() => parseRequestLine('/no-method')).toThrow(/METHOD \/path/);
    expect(parseHeader('X-Tenant:  acme ')).toEqual(['x-tenant', 'acme']);
    expect(() => parseHeader('nocolon')).toThrow(/name: value/);
    expect(parseDuration('10m')).toBe(600_000);
    expect(parseDuration('2h')).toBe(7_200_000);
    expect(() => parseDuration('soon')).toThrow(/not a duration/);
    const now = Date.parse('2026-12-06T12:00:00Z');
    expect(parseTime('1d', now)).toBe('2026-12-05T12:00:00.000Z');
    expect(parseTime('2026-12-01T09:00:00+01:00', now)).toBe('2026-12-01T08:00:00.000Z');
    expect(() => parseTime('yesterday', now)).toThrow(/not a time/);
  });

  it('reads a secret as a JSON object without ever quoting it', () => {
    expect(parseSecret('{"token":"t0k"}', 'stdin')).toEqual({ token: 't0k' });
    for (const text of ['hunter2', '["hunter2"]', 'null']) {
      let message = '';
      try {
        parseSecret(text, 'standard input');
      } catch (err) {
        message = (err as Error).message;
      }
      expect(message).toMatch(/standard input is not/);
      expect(message).not.toContain('hunter2');
    }
  });
});
