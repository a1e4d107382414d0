import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ServiceProcess, freePort, infraEnv, runId } from '@airlock/testing';

const GOOD = `id: reload-test
version: v1
rules:
  - id: read
    effect: allow
    connections: [db]
    sql: { classes: [read] }
`;

/** A policy file that cannot mean what it says is refused on reload, clearly, and the policy in force stays. */
describe('POST /policy/reload', () => {
  const dir = mkdtempSync(join(tmpdir(), 'airlock-policy-reload-'));
  const file = join(dir, 'policy.yaml');
  let policy: ServiceProcess;

  beforeAll(async () => {
    writeFileSync(file, GOOD);
    policy = new ServiceProcess('policy', await freePort(), {
      KAFKA_BROKERS: infraEnv().KAFKA_BROKERS,
      KAFKA_GROUP_PREFIX: `test-${runId()}`,
      POLICY_FILE: file,
    });
    await policy.start();
  }, 60000);

  afterAll(async () => {
    await policy?.stop();
  });

  async function reload(): Promise<{ status: number; body: Record<string, unknown> }> {
    const res = await fetch(`${policy.url}/policy/reload`, { method: 'POST' });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  }

  it('answers 422 naming an unknown command and the valid ones, and keeps the old policy', async () => {
    writeFileSync(
      file,
      `${GOOD.replace('version: v1', 'version: v2')}  - id: destructive\n    effect: deny\n    connections: [db]\n    sql: { commands: [TRUNCATE TABLES] }\n`,
    );
    const r = await reload();
    expect(r.status).toBe(422);
    expect(r.body.error).toBe('invalid_policy');
    expect(r.body.message).toMatch(
      /unknown SQL command "TRUNCATE TABLES".*TRUNCATE TABLE.*policy in force is unchanged/,
    );
    expect(r.body.policy).toMatchObject({ id: 'reload-test', version: 'v1', rules: 1 });
    const current = (await (await fetch(`${policy.url}/policy`)).json()) as Record<string, unknown>;
    expect(current).toMatchObject({ version: 'v1', rules: 1 });
  });

  it('answers 422 for an empty or missing file, and takes a fixed file with an alias', async () => {
    writeFileSync(file, '');
    const empty = await reload();
    expect(empty.status).toBe(422);
    expect(empty.body.message).toMatch(/policy is invalid/);
    rmSync(file);
    const missing = await reload();
    expect(missing.status).toBe(422);
    expect(missing.body.message).toMatch(/the policy file cannot be read: ENOENT/);

    writeFileSync(
      file,
      `${GOOD.replace('version: v1', 'version: v3')}  - id: destructive\n    effect: deny\n    connections: [db]\n    sql: { commands: [TRUNCATE] }\n`,
    );
    const ok = await reload();
    expect(ok.status).toBe(200);
    expect(ok.body).toMatchObject({ version: 'v3', rules: 2, changed: true });
  });
});
