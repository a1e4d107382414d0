import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface PsqlResult {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * Runs the real psql with `args` (the conninfo first), `password` as PGPASSWORD. A failing psql is
 * a result, not an exception: its exit code and output. Everything psql printed also goes to
 * `seen`, for checks that no secret ever reached the client.
 */
export async function runPsql(args: string[], password: string, seen: string[]): Promise<PsqlResult> {
  try {
    const r = await run('psql', args, {
      env: { ...process.env, PGPASSWORD: password, PGCONNECT_TIMEOUT: '10' },
      timeout: 60000,
    });
    seen.push(r.stdout, r.stderr);
    return { code: 0, stdout: r.stdout, stderr: r.stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    seen.push(e.stdout ?? '', e.stderr ?? '');
    return { code: typeof e.code === 'number' ? e.code : 1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}
