import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { repoRoot, waitFor } from '@airlock/testing';
import { findIn } from './support/scanner';
import { TestSystem } from './support/system';

type Json = Record<string, unknown>;

interface Ran {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * The `airlock` command, built (dist/) and spawned as a user runs it, against the whole running
 * system: every command, its tables and its --json, and its exit codes (0 ok, 1 failure or
 * denied, 2 usage, 3 auth, 4 not found).
 */
describe('the airlock command', () => {
  const sys = new TestSystem();
  const tag = randomBytes(4).toString('hex');
  const home = mkdtempSync(join(tmpdir(), 'airlock-cli-home-'));
  const bin = join(repoRoot(), 'dist', 'libs', 'cli', 'src', 'main.js');
  let env: NodeJS.ProcessEnv;
  let admin: string;
  let auditor: string;
  let approver: string;
  let agent: string;

  beforeAll(async () => {
    await sys.start();
    admin = await sys.token('admin-cli', ['airlock-admins', 'airlock-auditors']);
    auditor = await sys.token('auditor-cli', ['airlock-auditors']);
    approver = await sys.token('approver-cli', ['approvers']);
    agent = await sys.token('agent-cli', ['agents']);
    env = {
      PATH: process.env.PATH,
      HOME: home,
      AIRLOCK_POLICY_URL: sys.policy.url,
      AIRLOCK_APPROVAL_URL: sys.approval.url,
      AIRLOCK_RECORDER_URL: sys.recorder.url,
      AIRLOCK_VAULT_URL: sys.vault.url,
    };
  }, 240000);

  afterAll(async () => {
    await sys.stop();
  }, 60000);

  /** Runs the built command; resolves when it exits. */
  function airlock(args: string[], opts: { stdin?: string; env?: NodeJS.ProcessEnv } = {}): Promise<Ran> {
    return new Promise((resolve, reject) => {
      const child = spawn(process.execPath, [bin, ...args], { env: { ...env, ...opts.env }, stdio: 'pipe' });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      child.on('error', reject);
      child.on('close', (code) => resolve({ code, stdout, stderr }));
      child.stdin.end(opts.stdin ?? '');
    });
  }

  const as = (token: string) => ({ env: { AIRLOCK_TOKEN: token } });
  const parsed = (r: Ran): Json => JSON.parse(r.stdout) as Json;

  /** An expected failure says what is wrong in words: never a stack trace. */
  function noStack(r: Ran): void {
    expect(r.stderr).not.toMatch(/\n\s+at .+:\d+:\d+/);
  }

  describe('login', () => {
    it('stores a token from --token or standard input readable by its owner only, and forgets it', async () => {
      const flag = await airlock(['login', '--token', admin]);
      expect(flag.code).toBe(0);
      expect(flag.stdout).toMatch(/Logged in as admin-cli of /);
      expect(flag.stdout).not.toContain(admin);
      const file = join(home, '.config', 'airlock', 'token');
      expect(statSync(file).mode & 0o777).toBe(0o600);
      expect(statSync(join(home, '.config', 'airlock')).mode & 0o777).toBe(0o700);
      expect(readFileSync(file, 'utf8').trim()).toBe(admin);

      const piped = await airlock(['login', '--json'], { stdin: `${auditor}\n` });
      expect(piped.code).toBe(0);
      expect(parsed(piped)).toMatchObject({ subject: 'auditor-cli', issuer: sys.idp.issuer, file });
      const who = await airlock(['whoami', '--json']);
      expect(parsed(who)).toMatchObject({ subject: 'auditor-cli' });

      const junk = await airlock(['login'], { stdin: 'hunter2' });
      expect(junk.code).toBe(2);
      expect(junk.stderr).toMatch(/not a token/);
      expect(junk.stderr).not.toContain('hunter2');

      expect((await airlock(['logout'])).code).toBe(0);
      const none = await airlock(['sessions', 'ls']);
      expect(none.code).toBe(3);
      expect(none.stderr).toMatch(/not logged in: run `airlock login`/);
      noStack(none);
      // Log in again as the administrator for what follows.
      expect((await airlock(['login'], { stdin: admin })).code).toBe(0);
    });
  });

  it('answers usage errors with 2 and help with 0', async () => {
    const unknown = await airlock(['frobnicate']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/unknown command/);
    expect((await airlock(['approvals', 'ls', '--bogus'])).code).toBe(2);
    expect((await airlock(['approvals', 'show'])).code).toBe(2);
    expect((await airlock(['approvals', 'show', 'not-an-id'])).code).toBe(2);
    expect((await airlock(['policy', 'test', '--principal', 'a', '--connection', 'demo'])).code).toBe(2);
    const help = await airlock(['--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/Exit codes: 0 ok, 1 failure or denied, 2 usage error, 3 .* 4 not found/);
    const down = await airlock(['sessions', 'ls', '--recorder-url', 'http://127.0.0.1:9']);
    expect(down.code).toBe(1);
    expect(down.stderr).toMatch(/cannot reach the recorder at http:\/\/127\.0\.0\.1:9/);
    noStack(down);
  });

  describe('connections', () => {
    const name = `cli-${tag}`;
    const canary = `canary-cli-${randomBytes(8).toString('hex')}`;
    const outputs: string[] = [];
    const run = async (args: string[], opts: { stdin?: string; env?: NodeJS.ProcessEnv } = {}) => {
      const r = await airlock(args, opts);
      outputs.push(r.stdout, r.stderr);
      return r;
    };

    it('creates, lists, shows and rotates (the secret from standard input or a file), never printing it', async () => {
      const created = await run([
        'connections',
        'create',
        name,
        '--protocol',
        'http',
        '--upstream',
        'https://api.example/v1',
        '--kind',
        'bearer',
        '--json',
      ]);
      expect(created.code).toBe(0);
      expect(parsed(created)).toMatchObject({ name, secretVersion: null });
      expect(
        (
          await run([
            'connections',
            'create',
            name,
            '--protocol',
            'http',
            '--upstream',
            'https://x/',
            '--kind',
            'bearer',
          ])
        ).code,
      ).toBe(1);

      const fromStdin = await run(['connections', 'rotate', name], { stdin: JSON.stringify({ token: `${canary}-1` }) });
      expect(fromStdin.code).toBe(0);
      expect(fromStdin.stdout).toMatch(new RegExp(`Stored secret version 1 of ${name}`));
      const file = join(home, 'secret.json');
      writeFileSync(file, JSON.stringify({ token: `${canary}-2` }), { mode: 0o600 });
      const fromFile = await run(['connections', 'rotate', name, '--from-file', file, '--json']);
      expect(parsed(fromFile)).toEqual({ connection: name, secretVersion: 2 });
      const notJson = await run(['connections', 'rotate', name], { stdin: canary });
      expect(notJson.code).toBe(2);
      expect(notJson.stderr).toMatch(/is not JSON/);

      const table = await run(['connections', 'ls']);
      expect(table.code).toBe(0);
      expect(table.stdout).toMatch(/^NAME\s+PROTOCOL\s+KIND\s+UPSTREAM\s+SECRET\s+ROTATED\s+BY/);
      expect(table.stdout).toMatch(
        new RegExp(`${name}\\s+http\\s+bearer\\s+https://api.example/v1\\s+v2\\s+\\S+\\s+admin-cli`),
      );
      const list = parsed(await run(['connections', 'ls', '--json']));
      expect((list.connections as Json[]).find((c) => c.name === name)).toMatchObject({
        secretVersion: 2,
        secretSetBy: { subject: 'admin-cli' },
      });
      const shown = await run(['connections', 'show', name]);
      expect(shown.stdout).toMatch(/last rotated by:\s+admin-cli/);
      const missing = await run(['connections', 'show', `nope-${tag}`]);
      expect(missing.code).toBe(4);
      expect(missing.stderr).toMatch(/unknown connection/);
      const refused = await run(['connections', 'ls'], as(agent));
      expect(refused.code).toBe(3);
      expect(refused.stderr).toMatch(/refused by the credential vault/);

      expect(findIn('the secret as given', JSON.stringify({ token: `${canary}-1` }), [canary])).not.toHaveLength(0);
      expect(outputs.flatMap((o, i) => findIn(`output ${i}`, o, [canary]))).toEqual([]);
    });
  });

  describe('policy', () => {
    it('validates a file: 0 when valid, 1 with the problems in words', async () => {
      const good = join(home, 'good.yaml');
      writeFileSync(good, 'id: trial\nversion: t1\nrules:\n  - id: r\n    effect: allow\n    connections: [x]\n');
      const ok = await airlock(['policy', 'validate', good]);
      expect(ok.code).toBe(0);
      expect(ok.stdout).toMatch(/valid \(policy trial, version t1, 1 rules\)/);
      const bad = join(home, 'bad.yaml');
      writeFileSync(bad, 'rules:\n  - id: r\n    effect: maybe\n');
      const no = await airlock(['policy', 'validate', bad]);
      expect(no.code).toBe(1);
      expect(no.stdout).toMatch(/invalid\n {2}- rules\.0\.effect: /);
      const json = await airlock(['policy', 'validate', bad, '--json']);
      expect(json.code).toBe(1);
      expect(parsed(json)).toMatchObject({ valid: false });
      expect((await airlock(['policy', 'validate', join(home, 'absent.yaml')])).code).toBe(2);
    });

    it('tests a statement or a request against the policy in force (dry run)', async () => {
      const deny = await airlock([
        'policy',
        'test',
        '--principal',
        'agent-e2e',
        '--group',
        'agents',
        '--connection',
        'pgdb',
        '--sql',
        'DELETE FROM accounts',
      ]);
      expect(deny.code).toBe(1);
      expect(deny.stdout).toMatch(/decision:\s+deny/);
      expect(deny.stdout).toMatch(/rule:\s+pg-unbounded/);
      expect(deny.stdout).toMatch(/DELETE\s+write\s+public\.accounts\s+write-without-where/);
      const expected = await airlock([
        'policy',
        'test',
        '--principal',
        'agent-e2e',
        '--group',
        'agents',
        '--connection',
        'pgdb',
        '--sql',
        'DELETE FROM accounts',
        '--expect',
        'deny',
      ]);
      expect(expected.code).toBe(0);
      const review = await airlock([
        'policy',
        'test',
        '--principal',
        'a',
        '--group',
        'agents',
        '--connection',
        'demo',
        '--http',
        'DELETE /held/1',
        '--json',
      ]);
      expect(review.code).toBe(1);
      expect(parsed(review)).toMatchObject({ decision: 'review', ruleId: 'review-held', approval: { required: 1 } });
      const allow = await airlock([
        'policy',
        'test',
        '--principal',
        'a',
        '--group',
        'agents',
        '--connection',
        'demo',
        '--http',
        'GET /items?x=1',
        '--header',
        'Accept: text/plain',
      ]);
      expect(allow.code).toBe(0);
      expect(allow.stdout).toMatch(/decision:\s+allow/);
      const refused = await airlock(
        ['policy', 'test', '--principal', 'a', '--connection', 'demo', '--http', 'GET /'],
        as(agent),
      );
      expect(refused.code).toBe(3);
    });

    it('shows the policy and reloads it', async () => {
      const shown = await airlock(['policy', 'show']);
      expect(shown.code).toBe(0);
      expect(shown.stdout).toMatch(/^Policy e2e, version \S+, \d+ rules\nRULE\s+EFFECT/);
      expect(shown.stdout).toMatch(/review-held\s+review\s+demo/);
      const reload = await airlock(['policy', 'reload', '--json']);
      expect(reload.code).toBe(0);
      expect(parsed(reload)).toMatchObject({ id: 'e2e', changed: false });
      writeFileSync(sys.policyFile, `${readFileSync(sys.policyFile, 'utf8')}\n  - id: broken\n    effect: perhaps\n`);
      const refused = await airlock(['policy', 'reload']);
      expect(refused.code).toBe(1);
      expect(refused.stdout).toMatch(/refused; the policy in force is unchanged/);
    });
  });

  describe('approvals', () => {
    it('lists, shows, approves and denies; the requester is refused (3)', async () => {
      const requester = await sys.token('self-cli', ['agents', 'approvers']);
      const first = sys.call(`/c/demo/held/${tag}-a`, { method: 'DELETE', token: requester });
      const second = sys.call(`/c/demo/held/${tag}-b`, { method: 'DELETE', token: requester });
      const listed = await waitFor('both held requests listed', async () => {
        const r = await airlock(['approvals', 'ls', '--json'], as(approver));
        const items = (parsed(r).approvals as Json[]).filter((a) => String(a.detail).includes(`/held/${tag}-`));
        return items.length === 2 ? items : undefined;
      });
      const idOf = (suffix: string) =>
        String(listed.find((a) => String(a.detail).includes(`/held/${tag}-${suffix}`))!.id);

      const table = await airlock(['approvals', 'ls'], as(approver));
      expect(table.stdout).toMatch(/^ID\s+STATE\s+PRINCIPAL\s+CONNECTION\s+VOTES\s+EXPIRES\s+OPERATION/);
      expect(table.stdout).toMatch(new RegExp(`${idOf('a')}\\s+pending\\s+self-cli\\s+demo\\s+0/1`));
      const shown = await airlock(['approvals', 'show', idOf('a')], as(approver));
      expect(shown.code).toBe(0);
      expect(shown.stdout).toMatch(/requested by:\s+self-cli/);
      expect(shown.stdout).toMatch(/rule:\s+review-held/);
      expect(shown.stdout).toMatch(new RegExp(`operation:\\n {4}DELETE /held/${tag}-a`));

      const self = await airlock(['approvals', 'approve', idOf('a')], as(requester));
      expect(self.code).toBe(3);
      expect(self.stderr).toMatch(/requester cannot approve its own request/);
      noStack(self);

      const yes = await airlock(['approvals', 'approve', idOf('a'), '--comment', 'ok', '--json'], as(approver));
      expect(yes.code).toBe(0);
      expect(parsed(yes)).toMatchObject({ state: 'approved' });
      const no = await airlock(['approvals', 'deny', idOf('b')], as(approver));
      expect(no.code).toBe(0);
      expect(no.stdout).toMatch(/Denied: approval .* is denied/);
      const again = await airlock(['approvals', 'deny', idOf('b')], as(approver));
      expect(again.code).toBe(1);
      expect((await second).status).toBe(403);
      expect((await first).status).not.toBe(403);
      const missing = await airlock(['approvals', 'show', '019abcde-0000-7000-8000-00000000dead'], as(approver));
      expect(missing.code).toBe(4);
      expect((await airlock(['approvals', 'ls', '--state', 'open'])).code).toBe(2);
    });
  });

  describe('audit and sessions', () => {
    const subject = `cli-sessions-${tag}`;

    it('verifies the chains, exports and tails the trail', async () => {
      const token = await sys.token(subject, ['agents']);
      expect((await sys.call('/c/demo/items', { token })).status).toBe(200);
      expect((await sys.call('/c/demo/secrets/1', { token })).status).toBe(403);
      const exported = await waitFor('the events exported', async () => {
        const r = await airlock(['audit', 'export', '--from', '1h'], as(auditor));
        return r.code === 0 && r.stdout.includes(subject) ? r : undefined;
      });
      const lines = exported.stdout.trim().split('\n');
      for (const l of lines)
        expect(JSON.parse(l)).toMatchObject({ chain: expect.any(Number), event: expect.any(Object) });
      const tail = await airlock(['audit', 'tail', '--since', '10m'], as(auditor));
      expect(tail.code).toBe(0);
      expect(tail.stdout).toMatch(new RegExp(`operation\\.denied\\s+${subject}\\s+demo`));
      const tailJson = await airlock(['audit', 'tail', '--since', '10m', '--json'], as(auditor));
      expect(
        tailJson.stdout
          .trim()
          .split('\n')
          .map((l) => JSON.parse(l) as Json).length,
      ).toBeGreaterThan(1);

      const verified = await airlock(['audit', 'verify'], as(auditor));
      expect(verified.code).toBe(0);
      expect(verified.stdout).toMatch(/^Audit store verified: every chain is sound\./);
      expect(verified.stdout).toMatch(/CHAIN\s+STATUS\s+LINKS\s+LAST SEQ\s+FIRST PROBLEM/);
      expect(parsed(await airlock(['audit', 'verify', '--json'], as(auditor)))).toMatchObject({ ok: true });
      expect((await airlock(['audit', 'verify'], as(agent))).code).toBe(3);
    });

    it('lists, filters, shows and replays sessions', async () => {
      const page = await waitFor('both sessions listed', async () => {
        const r = await airlock(['sessions', 'ls', '--principal', subject, '--json'], as(auditor));
        const items = parsed(r).items as Json[];
        return items.length === 2 && items.every((s) => Number(s.operations) >= 1) ? items : undefined;
      });
      const table = await airlock(['sessions', 'ls', '--principal', subject], as(auditor));
      expect(table.stdout).toMatch(
        /^SESSION\s+STARTED\s+PRINCIPAL\s+CONNECTION\s+PROTO\s+OPS\s+ALLOW\s+DENY\s+HELD\s+MASKED/,
      );
      const denied = parsed(
        await airlock(['sessions', 'ls', '--principal', subject, '--decision', 'deny', '--json'], as(auditor)),
      );
      expect(denied.items as Json[]).toHaveLength(1);
      const paged = parsed(
        await airlock(['sessions', 'ls', '--principal', subject, '--limit', '1', '--json'], as(auditor)),
      );
      expect(paged.nextCursor).toEqual(expect.any(String));
      const id = String((denied.items as Json[])[0].sessionId);
      expect(page.map((s) => s.sessionId)).toContain(id);

      const shown = await airlock(['sessions', 'show', id], as(auditor));
      expect(shown.code).toBe(0);
      expect(shown.stdout).toMatch(/decisions:\s+0 allowed, 1 denied, 0 held, 0 approved/);
      const replay = await airlock(['sessions', 'replay', id], as(auditor));
      expect(replay.code).toBe(0);
      expect(replay.stdout).toMatch(/operation\.intercepted/);
      expect(replay.stdout).toMatch(/operation\.denied/);
      const replayJson = await airlock(['sessions', 'replay', id, '--json'], as(auditor));
      const events = replayJson.stdout
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as Json);
      expect(events.map((e) => (e.event as Json).sessionId)).toEqual(events.map(() => id));
      const missing = await airlock(['sessions', 'replay', '019abcde-0000-7000-8000-00000000dead'], as(auditor));
      expect(missing.code).toBe(4);
      expect((await airlock(['sessions', 'show', '019abcde-0000-7000-8000-00000000dead'], as(auditor))).code).toBe(4);
      expect((await airlock(['sessions', 'ls', '--from', 'yesterday'], as(auditor))).code).toBe(2);
    });
  });
});
